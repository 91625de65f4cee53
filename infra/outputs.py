"""Stack outputs, each with a one-line description: `export()` in __main__.py (the README's Outputs table is
generated from these calls by tools/outputs.py)."""

from __future__ import annotations

import re
from typing import Any

import pulumi

_NAME = re.compile(r"[a-z][a-z0-9_]*")
MAX_DESCRIPTION = 140


def check(name: str, description: str) -> None:
    """A snake_case name and a one-line description that fits a Markdown table cell."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"output name {name!r}: use snake_case (lowercase letters, digits, '_')")
    text = description.strip()
    if not text or "\n" in description or "|" in description or len(text) > MAX_DESCRIPTION:
        raise ValueError(f"output {name}: the description must be one line of 1-{MAX_DESCRIPTION} characters "
                         f"without '|', got {description!r}")


def export(name: str, value: Any, description: str) -> None:
    """`pulumi.export` with a description (shown in README's Outputs table)."""
    check(name, description)
    pulumi.export(name, value)
