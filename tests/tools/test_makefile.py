"""The Makefile: `make` alone lists the targets (up and test first), uv makes every virtualenv from a pinned uv,
and the stamps keep a second run from installing anything. Installs are dry runs (`make -n`, `make -q`) in a
folder holding a copy of the Makefile and the requirements files: nothing is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.render import ROOT

pytestmark = pytest.mark.project_root  # runs make on the project's Makefile
MAKE = shutil.which("make") or "make"
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt", "requirements-checkov.txt", "requirements-uv.txt",
                "policy/requirements.txt", "requirements-awscli.txt", ".pulumi.version")
VENVS = ("venv", "checkov-venv", "policy-venv")


def make(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MAKE, "--no-print-directory", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin", **env})


def phony_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    return {t for line in re.findall(r"^\.PHONY:(.*)$", text, re.MULTILINE) for t in line.split()}


def test_make_alone_lists_the_targets_up_and_test_first() -> None:
    alone, help_ = make("-s"), make("-s", "help")
    assert alone.returncode == 0 and alone.stdout == help_.stdout, alone.stderr
    lines = alone.stdout.splitlines()
    assert lines[0] == "Two commands matter:"
    assert re.match(r"  make up +deploy ", lines[1]) and re.match(r"  make test +everything offline", lines[2])
    listed = [m.group(1) for line in lines if (m := re.match(r"  make (\S+) +\S", line))]
    assert len(listed) == len(set(listed))
    assert set(listed) == phony_targets() - {"help"}  # each target has its one-line description


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Makefile", *REQUIREMENTS):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def test_uv_makes_every_virtualenv_and_only_uv_comes_from_pip(project: Path) -> None:
    run = make("-n", *VENVS, cwd=project)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert [ln for ln in lines if "-m venv" in ln or "-m pip" in ln or "pip install" in ln and "uv pip" not in ln] == [
        "test -x .venv-uv/bin/python || python3 -m venv --without-pip .venv-uv",
        "python3 -m pip --python .venv-uv/bin/python install --quiet --disable-pip-version-check"
        " -r requirements-uv.txt"]
    made = {m.group(2): m.group(1) for ln in lines if (m := re.search(r"\.venv-uv/bin/uv venv (.*) (\S+)$", ln))}
    assert set(made) == {"venv", ".venv-checkov", "policy/venv"}
    # Pulumi runs `python -m pip list` in the virtualenvs it uses (Pulumi.yaml, policy/PulumiPolicy.yaml)
    assert "--seed" in made["venv"] and "--seed" in made["policy/venv"] and "--seed" not in made[".venv-checkov"]
    assert all("--no-python-downloads" in flags for flags in made.values())
    installs = [ln for ln in lines if ln.startswith(".venv-uv/bin/uv pip install")]
    assert [ln.split(" -r ")[1].split()[0] for ln in installs] == [
        "requirements-dev.txt", "requirements-checkov.txt", "policy/requirements.txt"]
    # with their bytecode: no process of the suite compiles the SDKs (docs/development.md, "Bytecode")
    assert all("--compile-bytecode" in ln for ln in installs)


def test_python_writes_bytecode_in_every_recipe_even_when_the_environment_forbids_it(project: Path) -> None:
    """PYTHONDONTWRITEBYTECODE would make every process recompile the project's modules and pytest rewrite the
    tests again: make's recipes run without it (the packages' bytecode is written at install either way)."""
    run = make("-n", *VENVS, cwd=project, PYTHONDONTWRITEBYTECODE="1")
    installs = [ln for ln in run.stdout.splitlines() if ln.startswith(".venv-uv/bin/uv pip install")]
    assert len(installs) == 3 and all("--compile-bytecode" in ln for ln in installs), run.stdout
    probe = make("-s", "--eval", 'probe:\n\t@echo "[$${PYTHONDONTWRITEBYTECODE-unset}]"', "probe", cwd=project,
                 PYTHONDONTWRITEBYTECODE="1")
    assert probe.stdout == "[unset]\n", probe.stdout + probe.stderr


def test_uv_is_pinned_to_one_exact_version() -> None:
    pins = [ln for ln in (ROOT / "requirements-uv.txt").read_text().splitlines() if ln and not ln.startswith("#")]
    assert len(pins) == 1 and re.fullmatch(r"uv==\d+\.\d+\.\d+", pins[0]), pins


def stamps(project: Path) -> None:
    """What a successful install leaves: the stamp files `make -n` would touch."""
    for ln in make("-n", *VENVS, cwd=project).stdout.splitlines():
        if m := re.search(r"touch (\S+)$", ln):
            (project / m.group(1)).parent.mkdir(parents=True, exist_ok=True)
            (project / m.group(1)).touch()


def test_stamps_make_a_second_run_install_nothing(project: Path) -> None:
    assert make("-q", *VENVS, cwd=project).returncode == 1  # nothing installed yet
    stamps(project)
    assert make("-q", *VENVS, cwd=project).returncode == 0
    # a changed requirements file reinstalls its own virtualenv only
    (project / "requirements-dev.txt").write_text((project / "requirements-dev.txt").read_text() + "# edited\n")
    assert make("-q", "venv", cwd=project).returncode == 1
    assert make("-q", "checkov-venv", "policy-venv", cwd=project).returncode == 0
    stamps(project)
    # a new uv is installed into the bootstrap virtualenv; the virtualenvs it made are kept
    (project / "requirements-uv.txt").write_text("uv==0.0.1\n")
    rerun = make("-n", *VENVS, cwd=project).stdout
    assert "-r requirements-uv.txt" in rerun and "uv pip install" not in rerun and "uv venv" not in rerun


def test_make_up_installs_its_tools_once_and_puts_them_on_path(project: Path) -> None:
    """`make up` (and `make bootstrap`) bring the AWS CLI (hash-checked from PyPI) and the pinned Pulumi CLI
    (tools/install_cli.py verifies the download) and put both first on PATH; installed, they are not fetched again."""
    version = (project / ".pulumi.version").read_text().strip()
    for target in ("up", "bootstrap"):
        run = make("-n", target, cwd=project)
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert (".venv-uv/bin/uv pip install --quiet --compile-bytecode --require-hashes "
                "--python .venv-awscli/bin/python -r requirements-awscli.txt") in lines
        assert "venv/bin/python -m tools.install_cli" in lines
        deploy = lines[-1]
        assert deploy.startswith(f'PATH="{project}/.pulumi-cli/{version}/bin:{project}/.venv-awscli/bin:$PATH" ')
    stamps(project)
    for name in ("awscli-venv", "pulumi-cli"):
        for ln in make("-n", name, cwd=project).stdout.splitlines():
            if m := re.search(r"touch (\S+)$", ln):
                (project / m.group(1)).parent.mkdir(parents=True, exist_ok=True)
                (project / m.group(1)).touch()
    (project / f".pulumi-cli/{version}/bin").mkdir(parents=True)
    (project / f".pulumi-cli/{version}/bin/pulumi").touch()
    assert make("-q", "awscli-venv", "pulumi-cli", cwd=project).returncode == 0
    (project / ".pulumi.version").write_text("9.9.9\n")  # a new pin installs the new CLI
    assert "tools.install_cli" in make("-n", "pulumi-cli", cwd=project).stdout


def test_every_awscli_requirement_is_pinned_with_hashes() -> None:
    text = (ROOT / "requirements-awscli.txt").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, re.MULTILINE)
    assert ("awscli", "1.46.2") in pins and len(pins) >= 8
    blocks = re.split(r"^(?=[A-Za-z0-9_.-]+==)", text, flags=re.MULTILINE)[1:]
    assert all("--hash=sha256:" in block for block in blocks)


def test_make_plan_renders_the_bootstrap_project() -> None:
    run = make("-n", "plan", "PROJECT=bootstrap")
    assert run.stdout.splitlines()[-1] == "venv/bin/python -m tools.render --stack ci --project bootstrap"
