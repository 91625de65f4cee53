#!/usr/bin/env bash
# `make up`: check the prerequisites of a real deploy, pick the state backend and stack, create a new public zone
# first and wait until it is delegated (ACM validates the certificate only then), then run `pulumi up`.
# Each step is one function; `main` at the bottom lists them in order.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK=${STACK:-dev}
PROJECT=$(sed -n 's/^name: *//p' Pulumi.yaml)
# How long to wait for the registrar's NS records to resolve (the deploy job's timeout is 60 minutes).
DELEGATION_TIMEOUT=${DELEGATION_TIMEOUT:-900}
DELEGATION_POLL=${DELEGATION_POLL:-30}
DELEGATION_RESOLVER=${DELEGATION_RESOLVER:-1.1.1.1}

check_prerequisites() {
  local missing=()
  # `make up` installs both into the project and puts them on PATH (.pulumi-cli/, .venv-awscli/).
  command -v pulumi >/dev/null 2>&1 || missing+=("the Pulumi CLI (run 'make up': it installs the pinned one)")
  command -v aws >/dev/null 2>&1 || missing+=("the AWS CLI (run 'make up': it installs it; the kubeconfig runs 'aws eks get-token')")
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
    return 1
  fi
}

# use_backend: shared with `make down` (tools/down.sh), so both find the same state.
# shellcheck source=tools/backend.sh
. tools/backend.sh

select_stack() {
  pulumi stack select "$STACK" 2>/dev/null || pulumi stack init "$STACK"
}

# The id of the zone this stack created, from the stack's state ($1: the zone's URN). Never looked up by name: Route 53
# allows several public zones with one name (Route 53 Domains creates one on registration), and only this one's
# name servers are the ones to delegate to.
created_zone_id() {
  pulumi stack export --stack "$STACK" | "${PY:-python3}" -c '
import json, sys
urn = sys.argv[1]
found = [r for r in json.load(sys.stdin).get("deployment", {}).get("resources") or [] if r.get("urn") == urn]
if not found or not found[0].get("id"):
    sys.exit("make up: no zone " + urn + " in the stack state")
print(found[0]["id"])' "$1"
}

# The name servers Route 53 gave the zone with id $1, one per line, lowercase, without the trailing dot.
zone_name_servers() {
  aws route53 get-hosted-zone --id "$1" --query 'DelegationSet.NameServers' --output text \
    | tr '\t ' '\n\n' | sed '/^$/d; s/\.$//' | tr 'A-Z' 'a-z' | sort
}

# True once the public DNS answers the zone's NS query with exactly Route 53's name servers.
delegated() {
  local answer
  answer=$(dig +short NS "$1" "@$DELEGATION_RESOLVER" 2>/dev/null | sed '/^$/d; s/\.$//' | tr 'A-Z' 'a-z' | sort)
  [ -n "$answer" ] && [ "$answer" = "$2" ]
}

# A stack that creates its zone: ACM's CertificateValidation waits (up to ~75 min) for records in a zone nobody
# can resolve until the registrar delegates it. Create the zone alone, show its name servers, and go on only once
# the delegation resolves (or stop with instructions), so the full `pulumi up` never hangs on it.
zone_first() {
  [ "$(pulumi config get createZone --stack "$STACK" 2>/dev/null || true)" = "true" ] || return 0
  command -v dig >/dev/null 2>&1 || {
    echo "make up: $STACK creates its zone; install dig (dnsutils / bind-utils) to check its delegation" >&2
    exit 1
  }
  local zone stack_name zone_urn zone_id name_servers waited=0
  zone=$(pulumi config get zoneName --stack "$STACK")
  zone=${zone%.}
  stack_name=${STACK##*/}  # URNs use the bare stack name, also for org/project/stack
  # The same URNs the program declares (infra/dns.py: component "dns", zone resource "dns-zone").
  zone_urn="urn:pulumi:${stack_name}::${PROJECT}::webstack:dns:Dns\$aws:route53/zone:Zone::dns-zone"
  echo "make up: $STACK creates the public zone $zone: creating it first"
  pulumi up --stack "$STACK" --target "urn:pulumi:${stack_name}::${PROJECT}::webstack:dns:Dns::dns" \
    --target "$zone_urn"
  zone_id=$(created_zone_id "$zone_urn")
  name_servers=$(zone_name_servers "$zone_id")
  if delegated "$zone" "$name_servers"; then
    echo "make up: $zone is delegated to its Route 53 name servers"
    return 0
  fi
  echo "make up: delegate $zone at its registrar (or parent zone) to the NS records of zone $zone_id:"
  printf '  %s\n' $name_servers
  echo "make up: waiting up to ${DELEGATION_TIMEOUT}s for the delegation to resolve (checking every ${DELEGATION_POLL}s)"
  while [ "$waited" -lt "$DELEGATION_TIMEOUT" ]; do
    sleep "$DELEGATION_POLL"
    waited=$((waited + DELEGATION_POLL))
    if delegated "$zone" "$name_servers"; then
      echo "make up: $zone is delegated"
      return 0
    fi
  done
  echo "make up: $zone is not delegated yet (dig NS $zone @$DELEGATION_RESOLVER does not list the name servers above)." >&2
  echo "make up: the zone is created and kept; add the NS records at the registrar, then run 'make up' again." >&2
  exit 2
}

main() {
  # Both checks report before stopping, so a newcomer sees every problem at once.
  local failed=0
  check_prerequisites || failed=1
  "${PY:-python3}" -m tools.preflight --stack "$STACK" || failed=1  # the examples' documentation-only values
  [ "$failed" -eq 0 ] || exit 1
  use_backend
  select_stack
  zone_first
  exec pulumi up --stack "$STACK"
}

main "$@"
