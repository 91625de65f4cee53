"""tools/bootstrap.sh (`make bootstrap`) against stub CLIs: it refuses to deploy roles that no token could assume
because the repository customises GitHub's OIDC subject template, and says so when it cannot check."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tools.render import ROOT

SCRIPT = ROOT / "tools" / "bootstrap.sh"


def stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/bash\necho \"{name} $*\" >> \"$STUB_LOG\"\n{body}\n")
    path.chmod(0o755)


def run(tmp_path: Path, gh: str | None) -> tuple[subprocess.CompletedProcess[str], str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub(bin_dir, "aws", "exit 0")
    stub(bin_dir, "pulumi", 'case "$1 $2" in "config get") echo acme-corp/webstack;; "stack output") echo "{}";; esac')
    if gh is not None:
        stub(bin_dir, "gh", gh)
    log = tmp_path / "log"
    log.touch()
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "STUB_LOG": str(log), "HOME": str(tmp_path),
           "PULUMI_BACKEND_URL": f"file://{tmp_path}/state", "PULUMI_CONFIG_PASSPHRASE": "x"}
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=60)
    return result, log.read_text()


def test_a_customised_subject_template_stops_the_bootstrap(tmp_path: Path) -> None:
    result, log = run(tmp_path, 'echo false')
    assert result.returncode == 1
    assert "customises its OIDC subject template (use_default: false)" in result.stderr
    assert "gh api repos/acme-corp/webstack/actions/oidc/customization/sub --jq .use_default" in log
    assert "pulumi up" not in log


@pytest.mark.parametrize(("gh", "warning"), [
    ("echo true", None),
    (None, "no GitHub CLI (gh)"),
    ("exit 4", "could not read the OIDC subject template of acme-corp/webstack"),
])
def test_the_default_template_or_no_way_to_check_deploys(tmp_path: Path, gh: str | None,
                                                          warning: str | None) -> None:
    result, log = run(tmp_path, gh)
    assert result.returncode == 0, result.stderr
    assert "pulumi up --stack ci" in log
    if warning:
        assert warning in result.stderr and "must answer use_default: true" in result.stderr
    else:
        assert "warning" not in result.stderr
    assert os.access(SCRIPT, os.X_OK)
