#!/usr/bin/env bash
# `make down`: tear a stack down with the CLIs and state backend `make up` uses. Refuses before anything is
# deleted when the deployed stack is deletion-protected (with the steps to turn it off), runs `pulumi destroy`,
# then lists what still exists that the stack or its controllers created (tools/down.py, read-only AWS calls),
# each with the command that removes it. Exit: 3 protected, pulumi's code when the destroy failed, 1 when
# something is left, 2 when AWS could not be asked what is left, 4 when it could not start (prerequisites, no
# confirmation), 0 when nothing is.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK=${STACK:-dev}
PY=${PY:-python3}
OUT=${DOWN_OUT:-build/down}
# Without a terminal `pulumi destroy` cannot ask and deletes nothing; a script confirms by naming the stack.
CONFIRM_DESTROY=${CONFIRM_DESTROY:-}

check_prerequisites() {
  local missing=()
  command -v pulumi >/dev/null 2>&1 || missing+=("the Pulumi CLI (run 'make down': it installs the pinned one)")
  # Deleting the Kubernetes objects runs the kubeconfig's 'aws eks get-token'.
  command -v aws >/dev/null 2>&1 || missing+=("the AWS CLI (run 'make down': it installs it)")
  if command -v aws >/dev/null 2>&1 && ! aws sts get-caller-identity >/dev/null 2>&1; then
    missing+=("AWS credentials ('aws sts get-caller-identity' failed: set AWS_PROFILE or run 'aws sso login')")
  fi
  if [ -z "${PULUMI_BACKEND_URL:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    missing+=("PULUMI_CONFIG_PASSPHRASE (or _FILE): the local file backend decrypts stack secrets with it")
  fi
  if [ -n "$CONFIRM_DESTROY" ] && [ "$CONFIRM_DESTROY" != "$STACK" ]; then
    missing+=("a confirmation that names this stack: CONFIRM_DESTROY is '$CONFIRM_DESTROY', STACK is '$STACK'")
  elif [ -z "$CONFIRM_DESTROY" ] && [ ! -t 0 ]; then
    missing+=("a confirmation: no terminal to ask on; run it from a terminal, or name the stack to destroy it without asking: make down STACK=$STACK CONFIRM_DESTROY=$STACK")
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "make down: cannot tear down $STACK, nothing was done; missing:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 4
  fi
}

# shellcheck source=tools/backend.sh
. tools/backend.sh

main() {
  check_prerequisites
  use_backend "make down"
  # Never `stack init`: a stack that does not exist has nothing to tear down.
  if ! pulumi stack select "$STACK"; then
    echo "make down: no stack $STACK in ${PULUMI_BACKEND_URL} (pulumi stack ls lists them)" >&2
    exit 1
  fi
  local name before after destroyed=0 left=0 region
  name=${STACK//\//-}
  before="$OUT/$name-before.json"
  after="$OUT/$name-after.json"
  mkdir -p "$OUT"
  pulumi stack export --stack "$STACK" >"$before"
  # Before anything is deleted: a protected cluster or ALB would stop the destroy half-way.
  "$PY" -m tools.down protected --stack "$STACK" <"$before" || exit $?
  region=$(pulumi config get aws:region --stack "$STACK")
  # --exclude-protected: a created zone is `protect`ed (its delegation stays valid for the next deploy); it and
  # what it needs stay, everything else goes (docs/operations.md "Tearing down").
  local confirm=()
  [ "$CONFIRM_DESTROY" = "$STACK" ] && confirm=(--yes)
  pulumi destroy --stack "$STACK" --exclude-protected "${confirm[@]}" || destroyed=$?
  pulumi stack export --stack "$STACK" >"$after" || true
  "$PY" -m tools.down leftovers --state "$before" --kept "$after" --region "$region" || left=$?
  if [ "$destroyed" -ne 0 ]; then
    echo "make down: pulumi destroy failed (exit $destroyed): fix what it reported, then run 'make down' again" >&2
    exit "$destroyed"
  fi
  exit "$left"
}

main "$@"
