# Sourced by tools/up.sh and tools/down.sh: the state backend both use, so `make down` finds what `make up` made.
# $1: the command's name in messages (make up, make down).
use_backend() {
  if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
    mkdir -p .pulumi-state
    export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
    echo "${1:-make up}: using the local state backend $PULUMI_BACKEND_URL (set PULUMI_BACKEND_URL to share state)"
  fi
}
