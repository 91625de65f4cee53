"""CI is written once: no script or run of steps is copied between workflows (the set-up lives in the composite
action .github/actions/pulumi-setup, the runner picker in the reusable workflow pick-runner.yml), and the
workflows install Debian packages and run make only through .ci/run, which these tests run against stubs."""

from __future__ import annotations

import os
import stat
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.workflows import ACTION_FILES, FILES, step_lists
from tools.render import ROOT

# .ci/run, the Makefile and the workflows are top-level files of the project (make -n reads the Makefile).
pytestmark = pytest.mark.project_root

CI_RUN = ROOT / ".ci" / "run"
# A one-line command (`make test`, `.ci/run`) may appear in two places; a script of this many lines may not.
MAX_SHARED_RUN_LINES = 1


def run_lines(step: dict[str, Any]) -> tuple[str, ...]:
    return tuple(line.strip() for line in str(step.get("run", "")).splitlines() if line.strip())


def test_no_run_script_is_written_twice() -> None:
    seen: dict[tuple[str, ...], list[str]] = {}
    for where, step_list in step_lists().items():
        for step in step_list:
            if len(lines := run_lines(step)) > MAX_SHARED_RUN_LINES:
                seen.setdefault(lines, []).append(where)
    copies = [(len(lines), where) for lines, where in seen.items() if len(where) > 1]
    assert not copies, f"run scripts copied (lines, places): {copies}; write them once (composite action, script)"


def test_no_two_jobs_share_a_run_of_steps() -> None:
    """Two consecutive steps, the same but for their names, in two jobs (or twice in one) belong in a composite
    action under .github/actions/ with inputs for what differs."""
    windows: Counter[str] = Counter()
    where: dict[str, list[str]] = {}
    for name, step_list in step_lists().items():
        bare = [repr(sorted((k, v) for k, v in step.items() if k != "name")) for step in step_list]
        for pair in zip(bare, bare[1:], strict=False):
            key = "\n".join(pair)
            windows[key] += 1
            where.setdefault(key, []).append(name)
    shared = sorted({tuple(where[key]) for key, n in windows.items() if n > 1})
    assert not shared, f"jobs sharing two or more consecutive steps: {shared}"


def test_the_runner_picker_exists_once() -> None:
    """The picker's script (its error title is its signature) is in one file, and that is the reusable workflow."""
    places = [path for path in [*FILES, *ACTION_FILES, CI_RUN, *(ROOT / "tools").rglob("*.py")]
              if "No runner that can reach the cluster" in path.read_text()]
    assert [p.name for p in places] == ["pick-runner.yml"]


def test_debian_packages_are_installed_only_by_ci_run() -> None:
    for path in [*FILES, *ACTION_FILES]:
        assert "apt-get" not in path.read_text(), f"{path.name} installs packages itself: use .ci/run"
    assert "apt-get install" in CI_RUN.read_text()


# --- .ci/run against stubs: which commands it runs, as whom, with what environment ---------------------------
STUB = """#!/bin/sh
echo "${0##*/} $* | PYTHON=${PYTHON-} REQUIRE_NGINX=${REQUIRE_NGINX-}" >> "$LOG"
"""


def run_ci(tmp_path: Path, *args: str, uid: int, python: str | None = None) -> list[str]:
    """.ci/run with only stubs on PATH: no nginx, no dot there (a system nginx at /usr/sbin still counts)."""
    work = tmp_path / f"run{len(list(tmp_path.iterdir()))}"  # a fresh folder for each call
    stubs = work / "bin"
    stubs.mkdir(parents=True)
    for name in ("sudo", "apt-get", "make"):
        (stubs / name).write_text(STUB)
    (stubs / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (stubs / "dirname").symlink_to("/usr/bin/dirname")
    for path in stubs.iterdir():
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IXUSR)
    log = work / "log"
    log.write_text("")
    env = {"PATH": str(stubs), "LOG": str(log), **({"PYTHON": python} if python else {})}
    done = subprocess.run(["/bin/bash", str(CI_RUN), *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return log.read_text().splitlines()


def test_ci_run_installs_with_sudo_unless_root_then_runs_make_test(tmp_path: Path) -> None:
    user = run_ci(tmp_path, uid=1001, python="python")
    assert user[0] == "sudo --preserve-env=DEBIAN_FRONTEND apt-get update -qq | PYTHON=python REQUIRE_NGINX="
    assert user[1].startswith("sudo --preserve-env=DEBIAN_FRONTEND apt-get install -y -qq --no-install-recommends")
    assert "graphviz" in user[1].split("|")[0].split()
    # the matrix Python reaches make, and nginx's tests may not skip
    assert user[2:] == ["make test | PYTHON=python REQUIRE_NGINX=1"]
    root = run_ci(tmp_path, uid=0)
    assert [line.split()[0] for line in root] == ["apt-get", "apt-get", "make"]


def test_ci_run_passes_a_make_target_and_variables(tmp_path: Path) -> None:
    assert run_ci(tmp_path, "review", "BASE=abc123", uid=0)[-1].startswith("make review BASE=abc123 |")


@pytest.mark.skipif(not Path("/usr/bin/make").exists(), reason="make is not installed")
def test_make_builds_the_virtualenvs_with_the_python_from_the_environment() -> None:
    """ci.yml exports PYTHON (setup-python's interpreter): make must take it from the environment (`?=`)."""
    done = subprocess.run(["make", "-n", "-B", "venv", "checkov-venv"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHON": "/opt/matrix/bin/python"}, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # uv makes each virtualenv from that interpreter (and the system pip bootstraps uv with it)
    for venv in ("venv", ".venv-checkov"):
        assert any("venv" in line and "--python /opt/matrix/bin/python" in line and line.rstrip().endswith(venv)
                   for line in lines), (venv, lines)
    assert "/opt/matrix/bin/python -m venv --without-pip .venv-uv" in done.stdout
