"""`python -m tools.render --stack dev`: render a stack offline and write build/plan/<stack>/.

Writes resources.json, invokes.json and outputs.json, plus manifests/ (one YAML per Kubernetes
object), releases/ (one YAML per Helm release) and iam/ (one JSON per IAM document), and the
architecture diagram. Prints a short tree and a count of resources by type.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from tools.review.diagram import write_diagram

from . import ROOT, Plan, render
from .artifacts import helm_releases, iam_documents, kubernetes_objects


def _dump_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _dump_yaml(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=True, width=120))


def write_plan(plan: Plan, out: Path, diagram: bool = True) -> list[Path]:
    """Write every file of the plan under `out` (emptied first, so nothing stale survives). The architecture
    diagram draws the webstack program; another project's plan (the bootstrap) goes without."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name, data in plan.files().items():
        _dump_json(out / name, data)
    for key, obj in kubernetes_objects(plan).items():
        _dump_yaml(out / "manifests" / f"{key}.yaml", obj)
    for name, release in helm_releases(plan).items():
        _dump_yaml(out / "releases" / f"{name}.yaml", release)
    for name, doc in iam_documents(plan).items():
        _dump_json(out / "iam" / f"{name}.json", doc)
    if diagram:
        write_diagram(plan, out)
    return sorted(p for p in out.rglob("*") if p.is_file())


def tree(plan: Plan) -> str:
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for r in plan.resources:
            if r["parent"] == parent:
                lines.append(f"{'  ' * depth}{r['type']}  {r['name']}")
                walk(r["urn"], depth + 1)

    roots = {r["parent"] for r in plan.resources if r["parent"] not in {x["urn"] for x in plan.resources}}
    for root in sorted(roots, key=str):
        walk(root, 0)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--project", default=None,
                        help="folder of another Pulumi project to render, e.g. bootstrap (default: the webstack "
                             "program at the root)")
    parser.add_argument("--stacks", type=Path, default=None,
                        help="folder of the Pulumi.<stack>.yaml files (default: the project root)")
    parser.add_argument("--out", type=Path, default=None, help="default: build/plan/<stack>/")
    parser.add_argument("--quiet", action="store_true", help="print only the summary line")
    args = parser.parse_args(argv)
    root = ROOT / args.project if args.project else ROOT
    out = args.out or ROOT / "build" / "plan" / (f"{args.project}/{args.stack}" if args.project else args.stack)
    started = time.perf_counter()
    try:
        plan = render(args.stack, root=root, stacks=args.stacks)
    except Exception as err:
        print(f"render of stack {args.stack!r} failed:\n{err}", file=sys.stderr)
        return 1
    files = write_plan(plan, out, diagram=root == ROOT)
    elapsed = time.perf_counter() - started
    if not args.quiet:
        print(tree(plan))
        print()
        for typ, count in sorted(Counter(r["type"] for r in plan.resources).items()):
            print(f"{count:4d}  {typ}")
    custom = sum(1 for r in plan.resources if r["custom"])
    label = f"{args.project} stack" if args.project else "stack"
    print(f"\n{label} {args.stack}: {len(plan.resources)} registrations ({custom} resources), "
          f"{len(plan.invokes)} data-source calls, {len(plan.outputs)} outputs; "
          f"{len(files)} files in {out} ({elapsed:.1f} s). Rendered under mocks: nothing was deployed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
