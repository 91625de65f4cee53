"""A mock resource monitor that records every registration the way the engine would receive it."""

from __future__ import annotations

import threading
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import resource_pb2

from .values import redact, secret_digests

_RESOURCE_REFERENCES = resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES


class CapturingMonitor(MockMonitor):
    """Stock MockMonitor plus a capture of each RegisterResource request.

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
            },
            "inputs": redact(inputs),
            "state": redact(state),
        }
        if self._secret_salt and (digests := secret_digests(inputs, self._secret_salt)):
            entry["secretDigests"] = digests
        with self._lock:
            self._captured[response.urn] = entry
        return response

    def ordered(self) -> list[dict[str, Any]]:
        """Registrations in program (construction) order, independent of RPC thread timing."""
        last = len(self._construction)
        return sorted(
            self._captured.values(),
            key=lambda r: (self._construction.get((r["type"], r["name"]), last), r["urn"]),
        )
