"""What a Docker build context sends, and its digest, the way pulumi-docker 5.x computes it.

pulumi-docker (provider/provider.go, `hashContext`, unchanged from v5.1.0 to its 2026-08 head) hashes the Dockerfile
(under the name "Dockerfile", mode 0), then every file of the context that the ignore file does not exclude: its
slash-separated relative path, its Go `fs.FileMode` string and the SHA-256 of its bytes, in `filepath.WalkDir`
order (each directory's entries sorted by name). The ignore file is `<Dockerfile>.dockerignore` if present, else
`<context>/.dockerignore`, read by moby's `ignorefile.ReadAll` and matched by moby's patternmatcher
(`MatchesOrParentMatches`: the last matching pattern wins, `!` re-includes, a pattern matching a parent directory
matches everything below it). This module follows that code (moby/patternmatcher patternmatcher.go, ignorefile.go);
its test cases are moby's own. Symbolic links are refused rather than approximated.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import stat
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DOCKERFILE = "Dockerfile"
_ESCAPED = set(".+()|{}$")  # regex specials with no meaning in filepath.Match (moby's shouldEscape)


def go_clean(path: str) -> str:
    """Go's filepath.Clean on a slash path."""
    cleaned = posixpath.normpath(path) if path else "."
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def go_dir(path: str) -> str:
    """Go's filepath.Dir: all but the last element, cleaned ("." when nothing is left)."""
    return go_clean(path[: path.rfind("/") + 1]) if "/" in path else "."


def read_ignore_file(text: str) -> list[str]:
    """moby ignorefile.ReadAll: comments and blank lines dropped, each pattern trimmed and cleaned, a leading '/'
    dropped, '!' kept in front."""
    patterns = []
    for number, line in enumerate(text.splitlines()):
        if number == 0:
            line = line.removeprefix("\ufeff")
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append("!" + pattern if invert else pattern)
    return patterns


@dataclass(frozen=True)
class Pattern:
    """One compiled pattern (moby Pattern.compile): an exact, prefix, suffix or regexp match."""

    text: str
    exclusion: bool
    kind: str
    regex: re.Pattern[str] | None

    def match(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        return bool(self.regex and self.regex.match(path))


def compile_pattern(raw: str) -> Pattern:
    """moby patternmatcher New + Pattern.compile, for '/' as the separator."""
    text = go_clean(raw.strip())
    exclusion = text.startswith("!")
    if exclusion:
        if len(text) == 1:
            raise ValueError('illegal exclusion pattern: "!"')
        text = text[1:]
    regex, kind, i = "^", "exact", 0
    while i < len(text):
        ch = text[i]
        if ch == "*" and text[i + 1: i + 2] == "*":
            j = i + 2 + (text[i + 2: i + 3] == "/")  # "**/" is "**"
            if j >= len(text):
                regex, kind = (regex, "prefix") if kind == "exact" else (regex + ".*", "regexp")
            else:
                regex, kind = regex + "(.*/)?", "regexp"
            kind = "suffix" if i == 0 else kind
            i = j
            continue
        if ch == "*":
            regex, kind = regex + "[^/]*", "regexp"
        elif ch == "?":
            regex, kind = regex + "[^/]", "regexp"
        elif ch in _ESCAPED:
            regex += "\\" + ch
        elif ch == "\\":
            if i + 1 < len(text):
                regex, kind, i = regex + "\\" + text[i + 1], "regexp", i + 1
            else:
                regex += "\\"  # a trailing backslash stays one
        else:
            regex, kind = regex + ch, ("regexp" if ch in "[]" else kind)
        i += 1
    compiled = re.compile(regex + "$") if kind == "regexp" else None
    return Pattern(text, exclusion, kind, compiled)


def excluded(path: str, patterns: list[Pattern]) -> bool:
    """moby MatchesOrParentMatches: `path` (slash-separated, relative to the context) is left out of the context."""
    matched = False
    parent = go_dir(path)
    parents = parent.split("/")
    for pattern in patterns:
        if pattern.exclusion != matched:
            continue  # an inclusion once matched, or an exclusion not yet matched, changes nothing
        hit = pattern.match(path)
        if not hit and parent != ".":
            hit = any(pattern.match("/".join(parents[: i + 1])) for i in range(len(parents)))
        if hit:
            matched = not pattern.exclusion
    return matched


def go_mode(mode: int) -> str:
    """Go's fs.FileMode.String() of a regular file or directory: type letters (d, u for setuid, g for setgid, t for
    sticky) or '-', then rwxrwxrwx."""
    letters = ("d" if stat.S_ISDIR(mode) else "") + ("u" if mode & stat.S_ISUID else "") + (
        "g" if mode & stat.S_ISGID else "") + ("t" if mode & stat.S_ISVTX else "")
    perms = "".join(c if mode & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx"))
    return (letters or "-") + perms


def ignore_patterns(context: Path, dockerfile: Path) -> list[Pattern]:
    """pulumi-docker getIgnorePatterns: `<Dockerfile>.dockerignore` first, else the context's `.dockerignore`."""
    for candidate in (dockerfile.with_name(dockerfile.name + ".dockerignore"), context / ".dockerignore"):
        if candidate.is_file():
            return [compile_pattern(p) for p in read_ignore_file(candidate.read_text())]
    return []


def context_files(context: Path, dockerfile: Path) -> list[tuple[str, Path]]:
    """(relative path, file) of every file the build context sends, in filepath.WalkDir order."""
    patterns = ignore_patterns(context, dockerfile)
    found: list[tuple[str, Path]] = []

    def walk(folder: Path, prefix: str) -> None:
        for name in sorted(os.listdir(folder), key=os.fsencode):  # Go sorts entries by their bytes
            path, rel = folder / name, prefix + name
            if path.is_symlink():
                raise ValueError(f"{path}: a symbolic link in the build context (not supported: refused)")
            if path.is_dir():
                walk(path, rel + "/")
            elif not excluded(rel, patterns):
                found.append((rel, path))

    walk(context, "")
    return found


def context_digest(context: Path, dockerfile: Path) -> str:
    """The SHA-256 of what the context sends, over pulumi-docker's stream (hashContext)."""
    stream = hashlib.sha256()
    entries = [(DEFAULT_DOCKERFILE, dockerfile, "----------")]  # the Dockerfile, always, under that name, mode 0
    entries += [(rel, path, go_mode(path.lstat().st_mode)) for rel, path in context_files(context, dockerfile)]
    for rel, path, mode in entries:
        stream.update(rel.encode() + mode.encode() + hashlib.sha256(path.read_bytes()).digest() + b"\0")
    return stream.hexdigest()
