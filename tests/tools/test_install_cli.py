"""tools/install_cli.py against a local HTTP server standing in for Pulumi's release hosts (127.0.0.1, no
network): the archive is installed only when its SHA-256 matches the published checksums file, once; a mismatch
or a missing entry installs nothing. The real download and Pulumi's real checksums are only seen by `make up`."""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tools import install_cli
from tools.install_cli import InstallError, archive_name, expected_sha256, install, platform_name

VERSION = "3.272.0"
PLAT = "linux-x64"
ARCHIVE = archive_name(VERSION, PLAT)


def fake_archive(version: str = VERSION) -> bytes:
    """A tarball shaped like Pulumi's: pulumi/pulumi (here a script printing the version) and a language host."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, body in (("pulumi/pulumi", f"#!/bin/sh\necho v{version}\n"),
                           ("pulumi/pulumi-language-python", "#!/bin/sh\nexit 0\n")):
            data = body.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Releases(BaseHTTPRequestHandler):
    files: dict[str, bytes]
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, bytes], list[str]]]:
    files: dict[str, bytes] = {}
    requests: list[str] = []
    handler = type("Handler", (Releases,), {"files": files, "requests": requests})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # shutdown() waits for the serving loop's next poll: 0.5 s by default, at every test's teardown
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", files, requests
    finally:
        httpd.shutdown()
        httpd.server_close()


def publish(files: dict[str, bytes], archive: bytes, listed_digest: str | None = None) -> None:
    files[f"/sdk/{ARCHIVE}"] = archive
    digest = listed_digest or hashlib.sha256(archive).hexdigest()
    files[f"/v{VERSION}/checksums.txt"] = (f"{'0' * 64}  pulumi-v{VERSION}-darwin-arm64.tar.gz\n"
                                           f"{digest}  {ARCHIVE}\n").encode()


def run(base: str, root: Path) -> Path:
    return install(VERSION, root, archive_url=base + "/sdk/{archive}", checksums_url=base + "/v{version}/checksums.txt",
                   plat=PLAT)


def test_a_verified_archive_is_installed_once(server: tuple[str, dict[str, bytes], list[str]],
                                               tmp_path: Path) -> None:
    base, files, requests = server
    publish(files, fake_archive())
    folder = run(base, tmp_path / ".pulumi-cli")
    assert folder == tmp_path / ".pulumi-cli" / VERSION / "bin"
    assert sorted(p.name for p in folder.iterdir()) == ["pulumi", "pulumi-language-python"]
    assert requests == [f"/v{VERSION}/checksums.txt", f"/sdk/{ARCHIVE}"]
    run(base, tmp_path / ".pulumi-cli")  # installed: the Automation API checks it, nothing is downloaded
    assert len(requests) == 2


def test_a_checksum_mismatch_refuses_and_leaves_nothing(server: tuple[str, dict[str, bytes], list[str]],
                                                        tmp_path: Path) -> None:
    base, files, _ = server
    publish(files, fake_archive(), listed_digest=hashlib.sha256(b"the real archive").hexdigest())
    with pytest.raises(InstallError, match="does not match Pulumi's published .*refusing to install"):
        run(base, tmp_path / ".pulumi-cli")
    assert not (tmp_path / ".pulumi-cli").exists()


def test_an_archive_missing_from_the_checksums_file_is_refused(server: tuple[str, dict[str, bytes], list[str]],
                                                              tmp_path: Path) -> None:
    base, files, _ = server
    publish(files, fake_archive())
    files[f"/v{VERSION}/checksums.txt"] = b"0" * 64 + b"  something-else.tar.gz\n"
    with pytest.raises(InstallError, match="lists .* 0 time"):
        run(base, tmp_path / ".pulumi-cli")
    assert not (tmp_path / ".pulumi-cli").exists()


def test_a_cli_of_another_version_is_refused(server: tuple[str, dict[str, bytes], list[str]], tmp_path: Path) -> None:
    base, files, _ = server
    publish(files, fake_archive(version="3.999.0"))  # verified bytes, but not the pinned release
    with pytest.raises(InstallError, match="not the pinned 3.272.0"):
        run(base, tmp_path / ".pulumi-cli")


def test_checksum_lines_and_platforms() -> None:
    digest = "ab" * 32
    assert expected_sha256(f"{digest}  {ARCHIVE}\n{'cd' * 32}  other.tar.gz", ARCHIVE) == digest
    assert expected_sha256(f"{digest.upper()} *{ARCHIVE}", ARCHIVE) == digest
    assert platform_name("Linux", "x86_64") == "linux-x64" and platform_name("Darwin", "arm64") == "darwin-arm64"
    with pytest.raises(InstallError, match="install it yourself"):
        platform_name("Windows", "AMD64")


def test_the_version_is_pinned_once_and_matches_the_sdk() -> None:
    """.pulumi.version is read by the installer and by pulumi/actions in the workflows; it follows the SDK pin."""
    version = install_cli.pinned_version()
    sdk = [ln.split("==")[1] for ln in (install_cli.ROOT / "requirements.txt").read_text().splitlines()
           if ln.startswith("pulumi==")]
    assert sdk == [version]
    workflows = install_cli.ROOT / ".github" / "workflows"
    for name in ("preview.yml", "deploy.yml"):
        text = (workflows / name).read_text()
        assert text.count("pulumi-version-file: .pulumi.version") == text.count("uses: pulumi/actions@"), name


