"""Shared fixtures: each distinct config is rendered once per run (xdist workers share renders) and asserted on as
plain data."""

from __future__ import annotations

import gc
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import tests.support
from tests.support import rendered
from tools.render import ROOT, Plan


@pytest.fixture(scope="session", autouse=True)
def _renders_shared_by_workers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """pytest-xdist workers share their renders through a folder of this run, keyed by content (see
    tools/render/cache.py): with `--dist worksteal` both workers need dev, prod and the ECS stacks, and each render
    costs CPU the other waits for. Only a real worker (it has `workerinput`) shares with the other; its base temp
    is <this run's folder>/popen-gw<N>. A run in one process keeps its renders in its own base temp, for the
    subprocesses its tests start (a pytest run started by a test has the folder its test passed it)."""
    workerinput = getattr(request.config, "workerinput", None)
    if workerinput is not None:
        folder = tmp_path_factory.getbasetemp().parent / f"renders-{workerinput['testrunuid']}"
        folder.mkdir(exist_ok=True)
        tests.support.shared_renders = folder
    elif tests.support.shared_renders is None:
        tests.support.shared_renders = tmp_path_factory.getbasetemp() / "renders"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with tests marked `slow(seconds)` (a real interpreter or tool run, or 2,000 Hypothesis examples) run
    first, the costliest first, each module's tests together (so its module fixtures are set up once, unless the
    scheduler splits it). pytest-xdist's worksteal gives the first worker the head of this list and the second the
    tail; whichever runs out of tests takes light ones from the end of the other's queue. Last in the queue, one
    such test kept the other worker idle for 11 s (measured)."""
    cost: dict[str, float] = {}
    for item in items:
        if (slow := item.get_closest_marker("slow")) is not None:
            cost[item.module.__name__] = cost.get(item.module.__name__, 0.0) + float(slow.args[0])
    items.sort(key=lambda item: -cost.get(item.module.__name__, 0.0))  # stable: the rest keep their order


def pytest_collection_finish() -> None:
    """What collection imported (the SDKs' tens of thousands of classes, the program, the tests) lives until the
    process ends: collected once (whatever finalizer raises is reported), then out of the collector's sight, so every
    later full collection skips it (tools/render/engine.py raises the thresholds for the objects renders make)."""
    gc.collect()
    gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure() -> None:
    """pytest collects garbage at the end to report what finalizers raised, then once more at its clean-up: after
    its first pass (this hook runs last), what is alive lives until exit and the second pass, over the renders this
    process holds, is skipped (the render engine leaves the interpreter's last collection out too)."""
    gc.freeze()


@pytest.fixture(scope="session")
def dev() -> Plan:
    return rendered("dev")


@pytest.fixture(scope="session")
def prod() -> Plan:
    return rendered("prod")


@pytest.fixture(scope="session")
def karpenter() -> Plan:
    """nodeProvisioner karpenter (issue 19)."""
    return rendered("karpenter")


@pytest.fixture(scope="session")
def storage() -> Plan:
    """dev + efsCsiEnabled + storageReclaimPolicy Delete (issue 19, storage)."""
    return rendered("storage")


@pytest.fixture(scope="session")
def automode() -> Plan:
    """nodeProvisioner auto-mode (issue 19)."""
    return rendered("automode")


@pytest.fixture(scope="session")
def variant() -> Callable[..., Plan]:
    return rendered


# The ECS runtime's test stacks: Fargate, Fargate with Spot (and EFS), EC2 capacity, Fargate with sidecars.
@pytest.fixture(scope="session")
def fargate() -> Plan:
    return rendered("ecs")


@pytest.fixture(scope="session")
def spot() -> Plan:
    return rendered("ecs-spot")


@pytest.fixture(scope="session")
def ec2() -> Plan:
    return rendered("ecs-ec2")


# Fargate with environment files, the ADOT collector and FireLens sidecars, and step scaling.
@pytest.fixture(scope="session")
def sidecars() -> Plan:
    return rendered("ecs-sidecars")


# Tests never read the root stack files (the user's to edit): any test of this process that opens one fails.
# Subprocesses are not seen here; tests/tools/test_user_stacks.py guards those statically.
_ROOT_STACK_FILE = re.compile(r"Pulumi\.(?!yaml$)[^/]+\.ya?ml$")
_opened_root_stack_files: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and args and isinstance(args[0], str | os.PathLike):
        path = os.fspath(args[0])
        if isinstance(path, str) and _ROOT_STACK_FILE.search(path) and Path(path).resolve().parent == ROOT:
            _opened_root_stack_files.append(path)


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def _no_root_stack_file_is_read() -> Iterator[None]:
    seen = len(_opened_root_stack_files)
    yield
    opened = _opened_root_stack_files[seen:]
    assert not opened, f"this test read the user's stack file(s) {opened}: use tests/stacks/ (TEST_STACKS)"
