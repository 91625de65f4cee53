"""The app image's files as the build sees them: the Dockerfile parsed, nginx found and fed a copy of the site."""

from __future__ import annotations

import json
import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from tools.render import ROOT

APP_DIR = ROOT / "app"
PLACEHOLDER = "__APP_VERSION__"  # replaced by the Dockerfile's render stage with APP_VERSION


TEST_VERSION = "sha-test0123456789"


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    args: str


@dataclass(frozen=True)
class Stage:
    image: str
    name: str | None
    flags: tuple[str, ...]
    instructions: tuple[Instruction, ...]

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comment lines dropped (default escape character)."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # comments and blank lines, also inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        keyword, _, args = " ".join(pending).partition(" ")
        instructions.append(Instruction(start, keyword.upper(), args.strip()))
        pending = []
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return instructions


def stages(instructions: list[Instruction]) -> list[Stage]:
    result: list[Stage] = []
    current: tuple[str, str | None, tuple[str, ...]] | None = None
    body: list[Instruction] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            if current:
                result.append(Stage(*current, tuple(body)))
            words = instruction.args.split()
            flags = tuple(w for w in words if w.startswith("--"))
            rest = [w for w in words if not w.startswith("--")]
            name = rest[2] if len(rest) == 3 and rest[1].lower() == "as" else None
            current, body = (rest[0], name, flags), []
        else:
            assert current, f"line {instruction.line}: {instruction.keyword} before the first FROM"
            body.append(instruction)
    assert current, "no FROM"
    result.append(Stage(*current, tuple(body)))
    return result

NGINX_CONF = APP_DIR / "nginx.conf"


SITE_DIR = APP_DIR / "site"


CONTRACT = json.loads((APP_DIR / "contract.json").read_text())


DOC_ROOT = "/usr/share/nginx/html"  # the image's document root, as written in nginx.conf


def find_nginx() -> tuple[str | None, str]:
    """The nginx binary and how it was looked up (for the skip reason)."""
    explicit = os.environ.get("NGINX_BIN")
    if explicit:
        return shutil.which(explicit), f"NGINX_BIN={explicit}"
    found = shutil.which("nginx") or shutil.which("nginx", path=os.pathsep.join(["/usr/sbin", "/usr/local/sbin"]))
    return found, "nginx on PATH, /usr/sbin or /usr/local/sbin"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def copy_site_like_the_build(dest: Path) -> None:
    """What the Dockerfile's render stage does: version substituted into the pages, files world-readable."""
    shutil.copytree(SITE_DIR, dest)
    for page in dest.rglob("*.html"):
        page.write_text(page.read_text(encoding="utf-8").replace(PLACEHOLDER, TEST_VERSION), encoding="utf-8")
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)

