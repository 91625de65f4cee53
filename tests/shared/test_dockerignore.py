"""infra/dockerignore.py: the files a build context sends and their digest, as pulumi-docker 5.x computes them, so
the image tag (infra/image.py content_tag) changes exactly when pulumi-docker would rebuild and push."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from infra.dockerignore import compile_pattern, context_digest, context_files, excluded, go_mode, read_ignore_file
from infra.image import APP_DIR, content_tag

# moby/patternmatcher patternmatcher_test.go, TestMatches (MatchesOrParentMatches), one pattern each.
MOBY_CASES = [
    ("**", "file", True), ("**", "file/", True), ("**/", "file", True), ("**", "dir/file", True),
    ("**/**", "dir/file", True), ("dir/**", "dir/file", True), ("dir/**", "dir/dir2/file/", True),
    ("**/dir", "dir", True), ("**/dir", "dir/file", True), ("**/dir2/*", "dir/dir2/file", True),
    ("**/dir2/**", "dir/dir2/dir3/file", True), ("**file", "file", True), ("**file", "dir/dir/file", True),
    ("**/file", "dir/file", True), ("**/file*", "dir/dir/file.txt", True), ("**/file*.txt*", "dir/dir/file.txt", True),
    ("**/**/*.txt", "dir/dir/file.txt", True), ("**/**/*.txt2", "dir/dir/file.txt", False),
    ("**/*.txt", "file.txt", True), ("a**/*.txt", "a/dir/dir/file.txt", True), ("a/*.txt", "a/dir/file.txt", False),
    ("a/*.txt", "a/file.txt", True), ("a/*.txt**", "a/file.txt", True), ("a[b-d]e", "ae", False),
    ("a[b-d]e", "ace", True), ("a[^b-d]e", "aze", True), (".*", ".foo", True), (".*", "foo", False),
    ("abc.def", "abcdef", False), ("abc.def", "abc.def", True), ("abc?def", "abcZdef", True),
    ("abc?def", "abcdef", False), ("a\\\\", "a\\", True), ("**/foo/bar", "dir/dir2/foo/bar", True),
    ("abc/**", "abc", False), ("abc/**", "abc/def/ghi", True), ("**/.foo", ".foo", True), ("**/.foo", "bar.foo", False),
    ("a(b)c/def", "a(b)c/def", True), ("a(b)c/def", "a(b)c/xyz", False), ("a.|)$(}+{bc", "a.|)$(}+{bc", True),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True), ("a\\*b", "a*b", True)]
MOBY_MULTI = [(["**", "!util/docker/web"], "util/docker/web/foo", False),
              (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
              (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False)]


@pytest.mark.parametrize(("pattern", "path", "matches"), MOBY_CASES)
def test_patterns_match_as_moby_matches_them(pattern: str, path: str, matches: bool) -> None:
    assert excluded(path, [compile_pattern(pattern)]) is matches


@pytest.mark.parametrize(("patterns", "path", "matches"), MOBY_MULTI)
def test_the_last_matching_pattern_wins(patterns: list[str], path: str, matches: bool) -> None:
    assert excluded(path, [compile_pattern(p) for p in patterns]) is matches


def test_ignore_files_are_read_as_moby_reads_them() -> None:
    text = "\ufeff# comment\n  /site/  \n\n!  ./Dockerfile\n **/*~ \n!\n"
    assert read_ignore_file(text) == ["site", "!Dockerfile", "**/*~", "!"]
    with pytest.raises(ValueError, match="illegal exclusion"):
        compile_pattern("!")


def test_go_file_mode_strings() -> None:
    assert go_mode(stat.S_IFREG | 0o644) == "-rw-r--r--"
    assert go_mode(stat.S_IFREG | 0o755) == "-rwxr-xr-x"
    assert go_mode(stat.S_IFREG | stat.S_ISUID | 0o755) == "urwxr-xr-x"
    assert go_mode(stat.S_IFDIR | 0o755) == "drwxr-xr-x"


def test_the_app_context_is_its_allow_list() -> None:
    """app/.dockerignore lets through the Dockerfile, itself, nginx.conf and site/: not the README, nor
    contract.json (read by the program, not the build)."""
    sent = [rel for rel, _ in context_files(APP_DIR, APP_DIR / "Dockerfile")]
    site = sorted(p.name for p in (APP_DIR / "site").iterdir() if not p.name.startswith("."))
    assert sent == [".dockerignore", "Dockerfile", "nginx.conf", *(f"site/{n}" for n in site)]


@pytest.fixture
def app(tmp_path: Path) -> Path:
    copy = tmp_path / "app"
    shutil.copytree(APP_DIR, copy)
    return copy


def tag(folder: Path) -> str:
    return content_tag(folder, platform="linux/amd64")


def test_a_readme_edit_keeps_the_tag_a_site_edit_changes_it(app: Path) -> None:
    first = tag(app)
    assert first == tag(APP_DIR)  # the copy sends the same bytes with the same modes
    for path in (app / "README.md", app / "contract.json"):  # files the build never sees
        path.write_text(path.read_text() + "\nedited\n")
    (app / "site" / ".DS_Store").write_bytes(b"\0")  # left out by **/.*
    (app / "site" / "index.html~").write_text("backup")  # and by **/*~
    (app / "notes.txt").write_text("not in the allow-list")
    assert tag(app) == first
    index = app / "site" / "index.html"
    index.write_text(index.read_text().replace("</body>", "<p>new</p></body>"))
    assert tag(app) != first


def test_a_new_page_a_mode_and_the_dockerfile_change_the_tag(app: Path) -> None:
    first = tag(app)
    (app / "site" / "new.html").write_text("<p>new</p>")
    assert tag(app) != first
    (app / "site" / "new.html").unlink()
    assert tag(app) == first
    (app / "nginx.conf").chmod(0o600)
    assert tag(app) != first
    (app / "nginx.conf").chmod((APP_DIR / "nginx.conf").stat().st_mode & 0o7777)
    (app / "Dockerfile").write_text((app / "Dockerfile").read_text() + "\n# a comment is a change\n")
    assert tag(app) != first


def test_a_dockerfile_specific_ignore_file_wins(app: Path) -> None:
    """pulumi-docker reads <Dockerfile>.dockerignore before the context's .dockerignore (Docker's precedence)."""
    first = tag(app)
    (app / "Dockerfile.dockerignore").write_text("*\n!Dockerfile\n!nginx.conf\n!site/\n!README.md\n")
    sent = [rel for rel, _ in context_files(app, app / "Dockerfile")]
    assert "README.md" in sent and ".dockerignore" not in sent
    assert tag(app) != first


def test_symbolic_links_are_refused(app: Path) -> None:
    os.symlink(app / "nginx.conf", app / "site" / "link.conf")
    with pytest.raises(ValueError, match="symbolic link in the build context"):
        context_digest(app, app / "Dockerfile")
