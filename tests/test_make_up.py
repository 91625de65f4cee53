"""`make up` (scripts/up.sh): names every missing prerequisite, then picks backend and stack and runs
`pulumi up`. The real CLIs are replaced by recording shims; nothing is deployed. The script runs in a project
folder of the test's own (a copy of up.sh next to stack files written here), never on the user's stack files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.render import ROOT, TEST_STACKS

pytestmark = pytest.mark.project_root  # runs the project's up.sh (on stack files of its own)
SCRIPT = ROOT / "scripts" / "up.sh"
# A stack of the user's own values: nothing documentation-only left (see infra/preflight.py).
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
    """A project folder with a copy of scripts/up.sh and the given stack files."""
    folder = tmp_path / "project"
    (folder / "scripts").mkdir(parents=True, exist_ok=True)
    shutil.copy2(SCRIPT, folder / "scripts" / "up.sh")
    for stack in stacks:
        (folder / f"Pulumi.{stack}.yaml").write_text(stack_text)
    return folder


def run(path_dirs: list[Path], tmp_path: Path, folder: Path | None = None,
        **env: str) -> subprocess.CompletedProcess[str]:
    folder = folder or project(tmp_path)
    base = {"PATH": os.pathsep.join([*map(str, path_dirs), "/usr/bin", "/bin"]), "HOME": str(tmp_path),
            "CALLS": str(tmp_path / "calls.log"), "STACK": "dev", "PY": sys.executable, "PYTHONPATH": str(ROOT)}
    return subprocess.run(["bash", str(folder / "scripts" / "up.sh")], capture_output=True, text=True,
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
    pulumi_calls = [c for c in calls if c.startswith("pulumi ")]
    assert pulumi_calls == ["pulumi stack select prod", "pulumi stack init prod", "pulumi up --stack prod"]
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
    assert "Pulumi.prod.yaml still holds 5 documentation-only example value(s)" in result.stderr
    for key in ("webstack:zoneName = prod.example.com", "webstack:hostname = www.prod.example.com",
                "webstack:certificateExtraNames[0] = prod.example.com",
                "webstack:publicAccessCidrs[0] = 198.51.100.0/24",
                "webstack:adminPrincipalArns[0] = arn:aws:iam::123456789012:role/platform-admins"):
        assert f"  - {key}: " in result.stderr, key
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert not [c for c in calls if c.startswith("pulumi ")]  # neither stack selection nor `pulumi up`
    assert not (folder / ".pulumi-state").exists()


def test_own_values_go_through_to_pulumi_up(tmp_path: Path, empty_bin: Path) -> None:
    result = run([ready_bin(empty_bin)], tmp_path, PULUMI_CONFIG_PASSPHRASE="x")
    assert result.returncode == 0, result.stderr
    assert "documentation-only" not in result.stderr
    assert "pulumi up --stack dev" in (tmp_path / "calls.log").read_text().splitlines()
