"""`make up`'s last check before `pulumi up`: refuse the documentation-only values the example stacks ship (their
config, and their version lock's example versions).

The examples render as they are (`make plan`), but example.com is nobody's zone, TEST-NET addresses are nobody's
runner and account 123456789012 is nobody's account: a deploy with them fails late (ACM validation waits for a
zone that never resolves, the API allow-list admits no one). Every such value is named with what to set instead.
`python -m tools.preflight --stack dev` reads Pulumi.dev.yaml in the current directory; exit status 1 if any.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import yaml

# RFC 2606: example.com/.net/.org (and their subdomains) and the .example/.test/.invalid/.localhost TLDs.
DOC_DOMAINS = ("example.com", "example.net", "example.org")
DOC_TLDS = ("example", "test", "invalid", "localhost")
# RFC 5737 (TEST-NET-1/2/3) and RFC 3849 (IPv6 documentation prefix).
DOC_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
                                                       "2001:db8::/32"))
DOC_ACCOUNT = "123456789012"  # the account id of AWS's documentation examples
_ARN_ACCOUNT = re.compile(r"^arn:[^:]+:[^:]*:[^:]*:(\d{12}):")
_HOSTNAME = re.compile(r"^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+\.?$")

# What to set, for the keys the examples fill in; other keys get a hint by the kind of value.
KEY_HINTS = {
    "webstack:zoneName": "a public DNS zone you own: pulumi config set webstack:zoneName <your zone>",
    "webstack:hostname": "the app's name inside your zone: pulumi config set webstack:hostname app.<your zone>",
    "webstack:certificateExtraNames": "names inside your zone, or remove the key",
    "webstack:publicAccessCidrs": "the address(es) you run `pulumi up` from, e.g. pulumi config set --path "
                                  "'webstack:publicAccessCidrs[0]' \"$(curl -s https://checkip.amazonaws.com)/32\"",
    "webstack:adminPrincipalArns": "IAM roles or users of your own account (`aws sts get-caller-identity` shows "
                                   "its id), or remove the key",
    "webstack:alarmEmails": "the addresses your alarms should reach, e.g. pulumi config set --path "
                            "'webstack:alarmEmails[0]' oncall@<your domain>",
}
KIND_HINTS = {
    "domain": "a DNS name in a zone you own",
    "network": "an address range of your own",
    "account": "an ARN or id of your own AWS account (`aws sts get-caller-identity` shows it)",
}
# The shipped example locks say so in their header: their versions were not read from an account.
EXAMPLE_LOCK = "# Example values"


class Finding(NamedTuple):
    key: str  # with --path notation for list items: webstack:publicAccessCidrs[0]
    value: str
    kind: str  # domain | network | account
    why: str
    hint: str

    def line(self) -> str:
        if self.kind == "lock":
            return f"{self.key}: {self.why}; {self.hint}"
        return f"{self.key} = {self.value}: {self.why}; set {self.hint}"


def _leaves(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:  # an encrypted secret: nothing readable to check
            return
        for k, v in value.items():
            yield from _leaves(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


def classify(value: str) -> tuple[str, str] | None:
    """(kind, why) when the value is documentation-only, else None."""
    text = value.strip().lower()
    host = text.rsplit("@", 1)[-1]  # an e-mail address: its domain
    if _HOSTNAME.match(host) and "." in host.strip("."):
        name = host.removeprefix("*.").rstrip(".")
        for domain in DOC_DOMAINS:
            if name == domain or name.endswith("." + domain):
                return "domain", f"{domain} is reserved for documentation (RFC 2606)"
        if name.rsplit(".", 1)[-1] in DOC_TLDS:
            return "domain", f".{name.rsplit('.', 1)[-1]} is a reserved top-level domain (RFC 2606)"
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        net = None
    if net is not None:
        for doc in DOC_NETWORKS:
            if net.version == doc.version and net.subnet_of(doc):  # type: ignore[arg-type]
                return "network", f"{doc} is a documentation range (RFC {5737 if doc.version == 4 else 3849})"
    match = _ARN_ACCOUNT.match(text)
    if (match and match.group(1) == DOC_ACCOUNT) or text == DOC_ACCOUNT:
        return "account", f"account {DOC_ACCOUNT} is AWS's documentation example"
    return None


def findings(config: Mapping[str, Any]) -> list[Finding]:
    """Every documentation-only value of a stack's `config:` map (full `ns:key` names), in file order."""
    found = []
    for key, value in config.items():
        for path, text in _leaves(value, str(key)):
            hit = classify(text)
            if hit:
                kind, why = hit
                found.append(Finding(path, text, kind, why, KEY_HINTS.get(str(key), KIND_HINTS[kind])))
    return found


def stack_file(stack: str, project: Path) -> Path:
    return project / f"Pulumi.{stack.rsplit('/', 1)[-1]}.yaml"  # org/project/dev -> Pulumi.dev.yaml


def lock_findings(stack: str, project: Path) -> list[Finding]:
    """The stack's version lock as shipped: example versions, never read from an account (a missing lock the
    program itself refuses, naming `make bump`)."""
    name = stack.rsplit("/", 1)[-1]
    path = project / f"Pulumi.{name}.lock.yaml"
    if not path.is_file() or not any(line.startswith(EXAMPLE_LOCK) for line in path.read_text().splitlines()):
        return []
    return [Finding(path.name, "example versions", "lock", "the versions were not read from an AWS account",
                    f"run `make bump STACK={name}` (read-only AWS calls), then review and commit the lock")]


def check(stack: str, project: Path) -> list[Finding]:
    path = stack_file(stack, project)
    if not path.exists():
        return lock_findings(stack, project)
    return findings(dict((yaml.safe_load(path.read_text()) or {}).get("config") or {})) + lock_findings(stack, project)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="folder of the stack files (default: .)")
    args = parser.parse_args(argv)
    try:
        found = check(args.stack, args.project)
    except yaml.YAMLError as err:  # its mark says "<unicode string>": name the file
        print(f"make up: {stack_file(args.stack, args.project).name} is not valid YAML; `pulumi up` was not run. "
              f"Fix it (or restore it from git):\n{err}", file=sys.stderr)
        return 1
    if not found:
        return 0
    name = stack_file(args.stack, args.project).name
    print(f"make up: {name} still holds {len(found)} documentation-only example value(s); `pulumi up` was not run. "
          "Set your own (README: \"Set your domain, region and who may reach the API\"):", file=sys.stderr)
    for finding in found:
        print(f"  - {finding.line()}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
