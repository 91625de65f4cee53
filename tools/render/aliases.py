"""URNs and aliases the way the Pulumi engine computes them, on plain data.

Under the SDK's mocks the monitor reports the `aliasSpecs` feature, so a RegisterResource request carries each alias
as a spec (name, type, parent, stack, project) or a full URN, and turning specs into URNs is the engine's job. These
functions follow the engine (pulumi/pulumi):
- `engine_urn`: pkg/resource/deploy/deployment.go `generateURN` (the root stack adds no type; a parent adds its whole
  qualified type, not only its last one as the SDK's MockMonitor.make_urn does);
- `create_urn`: sdk/go/common/resource/alias.go `CreateURN`;
- `collapse`, `inherited`, `resolve`: pkg/resource/deploy/step_generator.go `collapseAliasToUrn`,
  `inheritedChildAlias` and `generateAliases` (a child of an aliased parent gets the parent's alias with its own
  type and name, the parent's old name swapped in where the child's name starts with the parent's).

One difference, because a render has no old state: the engine gives a child only the alias its parent actually
matched in the old state (`stepGenerator.aliases`); here a child inherits every alias of its parent, as the Python
SDK's `all_aliases` does for engines without alias specs (pulumi/runtime/resource.py). `make diff` matches them
against the base render, first match wins, as the engine does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class Spec:
    """One alias as the request carries it: a full `urn`, or a spec whose empty fields mean "as the resource"."""

    urn: str = ""
    name: str = ""
    type: str = ""
    stack: str = ""
    project: str = ""
    parent: str = ""
    no_parent: bool = False


def qualified_type(urn: str) -> str:
    return urn.split("::")[2]


def urn_type(urn: str) -> str:
    return qualified_type(urn).split("$")[-1]


def urn_name(urn: str) -> str:
    return urn.split("::", 3)[3]


def stack_and_project(urn: str) -> tuple[str, str]:
    head = urn.split("::")
    return head[0][len("urn:pulumi:"):], head[1]


def engine_urn(parent: str, type_: str, name: str, project: str, stack: str) -> str:
    """The URN the engine gives a registration (`generateURN`)."""
    if parent and urn_type(parent) != ROOT_STACK_TYPE:
        type_ = f"{qualified_type(parent)}${type_}"
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def create_urn(name: str, type_: str, parent: str, project: str, stack: str) -> str:
    """`CreateURN`: under `parent` (its URN without the name, plus `$`), or at the top of stack and project."""
    prefix = parent[: parent.rindex("::")] + "$" if parent else f"urn:pulumi:{stack}::{project}::"
    return prefix + type_ + "::" + name


def collapse(spec: Spec, type_: str, name: str, parent: str, project: str, stack: str,
             aliases_of: Callable[[str], list[str]]) -> list[str]:
    """The URNs one alias stands for (`collapseAliasToUrn`). An explicit parent that was itself aliased stands for
    its old URNs too (the engine takes the one it matched)."""
    if spec.urn:
        return [spec.urn]
    if spec.no_parent:
        parents = [""]
    elif spec.parent:
        parents = [spec.parent, *aliases_of(spec.parent)]
    else:
        parents = [parent]
    parents = ["" if p and qualified_type(p) == ROOT_STACK_TYPE else p for p in parents]
    return [create_urn(spec.name or name, spec.type or type_, p, spec.project or project, spec.stack or stack)
            for p in parents]


def inherited(child_type: str, child_name: str, parent_name: str, parent_alias: str, project: str,
              stack: str) -> str:
    """`inheritedChildAlias`: the child under its parent's old URN, `newparent-x` renamed `oldparent-x`."""
    name = child_name
    if child_name.startswith(parent_name):
        name = urn_name(parent_alias) + child_name[len(parent_name):]
    return f"urn:pulumi:{stack}::{project}::{qualified_type(parent_alias)}${child_type}::{name}"


def resolve(urn: str, type_: str, name: str, parent: str, specs: Iterable[Spec],
            aliases_of: Callable[[str], list[str]]) -> list[str]:
    """Every old URN the registration `urn` may claim (`generateAliases`), in the engine's order: its own aliases,
    then for each alias of its parent the inherited one and the inherited form of each own alias."""
    stack, project = stack_and_project(urn)
    found: list[str] = []

    def add(candidate: str) -> None:
        if candidate != urn and candidate not in found:
            found.append(candidate)

    own = [u for spec in specs for u in collapse(spec, type_, name, parent, project, stack, aliases_of)]
    for candidate in own:
        add(candidate)
    if parent:
        parent_name = urn_name(parent)
        for parent_alias in aliases_of(parent):
            add(inherited(type_, name, parent_name, parent_alias, project, stack))
            for alias in own:
                add(inherited(urn_type(alias), urn_name(alias), parent_name, parent_alias, project, stack))
    return found


def specs_of_request(request: Any) -> list[Spec]:
    """The aliases of a RegisterResourceRequest: `aliases` (specs or URNs) and the older `aliasURNs` (URNs the SDK
    resolved itself, sent when the monitor lacks the `aliasSpecs` feature)."""
    out = [Spec(urn=u) for u in request.aliasURNs]
    for alias in request.aliases:
        if alias.WhichOneof("alias") == "urn":
            out.append(Spec(urn=alias.urn))
            continue
        s = alias.spec
        out.append(Spec(name=s.name, type=s.type, stack=s.stack, project=s.project, parent=s.parentUrn,
                        no_parent=s.noParent))
    return out


def spec_of_option(alias: Any) -> Spec | None:
    """A `pulumi.Alias` (or URN string) from a transform's options, with plain values only (`...` = as the resource,
    `parent=None` = no parent); None when a field is not plain (an Output or a Resource)."""
    if isinstance(alias, str):
        return Spec(urn=alias)
    fields: dict[str, Any] = {}
    for key, attr in (("name", "name"), ("type", "type_"), ("stack", "stack"), ("project", "project"),
                      ("parent", "parent")):
        value = getattr(alias, attr, ...)
        if value is ... or value is None:
            continue
        if not isinstance(value, str):
            return None
        fields[key] = value
    return Spec(no_parent=getattr(alias, "parent", ...) is None, **fields)
