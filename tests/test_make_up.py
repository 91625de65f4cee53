"""`make up` (scripts/up.sh): names every missing prerequisite, then picks backend and stack and runs
`pulumi up`. The real CLIs are replaced by recording shims; nothing is deployed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from infra.render import ROOT

SCRIPT = ROOT / "scripts" / "up.sh"


def shim(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\necho \"{name} $*\" >> \"$CALLS\"\n{body}\n")
    path.chmod(0o755)


def run(path_dirs: list[Path], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.pathsep.join([*map(str, path_dirs), "/usr/bin", "/bin"]), "HOME": str(tmp_path),
            "CALLS": str(tmp_path / "calls.log"), "STACK": "dev"}
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env={**base, **env}, timeout=60,
                          cwd=tmp_path)


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
    assert f"backend=file://{ROOT}/.pulumi-state" in calls
    assert "aws sts get-caller-identity" in calls and "docker info" in calls


def test_a_configured_backend_is_kept(tmp_path: Path, empty_bin: Path) -> None:
    shim(empty_bin, "pulumi", 'echo "backend=$PULUMI_BACKEND_URL" >> "$CALLS"; exit 0')
    shim(empty_bin, "aws", "exit 0")
    shim(empty_bin, "docker", "exit 0")
    result = run([empty_bin], tmp_path, PULUMI_BACKEND_URL="s3://state-bucket")
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert "backend=s3://state-bucket" in calls and "pulumi up --stack dev" in calls
