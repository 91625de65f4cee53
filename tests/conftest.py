"""Shared fixtures: each distinct config is rendered once per session and asserted on as plain data."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from infra.render import TEST_STACKS, Plan, render

_cache: dict[tuple[str, str], Plan] = {}


def rendered(stack: str, **overrides: Any) -> Plan:
    """The plan of the test stack tests/stacks/Pulumi.<stack>.yaml with `webstack:<key>` overrides (None removes
    a key), rendered once per session. Tests never read the root stack files: those are the user's to edit."""
    full = {(k if ":" in k else f"webstack:{k}"): v for k, v in overrides.items()}
    key = (stack, json.dumps(full, sort_keys=True))
    if key not in _cache:
        _cache[key] = render(stack, full, stacks=TEST_STACKS)
    return _cache[key]


@pytest.fixture(scope="session")
def dev() -> Plan:
    return rendered("dev")


@pytest.fixture(scope="session")
def prod() -> Plan:
    return rendered("prod")


@pytest.fixture(scope="session")
def variant() -> Callable[..., Plan]:
    return rendered
