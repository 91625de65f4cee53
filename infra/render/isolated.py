"""Render another tree's program with THIS tree's engine, in a process of its own (run by path, not with -m).

`python <engine>/infra/render/isolated.py --root <tree> --stack dev --out plan.json`: the program's own `infra`
package (config, network, ...) is imported from `<tree>`, the render engine (`infra.render`: monitor, fakes) from
this file's folder. Nothing is shared with the caller's imports: two trees never mix modules in one interpreter.
With `WEBSTACK_SECRET_SALT` (hex) set, registrations carry salted digests of their secret inputs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    # Run by path, Python put this folder first on sys.path: its modules must only load as `infra.render.*`.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ENGINE]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="the tree whose __main__.py and stack file render")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--stacks", default=None, help="folder of Pulumi.<stack>.yaml, relative to --root")
    parser.add_argument("--out", type=Path, required=True, help="JSON file: resources, invokes, outputs, config")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    sys.path.insert(0, str(root))
    import infra  # the program's package, from --root

    spec = importlib.util.spec_from_file_location("infra.render", ENGINE / "__init__.py",
                                                  submodule_search_locations=[str(ENGINE)])
    assert spec and spec.loader
    engine = importlib.util.module_from_spec(spec)
    sys.modules["infra.render"] = engine
    infra.render = engine  # type: ignore[attr-defined]
    spec.loader.exec_module(engine)
    salt = bytes.fromhex(os.environ.get("WEBSTACK_SECRET_SALT", "")) or None
    try:
        plan = engine.render(args.stack, root=root, stacks=root / args.stacks if args.stacks else None,
                             secret_salt=salt)
    except Exception as err:
        print(f"render of stack {args.stack!r} in {root} failed:\n{err}", file=sys.stderr)
        return 1
    args.out.write_text(json.dumps({"stack": plan.stack, "resources": plan.resources, "invokes": plan.invokes,
                                    "outputs": plan.outputs, "config": plan.config}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
