"""What the tests share: renders of the committed test stacks (once per session), the policy-pack harness
(`pack`), parliament with its allowlist (`iam_lint`), the app image's files (`app`), crafted plans (`crafted_plans`),
the ECS API mapping (`ecs_api`) and tiny programs to render (`programs`). Tests import from here, never from another
test module."""

from __future__ import annotations

import json
from typing import Any

from tools.render import TEST_STACKS, Plan, render

_cache: dict[tuple[str, str], Plan] = {}


def rendered(stack: str, **overrides: Any) -> Plan:
    """The plan of the test stack tests/stacks/Pulumi.<stack>.yaml with `webstack:<key>` overrides (None removes
    a key), rendered once per session. Tests never read the root stack files: those are the user's to edit."""
    full = {(k if ":" in k else f"webstack:{k}"): v for k, v in overrides.items()}
    key = (stack, json.dumps(full, sort_keys=True))
    if key not in _cache:
        _cache[key] = render(stack, full, stacks=TEST_STACKS)
    return _cache[key]
