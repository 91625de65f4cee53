"""Render other trees' programs with THIS tree's engine, in a process of their own (run by path, not with -m).

`python <this tree>/tools/render/isolated.py --stack dev --render <tree> <out.json> [--render <tree2> <out2.json>]`:
each tree's own `infra` package (config, network, ...) is imported from that tree, the render engine
(`tools.render`: engine, monitor, fakes) from this tree, imported once before any tree. Between two trees every
`infra` module is dropped, so the trees never share a module of the program; only third-party packages (the
Pulumi SDKs, imported once) and the engine are shared, which is what makes a second render cheap. With
`WEBSTACK_SECRET_SALT` (hex) set, registrations carry salted digests of their secret inputs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOOLS_ROOT = HERE.parents[1]  # the tree this engine belongs to
# Every engine module, imported before any tree's folder is on sys.path: a tree with a `tools` package of its own
# (a later or earlier layout) can never shadow one of them. The engine imports nothing of the program.
ENGINE_MODULES = ("tools.render", "tools.render.aliases", "tools.render.engine", "tools.render.fakes",
                  "tools.render.monitor", "tools.render.plan", "tools.render.values")


def _load_engine() -> Any:
    sys.path.insert(0, str(TOOLS_ROOT))
    try:
        for name in ENGINE_MODULES:
            importlib.import_module(name)
    finally:
        sys.path.remove(str(TOOLS_ROOT))
    return sys.modules["tools.render"]


def _forget_program() -> None:
    for name in [m for m in sys.modules if m == "infra" or m.startswith("infra.")]:
        del sys.modules[name]


def main(argv: list[str] | None = None) -> int:
    # Run by path, Python put this folder first on sys.path: its modules must only load as `tools.render.*`.
    base_path = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.path[:] = base_path
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--stacks", default=None, help="folder of Pulumi.<stack>.yaml, relative to each tree")
    parser.add_argument("--render", nargs=2, action="append", metavar=("TREE", "OUT"), required=True,
                        help="a tree to render and the JSON file its plan goes to (repeatable)")
    args = parser.parse_args(argv)
    salt = bytes.fromhex(os.environ.get("WEBSTACK_SECRET_SALT", "")) or None
    engine = _load_engine()
    for tree, out in args.render:
        root = Path(tree).resolve()
        sys.path[:] = list(base_path)
        _forget_program()
        try:
            plan = engine.render(args.stack, root=root, stacks=root / args.stacks if args.stacks else None,
                                 secret_salt=salt)
        except Exception as err:
            print(f"render of stack {args.stack!r} in {root} failed:\n{err}", file=sys.stderr)
            return 1
        Path(out).write_text(plan_text(plan))
    return 0


def plan_text(plan: Any) -> str:
    """The JSON a render's plan is handed back as (tools/review/diff.py reads it)."""
    return json.dumps({"stack": plan.stack, "resources": plan.resources, "invokes": plan.invokes,
                       "outputs": plan.outputs, "config": plan.config}, sort_keys=True)


if __name__ == "__main__":
    sys.exit(main())
