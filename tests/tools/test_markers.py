"""tools/markers.py: the generated block between two marker lines, which every page generator rewrites."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.markers import Block

BLOCK = Block("<!-- t:begin (make t) -->", "<!-- t:end -->")
PAGE = "# Title\n\nintro\n<!-- t:begin (make t) -->\n| old |\n<!-- t:end -->\n\nrest, which mentions <!-- t:end -->\n"


def test_wrap_puts_the_markers_on_lines_of_their_own() -> None:
    assert BLOCK.wrap("| a |\n| b |") == "<!-- t:begin (make t) -->\n| a |\n| b |\n<!-- t:end -->"


def test_current_is_the_block_markers_included() -> None:
    assert BLOCK.current(PAGE) == "<!-- t:begin (make t) -->\n| old |\n<!-- t:end -->"


def test_replace_changes_the_block_and_nothing_else() -> None:
    new = BLOCK.replace(PAGE, BLOCK.wrap("| new |"))
    assert new == PAGE.replace("| old |", "| new |")


def test_an_end_marker_before_the_begin_marker_is_not_the_block() -> None:
    page = "<!-- t:end -->\n" + PAGE
    assert BLOCK.current(page) == BLOCK.current(PAGE)
    assert BLOCK.replace(page, BLOCK.wrap("x")) == "<!-- t:end -->\n" + BLOCK.replace(PAGE, BLOCK.wrap("x"))


@pytest.mark.parametrize("page", ["no markers", "<!-- t:begin (make t) -->\nno end", "<!-- t:end -->\nno begin"])
def test_a_page_without_the_block_is_an_error_naming_the_markers(page: str) -> None:
    with pytest.raises(ValueError, match="<!-- t:begin \\(make t\\) -->' followed by '<!-- t:end -->' is missing"):
        BLOCK.current(page)


def test_only_a_whole_block_replaces_one() -> None:
    with pytest.raises(ValueError, match="not a whole block"):
        BLOCK.replace(PAGE, "| no markers |")


def test_rewrite_writes_only_a_change_and_says_so(tmp_path: Path) -> None:
    page = tmp_path / "README.md"
    page.write_text(PAGE)
    assert BLOCK.rewrite(page, BLOCK.wrap("| new |")) is True
    assert page.read_text() == PAGE.replace("| old |", "| new |")
    written = page.stat().st_mtime_ns
    assert BLOCK.rewrite(page, BLOCK.wrap("| new |")) is False
    assert page.stat().st_mtime_ns == written
