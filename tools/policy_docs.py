"""`make policy-docs`: policy/README.md's table of policies, generated from their declarations (name, level and
description beside each validation function, in its area of policy/), in the pack's order (policy/validators.py).

`python -m tools.policy_docs` rewrites the table between the markers; tests/tools/test_policy_docs.py fails while
it is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from pulumi_policy import StackValidationPolicy

from policy.common import Area
from policy.validators import AREAS
from tools.markers import Block

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "policy" / "README.md"
BLOCK = Block("<!-- policies:begin (make policy-docs) -->", "<!-- policies:end -->")
README_BEGIN, README_END = BLOCK


class PolicyDoc(NamedTuple):
    name: str
    level: str  # mandatory | advisory | remediate | disabled
    stack: bool  # a stack policy (sees every resource) rather than a resource policy
    area: str
    module: str  # the file of policy/ it is declared in
    description: str


def declared(areas: Sequence[Area] = AREAS) -> list[PolicyDoc]:
    """Every policy of the pack, in its order, as its declaration says."""
    return [PolicyDoc(name=p.name, level=str(getattr(p.enforcement_level, "value", p.enforcement_level)),
                      stack=isinstance(p, StackValidationPolicy), area=area.title,
                      module=area.validators[p.name].__module__.rpartition(".")[2] + ".py",
                      description=p.description or "")
            for area in areas for p in area.policies]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def table(docs: Sequence[PolicyDoc]) -> str:
    rows = [f"| `{d.name}`{' (stack)' if d.stack else ''} | {d.level} | {_cell(d.area)} ([{d.module}]({d.module})) "
            f"| {_cell(d.description)} |" for d in docs]
    return "\n".join(["| policy | level | area | enforces |", "|---|---|---|---|", *rows])


def readme_block(docs: Sequence[PolicyDoc]) -> str:
    return BLOCK.wrap(table(docs))


def current_block(text: str) -> str:
    """The README's table as it stands, markers included."""
    return BLOCK.current(text)


def update_readme(readme: Path = README, areas: Sequence[Area] = AREAS) -> bool:
    """Replace the README's table with the one generated from the declarations; True if it changed."""
    return BLOCK.rewrite(readme, readme_block(declared(areas)))


def main() -> int:
    """`make policy-docs`: regenerate policy/README.md's table."""
    print("policy/README.md policy table " + ("updated" if update_readme() else "already current"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
