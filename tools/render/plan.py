"""`Plan`: everything one render captured, as plain data, with the queries tests and review tools ask of it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


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

    def looked_up_zones(self) -> list[str]:
        """The public zones the program looks up (not creates): by name, or "ID <id>" (webstack:zoneId)."""
        return [str(c["args"].get("name") or f"ID {c['args'].get('zoneId')}") for c in self.invokes
                if c["token"] == "aws:route53/getZone:getZone"]

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
