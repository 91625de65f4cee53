"""The README fits on a screen and the documentation points at things that exist.

README.md stays at most 260 lines with no generated heading in its outline (the generated blocks it keeps are a
table and pictures); every docs/*.md page is linked from it; every relative link in README.md and docs/*.md
reaches an existing file, and its #anchor a heading of that file (GitHub's slugs); every repository path named in
backticks (`tools/up.sh`, `infra/config/<section>.py`) exists, so a moved file cannot leave a stale path behind.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

from tools.render import ROOT

pytestmark = pytest.mark.project_root  # reads README.md

MAX_README_LINES = 260
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")
SPAN = re.compile(r"`([^`\n]+)`")
# A relative path: segments of word characters, dots and dashes, placeholders such as <stack> or {png,svg}.
PATH = re.compile(r"[\w.-]+(?:/[\w.<>{},*-]*)+")
EXTENSIONS = {"py", "sh", "md", "yaml", "yml", "json", "txt", "toml", "ini", "png", "svg", "conf", "html", "css"}


def pages(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def split_code(text: str) -> tuple[list[str], list[str]]:
    """(prose lines, fenced code lines) of a Markdown text."""
    prose: list[str] = []
    code: list[str] = []
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        (code if fenced else prose).append(line)
    return prose, code


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped (not - or _), spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for line in split_code(page.read_text())[0]:
        if m := re.match(r"#{1,6} (.+)", line):
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return found


def broken_links(page: Path) -> list[str]:
    """Relative links of `page` whose file or heading does not exist."""
    prose = "\n".join(SPAN.sub("", line) for line in split_code(page.read_text())[0])
    problems = []
    for target in LINK.findall(prose):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            problems.append(f"{target}: no such file")
        elif anchor and (file.suffix != ".md" or anchor not in anchors(file)):
            problems.append(f"{target}: no heading #{anchor} in {file.name}")
    return problems


def ignored(path: str, root: Path) -> bool:
    """A path .gitignore covers (venv/, build/, .venv*/...): made by a command, never committed."""
    patterns = [p.strip().rstrip("/") for p in (root / ".gitignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]
    return any(fnmatch.fnmatch(seg, pat) for seg in path.split("/") for pat in patterns)


def repo_paths(page: Path, root: Path) -> list[str]:
    """Repository paths named in backticks (prose) or in code blocks: at least two segments, and either under an
    existing top-level folder or ending like a file (`scripts/up.sh`) or folder (`infra/render/`)."""
    prose, code = split_code(page.read_text())
    words = [s for line in prose for s in SPAN.findall(line)]
    words += [w.strip("'\"(),;").split("::")[0] for line in code for w in line.split()]
    found = []
    for word in words:
        if not PATH.fullmatch(word) or len([s for s in word.split("/") if s]) < 2 or ignored(word, root):
            continue
        first = word.split("/")[0]
        if (root / first).is_dir() or word.endswith("/") or word.rsplit(".", 1)[-1] in EXTENSIONS:
            found.append(word)
    return found


def missing_paths(page: Path, root: Path = ROOT) -> list[str]:
    """The repository paths of `page` that do not exist. A path with a placeholder (<stack>, {a,b}, *) under a
    top-level folder needs the folder holding the placeholder; elsewhere (`iam/<name>.json` inside build/plan/)
    it names no repository path."""
    missing = []
    for path in repo_paths(page, root):
        known = re.split(r"[<{*]", path, maxsplit=1)[0]
        if known == path:
            missing += [] if (root / path).exists() else [path]
        elif (root / path.split("/")[0]).is_dir() and not (root / known.rsplit("/", 1)[0]).exists():
            missing.append(path)
    return missing


def test_the_readme_fits_on_a_screen() -> None:
    lines = (ROOT / "README.md").read_text().count("\n")
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines: move the detail to docs/"


def test_the_readme_outline_holds_no_generated_heading() -> None:
    """The generated blocks the README keeps (outputs table, pictures) add no heading: a newcomer's outline only."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"<!-- [\w-]+:begin.*?-->(.*?)<!-- [\w-]+:end -->", text, flags=re.S)
    assert len(blocks) >= 2  # the architecture pictures and the outputs table
    assert [line for b in blocks for line in b.splitlines() if line.startswith("#")] == []
    assert "review-sample:begin" not in text


def test_every_docs_page_is_linked_from_the_readme() -> None:
    readme = ROOT / "README.md"
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in LINK.findall(readme.read_text())}
    assert [p.name for p in pages()[1:] if p.resolve() not in linked] == []


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_and_paths_exist(page: Path) -> None:
    assert broken_links(page) == []
    assert missing_paths(page) == []


def test_the_checks_find_broken_links_anchors_and_stale_paths(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("venv/\nbuild/\n")
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "up.sh").write_text("")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ops.md").write_text("# Ops\n\n## Tearing down: `pulumi destroy`\n\n## Scaling\n")
    page = tmp_path / "README.md"
    page.write_text(
        "# T\n\n[ok](docs/ops.md#tearing-down-pulumi-destroy) [ok](#t) [web](https://example.com/x)\n"
        "[gone](docs/nope.md) [bad anchor](docs/ops.md#teardown) `[not a link](docs/none.md)`\n"
        "`tools/up.sh` `tools/old.sh` `scripts/up.sh` `infra/render` `tools/<name>.py` `linux/arm64` `policy/venv`\n"
        "`build/plan/<stack>/` `kubernetes.io/arch` `iam/<name>.json` `tools/x/<name>.py`\n\n"
        "```sh\nbash tools/up.sh && bash tools/gone.sh  # creates ./venv, then (tools/up.sh)\n```\n")
    assert broken_links(page) == ["docs/nope.md: no such file", "docs/ops.md#teardown: no heading #teardown in ops.md"]
    assert missing_paths(page, tmp_path) == ["tools/old.sh", "scripts/up.sh", "tools/x/<name>.py", "tools/gone.sh"]
    (tmp_path / "infra").mkdir()
    assert missing_paths(page, tmp_path) == ["tools/old.sh", "scripts/up.sh", "infra/render", "tools/x/<name>.py",
                                             "tools/gone.sh"]
    assert slug("Changing `ecsCapacity` from `ec2` to `fargate`") == "changing-ecscapacity-from-ec2-to-fargate"
