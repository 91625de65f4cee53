"""`python -m tools.review.diff --stack dev [--base REF]`: what a change does to the rendered plan, offline.

Renders the base tree (a detached git worktree of REF, default the merge base with main) and the working tree with
the SAME engine (this tree's `tools/render/`) in a fresh interpreter that never lets the two trees share a program
module, and compares them: resources added, removed and changed by URN (stack-independent), resources moved (a new
URN whose aliases claim a removed one: the engine keeps the cloud resource), property changes at nested paths,
Kubernetes manifests and Helm values as YAML diffs, IAM permissions added and removed, stack outputs. Mock-only
values (fake ids, ARNs, computed outputs of tools/render/fakes.py, looked-up values) are replaced by symbolic
references such as `<network-vpc.id>` first, so a value that only moves does not show. Secrets never show: a secret
input is compared through a salted digest the render records (random salt per run, never written).

Each changed resource is labelled with what `pulumi up` does to it (replace.py): *update* in place, *replace* (create
then delete), *replace, delete first*, or *moved*, with the property that forces it. Replacements and deletions come
first, and a replacement or deletion of a stateful or shared type (the data's `guard`) makes the command exit 3
unless acknowledged: `--allow-replace PATTERN` or a commit trailer `Allow-Replace: PATTERN` between the base and HEAD.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from tools.render import ROOT, SECRET, Plan
from tools.render.artifacts import helm_releases, iam_documents, kubernetes_objects
from tools.render.fakes import ACCOUNT_ID, FakeCloud

from . import replace as rp

# Lists whose order matters: never compared as sets.
ORDERED_KEYS = frozenset({"args", "command", "entryPoint", "instanceTypes", "rules"})
# Keys that identify an element of a list of objects (first one present and unique on both sides wins).
IDENTITY_KEYS = ("name", "key", "Sid", "sid", "containerName", "deviceName", "resourceType", "domainName",
                 "containerPort", "port", "id", "type")
# Invokes whose results are real, deterministic facts of the region (AZ names, partition): never normalised.
_REAL_LOOKUPS = frozenset({"aws:index/getAvailabilityZones:getAvailabilityZones", "aws:index/getRegion:getRegion",
                           "aws:index/getPartition:getPartition"})
_SECRET_MARK = re.compile(r"\[secret:hmac-sha256:[0-9a-f]{64}\]")
_MIN_MOCK_LEN = 8


class ResourceRef(NamedTuple):
    key: str  # the URN without its `urn:pulumi:<stack>::<project>::` prefix, so dev and prod compare
    type: str
    name: str


class PropertyChange(NamedTuple):
    path: str
    kind: str  # "added", "removed" or "changed"
    old: Any = None
    new: Any = None


class Grant(NamedTuple):
    effect: str
    action: str
    target: str  # "arn:..." resource, or "principal Service=..." for a trust policy
    condition: str = ""


@dataclass(frozen=True)
class ResourceChange:
    ref: ResourceRef
    changes: tuple[PropertyChange, ...]
    yaml_diff: str = ""
    """Unified diff of the Kubernetes manifest, or of the Helm release's values."""
    action: rp.Action | None = None
    """What `pulumi up` does to it (None: not classified, e.g. a move with no change)."""


@dataclass(frozen=True)
class ResourceMove:
    """A resource under a new URN that claims its old one by an alias: `pulumi up` neither deletes nor creates it."""

    old: ResourceRef
    change: ResourceChange
    """The new resource and its property changes (none when it only moved)."""


class Destruction(NamedTuple):
    """A resource `pulumi up` destroys: replaced (the old one is deleted) or deleted."""

    ref: ResourceRef
    action: rp.Action


@dataclass(frozen=True)
class IamChange:
    document: str
    added: tuple[Grant, ...]
    removed: tuple[Grant, ...]


@dataclass(frozen=True)
class PlanDiff:
    base: str
    head: str
    added: tuple[ResourceRef, ...] = ()
    removed: tuple[ResourceRef, ...] = ()
    changed: tuple[ResourceChange, ...] = ()
    iam: tuple[IamChange, ...] = ()
    outputs: tuple[PropertyChange, ...] = ()
    notes: tuple[str, ...] = ()
    moved: tuple[ResourceMove, ...] = ()
    destroyed: tuple[Destruction, ...] = ()
    """Replacements and deletions, guarded types first."""
    affected: tuple[ResourceChange, ...] = ()
    """Resources none of whose inputs changed that a replacement reaches (they take its new id): updated or replaced,
    as `pulumi preview` shows them."""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.moved or self.iam or self.outputs
                    or self.affected)

    def blocking(self, allow: tuple[str, ...] = ()) -> list[Destruction]:
        """Destructions of guarded types that no `allow` pattern acknowledges."""
        return [x for x in self.destroyed if x.action.guard and not rp.matches(
            allow, name=x.ref.name, key=x.ref.key, typ=x.ref.type)]


# --- normalisation -------------------------------------------------------------------------------------------------

def relative_urn(urn: str) -> str:
    """`urn:pulumi:dev::webstack::a$b::name` -> `a$b::name` (a provider reference loses its mock id)."""
    parts = urn.split("::")
    if len(parts) >= 4 and parts[0].startswith("urn:pulumi:"):
        return "::".join(parts[2:4])
    return urn


def _looks_mock(value: Any) -> bool:
    return (isinstance(value, str) and len(value) >= _MIN_MOCK_LEN and value != SECRET and value != ACCOUNT_ID
            and any(c.isdigit() for c in value))


def mock_values(plan: Plan, moved: dict[str, str] | None = None) -> dict[str, str]:
    """Every value the fake cloud made up for this plan -> a symbolic name: resource ids, computed outputs
    (ARNs, URLs, digests...) and looked-up values. Values the program itself put in its inputs are not mock.
    A resource that `moved` (relative URN -> its new one) is named by its new name: the cloud resource stays."""
    label = {old: new.split("::", 1)[1] for old, new in (moved or {}).items()}
    found: dict[str, set[str]] = {}
    # Real values the fakes also return (the region as a lookup's id, config values echoed back) stay visible.
    real = {plan.region} | {v for _, v in rp.leaves(plan.config) if isinstance(v, str)}
    for r in plan.resources:
        own = {v for _, v in rp.leaves(r["inputs"]) if isinstance(v, str)}
        name = label.get(relative_urn(r["urn"]), r["name"])
        if _looks_mock(r.get("id")) and r["id"] not in own and not r["type"].startswith("kubernetes:"):
            found.setdefault(r["id"], set()).add(f"<{name}.id>")
        for path, v in rp.leaves(r.get("state") or {}):
            if _looks_mock(v) and v not in own:
                found.setdefault(v, set()).add(f"<{name}.{path}>")
    fake = FakeCloud(plan.region)
    for call in plan.invokes:
        if call["token"] in _REAL_LOOKUPS:
            continue
        args = call["args"]
        result = fake.call(types.SimpleNamespace(token=call["token"], args=args, provider=None))
        arg_values = {v for _, v in rp.leaves(args)}
        label = call["token"].rsplit(":", 1)[-1] + "(" + ",".join(f"{k}={v}" for k, v in sorted(args.items())) + ")"
        for path, v in rp.leaves(result):
            if _looks_mock(v) and v not in arg_values:
                found.setdefault(v, set()).add(f"<{label}.{path}>")
    return {value: sorted(names)[0] for value, names in found.items() if value not in real}


def _replacer(mapping: dict[str, str], urn: Callable[[str], str]):
    # Longest first: an ARN is replaced whole before the id inside it.
    pattern = re.compile("|".join(re.escape(v) for v in sorted(mapping, key=len, reverse=True))) if mapping else None

    def replace(value: Any) -> Any:
        if isinstance(value, str):
            if value.startswith("urn:pulumi:"):  # a resource passed to a remote component arrives as its URN
                return urn(value)
            return pattern.sub(lambda m: mapping[m.group(0)], value) if pattern and value else value
        if isinstance(value, dict):
            return {k: replace(v) for k, v in value.items()}
        if isinstance(value, list):
            return [replace(v) for v in value]
        return value

    return replace


def _mark_secrets(inputs: Any, digests: dict[str, str], path: str = "") -> Any:
    """Replace each "[secret]" leaf by a marker carrying its salted digest (when the render recorded one)."""
    if isinstance(inputs, dict):
        return {k: _mark_secrets(v, digests, f"{path}.{k}" if path else str(k)) for k, v in inputs.items()}
    if isinstance(inputs, list):
        return [_mark_secrets(v, digests, f"{path}[{i}]") for i, v in enumerate(inputs)]
    if inputs == SECRET and (path or ".") in digests:
        return f"[secret:{digests[path or '.']}]"
    return inputs


def normalise(plan: Plan, moved: dict[str, str] | None = None) -> Plan:
    """A copy of `plan` with stack-independent URNs, mock values replaced by symbolic names and secrets marked
    by digest; `state` and ids (made up by the fakes) are dropped. With `moved` (relative URN -> new relative URN),
    the base of a diff speaks of each moved resource by its new URN and name, as the engine's snapshot does."""
    moved = moved or {}

    def urn(value: str) -> str:
        return moved.get(relative_urn(value), relative_urn(value))

    replace = _replacer(mock_values(plan, moved), urn)
    resources = []
    for r in plan.resources:
        resources.append({
            "urn": urn(r["urn"]), "type": r["type"], "name": r["name"], "custom": r["custom"],
            "parent": urn(r["parent"]) if r["parent"] else None,
            "provider": urn(r["provider"]) if r["provider"] else None,
            "dependencies": sorted({urn(d) for d in r["dependencies"]}),
            "options": r["options"],
            "inputs": _mark_secrets(replace(r["inputs"]), r.get("secretDigests") or {}),
        })
    return Plan(stack=plan.stack, resources=resources, invokes=plan.invokes, outputs=replace(plan.outputs),
                config=plan.config)


# --- structural diff -----------------------------------------------------------------------------------------------

def _parse_json(value: str) -> Any:
    if value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def _hashable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def _identity_key(old: list[dict], new: list[dict]) -> str | None:
    for key in IDENTITY_KEYS:
        if (all(key in item and _hashable(item[key]) for item in old + new)
                and len({item[key] for item in old}) == len(old) and len({item[key] for item in new}) == len(new)):
            return key
    return None


def diff_values(old: Any, new: Any, path: str = "") -> list[PropertyChange]:
    """Changes from `old` to `new` at nested paths (`a.b[name=x].c`): dicts by key, lists of objects matched by an
    identity key, lists of unique scalars as sets (a reorder is not a change) unless their order matters,
    JSON documents held in strings parsed first."""
    if old == new:
        return []
    if isinstance(old, str) and isinstance(new, str):
        if SECRET in (old, new) and any(_SECRET_MARK.fullmatch(v) for v in (old, new)):
            return []  # one side has no digest: nothing can be said, so nothing is shown
        old_doc, new_doc = _parse_json(old), _parse_json(new)
        if old_doc is not None and new_doc is not None:
            return diff_values(old_doc, new_doc, path)
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[PropertyChange] = []
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in old:
                out.append(PropertyChange(sub, "added", None, new[key]))
            elif key not in new:
                out.append(PropertyChange(sub, "removed", old[key], None))
            else:
                out.extend(diff_values(old[key], new[key], sub))
        return out
    if isinstance(old, list) and isinstance(new, list):
        return _diff_lists(old, new, path)
    return [PropertyChange(path, "changed", old, new)]


def _diff_lists(old: list, new: list, path: str) -> list[PropertyChange]:
    last = re.split(r"[.\[]", path)[-1] if path else ""
    if all(_hashable(v) for v in old + new):
        unique = len(set(old)) == len(old) and len(set(new)) == len(new)
        if unique and last not in ORDERED_KEYS:
            return ([PropertyChange(f"{path}[]", "removed", v, None) for v in old if v not in set(new)]
                    + [PropertyChange(f"{path}[]", "added", None, v) for v in new if v not in set(old)])
        return [PropertyChange(path, "changed", old, new)]
    if all(isinstance(v, dict) for v in old + new) and (key := _identity_key(old, new)):
        before = {item[key]: item for item in old}
        after = {item[key]: item for item in new}
        out: list[PropertyChange] = []
        for ident in [*before, *(k for k in after if k not in before)]:
            sub = f"{path}[{key}={ident}]"
            if ident not in after:
                out.append(PropertyChange(sub, "removed", before[ident], None))
            elif ident not in before:
                out.append(PropertyChange(sub, "added", None, after[ident]))
            else:
                out.extend(diff_values(before[ident], after[ident], sub))
        return out
    # No identity: equal elements match wherever they are; the rest pair up in order.
    canon = [json.dumps(v, sort_keys=True) for v in old]
    remaining_old = list(range(len(old)))
    unmatched_new: list[int] = []
    for j, v in enumerate(new):
        c = json.dumps(v, sort_keys=True)
        hit = next((i for i in remaining_old if canon[i] == c), None)
        if hit is None:
            unmatched_new.append(j)
        else:
            remaining_old.remove(hit)
    out = []
    for i, j in zip(remaining_old, unmatched_new, strict=False):
        out.extend(diff_values(old[i], new[j], f"{path}[{j}]"))
    for i in remaining_old[len(unmatched_new):]:
        out.append(PropertyChange(f"{path}[{i}]", "removed", old[i], None))
    for j in unmatched_new[len(remaining_old):]:
        out.append(PropertyChange(f"{path}[{j}]", "added", None, new[j]))
    return out


# --- IAM -----------------------------------------------------------------------------------------------------------

def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def grants(document: dict[str, Any]) -> set[Grant]:
    """A policy document as a set of (effect, action, resource or principal, condition) grants."""
    out: set[Grant] = set()
    for st in _as_list(document.get("Statement")):
        effect = st.get("Effect", "Allow")
        actions = [a for a in _as_list(st.get("Action"))] + [f"NOT {a}" for a in _as_list(st.get("NotAction"))]
        targets = [str(r) for r in _as_list(st.get("Resource"))] + [f"NOT {r}" for r in _as_list(st.get("NotResource"))]
        principal = st.get("Principal")
        if principal is not None:
            items = principal.items() if isinstance(principal, dict) else [("", principal)]
            targets += [f"principal {k}={p}" if k else f"principal {p}" for k, v in items for p in _as_list(v)]
        condition = json.dumps(st["Condition"], sort_keys=True) if st.get("Condition") else ""
        for action in actions or ["*"]:
            for target in targets or ["*"]:
                out.add(Grant(effect, action, target, condition))
    return out


def diff_iam(base: Plan, head: Plan) -> list[IamChange]:
    before, after = iam_documents(base), iam_documents(head)
    out = []
    for name in sorted(set(before) | set(after)):
        old, new = grants(before.get(name) or {}), grants(after.get(name) or {})
        if old != new:
            out.append(IamChange(name, tuple(sorted(new - old)), tuple(sorted(old - new))))
    return out


# --- plan diff -----------------------------------------------------------------------------------------------------

def _canonical(value: Any) -> Any:
    """Lists of objects sorted by their identity key, as diff_values matches them: a reorder is no YAML noise."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        if items and all(isinstance(v, dict) for v in items) and (key := _identity_key(items, items)):
            return sorted(items, key=lambda v: str(v[key]))
        return items
    return value


def _yaml(value: Any) -> list[str]:
    return yaml.safe_dump(_canonical(value), sort_keys=True, width=120).splitlines()


def _yaml_diff(old: Any, new: Any, label: str) -> str:
    lines = difflib.unified_diff(_yaml(old), _yaml(new), f"base/{label}", f"head/{label}", lineterm="", n=2)
    return "\n".join(lines)


def _compared(r: dict[str, Any]) -> dict[str, Any]:
    return {"inputs": r["inputs"], "options": r["options"], "provider": r["provider"],
            "dependencies": r["dependencies"]}


def _stack_prefix(urn: str) -> str:
    return urn.split("::", 2)[0] + "::" + urn.split("::", 2)[1]


def find_moves(base: Plan, head: Plan) -> dict[str, str]:
    """Relative URN of each base resource the head keeps under a new URN -> that URN, as `pulumi up` pairs them:
    in registration order, a new URN claims the first of its aliases (`aliases`, see tools/render/aliases.py) that
    names a base resource gone from the head and not claimed yet. Aliases into another stack or project are not
    moves within this one."""
    before = {relative_urn(r["urn"]) for r in base.resources}
    after = {relative_urn(r["urn"]) for r in head.resources}
    gone = before - after
    moves: dict[str, str] = {}
    for r in head.resources:
        new = relative_urn(r["urn"])
        if new in before:
            continue
        for alias in r.get("aliases") or []:
            old = relative_urn(alias)
            if _stack_prefix(alias) == _stack_prefix(r["urn"]) and old in gone and old not in moves:
                moves[old] = new
                break
    return moves


def _resource_change(old: dict[str, Any], new: dict[str, Any]) -> ResourceChange | None:
    changes = diff_values(_compared(old), _compared(new))
    if not changes:
        return None
    text = ""
    if (a := _manifest(old)) is not None and (b := _manifest(new)) is not None:
        text = _yaml_diff(a, b, new["name"] + ".yaml")
    elif (a := _release(old)) is not None and (b := _release(new)) is not None:
        text = _yaml_diff(a["values"], b["values"], new["name"] + "-values.yaml")
    return ResourceChange(_ref(new), tuple(changes), text)


def _ref(r: dict[str, Any]) -> ResourceRef:
    return ResourceRef(r["urn"], r["type"], r["name"])


def diff_plans(base: Plan, head: Plan, data: rp.ReplacementData | None = None) -> PlanDiff:
    """What changes from the `base` plan to the `head` plan (both as `render()` returns them), each changed resource
    labelled with what `pulumi up` does to it (`data`: the replacement rules, default the committed ones)."""
    moves = find_moves(base, head)
    origin = {relative_urn(r["urn"]): r for r in base.resources}
    nb, nh = normalise(base, moves), normalise(head)  # the base names a moved resource by its new URN
    before = {r["urn"]: r for r in nb.resources}
    after = {r["urn"]: r for r in nh.resources}
    changes: dict[str, ResourceChange] = {}
    for urn, new in after.items():
        if urn in before and (change := _resource_change(before[urn], new)):
            changes[urn] = change
    actions = _actions(head, before, after, changes, data or rp.load())
    changed, moved = [], []
    for old_urn, urn in moves.items():
        was = origin[old_urn]
        change = changes.get(urn) or ResourceChange(_ref(after[urn]), ())
        action = actions.get(urn)
        moved.append(ResourceMove(ResourceRef(old_urn, was["type"], was["name"]), replace_action(change, action)))
    affected = []  # no input of their own changed: a replaced resource's new id or ARN reaches them
    for urn, new in after.items():
        if urn in moves.values():
            continue
        if urn in changes:
            changed.append(replace_action(changes[urn], actions.get(urn)))
        elif urn in actions:
            affected.append(ResourceChange(_ref(new), (), "", actions[urn]))
    removed = tuple(_ref(r) for u, r in before.items() if u not in after)
    return PlanDiff(
        base=base.stack, head=head.stack,
        added=tuple(_ref(r) for u, r in after.items() if u not in before),
        removed=removed,
        changed=tuple(changed),
        iam=tuple(diff_iam(nb, nh)),
        outputs=tuple(diff_values(nb.outputs, nh.outputs)),
        moved=tuple(moved),
        destroyed=_destroyed([*changed, *affected], moved, removed, data or rp.load()),
        affected=tuple(affected),
    )


def replace_action(change: ResourceChange, action: rp.Action | None) -> ResourceChange:
    return ResourceChange(change.ref, change.changes, change.yaml_diff, action)


def _actions(head: Plan, before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]],
             changes: dict[str, ResourceChange], data: rp.ReplacementData) -> dict[str, rp.Action]:
    """Each changed resource's action, and those of resources a replacement reaches (see replace.py)."""
    raw = {relative_urn(r["urn"]): r for r in head.resources}
    nodes = {}
    for urn, r in after.items():
        deps = {prop: [relative_urn(u) for u in urns]
                for prop, urns in (raw.get(urn, {}).get("propertyDependencies") or {}).items()}
        nodes[urn] = rp._Node(urn, r["type"], r["name"], before.get(urn), r, deps, r["provider"])
    names = {urn: r["name"] for urn, r in after.items()}
    paths = {urn: [ch.path for ch in c.changes] for urn, c in changes.items()}
    return rp.classify(nodes, paths, data, names)


def _destroyed(changed: list[ResourceChange], moved: list[ResourceMove], removed: tuple[ResourceRef, ...],
               data: rp.ReplacementData) -> tuple[Destruction, ...]:
    out = [Destruction(c.ref, c.action) for c in [*changed, *(m.change for m in moved)]
           if c.action is not None and c.action.destructive]
    for ref in removed:
        rules = data.rules(ref.type)
        out.append(Destruction(ref, rp.Action(rp.DELETE, guard=rules.guard if rules else "",
                                              unknown_type=rules is None)))
    return tuple(sorted(out, key=lambda x: (not x.action.guard, x.action.kind == rp.DELETE, x.ref.key)))


def _manifest(r: dict[str, Any]) -> dict[str, Any] | None:
    """The Kubernetes object `r` declares (the artifacts view), or None when `r` is not one."""
    objects = kubernetes_objects(Plan(stack="", resources=[r], invokes=[], outputs={}))
    return next(iter(objects.values()), None)


def _release(r: dict[str, Any]) -> dict[str, Any] | None:
    releases = helm_releases(Plan(stack="", resources=[r], invokes=[], outputs={}))
    return next(iter(releases.values()), None)


# --- formatting ----------------------------------------------------------------------------------------------------

def _show(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = _SECRET_MARK.sub(SECRET, text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_secret_change(c: PropertyChange) -> bool:
    return any(isinstance(v, str) and _SECRET_MARK.fullmatch(v) for v in (c.old, c.new))


def _change_line(c: PropertyChange) -> str:
    if c.kind == "added":
        return f"{c.path}: + {_show(c.new)}"
    if c.kind == "removed":
        return f"{c.path}: - {_show(c.old)}"
    if _is_secret_change(c):
        return f"{c.path}: {SECRET} changed (value not shown)"
    return f"{c.path}: {_show(c.old)} -> {_show(c.new)}"


def _grant_lines(grants_: tuple[Grant, ...], sign: str) -> list[str]:
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for g in grants_:
        grouped.setdefault((g.effect, g.target, g.condition), []).append(g.action)
    lines = []
    for (effect, target, condition), actions in sorted(grouped.items()):
        when = f" when {condition}" if condition else ""
        lines.append(f"{sign} {effect} {', '.join(sorted(actions))} on {target}{when}")
    return lines


def _listed(c: ResourceChange) -> list[PropertyChange]:
    """The property changes printed as lines: those the YAML diff does not already show."""
    if not c.yaml_diff:
        return list(c.changes)
    covered = "inputs.values" if c.ref.type == "kubernetes:helm.sh/v3:Release" else "inputs"
    return [ch for ch in c.changes if ch.path != covered and not ch.path.startswith((covered + ".", covered + "["))]


def summary(d: PlanDiff) -> str:
    if d.empty:
        return "No changes."
    replaced = sum(1 for x in d.destroyed if x.action.replaces)
    parts = [f"{len(d.added)} to add", f"{len(d.removed)} to remove", f"{len(d.changed)} to change"]
    if d.affected:
        parts.append(f"{len(d.affected)} more reached by a replacement")
    if d.moved:
        parts.append(f"{len(d.moved)} moved")
    if d.iam:
        parts.append(f"IAM changes in {len(d.iam)} document(s)")
    return ", ".join(parts) + (f"; {replaced} replaced." if replaced else ".")


ALLOW_HINT = "acknowledge with a commit trailer `Allow-Replace: {name}` or `make diff ALLOW_REPLACE={name}`"
DESTROYS_BEGIN, DESTROYS_END = "<!-- destroys:begin -->", "<!-- destroys:end -->"
BLOCKING_MARK = re.compile(r"<!-- blocking: (\d+) -->")


def _status(x: Destruction, blocking: list[Destruction]) -> str:
    if not x.action.guard:
        return ""
    return "BLOCKING" if x in blocking else "acknowledged"


def destroyed_lines(d: PlanDiff, allow: tuple[str, ...] = ()) -> list[str]:
    """The replacements and deletions, guarded ones first, each with why it matters and whether it blocks."""
    if not d.destroyed:
        return []
    blocking = d.blocking(allow)
    lines = [f"Destroys ({len(d.destroyed)} replaced or deleted; read these first):"]
    for x in d.destroyed:
        status = _status(x, blocking)
        mark = "!!" if status == "BLOCKING" else "! " if status else "  "
        text = f"{mark} {x.action.label()}  {x.ref.type}  {x.ref.key}"
        if x.action.guard:
            text += f"  -- {x.action.guard}; {status}"
            if status == "BLOCKING":
                text += ": " + ALLOW_HINT.format(name=x.ref.name)
        lines.append(text)
    return lines


def _detail_lines(c: ResourceChange) -> list[str]:
    lines = [f"    {_change_line(ch)}" for ch in _listed(c)]
    if c.yaml_diff:
        lines += ["    " + line for line in _SECRET_MARK.sub(SECRET, c.yaml_diff).splitlines()]
    return lines


def _action_suffix(c: ResourceChange) -> str:
    return f"  [{c.action.label()}]" if c.action else ""


def format_text(d: PlanDiff, title: str = "", allow: tuple[str, ...] = ()) -> str:
    lines = [title or f"Plan diff: {d.base} -> {d.head} (rendered under mocks)", summary(d)]
    lines += destroyed_lines(d, allow)
    for r in d.added:
        lines.append(f"+ {r.type}  {r.key}")
    for r in d.removed:
        lines.append(f"- {r.type}  {r.key}")
    for c in d.changed:
        lines.append(f"~ {c.ref.type}  {c.ref.key}{_action_suffix(c)}")
        lines += _detail_lines(c)
    for m in d.moved:
        lines.append(f"> {m.change.ref.type}  {m.old.key} -> {m.change.ref.key} (moved){_action_suffix(m.change)}")
        lines += _detail_lines(m.change)
    for c in d.affected:
        lines.append(f"~ {c.ref.type}  {c.ref.key}{_action_suffix(c)}")
    if d.iam:
        lines.append("IAM permissions:")
        for doc in d.iam:
            lines.append(f"  {doc.document}:")
            lines += ["    " + line for line in _grant_lines(doc.added, "+") + _grant_lines(doc.removed, "-")]
    if d.outputs:
        lines.append("Stack outputs:")
        lines += [f"  {_change_line(c)}" for c in d.outputs]
    lines += list(d.notes)
    return "\n".join(lines) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def _md_action(action: rp.Action | None) -> str:
    if action is None:
        return ""
    text = f"<b>{action.kind}</b>" if action.replaces else action.kind
    if action.reasons:
        text += " (" + ", ".join(f"<code>{_html(r)}</code>" for r in action.reasons) + ")"
    if action.delete_first:
        text += f" [{_html(action.delete_first)}]"
    return text


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _change_block(c: ResourceChange, mark: str) -> list[str]:
    action = f": {_md_action(c.action)}" if c.action else ""
    block = [f"<details><summary>{mark} <code>{c.ref.type}</code> {c.ref.name} ({len(c.changes)} change(s)){action}"
             "</summary>", "", f"`{_md_escape(c.ref.key)}`", ""]
    shown = _listed(c)
    if shown:
        block += ["| property | change |", "|---|---|"]
        block += [f"| `{_md_escape(ch.path)}` | {_md_escape(_change_line(ch).split(': ', 1)[1])} |" for ch in shown]
        block.append("")
    if c.yaml_diff:
        block += ["```diff", _SECRET_MARK.sub(SECRET, c.yaml_diff), "```", ""]
    return [*block, "</details>", ""]


DESTROYED_ROWS = 25  # rows of the destroyed table in a comment; `make diff` prints them all


def destroyed_markdown(d: PlanDiff, allow: tuple[str, ...] = (), rows: int = DESTROYED_ROWS) -> list[str]:
    """The replacements and deletions as a table (not collapsed: a reviewer reads them first), between markers the
    review comment lifts to its top, and the count of blocking ones in a marker."""
    blocking = d.blocking(allow)
    if not d.destroyed:
        return ["<!-- blocking: 0 -->", ""]
    out = [DESTROYS_BEGIN, f"**Destroys: {len(d.destroyed)} replaced or deleted**"
           + (f", **⛔ {len(blocking)} blocking** (stateful or shared, not acknowledged)" if blocking else ""), "",
           "| | action | resource | forced by | why it matters |", "|---|---|---|---|---|"]
    for x in d.destroyed[:rows]:
        status = _status(x, blocking)
        flag = {"BLOCKING": "⛔", "acknowledged": "⚠️ ack."}.get(status, "")
        why = _md_escape(x.action.guard) + (f" — {ALLOW_HINT.format(name=_md_escape(x.ref.name))}"
                                           if status == "BLOCKING" else "")
        forced = ", ".join(f"`{_md_escape(r)}`" for r in x.action.reasons) or "—"
        kind = x.action.kind + (f" ({_md_escape(x.action.delete_first)})" if x.action.delete_first else "") + (
            f"; {_md_escape(x.action.side_effect)}" if x.action.side_effect else "")
        out.append(f"| {flag} | {kind} | `{x.ref.type}` {_md_escape(x.ref.name)} | {forced} | {why} |")
    if len(d.destroyed) > rows:
        out.append(f"| | | _{len(d.destroyed) - rows} more: run `make diff`_ | | |")
    return [*out, "", DESTROYS_END, f"<!-- blocking: {len(blocking)} -->", ""]


def format_markdown(d: PlanDiff, title: str = "", limit: int = 60000, allow: tuple[str, ...] = ()) -> str:
    """Markdown for a pull request comment: every part in a collapsible section. Past `limit` characters (a GitHub
    comment holds 65,536) the remaining sections are left out and a note says so."""
    rows = DESTROYED_ROWS
    table = destroyed_markdown(d, allow, rows)
    while rows > 3 and sum(len(line) + 1 for line in table) > limit // 2:  # the table always shows: keep it short
        rows -= 1
        table = destroyed_markdown(d, allow, rows)
    head = [f"### {title or f'Plan diff: {d.base} -> {d.head}'}", "",
            f"**{summary(d)}** (rendered under mocks)", "", *table]
    blocks: list[list[str]] = []  # added, removed, IAM: before the changed resources
    for refs, verb in ((d.added, "add"), (d.removed, "remove")):
        if refs:
            blocks.append([f"<details><summary>{len(refs)} to {verb}</summary>", "",
                           *[f"- `{r.type}` `{_md_escape(r.key)}`" for r in refs], "", "</details>", ""])
    if d.iam:
        iam = [f"<details><summary>IAM permissions ({len(d.iam)} document(s))</summary>", ""]
        for doc in d.iam:
            iam += [f"**{doc.document}**", "", "```diff", *_grant_lines(doc.added, "+"),
                    *_grant_lines(doc.removed, "-"), "```", ""]
        blocks.append([*iam, "</details>", ""])
    if d.moved:
        moves = [f"- `{m.change.ref.type}` `{_md_escape(m.old.key)}` -> `{_md_escape(m.change.ref.key)}`"
                 + (f" ({len(m.change.changes)} change(s) below)" if m.change.changes else "") for m in d.moved]
        blocks.append([f"<details><summary>{len(d.moved)} moved (aliases: same cloud resources, new URNs)</summary>",
                       "", *moves, "", "</details>", ""])
    if d.affected:
        reached = [f"- `{c.ref.type}` {_md_escape(c.ref.name)}: {_md_action(c.action)}" for c in d.affected]
        blocks.append([f"<details><summary>{len(d.affected)} more reached by a replacement (no input of their own "
                       "changed)</summary>", "", *reached, "", "</details>", ""])
    changed = [_change_block(c, "~") for c in d.changed]
    changed += [_change_block(m.change, "moved") for m in d.moved if m.change.changes]
    outputs = [["<details><summary>Stack outputs</summary>", "",
                *[f"- `{_md_escape(c.path)}`: {_md_escape(_change_line(c).split(': ', 1)[1])}" for c in d.outputs],
                "", "</details>", ""]] if d.outputs else []
    out = list(head)
    size = sum(len(line) + 1 for line in out)
    left_out = 0

    def add(block: list[str], optional: bool = True) -> None:
        nonlocal size, left_out
        block_size = sum(len(line) + 1 for line in block)
        if optional and size + block_size > limit:
            left_out += 1
            return
        out.extend(block)
        size += block_size

    for block in blocks:
        add(block)
    if changed:  # one collapsible section around every changed (or moved and changed) resource's own section
        also = len(changed) - len(d.changed)
        label = f"{len(d.changed)} to change" + (f", {also} moved with changes" if also else "")
        add([f"<details><summary>{label}</summary>", ""], optional=False)
        for block in changed:
            add(block)
        add(["</details>", ""], optional=False)
    for block in outputs:
        add(block)
    if left_out:
        out.append(f"_{left_out} section(s) left out to fit a comment: run `make diff` for all of it._")
    out += list(d.notes)
    return "\n".join(out).rstrip() + "\n"


# --- rendering two trees -------------------------------------------------------------------------------------------

def plan_from_json(data: dict[str, Any]) -> Plan:
    return Plan(stack=data["stack"], resources=data["resources"], invokes=data["invokes"],
                outputs=data["outputs"], config=data.get("config") or {})


def render_trees(trees: list[Path], stack: str, stacks: str | None, workdir: Path, salt: str) -> list[Plan]:
    """Render each tree's program with this tree's engine, one after the other in ONE fresh interpreter that
    drops every `infra` module between trees (see isolated.py): the trees never share a program module, and the
    Pulumi SDKs are imported once."""
    outs = [workdir / f"plan-{i}.json" for i in range(len(trees))]
    cmd = [sys.executable, str(Path(__file__).resolve().parents[1] / "render" / "isolated.py"), "--stack", stack]
    if stacks:
        cmd += ["--stacks", stacks]
    for tree, out in zip(trees, outs, strict=True):
        cmd += ["--render", str(tree), str(out)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["WEBSTACK_SECRET_SALT"] = salt
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip() or f"render failed ({proc.returncode})")
    return [plan_from_output(tree, out.read_text()) for tree, out in zip(trees, outs, strict=True)]


def plan_from_output(tree: Path, text: str) -> Plan:
    """The plan isolated.py wrote for `tree` (JSON text)."""
    # The build context is an absolute path: the two trees live in different folders.
    return plan_from_json(json.loads(text.replace(json.dumps(str(tree.resolve()))[1:-1], "<project root>")))


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def default_base(repo: Path) -> tuple[str, str]:
    """(ref, description): the merge base with `main` (or `origin/main`, as a CI checkout has it); HEAD when there
    is neither (a shallow clone without main: fetch it, or pass --base)."""
    for branch in ("main", "origin/main"):
        try:
            return git(repo, "merge-base", "HEAD", branch), f"merge base with {branch}"
        except subprocess.CalledProcessError:
            continue
    return "HEAD", "HEAD (no main or origin/main to take a merge base with: fetch main or pass --base)"


@contextmanager
def base_tree(repo: Path, ref: str) -> Iterator[tuple[Path, str, Path]]:
    """(detached worktree of `ref`, its commit, a scratch folder), both removed afterwards."""
    commit = git(repo, "rev-parse", "--verify", f"{ref}^{{commit}}")
    tmp = Path(tempfile.mkdtemp(prefix="webstack-diff-"))
    tree = tmp / "base"
    try:
        git(repo, "worktree", "add", "--detach", str(tree), commit)
        yield tree, commit, tmp
    finally:
        if tree.exists():
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)],
                           capture_output=True, check=False)
        subprocess.run(["git", "-C", str(repo), "worktree", "prune"], capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def absent(stack: str) -> Plan:
    """The base of a stack whose file the base does not have (a stack added since): nothing, so every resource of
    the working tree's render is an addition. A render always has the stack's config; this has none."""
    return Plan(stack=stack, resources=[], invokes=[], outputs={}, config={})


def is_absent(plan: Plan) -> bool:
    return not plan.resources and not plan.config


def render_base_and_head(tree: Path, repo: Path, stack: str, stacks: str | None, workdir: Path,
                         salt: str) -> tuple[Plan, Plan]:
    """Both renders; only the working tree's when the base tree has no Pulumi.<stack>.yaml (see `absent`)."""
    if ((tree / stacks) if stacks else tree).joinpath(f"Pulumi.{stack}.yaml").is_file():
        base_plan, head_plan = render_trees([tree, repo], stack, stacks, workdir, salt)
        return base_plan, head_plan
    (head_plan,) = render_trees([repo], stack, stacks, workdir, salt)
    return absent(stack), head_plan


def unchanged_since(repo: Path, commit: str, stack: str, stacks: str | None) -> bool:
    """Whether the working tree holds exactly the files of `commit` that a render can read: the same git tree at
    HEAD, nothing modified, staged or untracked (what .gitignore leaves out, a render never reads: virtualenvs,
    caches, build/), and the stack file and its lock tracked (a user may ignore their stack files: then the base has
    none). Then the base's render would be the working tree's, so one render serves both."""
    folder = Path(stacks) if stacks else Path()
    files = [(folder / f"Pulumi.{stack}{suffix}").as_posix() for suffix in (".yaml", ".lock.yaml")]
    try:
        same_tree = git(repo, "rev-parse", "HEAD^{tree}") == git(repo, "rev-parse", f"{commit}^{{tree}}")
        dirty = git(repo, "status", "--porcelain", "--untracked-files=all")
        ignored = git(repo, "status", "--porcelain", "--ignored", "--", *files)
    except subprocess.CalledProcessError:
        return False
    return same_tree and not dirty and not ignored


def render_pair(stack: str, base: str | None = None, repo: Path = ROOT,
                stacks: str | None = None) -> tuple[Plan, Plan, str]:
    """(base plan, working tree plan, base commit), the base from a detached worktree removed afterwards; one render
    when the working tree is the base's (see `unchanged_since`): `make diff` on a clean tree costs one render."""
    salt = secrets.token_hex(16)  # both renders share it, nothing keeps it
    ref = base or default_base(repo)[0]
    commit = git(repo, "rev-parse", "--verify", f"{ref}^{{commit}}")
    if unchanged_since(repo, commit, stack, stacks):
        with tempfile.TemporaryDirectory(prefix="webstack-diff-") as tmp:
            (head_plan,) = render_trees([repo], stack, stacks, Path(tmp), salt)
        return head_plan, head_plan, commit
    with base_tree(repo, ref) as (tree, commit, tmp):
        base_plan, head_plan = render_base_and_head(tree, repo, stack, stacks, tmp, salt)
    return base_plan, head_plan, commit


ALL = "all"
STACK_ORDER = ("dev", "prod", "ecs")
TEST_STACKS_DIR = "tests/stacks"


def example_stacks(folder: Path = ROOT) -> list[str]:
    """The stacks with a Pulumi.<stack>.yaml in `folder`: dev, prod, ecs first, then any other."""
    found = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in folder.glob("Pulumi.*.yaml")
                   if not p.name.endswith(".lock.yaml"))  # a stack's version lock, not a stack
    return [s for s in STACK_ORDER if s in found] + [s for s in found if s not in STACK_ORDER]


class StackDiff(NamedTuple):
    label: str  # `dev` for a root stack file, `tests/stacks/dev` for a test stack
    diff: PlanDiff | None
    error: str = ""
    new: bool = False  # the base has no such stack file: everything is added


def diff_all(base: str, repo: Path = ROOT, stacks: str | None = None, workers: int = 2) -> tuple[list[StackDiff], str]:
    """`--stack all`: every root stack and every test stack (or only those of `stacks`) against ONE worktree of
    `base`, `workers` render processes at a time. Returns the diffs and the base commit."""
    folders = [stacks] if stacks else [None, TEST_STACKS_DIR]
    jobs = [(s, f) for f in folders for s in example_stacks(repo / f if f else repo)]
    salt = secrets.token_hex(16)
    with base_tree(repo, base) as (tree, commit, tmp):
        def one(i: int) -> StackDiff:
            stack, folder = jobs[i]
            label = f"{folder}/{stack}" if folder else stack
            work = tmp / f"job-{i}"
            work.mkdir()
            try:
                if unchanged_since(repo, commit, stack, folder):  # the base's render is the working tree's
                    base_plan = head_plan = render_trees([repo], stack, folder, work, salt)[0]
                else:
                    base_plan, head_plan = render_base_and_head(tree, repo, stack, folder, work, salt)
            except RuntimeError as err:
                return StackDiff(label, None, str(err))
            return StackDiff(label, diff_plans(base_plan, head_plan), new=is_absent(base_plan))

        with ThreadPoolExecutor(max_workers=workers) as pool:  # each render process uses one core
            return list(pool.map(one, range(len(jobs)))), commit


def format_all(results: list[StackDiff], base_label: str, markdown: bool = False,
               allow: tuple[str, ...] = ()) -> str:
    """Each stack's diff under its label, then one line per stack and a last line a script can test."""
    parts = []
    for r in results:
        since = new_label(base_label) if r.new else base_label
        title = f"Plan diff of stack {r.label}: {since} -> working tree"
        if r.diff is None:
            parts.append(f"Plan diff of stack {r.label} failed:\n{r.error}\n")
        else:
            parts.append(format_markdown(r.diff, title, allow=allow) if markdown else format_text(r.diff, title, allow))
    width = max((len(r.label) for r in results), default=0)
    table = [f"{r.label:<{width}}  {_all_line(r, allow)}" for r in results]
    changed = [r.label for r in results if r.diff is None or not r.diff.empty]
    blocking = sum(len(r.diff.blocking(allow)) for r in results if r.diff)
    last = (f"All {len(results)} stacks: No changes." if not changed
            else f"{len(changed)} of {len(results)} stacks change or failed: {', '.join(changed)}.")
    if blocking:
        last += f" {blocking} blocking replacement(s) or deletion(s)."
    fence = ["```"] if markdown else []
    return "\n".join([*parts, *fence, *table, *fence, last]) + "\n"


def new_label(base_label: str) -> str:
    """In place of the base's label for a stack the base has no stack file of."""
    return f"new stack, no stack file at {base_label}"


def _all_line(r: StackDiff, allow: tuple[str, ...]) -> str:
    if r.diff is None:
        return "render failed"
    blocking = len(r.diff.blocking(allow))
    return ("new stack: " if r.new else "") + summary(r.diff) + (f" BLOCKING: {blocking}." if blocking else "")


TRAILER = "Allow-Replace"
BLOCKED_EXIT = 3  # a guarded replacement or deletion not acknowledged (1: failure, 2: bad arguments)


def commit_allowances(repo: Path, base: str) -> tuple[str, ...]:
    """The `Allow-Replace:` trailers (comma- or space-separated patterns) of the commits between `base` and HEAD."""
    try:
        text = git(repo, "log", f"--format=%(trailers:key={TRAILER},valueonly,separator=%x2C)", f"{base}..HEAD")
    except subprocess.CalledProcessError:
        return ()
    return tuple(p for p in re.split(r"[,\s]+", text) if p)


def main(argv: list[str] | None = None, repo: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev",
                        help=f"a stack, or `{ALL}`: every root stack and every test stack ({TEST_STACKS_DIR})")
    parser.add_argument("--base", default=None, help="git ref to compare with (default: merge base with main)")
    parser.add_argument("--stacks", default=None,
                        help="folder of the Pulumi.<stack>.yaml files, relative to each tree (default: its root)")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--allow-replace", action="append", default=[], metavar="PATTERN",
                        help=f"acknowledge a guarded replacement or deletion (glob on the resource name, URN key or "
                             f"type; repeatable; commits between the base and HEAD can say `{TRAILER}: PATTERN`)")
    args = parser.parse_args(argv)
    base_label = args.base or default_base(repo)[1]
    base_ref = args.base or default_base(repo)[0]
    allow = tuple(p for a in args.allow_replace for p in re.split(r"[,\s]+", a) if p)
    allow += commit_allowances(repo, base_ref)
    try:
        if args.stack == ALL:
            results, commit = diff_all(base_ref, repo, args.stacks)
            print(format_all(results, f"{base_label} ({commit[:12]})", args.format == "markdown", allow), end="")
            if any(r.diff is None for r in results):
                return 1
            return BLOCKED_EXIT if any(r.diff.blocking(allow) for r in results if r.diff) else 0
        base_plan, head_plan, commit = render_pair(args.stack, args.base, repo, args.stacks)
    except (RuntimeError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", "") or str(err)
        print(f"make diff failed: {detail}", file=sys.stderr)
        return 1
    d = diff_plans(base_plan, head_plan)
    base_label = f"{base_label} ({commit[:12]})"
    if is_absent(base_plan):
        base_label = new_label(base_label)
    title = f"Plan diff of stack {args.stack}: {base_label} -> working tree"
    print(format_markdown(d, title, allow=allow) if args.format == "markdown" else format_text(d, title, allow), end="")
    return BLOCKED_EXIT if d.blocking(allow) else 0


if __name__ == "__main__":
    sys.exit(main())
