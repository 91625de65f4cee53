"""What the tests share: renders of the committed test stacks (once per session), the policy-pack harness
(`pack`), parliament with its allowlist (`iam_lint`), the app image's files (`app`), crafted plans (`crafted_plans`),
the ECS API mapping (`ecs_api`), the GitHub Actions files as data (`workflows`), the labelled diff of a Day-2
change as plain data (`day2`), tiny programs to render
(`programs`) and the check that a wiring function copies config to Args (`carried`). Tests import from here, never
from another test module."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from tools.render import TEST_STACKS, Plan, lock_file, render
from tools.render.cache import RENDER_CACHE_ENV

_cache: dict[tuple[str, str], Plan] = {}
shared_renders: Path | None = Path(os.environ[RENDER_CACHE_ENV]) if os.environ.get(RENDER_CACHE_ENV) else None
"""A folder of renders shared by this run's processes, keyed by content (tools/render/cache.py): under
pytest-xdist, set by tests/conftest.py for both workers (a config one worker rendered is read, not rendered again,
by the other); in a subprocess a test starts, the folder WEBSTACK_RENDER_CACHE names (the test passes its own).
None (one process): render."""


# What `make bump` would add to the ecs test stack's lock for `wafEnabled: true` (values of the right form, not read
# from AWS): the variants with the firewall render with `lock=WAF_LOCK`.
WAF_LOCK = {"wafRuleGroups": {"AWSManagedRulesCommonRuleSet": "Version_1.19",
                              "AWSManagedRulesKnownBadInputsRuleSet": "Version_1.99"}}


def rendered(stack: str, lock: Mapping[str, Any] | None = None, **overrides: Any) -> Plan:
    """The plan of the test stack tests/stacks/Pulumi.<stack>.yaml with `webstack:<key>` overrides (None removes
    a key) and its lock Pulumi.<stack>.lock.yaml with `lock` changes (what `make bump` would write for the changed
    config), rendered once per session (once per run under xdist). Tests never read the root stack files: those
    are the user's to edit."""
    full = {(k if ":" in k else f"webstack:{k}"): v for k, v in overrides.items()}
    key = (stack, json.dumps([full, lock], sort_keys=True))
    if key not in _cache:
        _cache[key] = render(stack, full, stacks=TEST_STACKS, lock=lock, cache=shared_renders)
    return _cache[key]


def copy_bytecode(source: Path, copy: Path) -> None:
    """Next to each .py file of `copy`, the bytecode `source` holds for it (Python's, and pytest's rewritten test
    modules), so a subprocess in the copy compiles and rewrites nothing this run already has (a second of CPU for
    each copy that runs tests). Python takes it when the source's modification time and size match (shutil.copy2
    keeps them), pytest when the source's hash does: an edited source is compiled again."""
    for py in copy.rglob("*.py"):
        cache = source / py.parent.relative_to(copy) / "__pycache__"
        for pyc in cache.glob(f"{py.stem}.*.pyc"):
            (py.parent / "__pycache__").mkdir(exist_ok=True)
            shutil.copy2(pyc, py.parent / "__pycache__" / pyc.name)


def committed_lock(stack: str) -> dict[str, Any]:
    """The committed lock of test stack `stack` (tests/stacks/Pulumi.<stack>.lock.yaml) as a YAML map."""
    return dict(yaml.safe_load(lock_file(stack, stacks=TEST_STACKS).read_text()))


def carried(args: Any, section: Any, prefix: str = "") -> list[str]:
    """The fields of `args` (a component's Args) that the config `section` holds as `<prefix><field>`, each asserted
    to carry the section's value: the wiring copied the right setting, not a neighbour of the same type. A mapping
    field carries a setting of (key, value) pairs."""
    names = [f.name for f in fields(args) if hasattr(section, prefix + f.name)]
    for name in names:
        actual, expected = getattr(args, name), getattr(section, prefix + name)
        assert actual == (dict(expected) if isinstance(actual, Mapping) else expected), name
    return names
