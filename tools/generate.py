"""`make generate`: refresh every generated file in one go; `--check` writes nothing and names the stale ones.

GENERATORS is the one list: adding a generator is one line there. Each is a module run as `python -m <module>
<args>` would run it (its make target does exactly that), but all in this one interpreter, so the SDK imports and
the first render, most of a generator's cost, are paid once. `--check` runs them in a throwaway copy of the working
tree (without the root stack files: generators draw from tests/stacks, never from the user's stacks) and reports
each one whose files changed there; the project's own files are never touched.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from tools.tree import copy_working_tree

ROOT = Path(__file__).resolve().parent.parent


class Generator(NamedTuple):
    name: str  # the make target that runs it alone: `$(PY) -m <module> <args>`
    module: str  # has main(), which reads sys.argv like its command line
    args: tuple[str, ...]
    outputs: tuple[str, ...]  # glob patterns (relative to the root) of the files --check compares


# In order: the AWS data snapshot feeds the config loader, which every render (diagram, sample) goes through.
GENERATORS: tuple[Generator, ...] = (
    Generator("aws-data", "tools.aws_data", (), ("infra/data/aws-data.json",)),
    Generator("config-schema", "tools.config_schema", (), ("Pulumi.yaml",)),
    Generator("outputs", "tools.outputs", (), ("README.md",)),
    # PNG bytes depend on the Graphviz build: the .json graph model beside each picture is what is compared.
    Generator("diagram", "tools.review.diagram", (), ("docs/architecture-*.json", "README.md")),
    # What replaces each resource type, from the hand-kept sources: the sample review comment labels changes with it.
    Generator("replacements", "tools.replacements", (), ("tools/review/data/replacements.json",)),
    Generator("review-sample", "tools.review.review", ("--sample",), ("docs/review-sample.md",)),
    Generator("policy-docs", "tools.policy_docs", (), ("policy/README.md",)),
    # --- add a generator here: Generator("<make target>", "<module>", (<args>), (<files it writes>)) ---
)


def snapshot(gen: Generator) -> dict[str, bytes]:
    return {str(p.relative_to(ROOT)): p.read_bytes() for pattern in gen.outputs for p in sorted(ROOT.glob(pattern))}


def run(gen: Generator) -> int:
    """`python -m <module> <args>`, in this interpreter."""
    main = importlib.import_module(gen.module).main
    saved, sys.argv = sys.argv, [gen.module, *gen.args]
    try:
        return main() or 0
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.argv = saved


def generate(generators: list[Generator]) -> list[tuple[str, list[str]]]:
    """Run each generator on this tree, in order; (name, files it changed) for each."""
    changed = []
    for gen in generators:
        print(f"--- {gen.name}: python -m {' '.join([gen.module, *gen.args])}", flush=True)
        before = snapshot(gen)
        if code := run(gen):
            raise SystemExit(f"{gen.name} failed (exit {code})")
        after = snapshot(gen)
        changed.append((gen.name, sorted(f for f in before.keys() | after.keys() if before.get(f) != after.get(f))))
    return changed


def stale(generators: list[Generator], root: Path) -> list[tuple[str, list[str]]]:
    """(name, files it changed) for each generator whose output differs from root's, run in a copy of root.

    They run in order in the same copy, so a file two generators write (README.md) is blamed on the one whose
    part of it is stale. Raises RuntimeError when a generator fails."""
    with tempfile.TemporaryDirectory(prefix="webstack-generate-") as tmp:
        copy = copy_working_tree(root, Path(tmp) / "tree", user_stacks=False)
        report = Path(tmp) / "report.json"
        done = subprocess.run([sys.executable, "-m", "tools.generate", "--report", str(report),
                               *(g.name for g in generators)], cwd=copy, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"the generators failed in a copy of {root}:\n{done.stdout}{done.stderr}")
        return [(name, files) for name, files in json.loads(report.read_text()) if files]


def select(names: list[str]) -> list[Generator]:
    known = {g.name: g for g in GENERATORS}
    if unknown := sorted(set(names) - set(known)):
        raise SystemExit(f"unknown generator(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [g for g in GENERATORS if not names or g.name in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 naming the stale generators")
    parser.add_argument("--root", type=Path, default=ROOT, help="with --check: the tree to check (default: this)")
    parser.add_argument("--report", type=Path, help="also write [[name, [files changed]], ...] as JSON here")
    parser.add_argument("names", nargs="*", metavar="NAME", help="only these generators (default: all)")
    args = parser.parse_args(argv)
    generators = select(args.names)
    if args.check:
        found = stale(generators, args.root.resolve())
        for name, files in found:
            print(f"stale: {', '.join(files)} (generator {name}): run `make generate`", file=sys.stderr)
        if not found:
            print(f"{len(generators)} generators: every generated file is current")
        return 1 if found else 0
    changed = generate(generators)
    for name, files in changed:
        print(f"{name}: " + (f"rewrote {', '.join(files)}" if files else "current"))
    if args.report:
        args.report.write_text(json.dumps(changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
