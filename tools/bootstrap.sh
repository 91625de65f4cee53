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
# The roles trust the subjects of GitHub's DEFAULT subject template (repo:<owner>/<repo>:environment:<name>,
# repo:<owner>/<repo>:pull_request). A customised template (`use_default: false`) changes every token's `sub`, and
# no job could assume its role. Read-only check with the GitHub CLI when it is there (docs/ci.md).
repository=$(pulumi config get webstack-bootstrap:repository --stack "$STACK" 2>/dev/null || true)
manual="check it yourself: gh api repos/${repository:-<owner>/<repo>}/actions/oidc/customization/sub must answer use_default: true"
if [ -z "$repository" ]; then
  echo "make bootstrap: webstack-bootstrap:repository is not set (the program will refuse it)" >&2
elif ! command -v gh >/dev/null 2>&1; then
  echo "make bootstrap: warning: no GitHub CLI (gh) to read the repository's OIDC subject template; $manual" >&2
elif ! use_default=$(gh api "repos/$repository/actions/oidc/customization/sub" --jq .use_default 2>/dev/null); then
  echo "make bootstrap: warning: could not read the OIDC subject template of $repository (gh auth login?); $manual" >&2
elif [ "$use_default" != "true" ]; then
  echo "make bootstrap: $repository customises its OIDC subject template (use_default: $use_default): GitHub's" \
    "tokens would not carry the subjects the roles trust. Restore the default (gh api -X PUT" \
    "repos/$repository/actions/oidc/customization/sub -F use_default=true) or ask the admin who set it." >&2
  exit 1
fi
pulumi up --stack "$STACK"
echo "make bootstrap: set these repository variables (Settings > Secrets and variables > Actions > Variables):"
pulumi stack output repository_variables --stack "$STACK" --json
