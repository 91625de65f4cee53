"""The render: evaluate a program under the SDK's mock runtime, in a thread and event loop of its own."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import gc
import json
import os
import runpy
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from .cache import RENDER_CACHE_ENV, cached, render_key
from .plan import Plan
from .values import SECRET, redact

ROOT = Path(__file__).resolve().parents[2]
# The stacks the tests render: committed copies owned by the tests, so a user editing the root
# Pulumi.<stack>.yaml files (as the README says) never breaks the suite.
TEST_STACKS = ROOT / "tests" / "stacks"
# The program reads the stack's version lock from the file this variable names (infra/config/lock.py; the engine
# imports nothing of the program, a test keeps the two names equal): the lock beside the stack file rendered.
LOCK_FILE_ENV = "WEBSTACK_LOCK_FILE"
_environment = threading.Lock()  # one render at a time sets the variable

# The Pulumi SDKs define tens of thousands of classes (pulumi_aws' and pulumi_kubernetes' input and output types)
# and a render allocates objects by the hundred thousand that live as long as it does: with CPython's default
# thresholds (700, 10, 10) the collector traverses that heap over and over. Measured on this 2-core machine (CPU
# seconds): a process importing the SDKs and rendering dev 3.8 -> 2.5; a render after the first, dev 0.46 -> 0.29
# and ecs 0.33 -> 0.26; a quarter of the test suite spent 6.7 -> 1.8 s collecting, its peak memory +60 MB.
GC_THRESHOLDS = (20_000, 100, 100)
gc.set_threshold(*GC_THRESHOLDS)
# What is still alive at exit is left out of the interpreter's last collection (about 1 CPU second in a process
# that imported the SDKs): the process ends, its memory goes with it.
atexit.register(gc.freeze)


def stack_config(stack: str, root: Path = ROOT, stacks: Path | None = None) -> dict[str, Any]:
    """The `config:` map of Pulumi.<stack>.yaml in `stacks` (default: the project root), full `ns:key` names."""
    folder = stacks or root
    path = folder / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path.name} in {folder}")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:  # its mark says "<unicode string>": name the file
        raise ValueError(f"{path.name} is not valid YAML ({folder}): {err}") from None
    return dict((doc or {}).get("config") or {})


def lock_file(stack: str, root: Path = ROOT, stacks: Path | None = None) -> Path:
    """Pulumi.<stack>.lock.yaml beside the stack file (in `stacks`, default the project root)."""
    return (stacks or root) / f"Pulumi.{stack}.lock.yaml"


@contextlib.contextmanager
def _locked_versions(path: Path, changes: Mapping[str, Any] | None) -> Iterator[None]:
    """Points the program at the lock `path`, or at a copy with `changes` (top-level entries replaced, None removes
    one; a map value is merged into the lock's map), for the duration of one render."""
    with _environment, tempfile.TemporaryDirectory(prefix="webstack-lock-") as tmp:
        target = path
        if changes:
            doc = dict((yaml.safe_load(path.read_text()) if path.is_file() else None) or {})
            for key, value in changes.items():
                if value is None:
                    doc.pop(key, None)
                elif isinstance(value, Mapping) and isinstance(doc.get(key), Mapping):
                    doc[key] = {k: v for k, v in {**doc[key], **value}.items() if v is not None}
                else:
                    doc[key] = value
            target = Path(tmp) / path.name
            target.write_text(yaml.safe_dump(doc, sort_keys=True))
        before = os.environ.get(LOCK_FILE_ENV)
        os.environ[LOCK_FILE_ENV] = str(target)
        try:
            yield
        finally:
            if before is None:
                os.environ.pop(LOCK_FILE_ENV, None)
            else:
                os.environ[LOCK_FILE_ENV] = before


def project_name(root: Path = ROOT) -> str:
    return _name_in((root / "Pulumi.yaml").read_text())


@functools.lru_cache(maxsize=16)
def _name_in(project_file: str) -> str:
    """Pulumi.yaml holds the generated config schema (~20 KB of YAML): parsing it took a fifth of a render's CPU,
    so it is parsed once per content (the text is the key: an edited file is parsed again, never stale)."""
    return str(yaml.safe_load(project_file)["name"])


class RenderError(RuntimeError):
    """The program failed; `registered` is what it had declared by then (empty for a config error)."""

    def __init__(self, message: str, registered: list[dict[str, Any]]):
        super().__init__(message)
        self.registered = registered


def render(stack: str, overrides: Mapping[str, Any] | None = None, root: Path = ROOT,
           stacks: Path | None = None, secret_salt: bytes | None = None,
           lock: Mapping[str, Any] | None = None, cache: Path | None = None) -> Plan:
    """Evaluate the program of `root` for one stack (plus config overrides; a None value removes a key).

    The stack file and its version lock (Pulumi.<stack>.lock.yaml) are read from `stacks` (default: `root`, the
    user's stack files); `lock` changes entries of the lock for this render (what `make bump` would write for a
    changed config). With `secret_salt`, each registration with secret inputs gets `secretDigests` (path -> salted
    digest, see `secret_digests`). With `cache` (default: the folder WEBSTACK_RENDER_CACHE names, if any), a render
    of the same inputs by content is read from that folder instead (tools/render/cache.py)."""
    config = stack_config(stack, root, stacks)
    for key, value in (overrides or {}).items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    result: dict[str, Any] = {}

    # A fresh thread starts with empty context variables, so each render gets its own Pulumi
    # settings, root stack and config, and one event loop of its own.
    def target() -> None:
        try:
            result["plan"] = _render_in_thread(stack, config, root, secret_salt)
        except BaseException as err:
            result["error"] = err

    def make() -> Plan:
        thread = threading.Thread(target=target, name=f"render-{stack}")
        thread.start()
        thread.join()
        if "error" in result:
            raise result["error"]
        return result["plan"]

    folder = cache or (Path(os.environ[RENDER_CACHE_ENV]) if os.environ.get(RENDER_CACHE_ENV) else None)
    with _locked_versions(lock_file(stack, root, stacks), lock):
        if folder is None:
            return make()
        key = render_key(stack, config, root, Path(os.environ[LOCK_FILE_ENV]), secret_salt)
        return cached(folder, key, make)


class _InPlace(ThreadPoolExecutor):
    """The SDK hands every call to the monitor (register, invoke, outputs) to the loop's default executor, a thread
    pool, because the real monitor is a blocking gRPC stub. The mock monitor answers from this process
    (tools/render/fakes.py): a call runs in place, without a thread hop and the GIL handing back and forth (a fifth
    of a render: dev 0.30 -> 0.24 CPU s). But the mock monitor serializes properties by pumping the loop it is called
    from (the SDK's _sync_await), which starts the next ready calls: one made while another runs in place goes to a
    thread of its own, as before, so the nesting stays one level deep (in place all the way down, 100 sibling
    resources ended in a RecursionError)."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, initializer=self._own_loop)
        self._in_place = False
        self._loops: list[asyncio.AbstractEventLoop] = []

    def _own_loop(self) -> None:
        """The SDK's _sync_await makes a loop for the thread it runs in and leaves it open: the thread gets one from
        here, closed when the thread has ended (shutdown), not garbage collected open later."""
        self._loops.append(asyncio.new_event_loop())
        asyncio.set_event_loop(self._loops[-1])

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        if wait:
            for loop in self._loops:
                loop.close()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._in_place:
            return super().submit(fn, *args, **kwargs)
        done: Future[Any] = Future()
        self._in_place = True
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as err:  # the caller's await raises it, as from a thread
            done.set_exception(err)
        finally:
            self._in_place = False
        return done


def _skip_source_positions() -> None:
    """The SDK walks the Python stack at every resource it registers (traceback.extract_stack, a file URI per
    frame) to tell the engine where the program declared it, for the CLI's display: the mock monitor drops it, and
    it was 15 % of a render (dev, 0.38 -> 0.32 CPU s). Renders send an empty trace; nothing else in this process
    deploys (a real `pulumi up` runs the program in the Pulumi CLI's own interpreter)."""
    from pulumi.runtime import resource
    from pulumi.runtime.proto import source_pb2

    resource._get_stack_trace = source_pb2.StackTrace


def _quiet_about_unretrieved(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A failed program leaves every dependent output's future failed and unread: the RenderError already says
    why, so those are not logged; anything else goes to asyncio's default handler."""
    if "never retrieved" not in str(context.get("message", "")):
        loop.default_exception_handler(context)


def _render_in_thread(stack: str, config: dict[str, Any], root: Path, secret_salt: bytes | None) -> Plan:
    import pulumi
    from pulumi.runtime import mocks as pmocks
    from pulumi.runtime import stack as pstack
    from pulumi.runtime.settings import SETTINGS, _shutdown_callbacks

    from .fakes import FakeCloud
    from .monitor import CapturingMonitor

    _skip_source_positions()

    project = project_name(root)
    raw_config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    region = str(config.get("aws:region") or "us-east-1")
    fake = FakeCloud(region, str(config.get(f"{project}:zoneName") or ""))
    monitor = CapturingMonitor(fake, secret_salt)
    loop = asyncio.new_event_loop()
    loop.set_default_executor(_InPlace())
    loop.set_exception_handler(_quiet_about_unretrieved)
    asyncio.set_event_loop(loop)
    # The SDK tracks pending outputs in one process-wide set: drop what an earlier (failed) render left.
    with SETTINGS.lock:
        SETTINGS.outputs.clear()
    try:
        pulumi.runtime.set_all_config(raw_config, [])
        pmocks.set_mocks(fake, project=project, stack=stack, preview=False, monitor=monitor)
        pstack.register_stack_transformation(monitor.record_construction)
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))

        async def run() -> dict[str, Any]:
            runpy.run_path(str(root / "__main__.py"), run_name="__main__")
            await pstack.wait_for_rpcs()
            outputs: dict[str, Any] = {}
            root_stack = pulumi.runtime.get_root_resource()
            for name, value in sorted(getattr(root_stack, "outputs", {}).items()):
                out = pulumi.Output.from_input(value)
                resolved = await out.future()
                outputs[name] = SECRET if await out.is_secret() else redact(resolved)
            await pstack.wait_for_rpcs()
            return outputs

        try:
            outputs = loop.run_until_complete(run())
        except Exception as err:
            raise RenderError(f"{type(err).__name__}: {err}", monitor.ordered()) from err
    finally:
        # The SDK serves the program's transforms from a gRPC server bound to this loop; `pulumi.runtime.run`
        # stops it at the end (stack.run_pulumi_func), runpy does not. Left running, it keeps gRPC's poller thread
        # alive until interpreter exit, which then reports on a closed loop through sys.excepthook after stderr is
        # gone: the bare "Error in sys.excepthook: / Original exception was:" lines after a test run.
        loop.run_until_complete(_shutdown_callbacks())
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())
        with SETTINGS.lock:
            SETTINGS.outputs.clear()
        loop.close()
        asyncio.set_event_loop(None)
    invokes = sorted(({"token": c["token"], "args": redact(c["args"])} for c in fake.calls),
                     key=lambda c: (c["token"], json.dumps(c["args"], sort_keys=True)))
    return Plan(stack=stack, resources=monitor.ordered(), invokes=invokes, outputs=outputs, config=redact(config))
