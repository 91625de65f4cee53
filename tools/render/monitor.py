"""A mock resource monitor that records every registration the way the engine would receive it."""

from __future__ import annotations

import inspect
import threading
from typing import Any

import pulumi
from pulumi.runtime import mocks as pmocks
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import resource_pb2

from .aliases import Spec, engine_urn, resolve, spec_of_option, specs_of_request
from .fakes import NODE_GROUP, remote_children
from .values import redact, secret_digests

_RESOURCE_REFERENCES = resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES


class CapturingMonitor(MockMonitor):
    """Stock MockMonitor plus a capture of each RegisterResource request, with the engine's URNs and aliases.

    Resource references are switched off: with them, resources passed into remote components
    (pulumi-eks) are rehydrated on another event loop and renders fail or hang intermittently
    (pulumi/pulumi#6561). Without them such inputs arrive as URN/ID strings.
    """

    def __init__(self, mocks: pulumi.runtime.Mocks, secret_salt: bytes | None = None):
        super().__init__(mocks)
        self._secret_salt = secret_salt
        self._lock = threading.Lock()
        self._captured: dict[str, dict[str, Any]] = {}
        self._construction: dict[tuple[str, str], int] = {}
        self._aliases: dict[str, list[str]] = {}  # URN -> the old URNs it may claim, for its children to inherit

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The stock MockMonitor prefixes top-level resources with the Stack type and children with their parent's
        # last type only: deployed URNs (and full-URN aliases copied from them) are the engine's.
        return engine_urn(parent, type_, name, pulumi.get_project(), pulumi.get_stack())

    def SupportsFeature(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.id == "resourceReferences":
            return type("SupportsFeatureResponse", (object,), {"hasSupport": False})
        return super().SupportsFeature(request)

    def GetDeploymentInfo(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        info = super().GetDeploymentInfo(request)
        features = [f for f in info.supportedFeatures if f != _RESOURCE_REFERENCES]
        return resource_pb2.DeploymentInfo(supportedFeatures=features)

    def record_construction(self, args: pulumi.ResourceTransformationArgs) -> None:
        """Stack transformation: runs synchronously in program order, so it gives a stable ordering."""
        with self._lock:
            self._construction.setdefault((args.type_, args.name), len(self._construction))
        return None

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        registered = self.resources[response.urn]
        inputs = pulumi.runtime.rpc.deserialize_properties(request.object, keep_unknowns=True)
        secret_outputs = set(request.additionalSecretOutputs)
        state = {k: ("[secret]" if k in secret_outputs else v) for k, v in (registered.state or {}).items()}
        entry = {
            "urn": response.urn,
            "type": request.type,
            "name": request.name,
            "custom": bool(request.custom),
            "id": (registered.id or None) if request.custom else None,
            "parent": request.parent or None,
            "provider": request.provider or None,
            "dependencies": sorted(set(request.dependencies)),
            "propertyDependencies": {k: sorted(v.urns) for k, v in sorted(request.propertyDependencies.items())
                                     if v.urns},
            "options": {
                "protect": bool(request.protect),
                "retainOnDelete": bool(request.retainOnDelete),
                "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                "ignoreChanges": sorted(request.ignoreChanges),
                "transforms": len(request.transforms),
                # Only when set: the resource option that makes an otherwise in-place change replace.
                **({"replaceOnChanges": sorted(request.replaceOnChanges)} if request.replaceOnChanges else {}),
            },
            "inputs": redact(inputs),
            "state": redact(state),
            "aliases": self._resolve(response.urn, request.type, request.name, request.parent or "",
                                     specs_of_request(request)),
        }
        # Recorded beside the options, not in them: Pulumi never diffs a change of customTimeouts (no update).
        timeouts = {k: getattr(request.customTimeouts, k) for k in ("create", "update", "delete")
                    if getattr(request.customTimeouts, k)}
        if timeouts:
            entry["customTimeouts"] = timeouts
        aliases, modelled = self._remote_children(response.urn, request, inputs)
        if aliases:
            entry["childAliases"] = aliases
        if modelled:
            entry["remoteChildren"] = modelled
        if self._secret_salt and (digests := secret_digests(inputs, self._secret_salt)):
            entry["secretDigests"] = digests
        with self._lock:
            self._captured[response.urn] = entry
        return response

    def _resolve(self, urn: str, type_: str, name: str, parent: str, specs: list[Spec]) -> list[str]:
        """Resolve and remember `urn`'s aliases. A parent's RegisterResource returns (with its aliases recorded)
        before any child can name it, so the parent's list is complete when a child reads it."""
        with self._lock:
            known = dict(self._aliases)
        found = resolve(urn, type_, name, parent, specs, lambda u: known.get(u, []))
        with self._lock:
            self._aliases[urn] = found
        return found

    def _remote_children(self, urn: str, request: Any, inputs: dict[str, Any]
                         ) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
        """The children the remote component's provider declares (modelled by `remote_children`: the mock never sees
        them) after the component's transforms: {child URN: old URNs} of those the transforms alias, and each node
        group as the engine would register it (inputs and ignoreChanges). The engine runs a component's transforms
        on its children in order, each on the previous one's result."""
        # The same lookup MockMonitor uses to fill MockResourceArgs.transforms (token -> the program's function).
        transforms = pmocks._resolve_callbacks(request.transforms) if request.transforms else []
        aliases: dict[str, list[str]] = {}
        modelled: list[dict[str, Any]] = []
        urns: list[str] = []
        for typ, name, parent_index, props, ignored in remote_children(request.type, request.name, inputs):
            parent = urn if parent_index is None else urns[parent_index]
            child = engine_urn(parent, typ, name, pulumi.get_project(), pulumi.get_stack())
            urns.append(child)
            props, opts = _transformed(transforms, typ, name, props, pulumi.ResourceOptions(ignore_changes=ignored))
            specs = [s for s in (spec_of_option(a) for a in opts.aliases or []) if s is not None]
            if found := self._resolve(child, typ, name, parent, specs):
                aliases[child] = found
            if typ == NODE_GROUP:
                modelled.append({"urn": child, "type": typ, "name": name, "inputs": redact(props),
                                 "ignoreChanges": sorted(opts.ignore_changes or [])})
        return aliases, modelled

    def ordered(self) -> list[dict[str, Any]]:
        """Registrations in program (construction) order, independent of RPC thread timing."""
        last = len(self._construction)
        return sorted(
            self._captured.values(),
            key=lambda r: (self._construction.get((r["type"], r["name"]), last), r["urn"]),
        )


def _transformed(transforms: list[Any], typ: str, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions
                 ) -> tuple[dict[str, Any], pulumi.ResourceOptions]:
    """`props` and `opts` after the transforms, as the engine would register the child."""
    for transform in transforms:
        result = transform(pulumi.ResourceTransformArgs(custom=True, type_=typ, name=name, props=props, opts=opts))
        if inspect.iscoroutine(result):  # an async transform: the monitor answers synchronously, not modelled
            result.close()
            continue
        if result is not None:
            props, opts = dict(result.props), result.opts or opts
    return props, opts
