"""A generated block in a hand-written page: the lines from a begin marker to an end marker (HTML comments, which
GitHub does not show) belong to a generator, which rewrites them and nothing else (README's Outputs table and
diagram, policy/README.md's table, docs/review-sample.md)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple


class Block(NamedTuple):
    begin: str  # e.g. "<!-- outputs:begin (make outputs) -->": names the make target that writes it
    end: str

    def wrap(self, body: str) -> str:
        """The whole block: the markers on lines of their own around body."""
        return f"{self.begin}\n{body}\n{self.end}"

    def span(self, text: str) -> tuple[int, int]:
        """(start, end) of the block in text, markers included; ValueError naming the markers when it has none."""
        start = text.find(self.begin)
        end = text.find(self.end, start + len(self.begin)) if start >= 0 else -1
        if end < 0:
            raise ValueError(f"no generated block: {self.begin!r} followed by {self.end!r} is missing")
        return start, end + len(self.end)

    def current(self, text: str) -> str:
        """The block as it stands in text, markers included."""
        start, end = self.span(text)
        return text[start:end]

    def replace(self, text: str, block: str) -> str:
        """text with its block replaced by block (a whole block, as wrap returns it)."""
        if not (block.startswith(self.begin) and block.endswith(self.end)):
            raise ValueError(f"not a whole block: it must start with {self.begin!r} and end with {self.end!r}")
        start, end = self.span(text)
        return text[:start] + block + text[end:]

    def rewrite(self, page: Path, block: str) -> bool:
        """Replace the block in page (written only when it changes); True if it changed."""
        text = page.read_text()
        new = self.replace(text, block)
        if new != text:
            page.write_text(new)
        return new != text
