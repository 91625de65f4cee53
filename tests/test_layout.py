"""The layout holds: the deployable program (`__main__.py`, `infra/`) apart from its tools, no import cycle anywhere,
and the config loader light enough to run before anything else is imported.

Imports are read from the syntax trees (every `import`, module level or inside a function, since a lazy import
still ties two modules together), so these tests cost milliseconds and need nothing installed."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.render import ROOT

FIRST_PARTY = ("infra", "tools", "policy", "tests")
PROGRAM = ("infra", "__main__")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every first-party module (test modules excluded: they import, nothing imports them)."""
    found = {"__main__": root / "__main__.py"}
    for top in FIRST_PARTY:
        for path in sorted((root / top).rglob("*.py")):
            if "venv" in path.parts or (top == "tests" and path.name.startswith(("test_", "conftest"))):
                continue
            found[module_name(path, root)] = path
    return found


def imported(path: Path, name: str, known: set[str] | frozenset[str]) -> Iterator[str]:
    """First-party modules `path` (module `name`) imports: `from a import b` counts as `a.b` when that is a module,
    else as `a` (b is a name defined in a's __init__)."""
    yield from _imports(path.read_text(), path.name, str(path), name, frozenset(known))


@functools.cache
def _imports(text: str, file_name: str, filename: str, name: str, known: frozenset[str]) -> tuple[str, ...]:
    """`imported` of one file's text, parsed once per run: several tests build the import graph of the whole
    tree (keyed by the text, so an edited or temporary file is parsed afresh)."""
    return tuple(_parsed_imports(text, file_name, filename, name, known))


def _parsed_imports(text: str, file_name: str, filename: str, name: str, known: frozenset[str]) -> Iterator[str]:
    package = name if file_name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(text, filename)
    typing_only = {id(n) for block in ast.walk(tree) if _is_type_checking_block(block)
                   for stmt in block.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                target = f"{base}.{alias.name}" if base else alias.name
                if target in known:
                    yield target
                elif base in known:
                    yield base


def _is_type_checking_block(node: ast.AST) -> bool:
    """`if TYPE_CHECKING:`: imports for type hints only, never executed."""
    return isinstance(node, ast.If) and (
        (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
        or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING"))


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    found = modules(root)
    known = frozenset(found)
    return {name: set(imported(path, name, known)) - {name} for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_anywhere() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_a_lazy_import_back_is_a_cycle_too(tmp_path: Path) -> None:
    # The shape the render engine had: the package imports its monitor inside a function, the monitor imports
    # names from the package.
    pkg = tmp_path / "tools" / "render"
    pkg.mkdir(parents=True)
    (tmp_path / "__main__.py").write_text("")
    (tmp_path / "tools" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("def render():\n    from .monitor import Monitor\n")
    (pkg / "monitor.py").write_text("from . import redact\n")
    graph = import_graph(tmp_path)
    assert graph["tools.render"] == {"tools.render.monitor"} and graph["tools.render.monitor"] == {"tools.render"}
    assert cycles(graph) == [["tools.render", "tools.render.monitor"]]


@pytest.mark.parametrize("forbidden", ["tools", "policy", "tests"])
def test_the_program_never_imports_its_tools(forbidden: str) -> None:
    graph = import_graph()
    wrong = {m: sorted(d for d in deps if d == forbidden or d.startswith(forbidden + "."))
             for m, deps in graph.items() if m in PROGRAM or m.startswith("infra.")}
    assert {m: d for m, d in wrong.items() if d} == {}


def test_the_render_engine_imports_nothing_of_the_program() -> None:
    """`make diff` renders another commit's program with this tree's engine: the engine must not bring its own."""
    graph = import_graph()
    engine = {m: sorted(d for d in deps if d == "infra" or d.startswith("infra."))
              for m, deps in graph.items() if m.startswith("tools.render")}
    assert {m: d for m, d in engine.items() if d} == {}


def test_loading_the_config_imports_no_pulumi_provider() -> None:
    """The loader validates before anything is declared, in milliseconds: it must not pull in pulumi_aws (a 12-module
    cycle through infra.network once made it cost 0.45 s)."""
    code = ("import sys\nfrom infra.config import load_config\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_aws', 'pulumi_eks', "
            "'pulumi_kubernetes', 'pulumi_docker', 'botocore')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# Code shape: a function fits on a screen, and a component states what it uses.
MAX_FUNCTION_LINES = 60


def program_files(root: Path = ROOT) -> list[Path]:
    """The program's own sources (`infra/`) and the config schema generator (which the config tests also cover)."""
    return [*sorted((root / "infra").rglob("*.py")), root / "tools" / "config_schema.py"]


def long_functions(paths: list[Path], limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """`file:name is N lines` for every function (def line to last line, docstring included) longer than `limit`."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > limit:
                    found.append(f"{path.relative_to(path.parents[1])}:{node.name} is {lines} lines")
    return found


def test_no_function_of_the_program_is_longer_than_about_60_lines() -> None:
    assert long_functions(program_files()) == []


def test_the_length_check_counts_the_whole_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(58))
    (tmp_path / "a.py").write_text(f'def short():\n    """Doc."""\n{body}\n\n'
                                   f'class C:\n    def long(self):\n        """Doc."""\n'
                                   + "\n".join(f"        y{i} = {i}" for i in range(59)) + "\n")
    assert long_functions([tmp_path / "a.py"]) == [f"{tmp_path.name}/a.py:long is 61 lines"]


def component_modules(root: Path = ROOT) -> dict[str, ast.Module]:
    """The program's modules that declare a ComponentResource, by module name."""
    found = {}
    for path in sorted((root / "infra").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        if any(isinstance(n, ast.ClassDef) and any(ast.unparse(b).endswith("ComponentResource") for b in n.bases)
               for n in tree.body):
            found[module_name(path, root)] = tree
    return found


def test_components_take_explicit_fields_not_config_sections() -> None:
    """One argument style for every component, EKS and ECS alike: its Args lists the plain values it uses. Only the
    wiring (`__main__.py`, `infra/wiring.py`, `infra/<runtime>/runtime.py`) reads the config schema."""
    components = component_modules()
    assert {"infra.network", "infra.eks.cluster", "infra.ecs.task"} <= set(components)
    graph = import_graph()
    config_users = {m: sorted(d for d in graph[m] if d == "infra.config" or d.startswith("infra.config."))
                    for m in components}
    assert {m: d for m, d in config_users.items() if d} == {}


def test_every_component_args_is_a_keyword_only_frozen_dataclass() -> None:
    seen = []
    for name, tree in component_modules().items():
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name.endswith("Args"):
                decorators = [ast.unparse(d) for d in node.decorator_list]
                assert "dataclass(frozen=True, kw_only=True)" in decorators, f"{name}.{node.name}"
                seen.append(node.name)
    assert {"NetworkArgs", "ClusterArgs", "WebAppArgs", "AppTaskArgs"} <= set(seen)


def test_the_bootstrap_program_and_the_webstack_program_import_nothing_of_each_other() -> None:
    """bootstrap/ is a Pulumi project of its own (its folder is its program directory): it imports neither the
    webstack program nor the tools, and nothing outside the tests imports it."""
    root = ROOT / "bootstrap"
    found = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    assert {"__main__", "ci_bootstrap.workflows", "ci_bootstrap.policies"} <= set(found)
    for name, path in found.items():
        tree = ast.parse(path.read_text(), str(path))
        tops = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        tops |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not tops & {"infra", "tools", "policy", "tests"}, name
    users = [m for m, deps in import_graph().items() if m.split(".")[0] != "tests"
             and any("ci_bootstrap" in d for d in deps)]
    assert users == []
