"""Stack outputs carry a description (export()), README's table is generated from them (the component Args'
shape is checked in tests/test_layout.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from infra.outputs import check
from tools.outputs import BLOCK, README_BEGIN, README_END, OutputDoc, declared, readme_block, update_readme
from tools.render import ROOT, Plan

pytestmark = pytest.mark.project_root  # reads __main__.py and README.md


def test_every_stack_output_is_exported_with_a_description(dev: Plan, variant: Callable[..., Plan]) -> None:
    docs = declared()
    assert [d.name for d in docs] == list(dict.fromkeys(d.name for d in docs))
    # the program exports exactly what __main__.py declares through export(): no bare pulumi.export
    # (the EKS runtime's outputs and the ECS runtime's together)
    assert set(dev.outputs) | set(variant("ecs").outputs) == {d.name for d in docs}
    assert "pulumi.export" not in (ROOT / "__main__.py").read_text()


def test_readme_outputs_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert BLOCK.current(readme) == readme_block(declared()), "stale Outputs table: run `make outputs`"


def test_make_outputs_rewrites_a_stale_table(tmp_path: Path) -> None:
    main = tmp_path / "__main__.py"
    main.write_text('from infra.outputs import export\nexport("b", 1, "Second.")\nexport("a", 2, "First one.")\n')
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{README_BEGIN}\n| old |\n{README_END}\nrest\n")
    assert update_readme(readme, main) is True
    assert readme.read_text() == (f"intro\n{README_BEGIN}\n| output | description |\n|---|---|\n"
                                  f"| `b` | Second. |\n| `a` | First one. |\n{README_END}\nrest\n")
    assert update_readme(readme, main) is False


@pytest.mark.parametrize(("source", "problem"), [
    ('export("a", 1, "")', "one line"),
    ('export("a", 1, "two\\nlines")', "one line"),
    ('export("a", 1, "a | pipe")', "without '|'"),
    ('export("a", 1, "x" * 3)', "literal description"),
    ('export(name, 1, "x")', "literal name"),
    ('export("Bad-Name", 1, "x")', "snake_case"),
    ('export("a", 1, "x")\nexport("a", 2, "y")', "exported twice: a"),
])
def test_bad_exports_are_refused(tmp_path: Path, source: str, problem: str) -> None:
    main = tmp_path / "__main__.py"
    main.write_text(source + "\n")
    with pytest.raises(ValueError, match=problem):
        declared(main)


def test_export_checks_at_runtime_too() -> None:
    with pytest.raises(ValueError, match="one line"):
        check("a", "x" * 200)
    assert OutputDoc("a", "b") == ("a", "b")
