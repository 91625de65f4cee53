"""`make up` (tools/up.sh): names every missing prerequisite, then picks backend and stack and runs
`pulumi up`. The real CLIs are replaced by recording shims; nothing is deployed. The script runs in a project
folder of the test's own (a copy of up.sh next to stack files written here), never on the user's stack files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.render import ROOT, TEST_STACKS, Plan

pytestmark = pytest.mark.project_root  # runs the project's up.sh (on stack files of its own)
SCRIPT = ROOT / "tools" / "up.sh"
# A stack of the user's own values: nothing documentation-only left (see tools/preflight.py).
OWN_STACK = """config:
  aws:region: eu-central-1
  webstack:zoneName: apps.acme-corp.net
  webstack:hostname: shop.apps.acme-corp.net
  webstack:publicAccessCidrs:
    - 81.2.69.160/32
"""


def shim(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\necho \"{name} $*\" >> \"$CALLS\"\n{body}\n")
    path.chmod(0o755)


def project(tmp_path: Path, stack_text: str = OWN_STACK, stacks: tuple[str, ...] = ("dev", "prod")) -> Path:
    """A project folder with a copy of tools/up.sh and the given stack files."""
    folder = tmp_path / "project"
    (folder / "tools").mkdir(parents=True, exist_ok=True)
    shutil.copy2(SCRIPT, folder / "tools" / "up.sh")
    shutil.copy2(ROOT / "tools" / "backend.sh", folder / "tools" / "backend.sh")  # use_backend, shared with down.sh
    shutil.copy2(ROOT / "Pulumi.yaml", folder / "Pulumi.yaml")  # up.sh reads the project name
    for stack in stacks:
        (folder / f"Pulumi.{stack}.yaml").write_text(stack_text)
    return folder


def run(path_dirs: list[Path], tmp_path: Path, folder: Path | None = None,
        **env: str) -> subprocess.CompletedProcess[str]:
    folder = folder or project(tmp_path)
    base = {"PATH": os.pathsep.join([*map(str, path_dirs), "/usr/bin", "/bin"]), "HOME": str(tmp_path),
            "CALLS": str(tmp_path / "calls.log"), "STACK": "dev", "PY": sys.executable, "PYTHONPATH": str(ROOT)}
    return subprocess.run(["bash", str(folder / "tools" / "up.sh")], capture_output=True, text=True,
                          env={**base, **env}, timeout=60, cwd=tmp_path)


def ready_bin(folder: Path) -> Path:
    """Shims for every prerequisite, all present and working; `pulumi` only records."""
    for name in ("pulumi", "aws", "docker"):
        shim(folder, name, "exit 0")
    return folder


@pytest.fixture
def empty_bin(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    return folder  # searched before /usr/bin and /bin, so shims shadow any real CLI there


def test_every_missing_prerequisite_is_named(tmp_path: Path, empty_bin: Path) -> None:
    shim(empty_bin, "docker", "exit 1")  # a client without a daemon
    result = run([empty_bin], tmp_path)
    assert result.returncode == 1
    err = result.stderr
    assert "cannot deploy, missing:" in err
    for needle in ("the Pulumi CLI", "the AWS CLI", "a running Docker daemon", "PULUMI_CONFIG_PASSPHRASE"):
        assert needle in err, needle
    assert not (tmp_path / "calls.log").exists() or "pulumi" not in (tmp_path / "calls.log").read_text()


def test_bad_credentials_are_reported(tmp_path: Path, empty_bin: Path) -> None:
    for name in ("pulumi", "docker"):
        shim(empty_bin, name, "exit 0")
    shim(empty_bin, "aws", "exit 255")
    result = run([empty_bin], tmp_path, PULUMI_CONFIG_PASSPHRASE="x")
    assert result.returncode == 1 and "AWS credentials" in result.stderr
    assert "the Pulumi CLI" not in result.stderr


def test_local_backend_stack_selection_and_up(tmp_path: Path, empty_bin: Path) -> None:
    shim(empty_bin, "pulumi", 'case "$1 $2" in "stack select") exit 1;; esac; '
                              'echo "backend=$PULUMI_BACKEND_URL" >> "$CALLS"; exit 0')
    shim(empty_bin, "aws", "exit 0")
    shim(empty_bin, "docker", "exit 0")
    result = run([empty_bin], tmp_path, PULUMI_CONFIG_PASSPHRASE="x", STACK="prod")
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    pulumi_calls = [c for c in calls if c.startswith("pulumi ") and not c.startswith("pulumi config get")]
    assert pulumi_calls == ["pulumi stack select prod", "pulumi stack init prod", "pulumi up --stack prod"]
    assert "pulumi config get createZone --stack prod" in calls  # asked, and not true: no zone-first step
    assert f"backend=file://{tmp_path}/project/.pulumi-state" in calls
    assert "aws sts get-caller-identity" in calls and "docker info" in calls


def test_a_configured_backend_is_kept(tmp_path: Path, empty_bin: Path) -> None:
    shim(empty_bin, "pulumi", 'echo "backend=$PULUMI_BACKEND_URL" >> "$CALLS"; exit 0')
    shim(empty_bin, "aws", "exit 0")
    shim(empty_bin, "docker", "exit 0")
    result = run([empty_bin], tmp_path, PULUMI_BACKEND_URL="s3://state-bucket")
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert "backend=s3://state-bucket" in calls and "pulumi up --stack dev" in calls


def test_documentation_only_values_are_refused_before_pulumi_up(tmp_path: Path, empty_bin: Path) -> None:
    # The test stacks hold the same documentation-only values as the shipped examples.
    folder = project(tmp_path, (TEST_STACKS / "Pulumi.prod.yaml").read_text(), stacks=("prod",))
    result = run([ready_bin(empty_bin)], tmp_path, folder, PULUMI_CONFIG_PASSPHRASE="x", STACK="prod")
    assert result.returncode == 1
    assert "Pulumi.prod.yaml still holds 6 documentation-only example value(s)" in result.stderr
    for key in ("webstack:zoneName = prod.example.com", "webstack:hostname = www.prod.example.com",
                "webstack:certificateExtraNames[0] = prod.example.com",
                "webstack:publicAccessCidrs[0] = 198.51.100.0/24",
                "webstack:adminPrincipalArns[0] = arn:aws:iam::123456789012:role/platform-admins",
                "webstack:alarmEmails[0] = oncall@prod.example.com"):
        assert f"  - {key}: " in result.stderr, key
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert not [c for c in calls if c.startswith("pulumi ")]  # neither stack selection nor `pulumi up`
    assert not (folder / ".pulumi-state").exists()


def test_own_values_go_through_to_pulumi_up(tmp_path: Path, empty_bin: Path) -> None:
    result = run([ready_bin(empty_bin)], tmp_path, PULUMI_CONFIG_PASSPHRASE="x")
    assert result.returncode == 0, result.stderr
    assert "documentation-only" not in result.stderr
    assert "pulumi up --stack dev" in (tmp_path / "calls.log").read_text().splitlines()


# --- finding 8: a stack that creates its zone creates it first and waits for the delegation ---

# A stack of the user's own values that creates its zone (the preflight refuses the examples' values).
ZONE_STACK = OWN_STACK + "  webstack:createZone: true\n"
NAME_SERVERS = ["ns-101.awsdns-01.com", "ns-202.awsdns-02.net", "ns-303.awsdns-03.org", "ns-404.awsdns-04.co.uk"]


# A second public zone of the same name (Route 53 Domains creates one on registration), listed first by name.
REGISTRAR_NAME_SERVERS = ["ns-9.awsdns-09.com", "ns-8.awsdns-08.net", "ns-7.awsdns-07.org", "ns-6.awsdns-06.co.uk"]
ZONE_URN = "urn:pulumi:prod::webstack::webstack:dns:Dns$aws:route53/zone:Zone::dns-zone"


def zone_shims(folder: Path, dig_answer: list[str]) -> None:
    """`pulumi stack export` holds the zone this stack created (Z0PRODZONE); `aws route53` knows two public zones
    of that name, the registration's (Z0REGISTRAR) listed first."""
    state = json.dumps({"deployment": {"resources": [
        {"urn": "urn:pulumi:prod::webstack::webstack:dns:Dns::dns"},
        {"urn": ZONE_URN, "id": "Z0PRODZONE", "outputs": {"zoneId": "Z0PRODZONE"}}]}})
    (folder / "state.json").write_text(state)
    shim(folder, "pulumi", 'case "$1 $2 $3" in '
                           '"config get createZone") echo true;; '
                           '"config get zoneName") echo apps.acme-corp.net.;; esac; '
                           f'case "$1 $2" in "stack export") cat "{folder}/state.json";; esac; exit 0')
    ours = "\\t".join(n + "." for n in NAME_SERVERS)
    theirs = "\\t".join(n + "." for n in REGISTRAR_NAME_SERVERS)
    shim(folder, "aws", 'case "$1 $2" in '
                        '"route53 list-hosted-zones-by-name") echo /hostedzone/Z0REGISTRAR;; '
                        '"route53 get-hosted-zone") case "$*" in '
                        f'*"--id Z0PRODZONE "*) printf "{ours}\\n";; '
                        f'*"--id Z0REGISTRAR "*) printf "{theirs}\\n";; esac;; esac; exit 0')
    shim(folder, "docker", "exit 0")
    answer = "\\n".join(n.upper() + "." for n in dig_answer)  # resolvers may answer in any case and order
    shim(folder, "dig", f'printf "{answer}\\n"')
    shim(folder, "sleep", "exit 0")  # the wait between polls is recorded, not waited


def test_a_created_zone_is_created_first_then_the_stack_once_delegated(tmp_path: Path, empty_bin: Path,
                                                                       prod: Plan) -> None:
    zone_shims(empty_bin, dig_answer=list(reversed(NAME_SERVERS)))
    result = run([empty_bin], tmp_path, project(tmp_path, ZONE_STACK), PULUMI_CONFIG_PASSPHRASE="x", STACK="prod",
                 DELEGATION_TIMEOUT="2", DELEGATION_POLL="1")  # delegated at once: no wait
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    ups = [c for c in calls if c.startswith("pulumi up")]
    assert len(ups) == 2 and ups[1] == "pulumi up --stack prod"
    targets = re.findall(r"--target (\S+)", ups[0])
    # exactly the zone and its component, by the URNs the program declares
    zone = prod.one("aws:route53/zone:Zone")
    assert set(targets) == {zone["urn"], zone["parent"]}  # the render's URNs are the engine's
    assert "dig +short NS apps.acme-corp.net @1.1.1.1" in calls
    assert "is delegated" in result.stdout
    # finding 4: the name servers of the zone this stack created (its id from the state), not of the first public
    # zone with that name
    assert "pulumi stack export --stack prod" in calls
    assert [c for c in calls if c.startswith("aws route53")] == [
        "aws route53 get-hosted-zone --id Z0PRODZONE --query DelegationSet.NameServers --output text"]


def test_an_undelegated_zone_stops_with_the_name_servers_to_set(tmp_path: Path, empty_bin: Path) -> None:
    zone_shims(empty_bin, dig_answer=["ns1.registrar-parking.example"])
    result = run([empty_bin], tmp_path, project(tmp_path, ZONE_STACK), PULUMI_CONFIG_PASSPHRASE="x", STACK="prod",
                 DELEGATION_TIMEOUT="2",
                 DELEGATION_POLL="1")
    assert result.returncode == 2
    assert all(f"  {n}" in result.stdout for n in NAME_SERVERS)
    assert not any(n in result.stdout for n in REGISTRAR_NAME_SERVERS)
    assert "the NS records of zone Z0PRODZONE" in result.stdout
    assert "add the NS records at the registrar, then run 'make up' again" in result.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    ups = [c for c in calls if c.startswith("pulumi up")]
    assert len(ups) == 1 and "--target" in ups[0]  # the zone only: the full update never starts
    # a check, then one after each interval until the timeout (2 s, every 1 s): the waits are recorded, not waited
    dig = "dig +short NS apps.acme-corp.net @1.1.1.1"
    assert [c for c in calls if c.split()[0] in ("dig", "sleep")] == [dig, "sleep 1", dig, "sleep 1", dig]


def test_missing_prerequisites_and_example_values_are_reported_together(tmp_path: Path, empty_bin: Path) -> None:
    folder = project(tmp_path, (TEST_STACKS / "Pulumi.dev.yaml").read_text(), stacks=("dev",))
    result = run([empty_bin], tmp_path, folder)  # no CLI at all, and the example's documentation-only values
    assert result.returncode == 1
    assert "cannot deploy, missing:" in result.stderr and "the Pulumi CLI" in result.stderr
    assert "documentation-only example value" in result.stderr and "webstack:zoneName = example.com" in result.stderr
