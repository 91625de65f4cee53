"""The app image on ECS: uid 101, read-only root filesystem, one writable bind mount (Fargate's layout).

Fargate gives a task's bind mount root ownership and mode 0755 (aws/containers-roadmap#938) unless the image declares
the mount path as a VOLUME, in which case ECS copies the image's directory (owner, mode) into the mount. These tests
hold the Dockerfile, nginx.conf and the task definition to one path, then run the real nginx as uid 101 on a copy of
the site where nothing is writable but that mount: with the mode the image declares it serves; with Fargate's
default it cannot even start (the trap, reproduced).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.ecs.task import SCRATCH_PATH
from infra.image import APP_DIR, APP_UID
from tests.support.app import (
    CONTRACT,
    DOC_ROOT,
    NGINX_CONF,
    copy_site_like_the_build,
    find_nginx,
    free_port,
    parse_dockerfile,
    stages,
)

DOCKERFILE = APP_DIR / "Dockerfile"
# What the VOLUME path is in the base image (Alpine's /tmp, which nginx-unprivileged leaves alone): the mode ECS
# copies into the bind mount. Fargate's default for a path the image does not declare: root, 0755.
IMAGE_TMP_MODE = 0o1777
FARGATE_DEFAULT_MODE = 0o755


def final_stage_volumes() -> list[str]:
    final = stages(parse_dockerfile(DOCKERFILE.read_text()))[-1]
    paths: list[str] = []
    for instruction in final.all("VOLUME"):
        args = instruction.args.strip()
        paths += re.findall(r'"([^"]+)"', args) if args.startswith("[") else args.split()
    return paths


def nginx_write_paths() -> list[str]:
    code = "\n".join(line.split("#", 1)[0] for line in NGINX_CONF.read_text().splitlines())
    return re.findall(r"^\s*(?:pid|\w+_temp_path)\s+(\S+?);", code, re.MULTILINE)


def test_the_image_declares_the_task_definitions_scratch_path_as_a_volume() -> None:
    assert final_stage_volumes() == [SCRATCH_PATH]


def test_nginx_writes_only_below_the_volume() -> None:
    paths = nginx_write_paths()
    assert len(paths) == 6, paths  # pid and the five temp paths
    assert all(p.startswith(SCRATCH_PATH + "/") for p in paths), paths


def test_the_volume_comes_before_user_so_the_base_directory_is_kept() -> None:
    final = stages(parse_dockerfile(DOCKERFILE.read_text()))[-1]
    keywords = [i.keyword for i in final.instructions]
    assert keywords.index("VOLUME") < keywords.index("USER")
    assert final.all("USER")[-1].args.split(":")[0] == str(APP_UID)


# ---------------------------------------------------------------------------------------------------------------
# The real nginx, as uid 101, on a read-only layout with one writable mount


def _layout(mount_mode: int) -> tuple[Path, Path, Path, int]:
    """A root-owned, read-only-to-101 copy of the image's files plus the bind mount at `mount_mode`."""
    work = Path(tempfile.mkdtemp(prefix="ecs-layout-"))
    work.chmod(0o755)
    site = work / "html"
    copy_site_like_the_build(site)
    mount = work / "tmp"
    mount.mkdir()
    mount.chmod(mount_mode)
    port = free_port()
    text = re.sub(r"(\s)/tmp/", rf"\g<1>{mount}/", NGINX_CONF.read_text())  # the mount's path, first
    text = re.sub(rf"^(\s*listen\s+){CONTRACT['port']}\b", rf"\g<1>127.0.0.1:{port}", text, flags=re.MULTILINE)
    text = text.replace(f"root {DOC_ROOT};", f"root {site};")
    conf = work / "nginx.conf"
    conf.write_text(text)
    for path in [work, *work.rglob("*")]:
        os.chown(path, 0, 0)  # like the image: every file root's; only the mount's mode differs
    return work, conf, mount, port


def _as_app_user() -> None:
    os.setgroups([])
    os.setgid(APP_UID)
    os.setuid(APP_UID)


@pytest.fixture(scope="module")
def nginx() -> str:
    binary, how = find_nginx()
    if binary is None:
        if os.environ.get("REQUIRE_NGINX") == "1":
            pytest.fail(f"nginx not found ({how})")
        pytest.skip(f"nginx not found ({how})")
    if os.geteuid() != 0:
        pytest.skip("running nginx as uid 101 needs root to switch to it")
    return binary


def _start(nginx: str, conf: Path, work: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """nginx as uid 101; its stdout/stderr are files the container user owns (as the runtime's log pipes are), kept
    outside the layout. Returns the process and its stderr file."""
    logs = Path(tempfile.mkdtemp(prefix="ecs-logs-"))
    out, err = logs / "stdout", logs / "stderr"
    for path in (out, err):
        path.touch()
        os.chown(path, APP_UID, APP_UID)
    cmd = [nginx, "-e", "stderr", "-p", str(work), "-c", str(conf), "-g", "daemon off;"]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                   preexec_fn=_as_app_user)
    return process, err


@pytest.fixture()
def layout(request: pytest.FixtureRequest) -> Iterator[tuple[Path, Path, Path, int]]:
    work, conf, mount, port = _layout(request.param)
    try:
        yield work, conf, mount, port
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("layout", [IMAGE_TMP_MODE], indirect=True)
def test_uid_101_serves_with_the_mount_the_image_declares(nginx: str, layout: tuple[Path, Path, Path, int]) -> None:
    import http.client

    work, conf, mount, port = layout
    process, err = _start(nginx, conf, work)
    try:
        deadline, status = time.monotonic() + 10, None
        while status != 200:
            assert process.poll() is None, err.read_text()
            assert time.monotonic() < deadline, "nginx did not answer"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", CONTRACT["healthPath"])
                status = conn.getresponse().status
                conn.close()
            except OSError:
                time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("POST", "/", body=b"x" * 20000)  # a body large enough to be buffered in client_body_temp
        assert conn.getresponse().status == 405
        conn.close()
        # Everything uid 101 wrote is inside the mount; nothing else in the layout belongs to it.
        owned = sorted(str(p.relative_to(work)) for p in work.rglob("*") if p.stat().st_uid == APP_UID)
        assert owned and all(p.startswith("tmp/") for p in owned), owned
        assert (mount / "nginx.pid").is_file()
        pid = int((mount / "nginx.pid").read_text())
        status_lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        uids = next(line for line in status_lines if line.startswith("Uid:")).split()[1:]
        assert set(uids) == {str(APP_UID)}, "the master runs as 101, not root"
    finally:
        process.terminate()
        process.wait(timeout=5)
        shutil.rmtree(err.parent, ignore_errors=True)


@pytest.mark.parametrize("layout", [FARGATE_DEFAULT_MODE], indirect=True)
def test_fargates_default_mount_stops_uid_101(nginx: str, layout: tuple[Path, Path, Path, int]) -> None:
    work, conf, _mount, _port = layout
    process, err = _start(nginx, conf, work)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("nginx started on a root-owned 0755 mount: the trap test no longer reproduces the trap")
    finally:
        message = err.read_text()
        shutil.rmtree(err.parent, ignore_errors=True)
    assert process.returncode != 0
    assert re.search(r"/tmp/\S+ failed \(13: Permission denied\)|13: Permission denied", message), message
