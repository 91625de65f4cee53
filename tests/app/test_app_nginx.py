"""app/nginx.conf run for real by the Debian nginx, serving a build-like copy of app/site (no Docker needed).

The config is copied with exactly two edits, the document root and the listen address, then started once for
the module on a free port of 127.0.0.1. Without an nginx binary the server tests skip, unless REQUIRE_NGINX=1.
NGINX_BIN=<path> selects the binary (a path that does not exist simulates a missing nginx).
Run as root (CI), nginx runs its workers as `nobody`: the copy is made world-readable for them.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.support.app import (
    CONTRACT,
    DOC_ROOT,
    NGINX_CONF,
    PLACEHOLDER,
    SITE_DIR,
    TEST_VERSION,
    copy_site_like_the_build,
    find_nginx,
    free_port,
)

STARTUP_TIMEOUT_S = 10.0
LOG_TIMEOUT_S = 3.0
# Paths the config hard-codes (absolute, under /tmp); removed after the run if this run created them.
TMP_PATHS = ("/tmp/client_temp", "/tmp/proxy_temp", "/tmp/fastcgi_temp", "/tmp/uwsgi_temp", "/tmp/scgi_temp")

LONG_CACHE = "public, max-age=31536000, immutable"
SAFE_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
FIXED_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


# ---------------------------------------------------------------------------------------------------------------
# Locating nginx and preparing a build-like copy of the app




def nginx_version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10, check=True)
    m = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out.stderr + out.stdout)
    assert m, f"unexpected `nginx -v` output: {out.stderr!r}"
    return tuple(int(g) for g in m.groups())




def render_conf(text: str, root: str, port: int) -> str:
    """nginx.conf with only the document root and the listen address changed; each must occur exactly once."""
    listen = re.compile(rf"^(\s*listen\s+){CONTRACT['port']}\b", re.MULTILINE)
    doc_root = re.compile(rf"^(\s*root\s+){re.escape(DOC_ROOT)}(\s*;)", re.MULTILINE)
    text, listens = listen.subn(rf"\g<1>127.0.0.1:{port}", text)
    text, roots = doc_root.subn(rf"\g<1>{root}\g<2>", text)
    assert (listens, roots) == (1, 1), f"expected one `listen {CONTRACT['port']}` and one `root {DOC_ROOT};`"
    return text




# ---------------------------------------------------------------------------------------------------------------
# The running server


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def all(self, name: str) -> list[str]:
        return self.headers.get_all(name) or []

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass
class Prepared:
    nginx: str
    workdir: Path
    conf: Path
    site: Path
    port: int


@dataclass
class Server:
    prepared: Prepared
    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    @property
    def port(self) -> int:
        return self.prepared.port

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)

    def send(self, conn: http.client.HTTPConnection, method: str, path: str,
             headers: dict[str, str] | None = None, body: bytes | None = None) -> Response:
        # No Accept-Encoding unless a test sets one: http.client would otherwise add "identity".
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders(body)
        resp = conn.getresponse()
        return Response(resp.status, resp.headers, resp.read())

    def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                body: bytes | None = None) -> Response:
        conn = self.connection()
        try:
            return self.send(conn, method, path, headers, body)
        finally:
            conn.close()

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self.request("GET", path, headers)

    def raw(self, data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def log_lines(self) -> list[str]:
        return [line for line in self.stdout_path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def log_records(self) -> list[dict[str, object]]:
        records = []
        for line in self.log_lines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                pytest.fail(f"access log line is not JSON ({exc}): {line!r}")
        return records

    def wait_for_log(self, predicate: Callable[[dict[str, object]], bool]) -> dict[str, object]:
        deadline = time.monotonic() + LOG_TIMEOUT_S
        while True:
            matches = [r for r in self.log_records() if predicate(r)]
            if matches:
                return matches[-1]
            if time.monotonic() > deadline:
                log = "\n".join(self.log_lines())
                pytest.fail(f"no matching access log line within {LOG_TIMEOUT_S}s; log:\n{log}")
            time.sleep(0.05)

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def prepared() -> Iterator[Prepared]:
    nginx, how = find_nginx()
    if nginx is None:
        reason = (f"nginx not found ({how}); install the Debian package `nginx` to run the app's nginx.conf tests "
                  "(REQUIRE_NGINX=1 turns this skip into a failure)")
        if os.environ.get("REQUIRE_NGINX") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    assert nginx_version(nginx) >= (1, 19, 5), "nginx >= 1.19.5 is needed (-e option)"
    created = [p for p in TMP_PATHS if not os.path.exists(p)]  # `nginx -t` already creates them
    workdir = Path(tempfile.mkdtemp(prefix="app-nginx-test-"))
    try:
        workdir.chmod(0o755)  # workers run as `nobody` when the tests run as root
        site = workdir / "site"
        copy_site_like_the_build(site)
        port = free_port()
        conf = workdir / "nginx.conf"
        conf.write_text(render_conf(NGINX_CONF.read_text(encoding="utf-8"), str(site), port), encoding="utf-8")
        yield Prepared(nginx, workdir, conf, site, port)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        for path in created:
            with contextlib.suppress(OSError):
                os.rmdir(path)  # only if empty


@pytest.fixture(scope="module")
def server(prepared: Prepared) -> Iterator[Server]:
    stdout_path = prepared.workdir / "stdout.log"
    stderr_path = prepared.workdir / "stderr.log"
    cmd = [prepared.nginx, "-e", "stderr", "-p", str(prepared.workdir), "-c", str(prepared.conf),
           "-g", "daemon off;"]
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    srv = Server(prepared, process, stdout_path, stderr_path)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"nginx exited with {process.returncode}:\n{srv.stderr()}")
            try:
                if srv.get(CONTRACT["healthPath"]).status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"nginx did not answer on 127.0.0.1:{prepared.port} within {STARTUP_TIMEOUT_S}s:\n"
                            f"{srv.stderr()}")
            time.sleep(0.05)
        yield srv
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


# ---------------------------------------------------------------------------------------------------------------
# Assertions shared by the tests


def csp_directives(value: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def assert_security_headers(resp: Response) -> None:
    for name, expected in FIXED_SECURITY_HEADERS.items():
        assert resp.all(name) == [expected], f"{name}: {resp.all(name)}"
    assert len(resp.all("Referrer-Policy")) == 1
    assert resp.header("Referrer-Policy") in SAFE_REFERRER_POLICIES
    assert len(resp.all("Content-Security-Policy")) == 1, resp.all("Content-Security-Policy")
    csp = csp_directives(resp.header("Content-Security-Policy") or "")
    assert csp.get("default-src") == ["'self'"]
    assert csp.get("frame-ancestors") == ["'none'"]
    assert csp.get("object-src") == ["'none'"]
    assert "base-uri" in csp
    for directive, sources in csp.items():
        for source in sources:
            assert source in {"'self'", "'none'"}, f"CSP {directive} allows {source} (only 'self'/'none' expected)"


# ---------------------------------------------------------------------------------------------------------------
# The config itself


def test_config_is_valid(prepared: Prepared) -> None:
    cmd = [prepared.nginx, "-e", "stderr", "-t", "-p", str(prepared.workdir), "-c", str(prepared.conf)]
    result = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_only_root_and_listen_are_rewritten(prepared: Prepared) -> None:
    original = NGINX_CONF.read_text(encoding="utf-8").splitlines()
    rewritten = prepared.conf.read_text(encoding="utf-8").splitlines()
    changed = [(a.strip(), b.strip()) for a, b in zip(original, rewritten, strict=True) if a != b]
    assert changed == [
        (f"listen {CONTRACT['port']};", f"listen 127.0.0.1:{prepared.port};"),
        (f"root {DOC_ROOT};", f"root {prepared.site};"),
    ]


def test_config_is_unprivileged_and_tmp_only() -> None:
    conf = NGINX_CONF.read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in conf.splitlines())
    assert not re.search(r"^\s*user\s", code, re.MULTILINE), "no `user` directive: the image runs unprivileged"
    assert re.search(r"^\s*server_tokens\s+off;", code, re.MULTILINE)
    assert re.search(r"^\s*pid\s+/tmp/", code, re.MULTILINE)
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        assert re.search(rf"^\s*{kind}_temp_path\s+/tmp/", code, re.MULTILINE), f"{kind}_temp_path not in /tmp"
    assert re.search(r"^\s*error_log\s+/dev/stderr\b", code, re.MULTILINE)
    assert re.search(r"^\s*access_log\s+/dev/stdout\s+json;", code, re.MULTILINE)
    assert re.search(r"^\s*log_format\s+json\s+escape=json\b", code, re.MULTILINE)


# ---------------------------------------------------------------------------------------------------------------
# Served responses


def test_index_page(server: Server) -> None:
    resp = server.get("/")
    assert resp.status == 200
    assert (resp.header("Content-Type") or "").startswith("text/html")
    title = re.search(r"<title>(.*?)</title>", (SITE_DIR / "index.html").read_text(encoding="utf-8"), re.DOTALL)
    assert title and f"<title>{title.group(1)}</title>" in resp.text
    assert TEST_VERSION in resp.text, "the page shows the version"
    assert PLACEHOLDER not in resp.text
    assert_security_headers(resp)


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/", 200),
    ("GET", "/index.html", 200),
    ("GET", "/style.css", 200),
    ("GET", "/favicon.svg", 200),
    ("HEAD", "/", 200),
    ("GET", "/healthz", 200),
    ("GET", "/no/such/page", 404),
    ("GET", "/missing.css", 404),
    ("GET", "/404.html", 404),
    ("POST", "/", 405),
])
def test_security_headers_on_every_response(server: Server, method: str, path: str, status: int) -> None:
    resp = server.request(method, path)
    assert resp.status == status
    assert_security_headers(resp)


def test_security_headers_on_nginx_generated_errors(server: Server) -> None:
    too_large = server.request("POST", "/", {"Content-Length": str(64 * 1024 * 1024)})
    assert too_large.status == 413
    assert_security_headers(too_large)
    bad = server.raw(b"BOGUS\r\n\r\n").decode("latin-1")
    assert bad.startswith("HTTP/1.1 400 ")
    assert "\r\nX-Content-Type-Options: nosniff\r\n" in bad
    assert "\r\nContent-Security-Policy: " in bad


def test_healthz(server: Server) -> None:
    resp = server.get(CONTRACT["healthPath"])
    assert resp.status == 200
    assert resp.body == b"ok"
    assert (resp.header("Content-Type") or "").startswith("text/plain")
    assert resp.header("Cache-Control") == "no-store"
    head = server.request("HEAD", CONTRACT["healthPath"])
    assert (head.status, head.body) == (200, b"")


def test_healthz_is_not_logged(server: Server) -> None:
    marker = uuid.uuid4().hex
    conn = server.connection()  # one keep-alive connection: the probe is finished before the next request
    try:
        assert server.send(conn, "GET", f"{CONTRACT['healthPath']}?probe={marker}").status == 200
        assert server.send(conn, "GET", f"/?after={marker}").status == 200
    finally:
        conn.close()
    server.wait_for_log(lambda r: r.get("uri") == f"/?after={marker}")
    assert not [line for line in server.log_lines() if f"probe={marker}" in line]


def test_custom_404(server: Server) -> None:
    resp = server.get("/no/such/page")
    assert resp.status == 404
    assert (resp.header("Content-Type") or "").startswith("text/html")
    assert "Page not found" in resp.text, "the custom 404.html, not nginx's built-in page"
    assert TEST_VERSION in resp.text
    assert "nginx" not in resp.text.lower()
    assert resp.header("Cache-Control") == "no-cache"


def test_missing_asset_is_not_cached_for_a_year(server: Server) -> None:
    resp = server.get("/missing.css")
    assert resp.status == 404
    assert "Page not found" in resp.text
    assert resp.header("Cache-Control") == "no-cache"


@pytest.mark.parametrize("path", ["/", "/style.css"])
def test_gzip_when_asked(server: Server, path: str) -> None:
    plain = server.get(path)
    assert plain.status == 200
    assert plain.header("Content-Encoding") is None
    assert len(plain.body) >= 256, "the test file must exceed gzip_min_length"
    zipped = server.get(path, {"Accept-Encoding": "gzip"})
    assert zipped.status == 200
    assert zipped.header("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in (zipped.header("Vary") or "")
    assert gzip.decompress(zipped.body) == plain.body


def test_head(server: Server) -> None:
    get = server.get("/")
    head = server.request("HEAD", "/")
    assert head.status == 200
    assert head.body == b""
    assert head.header("Content-Length") == str(len(get.body))
    assert head.header("Content-Type") == get.header("Content-Type")
    assert_security_headers(head)


@pytest.mark.parametrize(("path", "expected"), [
    ("/", "no-cache"),
    ("/index.html", "no-cache"),
    ("/style.css", LONG_CACHE),
    (f"/style.css?v={TEST_VERSION}", LONG_CACHE),
    ("/favicon.svg", LONG_CACHE),
])
def test_cache_control(server: Server, path: str, expected: str) -> None:
    resp = server.get(path)
    assert resp.status == 200
    assert resp.all("Cache-Control") == [expected]


def test_content_types(server: Server) -> None:
    assert (server.get("/style.css").header("Content-Type") or "").startswith("text/css")
    assert (server.get("/favicon.svg").header("Content-Type") or "").startswith("image/svg+xml")


def test_server_header_has_no_version(server: Server) -> None:
    value = server.get("/").header("Server") or ""
    assert not re.search(r"\d", value), f"Server: {value}"


def test_access_log_is_json(server: Server) -> None:
    marker = uuid.uuid4().hex
    agent = 'probe "quoted" \\ back\tslash'
    resp = server.get(f"/?probe={marker}", {"User-Agent": agent, "Referer": "https://example.test/x"})
    assert resp.status == 200
    record = server.wait_for_log(lambda r: r.get("uri") == f"/?probe={marker}")
    assert record["status"] == 200
    assert record["method"] == "GET"
    assert record["protocol"] == "HTTP/1.1"
    assert record["remote_addr"] == "127.0.0.1"
    assert record["user_agent"] == agent, "escape=json keeps quotes and backslashes intact"
    assert record["referer"] == "https://example.test/x"
    assert record["body_bytes_sent"] == len(resp.body)
    assert isinstance(record["request_time"], int | float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", str(record["time"]))
    assert re.fullmatch(r"[0-9a-f]{32}", str(record["request_id"]))


def test_every_log_line_is_json_even_for_garbage_requests(server: Server) -> None:
    assert server.raw(b"GARBAGE \x01\x02 \"x\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    server.wait_for_log(lambda r: r.get("status") == 400)
    for record in server.log_records():
        assert isinstance(record["status"], int)


def test_errors_go_to_stderr(server: Server) -> None:
    assert server.request("POST", "/", {"Content-Length": str(32 * 1024 * 1024)}).status == 413
    deadline = time.monotonic() + LOG_TIMEOUT_S
    while "client intended to send too large body" not in server.stderr():
        assert time.monotonic() < deadline, f"error not on stderr:\n{server.stderr()}"
        time.sleep(0.05)
    assert not [line for line in server.log_lines() if "client intended" in line]


def test_workers_do_not_run_as_root(server: Server) -> None:
    if not Path("/proc").is_dir():
        pytest.skip("needs /proc")
    workers = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(server.process.pid):
            workers.append(int(fields["Uid"].split()[1]))  # effective uid
    assert workers, "no worker processes found"
    if os.geteuid() == 0:
        assert all(uid != 0 for uid in workers), "as root, nginx must drop workers to an unprivileged user"
    else:
        assert set(workers) == {os.geteuid()}


# ---------------------------------------------------------------------------------------------------------------
# The site's files (no nginx needed)


class _PageScan(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.refs: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in {"src", "href"} and value is not None:
                self.refs.append(value)
            if name == "style" or name.startswith("on"):
                self.inline.append(f"<{tag} {name}=...>")


PAGES = sorted(p.name for p in SITE_DIR.glob("*.html"))


def test_site_has_the_pages() -> None:
    assert {"index.html", "404.html"} <= set(PAGES)
    assert any(SITE_DIR.glob("*.css")), "a local stylesheet"


@pytest.mark.parametrize("page", PAGES)
def test_pages_are_self_contained(page: str) -> None:
    text = (SITE_DIR / page).read_text(encoding="utf-8")
    scan = _PageScan()
    scan.feed(text)
    assert "script" not in scan.tags and "style" not in scan.tags, "no inline or external scripts/styles"
    assert not scan.inline, f"inline styles or handlers are blocked by the CSP: {scan.inline}"
    for ref in scan.refs:
        assert not re.match(r"^(?:[a-z][a-z0-9+.-]*:|//)", ref, re.IGNORECASE), f"external reference {ref}"
        local = ref.split("?", 1)[0].split("#", 1)[0].lstrip("/")
        if local:
            assert (SITE_DIR / local).is_file(), f"{page} references missing {ref}"


@pytest.mark.parametrize("page", ["index.html", "404.html"])
def test_pages_show_the_version(page: str) -> None:
    assert PLACEHOLDER in (SITE_DIR / page).read_text(encoding="utf-8")

