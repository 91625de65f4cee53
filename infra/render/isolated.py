"""Render other trees' programs with THIS tree's engine, in a process of their own (run by path, not with -m).

`python <engine>/infra/render/isolated.py --stack dev --render <tree> <out.json> [--render <tree2> <out2.json>]`:
each tree's own `infra` package (config, network, ...) is imported from that tree, the render engine
(`infra.render`: monitor, fakes) from this file's folder. Between two trees every `infra` module is dropped, so
the trees never share a module of the program; only third-party packages (the Pulumi SDKs, imported once) are
shared, which is what makes a second render cheap. With `WEBSTACK_SECRET_SALT` (hex) set, registrations carry
salted digests of their secret inputs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

ENGINE = Path(__file__).resolve().parent


def _load_program_and_engine(root: Path) -> Any:
    """Forget every `infra` module, import `root`'s `infra` package, and this folder's engine as `infra.render`."""
    for name in [m for m in sys.modules if m == "infra" or m.startswith("infra.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    import infra  # the program's package, from root

    spec = importlib.util.spec_from_file_location("infra.render", ENGINE / "__init__.py",
                                                  submodule_search_locations=[str(ENGINE)])
    assert spec and spec.loader
    engine = importlib.util.module_from_spec(spec)
    sys.modules["infra.render"] = engine
    infra.render = engine  # type: ignore[attr-defined]
    spec.loader.exec_module(engine)
    return engine


def main(argv: list[str] | None = None) -> int:
    # Run by path, Python put this folder first on sys.path: its modules must only load as `infra.render.*`.
    base_path = [p for p in sys.path if Path(p or ".").resolve() != ENGINE]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--stacks", default=None, help="folder of Pulumi.<stack>.yaml, relative to each tree")
    parser.add_argument("--render", nargs=2, action="append", metavar=("TREE", "OUT"), required=True,
                        help="a tree to render and the JSON file its plan goes to (repeatable)")
    args = parser.parse_args(argv)
    salt = bytes.fromhex(os.environ.get("WEBSTACK_SECRET_SALT", "")) or None
    for tree, out in args.render:
        root = Path(tree).resolve()
        sys.path[:] = list(base_path)
        engine = _load_program_and_engine(root)
        try:
            plan = engine.render(args.stack, root=root, stacks=root / args.stacks if args.stacks else None,
                                 secret_salt=salt)
        except Exception as err:
            print(f"render of stack {args.stack!r} in {root} failed:\n{err}", file=sys.stderr)
            return 1
        Path(out).write_text(json.dumps({"stack": plan.stack, "resources": plan.resources, "invokes": plan.invokes,
                                         "outputs": plan.outputs, "config": plan.config}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
