"""The pack as a package by area: every policy is declared once, every area's policies are in POLICIES, and the
CLI (which runs policy/__main__.py from the pack's directory, whatever it is called) builds the same pack."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import shutil
import subprocess
import sys
import types
from collections import Counter
from pathlib import Path

import pytest
from pulumi_policy import ReportViolation, ResourceValidationArgs

import policy
from policy.common import Area
from policy.validators import AREAS, POLICIES
from tools.render import ROOT


def area_modules() -> list[types.ModuleType]:
    """Every module of the policy package but __main__ (which builds the pack, and blocks)."""
    return [importlib.import_module(f"policy.{m.name}") for m in pkgutil.iter_modules(policy.__path__)
            if m.name != "__main__"]


def areas_in(module: types.ModuleType) -> list[Area]:
    return [value for value in vars(module).values() if isinstance(value, Area)]


def left_out(modules: list[types.ModuleType], areas: tuple[Area, ...]) -> list[str]:
    """The areas some module declares that the pack does not assemble."""
    return [f"{m.__name__}: {a.title}" for m in modules for a in areas_in(m) if all(a is not b for b in areas)]


def validators_in(module: types.ModuleType) -> list[str]:
    """Functions defined in `module` with the signature pulumi-policy calls: each must be a declared policy."""
    return [name for name, f in vars(module).items() if inspect.isfunction(f) and f.__module__ == module.__name__
            and list(inspect.signature(f).parameters) == ["args", "report_violation"]]


def test_every_area_of_every_module_is_in_the_pack() -> None:
    modules = area_modules()
    assert {m.__name__ for m in modules} >= {"policy.eks", "policy.aws", "policy.kubernetes", "policy.ecs"}
    assert left_out(modules, AREAS) == []
    assert [p.name for p in POLICIES] == [p.name for area in AREAS for p in area.policies]
    assert len(AREAS) == len({id(a) for a in AREAS})  # no area assembled twice


def test_an_area_left_out_of_the_pack_is_found() -> None:
    stray = types.ModuleType("policy.stray")
    stray.EXTRA = Area("extra")  # type: ignore[attr-defined]
    assert left_out([*area_modules(), stray], AREAS) == ["policy.stray: extra"]


def test_no_policy_is_declared_twice() -> None:
    names = Counter(p.name for p in POLICIES)
    assert [n for n, count in names.items() if count > 1] == []
    functions = Counter(id(f) for area in AREAS for f in area.validators.values())
    assert max(functions.values()) == 1  # one function, one policy


def test_every_validation_function_is_declared_in_its_own_module() -> None:
    declared = {(f.__module__, f.__name__) for area in AREAS for f in area.validators.values()}
    found = {(m.__name__, name) for m in area_modules() for name in validators_in(m)}
    assert found == declared
    for area in AREAS:  # an area's functions live in one module, the one the README names
        assert len({f.__module__ for f in area.validators.values()}) == 1, area.title


def test_an_area_refuses_a_name_twice() -> None:
    area = Area("test")

    def check(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        return None

    assert area.resource("x", "X.")(check) is check  # the function itself, callable as before
    with pytest.raises(ValueError, match="'x' is declared twice in area 'test'"):
        area.stack("x", "X again.")(check)
    assert [p.name for p in area.policies] == ["x"]


def test_the_cli_builds_the_pack_from_a_directory_of_any_name(tmp_path: Path) -> None:
    """pulumi runs `python -m pulumi.policy <engine> <pack dir>`, i.e. runpy.run_path on the directory, which puts it
    first on sys.path but not as the package `policy`; a published pack is installed as
    ~/.pulumi/policies/<org>/pulumi-analyzer-<name>-v<version>. PolicyPack is replaced by a recorder (it blocks)."""
    pack = tmp_path / "pulumi-analyzer-webstack-guardrails-v0.1.0"
    shutil.copytree(ROOT / "policy", pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    code = ("import runpy, pulumi_policy\n"
            "pulumi_policy.PolicyPack = lambda **kw: print(kw['name'], *[p.name for p in kw['policies']])\n"
            "runpy.run_path('.', run_name='__main__')\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}  # no PYTHONPATH: the repo is not importable
    done = subprocess.run([sys.executable, "-c", code], cwd=pack, capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["webstack-guardrails", *[p.name for p in POLICIES]]
