"""`make outputs`: the README's "Outputs" table, generated from the `export(name, value, description)` calls of
__main__.py, read from its syntax tree (no render needed), so the descriptions live next to the values."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import NamedTuple

from infra.outputs import check
from tools.markers import Block

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "__main__.py"
README = ROOT / "README.md"
BLOCK = Block("<!-- outputs:begin (make outputs) -->", "<!-- outputs:end -->")
README_BEGIN, README_END = BLOCK


class OutputDoc(NamedTuple):
    name: str
    description: str


def _literal(call: ast.Call, index: int, keyword: str) -> str:
    node = call.args[index] if len(call.args) > index else next(
        (k.value for k in call.keywords if k.arg == keyword), None)
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        raise ValueError(f"__main__.py line {call.lineno}: export() needs a literal {keyword} string")
    return node.value


def declared(main: Path = MAIN) -> list[OutputDoc]:
    """Every `export(name, value, description)` of the program, in source order; duplicates are refused."""
    calls = [n for n in ast.walk(ast.parse(main.read_text(), str(main)))
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "export"]
    docs = [OutputDoc(_literal(c, 0, "name"), _literal(c, 2, "description"))
            for c in sorted(calls, key=lambda c: (c.lineno, c.col_offset))]
    names = [d.name for d in docs]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"outputs exported twice: {', '.join(dupes)}")
    for doc in docs:
        check(*doc)
    return docs


def table(docs: list[OutputDoc]) -> str:
    rows = [f"| `{d.name}` | {d.description.strip()} |" for d in docs]
    return "\n".join(["| output | description |", "|---|---|", *rows])


def readme_block(docs: list[OutputDoc]) -> str:
    return BLOCK.wrap(table(docs))


def update_readme(readme: Path = README, main: Path = MAIN) -> bool:
    """Replace README's outputs table with the one generated from __main__.py; True if it changed."""
    return BLOCK.rewrite(readme, readme_block(declared(main)))


def main() -> int:
    """`make outputs`: regenerate README's Outputs table."""
    print("README.md outputs table " + ("updated" if update_readme() else "already current"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
