"""A user edits the root Pulumi.dev.yaml / Pulumi.prod.yaml the way the README says: the suite still passes.

Design (the suite must stay under 60 s on 2 cores, so the suite is not run twice):
- The edit changes two top-level files (and each stack's version lock, Pulumi.<stack>.lock.yaml, is the user's too:
  the copy gets the test stack's). A test can only notice it if it reads top-level files of the project
  (README.md, Pulumi*.yaml, __main__.py, scripts such as up.sh) or runs something that does; every other test reads
  the committed test stacks (tests/stacks/) and the project's code in subfolders, which the edit leaves alone.
- Such tests carry the `project_root` marker (per test or per module). `test_the_suite_passes_on_edited_stacks`
  copies the tracked files (`git ls-files`) but the root stack files, writes the examples (whose values the test
  stacks carry) edited as the README says into the copy, and runs exactly `pytest -m project_root` there (plus
  `make plan` of the edited dev stack, in the same interpreter). The user's own stack files are never read.
- `test_only_marked_tests_touch_the_root_stack_files` is the guard: it fails when an unmarked test references the
  root stack files (their names, a render or stack_config without `stacks=`, a listing of the project root, or a
  program that reads them: up.sh, make, the render CLI without --stacks). At run time, conftest.py's audit hook
  fails any test that opens a root stack file in-process.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import tests.support
from infra.config import load_config
from tools import preflight
from tools.render import ROOT, TEST_STACKS, lock_file, render
from tools.render.cache import RENDER_CACHE_ENV, program_digest

MARKER = "project_root"
THIS = Path(__file__).name
# What the README's "Set your domain, region and who may reach the API" tells a user to change, per stack.
EDITS: dict[str, dict[str, Any]] = {
    "dev": {"aws:region": "eu-central-1", "webstack:zoneName": "acme-corp.net",
            "webstack:hostname": "shop.acme-corp.net", "webstack:createZone": False,
            "webstack:publicAccessCidrs": ["81.2.69.160/32"], "webstack:vpcCidr": "10.42.0.0/16",
            "webstack:nodeInstanceTypes": ["t4g.medium"]},
    "prod": {"aws:region": "ap-southeast-2", "webstack:zoneName": "prod.acme-corp.net",
             "webstack:hostname": "www.prod.acme-corp.net", "webstack:certificateExtraNames": ["prod.acme-corp.net"],
             "webstack:publicAccessCidrs": ["81.2.69.0/28", "81.2.70.4/32"], "webstack:vpcCidr": "172.20.0.0/16",
             "webstack:nodeInstanceTypes": ["m7i.large", "m7a.large"],
             "webstack:adminPrincipalArns": ["arn:aws:iam::210987654321:role/platform-admins"],
             "webstack:alarmEmails": ["oncall@prod.acme-corp.net"]},
}


def copy_tracked_files(dest: Path) -> Path:
    """The tracked files, except the root stack files: those are the user's (whatever state they are in now)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: `git ls-files` lists nothing to copy")
    for rel in filter(None, listed.stdout.decode().split("\0")):
        src = ROOT / rel
        if "/" not in rel and _STACK_FILE.fullmatch(rel):
            continue
        if src.is_file():  # tracked but deleted in the working tree: skip
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    tests.support.copy_bytecode(ROOT, dest)
    return dest


def edit_stack(path: Path, values: dict[str, Any]) -> dict[str, Any]:
    """The shipped example (its values are the test stack's) edited as `pulumi config set` would: load the file,
    change the keys, write it back."""
    doc = yaml.safe_load((TEST_STACKS / path.name).read_text()) or {}
    doc.setdefault("config", {}).update(values)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return doc["config"]


_SPLIT = "\n=== make plan; pytest exited with "
# `pytest <args>`, then `python -m tools.render --stack dev --quiet` (`make plan`), whose status is the exit status.
_RUNNER = ("import sys\nimport pytest\n"
           "status = int(pytest.main(sys.argv[1:]))\n"
           f"print({_SPLIT!r} + str(status), flush=True)\n"
           "from tools.render.__main__ import main\n"
           "sys.exit(main(['--stack', 'dev', '--quiet']))\n")


@pytest.mark.slow(11)
def test_the_suite_passes_on_edited_stacks(tmp_path: Path) -> None:
    copy = copy_tracked_files(tmp_path / "repo")
    for stack, values in EDITS.items():
        config = edit_stack(copy / f"Pulumi.{stack}.yaml", values)
        # its version lock, the user's too (skipped by the copy): the test stack's, which fits the edits (EKS
        # versions hold for any region and both architectures)
        shutil.copy2(lock_file(stack, stacks=TEST_STACKS), copy / lock_file(stack).name)
        # the edited files are valid and hold nothing documentation-only: `make up` would go ahead
        raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("webstack:")}
        load_config(raw, project="webstack", stack=stack, region=config["aws:region"])
        assert preflight.check(stack, copy) == [], stack
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    env["REQUIRE_NGINX"] = "0"
    # the copy's test stacks and program are this tree's, byte for byte: its renders of them are this run's (the
    # cache is keyed by content, tools/render/cache.py); the edited root stacks are new keys, rendered there
    if tests.support.shared_renders is not None:
        env[RENDER_CACHE_ENV] = str(tests.support.shared_renders)
        # The copy's program is this tree's, by the digest the cache keys renders with (a file that differs would
        # only cost a render there, unnoticed: fail instead).
        assert program_digest(copy) == program_digest(ROOT), (
            "the program's folders hold a file git does not track (the copy has the tracked ones): add or remove it")
        # Made here, where the SDKs are imported anyway, and read there (its `make plan` is served from the cache,
        # as its marked tests' renders are): the edited dev stack `make plan` renders
        # (this tree's program, which the copy's is byte for byte, with the copy's stack file and lock), then the
        # test stacks its marked tests render (the other worker may be rendering dev meanwhile: waited for last).
        # The copy's interpreter then renders nothing: ~5 CPU s less.
        render("dev", stacks=copy, cache=tests.support.shared_renders)
        for stack in ("prod", "ecs", "dev"):
            tests.support.rendered(stack)
    readme_before = (copy / "README.md").read_text()
    # only the modules holding marked tests: collecting the others would import (and cost) for nothing
    modules = [m.relative_to(copy).as_posix() for m in sorted((copy / "tests").rglob("test_*.py"))
               if m.name != THIS and MARKER in m.read_text()]
    # One interpreter runs both (each alone would import the SDKs and the program again): the marked tests, then
    # `make plan`'s render of the edited dev stack, after a line giving pytest's exit status.
    # no plugin those tests do not use (Hypothesis', xdist's imports); temporary folders inside this test's
    proc = subprocess.run([sys.executable, "-c", _RUNNER, "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                           "-p", "no:xdist", "--basetemp", str(tmp_path / "basetemp"), "-m", MARKER, "-x", *modules],
                          cwd=copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600)  # the two runs had 300 s each
    tests_out, split, plan_out = proc.stdout.partition(_SPLIT)
    assert split, f"pytest -m project_root in the edited copy did not finish:\n{tests_out[-4000:]}"
    status, _, plan_out = plan_out.partition("\n")
    outputs = {"pytest -m project_root": tests_out, "make plan": plan_out}
    codes = {"pytest -m project_root": int(status), "make plan": proc.returncode}
    for name, code in codes.items():
        assert code == 0, f"{name} in the edited copy failed:\n{outputs[name][-4000:]}"
    assert re.search(r"\d+ passed", outputs["pytest -m project_root"])
    assert "deselected" in outputs["pytest -m project_root"]  # only the marked tests ran
    # make plan rendered the user's edited stack (eu-central-1, arm64 nodes) into build/plan/dev/
    resources = (copy / "build" / "plan" / "dev" / "resources.json").read_text()
    assert '"eu-central-1a"' in resources and '"10.42.0.0/16"' in resources and "linux/arm64" in resources
    assert (copy / "README.md").read_text() == readme_before  # make plan leaves the README diagram alone


# --- the guard ---------------------------------------------------------------------------------------------------
_STACK_FILE = re.compile(r"Pulumi\.(?!yaml\b)[^/\s]*\.ya?ml|Pulumi\.\*|Pulumi\.\{")
_PROGRAMS = re.compile(r"\bup\.sh\b|^make$|\binfra\.render\b")


def _marked(decorators: list[ast.expr]) -> bool:
    return any(MARKER in ast.unparse(d) for d in decorators)


def _references(node: ast.AST) -> list[str]:
    """Ways `node` could reach the root stack files."""
    found = []
    docstrings = {id(n.body[0].value) for n in ast.walk(node)
                  if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    for sub in ast.walk(node):
        if id(sub) in docstrings:
            continue
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            if _STACK_FILE.search(sub.value) or _PROGRAMS.search(sub.value):
                found.append(repr(sub.value))
        elif isinstance(sub, ast.JoinedStr) and _STACK_FILE.search(ast.unparse(sub)):
            found.append(ast.unparse(sub))
        elif isinstance(sub, ast.Call):
            name = ast.unparse(sub.func)
            if name.split(".")[-1] in ("render", "stack_config") and not any(k.arg == "stacks" for k in sub.keywords):
                found.append(f"{name}(...) without stacks=")
            if name.split(".")[-1] == "main" and "'--stack'" in ast.unparse(sub) and "--stacks" not in ast.unparse(sub):
                found.append(f"{name}([...]) renders a root stack file (no --stacks)")
            if name.split(".")[-1] in ("glob", "iterdir", "listdir", "scandir", "rglob") and "ROOT" in name + (
                    ast.unparse(sub.args[0]) if sub.args else ""):
                found.append(f"{name}(...) lists the project root")
    return found


def unmarked_references(source: str) -> list[str]:
    """`line: what` for each reference to the root stack files outside a `project_root`-marked test."""
    tree = ast.parse(source)
    if any(MARKER in ast.unparse(n) for n in tree.body
           if isinstance(n, ast.Assign) and any(ast.unparse(t) == "pytestmark" for t in n.targets)):
        return []
    problems = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module docstring
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            if _marked(node.decorator_list):
                continue
        elif isinstance(node, ast.Import | ast.ImportFrom):
            continue
        # helpers, fixtures and module-level code: any test may use them, so the module must be marked
        problems += [f"line {node.lineno} ({getattr(node, 'name', 'module level')}): {ref}"
                     for ref in _references(node)]
    return problems


def test_only_marked_tests_touch_the_root_stack_files() -> None:
    problems = {}
    for module in sorted((ROOT / "tests").rglob("test_*.py")):
        if module.name != THIS and (found := unmarked_references(module.read_text())):
            problems[module.relative_to(ROOT).as_posix()] = found
    assert problems == {}, (f"tests reaching the root stack files must be marked @pytest.mark.{MARKER} (then "
                            f"{THIS} runs them on edited stacks), or use tests/stacks: {problems}")


@pytest.mark.parametrize(("source", "caught"), [
    ('def test_a():\n    render("dev")\n', True),
    ('def test_a():\n    render("dev", stacks=TEST_STACKS)\n', False),
    ('def test_a():\n    stack_config("prod")\n', True),
    ('def test_a():\n    (ROOT / "Pulumi.dev.yaml").read_text()\n', True),
    ('def test_a(s):\n    open(f"Pulumi.{s}.yaml")\n', True),
    ('def test_a():\n    list(ROOT.glob("Pulumi.*.yaml"))\n', True),
    ('def test_a():\n    list(TEST_STACKS.glob("*.yaml"))\n', False),
    ('def test_a():\n    (ROOT / "Pulumi.yaml").read_text()\n', False),
    ('def test_a():\n    run(["bash", "tools/up.sh"])\n', True),
    ('def test_a():\n    run(["make", "plan"])\n', True),
    ('def test_a():\n    main(["--stack", "dev"])\n', True),
    ('def test_a():\n    main(["--stack", "dev", "--stacks", str(TEST_STACKS)])\n', False),
    ('SCRIPT = ROOT / "tools" / "up.sh"\n', True),
    ('def helper():\n    render("dev")\n', True),
    ('"""Runs up.sh on Pulumi.dev.yaml."""\ndef test_a():\n    """Reads Pulumi.dev.yaml? No."""\n', False),
    ('@pytest.mark.project_root\ndef test_a():\n    render("dev")\n', False),
    ('pytestmark = pytest.mark.project_root\nSCRIPT = "up.sh"\n', False),
])
def test_the_guard_catches_references(source: str, caught: bool) -> None:
    assert bool(unmarked_references(source)) is caught


def test_the_runtime_guard_sees_an_opened_root_stack_file() -> None:
    """conftest.py's audit hook: opening ROOT/Pulumi.<stack>.yaml in-process is recorded (and fails the test)."""
    import conftest

    before = len(conftest._opened_root_stack_files)
    conftest._audit("open", (str(ROOT / "tests" / "stacks" / "Pulumi.dev.yaml"), "r", 0))
    conftest._audit("open", (str(ROOT / "Pulumi.yaml"), "r", 0))
    assert len(conftest._opened_root_stack_files) == before
    conftest._audit("open", (str(ROOT / "Pulumi.dev.yaml"), "r", 0))
    assert conftest._opened_root_stack_files[before:] == [str(ROOT / "Pulumi.dev.yaml")]
    del conftest._opened_root_stack_files[before:]  # a simulated open: do not fail this test's teardown
