"""Offline render: evaluate the Pulumi program under the SDK's mock runtime and capture everything.

`render("dev")` runs `__main__.py` with `Pulumi.dev.yaml`'s config, no engine, no credentials,
and returns a `Plan`: every registration (type, name, inputs, parent, provider, dependencies,
options, mock state), every data-source call and the stack outputs, as plain data with secrets
replaced by "[secret]". `make plan` writes it to build/plan/<stack>/; the unit tests assert on it.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import json
import runpy
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
# The stacks the tests render: committed copies owned by the tests, so a user editing the root
# Pulumi.<stack>.yaml files (as the README says) never breaks the suite.
TEST_STACKS = ROOT / "tests" / "stacks"
SECRET = "[secret]"
_SECRET_SIG = "4dabf18193072939515e22adb298388d"


def stack_config(stack: str, root: Path = ROOT, stacks: Path | None = None) -> dict[str, Any]:
    """The `config:` map of Pulumi.<stack>.yaml in `stacks` (default: the project root), full `ns:key` names."""
    folder = stacks or root
    path = folder / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path.name} in {folder}")
    return dict((yaml.safe_load(path.read_text()) or {}).get("config") or {})


def project_name(root: Path = ROOT) -> str:
    return str(yaml.safe_load((root / "Pulumi.yaml").read_text())["name"])


def redact(value: Any) -> Any:
    """Replace every secret-wrapped value by "[secret]"."""
    if isinstance(value, dict):
        if is_secret(value):
            return SECRET
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire format has only floats; 2.0 replicas reads as 2
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(_SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270"


def secret_digests(value: Any, salt: bytes, path: str = "") -> dict[str, str]:
    """HMAC-SHA256 (keyed by `salt`) of every secret-wrapped value, by property path: lets a diff see that a
    secret changed without the value. The salt is random per diff run and never written, so a digest cannot be
    brute-forced back to a guessable secret."""
    if is_secret(value):
        canonical = json.dumps(value.get("value"), sort_keys=True, default=str).encode()
        return {path or ".": "hmac-sha256:" + hmac.new(salt, canonical, hashlib.sha256).hexdigest()}
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(secret_digests(v, salt, f"{path}.{k}" if path else str(k)))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            out.update(secret_digests(v, salt, f"{path}[{i}]"))
    return out


@dataclass
class Plan:
    stack: str
    resources: list[dict[str, Any]]
    invokes: list[dict[str, Any]]
    outputs: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    """The stack configuration the plan was rendered with (full `ns:key` names)."""
    _by_urn: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_urn = {r["urn"]: r for r in self.resources}

    @property
    def region(self) -> str:
        return str(self.config.get("aws:region") or "us-east-1")  # the render's own default

    def get(self, urn: str) -> dict[str, Any]:
        return self._by_urn[urn]

    def of_type(self, typ: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == typ]

    def one(self, typ: str, name: str | None = None) -> dict[str, Any]:
        found = [r for r in self.of_type(typ) if name is None or r["name"] == name]
        if len(found) != 1:
            names = [r["name"] for r in self.of_type(typ)]
            raise AssertionError(f"expected one {typ} named {name!r}, found {len(found)} among {names}")
        return found[0]

    def children(self, urn: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["parent"] == urn]

    def descendants(self, urn: str) -> Iterator[dict[str, Any]]:
        for child in self.children(urn):
            yield child
            yield from self.descendants(child["urn"])

    def ancestors(self, urn: str) -> list[str]:
        out, cur = [], self._by_urn[urn]["parent"]
        while cur:
            out.append(cur)
            cur = self._by_urn[cur]["parent"] if cur in self._by_urn else None
        return out

    def edges(self, urn: str) -> set[str]:
        """What the engine waits for before creating `urn` (and deletes only after it): its dependencies,
        its provider, and, for a dependency on a component, everything inside that component."""
        r = self._by_urn[urn]
        out = set(r["dependencies"])
        if r["provider"]:
            out.add(_provider_urn(r["provider"]))
        for dep in list(out):
            if dep in self._by_urn and not self._by_urn[dep]["custom"]:
                out.update(d["urn"] for d in self.descendants(dep))
        return out

    def depends_on(self, urn: str, target: str) -> bool:
        """True when `urn` transitively waits for `target` (so `pulumi destroy` deletes `urn` first)."""
        seen: set[str] = set()
        todo = [urn]
        while todo:
            cur = todo.pop()
            for dep in self.edges(cur):
                if dep == target:
                    return True
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return False

    def files(self) -> dict[str, Any]:
        return {"resources.json": self.resources, "invokes.json": self.invokes, "outputs.json": self.outputs}


def _provider_urn(ref: str) -> str:
    # A provider reference is "<urn>::<id>"; the URN itself contains "::" separators.
    return ref.rsplit("::", 1)[0]


class RenderError(RuntimeError):
    """The program failed; `registered` is what it had declared by then (empty for a config error)."""

    def __init__(self, message: str, registered: list[dict[str, Any]]):
        super().__init__(message)
        self.registered = registered


def render(stack: str, overrides: Mapping[str, Any] | None = None, root: Path = ROOT,
           stacks: Path | None = None, secret_salt: bytes | None = None) -> Plan:
    """Evaluate the program of `root` for one stack (plus config overrides; a None value removes a key).

    The stack file is read from `stacks` (default: `root`, the user's stack files). With `secret_salt`, each
    registration with secret inputs gets `secretDigests` (path -> salted digest, see `secret_digests`)."""
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

    thread = threading.Thread(target=target, name=f"render-{stack}")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["plan"]


def _quiet_about_unretrieved(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A failed program leaves every dependent output's future failed and unread: the RenderError already says
    why, so those are not logged; anything else goes to asyncio's default handler."""
    if "never retrieved" not in str(context.get("message", "")):
        loop.default_exception_handler(context)


def _render_in_thread(stack: str, config: dict[str, Any], root: Path, secret_salt: bytes | None) -> Plan:
    import pulumi
    from pulumi.runtime import mocks as pmocks
    from pulumi.runtime import stack as pstack
    from pulumi.runtime.settings import SETTINGS

    from .fakes import FakeCloud
    from .monitor import CapturingMonitor

    project = project_name(root)
    raw_config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    region = str(config.get("aws:region") or "us-east-1")
    fake = FakeCloud(region)
    monitor = CapturingMonitor(fake, secret_salt)
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_quiet_about_unretrieved)
    asyncio.set_event_loop(loop)
    failed = False
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
            failed = True
            raise RenderError(f"{type(err).__name__}: {err}", monitor.ordered()) from err
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())
        with SETTINGS.lock:
            SETTINGS.outputs.clear()
        loop.close()
        asyncio.set_event_loop(None)
        if failed:
            # Every output that depended on the failure failed too; collect those futures now, with this loop's
            # quiet handler, rather than at interpreter exit (where they print "Error in sys.excepthook" noise).
            gc.collect()
    invokes = sorted(({"token": c["token"], "args": redact(c["args"])} for c in fake.calls),
                     key=lambda c: (c["token"], json.dumps(c["args"], sort_keys=True)))
    return Plan(stack=stack, resources=monitor.ordered(), invokes=invokes, outputs=outputs, config=redact(config))
