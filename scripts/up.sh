#!/usr/bin/env bash
# `make up`: check the prerequisites of a real deploy, pick the state backend and stack, run `pulumi up`.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK=${STACK:-dev}
missing=()
command -v pulumi >/dev/null 2>&1 || missing+=("the Pulumi CLI (https://www.pulumi.com/docs/install/)")
command -v aws >/dev/null 2>&1 || missing+=("the AWS CLI v2 (the kubeconfig runs 'aws eks get-token')")
if ! command -v docker >/dev/null 2>&1; then
  missing+=("Docker (the app image is built and pushed by pulumi-docker)")
elif ! docker info >/dev/null 2>&1; then
  missing+=("a running Docker daemon ('docker info' failed)")
fi
if command -v aws >/dev/null 2>&1 && ! aws sts get-caller-identity >/dev/null 2>&1; then
  missing+=("AWS credentials ('aws sts get-caller-identity' failed: set AWS_PROFILE or run 'aws sso login')")
fi
if [ -z "${PULUMI_BACKEND_URL:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  missing+=("PULUMI_CONFIG_PASSPHRASE (or _FILE): the local file backend encrypts stack secrets with it")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "make up: cannot deploy, missing:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi
"${PY:-python3}" -m infra.preflight --stack "$STACK"  # refuses the examples' documentation-only values
if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  mkdir -p .pulumi-state
  export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
  echo "make up: using the local state backend $PULUMI_BACKEND_URL (set PULUMI_BACKEND_URL to share state)"
fi
pulumi stack select "$STACK" 2>/dev/null || pulumi stack init "$STACK"
exec pulumi up --stack "$STACK"
