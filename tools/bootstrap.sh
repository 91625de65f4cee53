#!/usr/bin/env bash
# `make bootstrap`: deploy the bootstrap program (bootstrap/, docs/ci.md) once per AWS account with an
# administrator's credentials, then print the repository variables to set. Its own state stays in a local file
# backend (bootstrap/.pulumi-state, gitignored) unless PULUMI_BACKEND_URL names another: the state bucket it
# creates cannot hold the state of its own creation.
set -euo pipefail
cd "$(dirname "$0")/../bootstrap"
STACK=${STACK:-ci}
missing=()
command -v pulumi >/dev/null 2>&1 || missing+=("the Pulumi CLI (make bootstrap installs it: run it through make)")
command -v aws >/dev/null 2>&1 || missing+=("the AWS CLI (make bootstrap installs it: run it through make)")
if command -v aws >/dev/null 2>&1 && ! aws sts get-caller-identity >/dev/null 2>&1; then
  missing+=("AWS credentials of an administrator of the account ('aws sts get-caller-identity' failed)")
fi
if [ -z "${PULUMI_BACKEND_URL:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  missing+=("PULUMI_CONFIG_PASSPHRASE (or _FILE): the local file backend encrypts stack secrets with it")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "make bootstrap: cannot deploy, missing:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi
if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  mkdir -p .pulumi-state
  export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
fi
pulumi stack select "$STACK" 2>/dev/null || pulumi stack init "$STACK"
pulumi up --stack "$STACK"
echo "make bootstrap: set these repository variables (Settings > Secrets and variables > Actions > Variables):"
pulumi stack output repository_variables --stack "$STACK" --json
