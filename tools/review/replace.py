"""What `pulumi up` does to each changed resource, offline: update in place, replace (create the new one, then delete
the old one), replace with the old one deleted first, or nothing but a move. Used by `make diff` (diff.py).

The rules come from the pinned providers, as tools/review/data/replacements.json records them (`make replacements`
writes it from tools/review/data/replacement-sources.yaml): per resource type, the input paths (camelCase) whose
change forces a replacement (terraform-provider-aws `ForceNew` / `RequiresReplace`, pulumi-kubernetes' immutable
fields, Helm release name and namespace, ...), whether the provider deletes first, and whether the type holds state
or is shared (a guarded type: replacing or deleting it blocks `make diff` until acknowledged).

Like `pulumi preview`, a replacement reaches every resource that takes one of the replaced resource's outputs (its id
or ARN is known only once the new one exists): a forcing input fed that way is replaced too, any other is updated.
A replaced provider replaces every resource it manages.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("data") / "replacements.json"

UPDATE, REPLACE, DELETE_FIRST, MOVE, DELETE = "update", "replace", "replace, delete first", "moved", "delete"
STATE = "state only"  # options or dependencies changed: Pulumi records them, nothing is sent to the cloud
_SELECTOR = re.compile(r"\[[^\]]*\]")


@dataclass(frozen=True)
class Rules:
    """What forces a replacement of one resource type (one entry of replacements.json)."""

    type: str
    replace: tuple[str, ...] = ()
    kind_groups: tuple[tuple[str, ...], ...] = ()
    """Groups of inputs of which exactly one is set: switching from one to another replaces."""
    autoname: str = ""
    """The name input the provider auto-names: set explicitly, a replacement must delete the old one first."""
    kubernetes: bool = False
    delete_before_replace: bool = False
    guard: str = ""
    """Why a replacement or deletion of this type destroys state or breaks others (empty: not guarded)."""
    source: str = ""
    side_effects: tuple[tuple[str, str], ...] = ()
    """(input path, what a controller outside Pulumi destroys when it changes), e.g. an Ingress annotation."""
    side_effect_guard: str = ""


@dataclass(frozen=True)
class ReplacementData:
    types: dict[str, Rules]
    sources: dict[str, Any] = field(default_factory=dict)

    def rules(self, typ: str) -> Rules | None:
        return self.types.get(typ)


def _rules(typ: str, entry: dict[str, Any]) -> Rules:
    effects = entry.get("sideEffects") or {}
    groups = tuple(tuple(g) for g in entry.get("replaceWhenKindChanges") or ())
    return Rules(typ, tuple(entry.get("replace") or ()), groups,
                 str(entry.get("autoname") or ""), bool(entry.get("kubernetes")),
                 bool(entry.get("deleteBeforeReplace")), str(entry.get("guard") or ""), str(entry.get("source") or ""),
                 tuple(sorted((effects.get("paths") or {}).items())), str(effects.get("guard") or ""))


@cache
def load(path: Path = DATA) -> ReplacementData:
    data = json.loads(path.read_text())
    return ReplacementData({t: _rules(t, e) for t, e in data["types"].items()}, data.get("sources") or {})


@dataclass(frozen=True)
class Action:
    kind: str  # UPDATE, REPLACE, DELETE_FIRST, MOVE, DELETE or STATE
    reasons: tuple[str, ...] = ()
    """The forcing input paths, `path <- name` when fed by a replaced resource, or what replaced it."""
    delete_first: str = ""
    """Why the old one is deleted before the new one is created."""
    guard: str = ""
    unknown_type: bool = False
    """No replacement data for the type: assumed updated in place (the coverage test keeps this from happening)."""
    side_effect: str = ""
    """What a controller outside Pulumi destroys because of this change (the resource itself is updated)."""

    @property
    def replaces(self) -> bool:
        return self.kind in (REPLACE, DELETE_FIRST)

    @property
    def destructive(self) -> bool:
        return self.replaces or self.kind == DELETE or bool(self.side_effect)

    def label(self) -> str:
        text = self.kind
        if self.reasons:
            text += f" ({', '.join(self.reasons)})"
        if self.delete_first:
            text += f" [{self.delete_first}]"
        if self.side_effect:
            text += f"; {self.side_effect}"
        return text


def input_path(change_path: str) -> str | None:
    """`inputs.vpcConfig.subnetIds[]` -> `vpcConfig.subnetIds`; None for what is not an input (options, provider...)."""
    if not change_path.startswith("inputs."):
        return None
    return _SELECTOR.sub("", change_path[len("inputs."):]).strip(".")


def forcing(path: str, rules: Rules) -> str | None:
    """The forcing path `path` touches: the same path, one inside it or one containing it."""
    for f in rules.replace:
        if path == f or path.startswith(f + ".") or f.startswith(path + "."):
            return f
    return None


def _present(inputs: dict[str, Any], key: str) -> bool:
    return inputs.get(key) not in (None, "", [])


def kind_switches(rules: Rules, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    for group in rules.kind_groups:
        before = {k for k in group if _present(old, k)}
        after = {k for k in group if _present(new, k)}
        if before and after and before != after:
            out.append(" -> ".join(["/".join(sorted(before)), "/".join(sorted(after))]))
    return out


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of each scalar under value: `a.b[0].c` (make diff's property paths)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}[{i}]")
    else:
        yield path, value


def fed_paths(inputs: dict[str, Any], prop: str, symbol: str) -> list[str]:
    """Paths under input `prop` whose value names the replaced resource (`<network-vpc.`): those become unknown."""
    found = sorted({_SELECTOR.sub("", p) for p, v in leaves(inputs.get(prop), prop)
                    if isinstance(v, str) and symbol in v})
    return found or [prop]


@dataclass
class _Node:
    urn: str
    type: str
    name: str
    old: dict[str, Any] | None  # normalised base resource (None: created by this change)
    new: dict[str, Any]
    deps: dict[str, list[str]]  # input -> relative URNs it came from (propertyDependencies)
    provider: str | None


def _delete_first(rules: Rules | None, node: _Node) -> str:
    options = node.new.get("options") or {}
    if options.get("deleteBeforeReplace"):
        return "deleteBeforeReplace option"
    if rules is None:
        return ""
    if rules.delete_before_replace:
        return "the provider deletes first"
    if rules.kubernetes:
        old_meta = ((node.old or {}).get("inputs") or {}).get("metadata") or {}
        meta = (node.new.get("inputs") or {}).get("metadata") or {}
        if meta.get("name") and (meta.get("name"), meta.get("namespace")) == (old_meta.get("name"),
                                                                                 old_meta.get("namespace")):
            return "fixed Kubernetes name: deleted first"
        return ""
    if rules.autoname and _present(node.new.get("inputs") or {}, rules.autoname):
        return f"fixed `{rules.autoname}`: deleted first"
    return ""


def _own_reasons(node: _Node, rules: Rules | None, changed_paths: Iterable[str]) -> list[str]:
    reasons: list[str] = []
    if node.old is None:
        return reasons
    # The replaceOnChanges resource option: these inputs replace the resource whatever the provider says.
    declared = (node.new.get("options") or {}).get("replaceOnChanges") or []
    for path in changed_paths:
        ipath = input_path(path)
        hit = next((d for d in declared if ipath is not None and (ipath == d or ipath.startswith(d + "."))), None)
        if hit and f"{hit} (replaceOnChanges)" not in reasons:
            reasons.append(f"{hit} (replaceOnChanges)")
    if rules is None:
        return reasons
    for path in changed_paths:
        if path == "provider":
            reasons.append("provider")
            continue
        ipath = input_path(path)
        if ipath is not None and (hit := forcing(ipath, rules)) and hit not in reasons:
            reasons.append(hit)
    reasons += kind_switches(rules, node.old.get("inputs") or {}, node.new.get("inputs") or {})
    return reasons


def classify(nodes: dict[str, _Node], changed: dict[str, list[str]], data: ReplacementData,
             names: dict[str, str]) -> dict[str, Action]:
    """Action per relative URN: `changed` maps each changed resource to its property change paths; resources
    reached only through a replaced dependency or provider are added (as updates or replacements)."""
    reasons: dict[str, list[str]] = {}
    for urn, paths in changed.items():
        node = nodes[urn]
        reasons[urn] = _own_reasons(node, data.rules(node.type), paths)
    replaced = {u for u, r in reasons.items() if r}
    touched: dict[str, list[str]] = {}
    frontier = set(replaced)
    while frontier:
        nxt: set[str] = set()
        for urn, node in nodes.items():
            if node.old is None:
                continue
            rules = data.rules(node.type)
            new_reasons, fed = _cascade(node, rules, frontier, names)
            if fed:
                touched.setdefault(urn, [])
                touched[urn] += [f for f in fed if f not in touched[urn]]
            if new_reasons:
                reasons.setdefault(urn, [])
                reasons[urn] += [r for r in new_reasons if r not in reasons[urn]]
                if urn not in replaced:
                    replaced.add(urn)
                    nxt.add(urn)
        frontier = nxt
    out: dict[str, Action] = {}
    for urn in {*changed, *touched, *replaced}:
        node = nodes[urn]
        rules = data.rules(node.type)
        guard = rules.guard if rules else ""
        if urn in replaced:
            why = _delete_first(rules, node)
            out[urn] = Action(DELETE_FIRST if why else REPLACE, tuple(reasons[urn]), why, guard, rules is None)
        elif urn in touched or any(p == "provider" or input_path(p) is not None for p in changed.get(urn, ())):
            effect = _side_effect(rules, changed.get(urn, ()))
            why = rules.side_effect_guard if effect and rules else guard
            out[urn] = Action(UPDATE, tuple(touched.get(urn, ())), "", why, rules is None, effect)
        else:
            out[urn] = Action(STATE, (), "", guard, rules is None)
    return out


def _side_effect(rules: Rules | None, changed_paths: Iterable[str]) -> str:
    if rules is None:
        return ""
    found = []
    for path in changed_paths:
        ipath = input_path(path) or ""
        found += [text for prefix, text in rules.side_effects if ipath == prefix or ipath.startswith(prefix + ".")]
    return "; ".join(dict.fromkeys(found))


def _cascade(node: _Node, rules: Rules | None, replaced: set[str],
             names: dict[str, str]) -> tuple[list[str], list[str]]:
    """(forcing reasons, other fed paths) of `node` from the resources of `replaced` it takes outputs from."""
    forced: list[str] = []
    fed: list[str] = []
    if node.provider in replaced:
        forced.append(f"provider <- {names[node.provider]}")
    inputs = node.new.get("inputs") or {}
    for prop, sources in node.deps.items():
        for src in sources:
            if src not in replaced or src == node.urn:
                continue
            for path in fed_paths(inputs, prop, f"<{names[src]}."):
                label = f"{path} <- {names[src]}"
                if rules is not None and forcing(path, rules):
                    forced.append(label)
                else:
                    fed.append(label)
    return forced, fed


def matches(patterns: Iterable[str], *, name: str, key: str, typ: str) -> bool:
    """An acknowledgement pattern (glob) names the resource, its URN key, its type, or `type::name`."""
    candidates = (name, key, typ, f"{typ}::{name}")
    return any(fnmatch.fnmatchcase(c, p) for p in patterns for c in candidates)
