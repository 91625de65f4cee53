"""The policy pack's test harness: validators get the same argument objects and props proxies as under
`pulumi preview --policy-pack policy` (ResourceValidationArgs / StackValidationArgs, props wrapped by pulumi-policy's
unknown-checking proxy). A stack policy sees outputs; here each resource's props are its rendered inputs plus
{"id": <its id>}. `check_plan` runs one policy on a whole plan the way `make policy` does (the property
dependencies the render captured included)."""

from __future__ import annotations

import copy
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policy.validators import POLICIES
from tools.render import Plan
from tools.review import policy_report

BY_NAME: dict[str, Any] = {p.name: p for p in POLICIES}


RESOURCE_POLICIES = [p for p in POLICIES if isinstance(p, ResourceValidationPolicy)]


STACK_POLICIES = [p for p in POLICIES if isinstance(p, StackValidationPolicy)]


# --- harness --------------------------------------------------------------------------------------------
def check_resource(policy: ResourceValidationPolicy, rtype: str, props: dict[str, Any], urn: str = "",
                   name: str = "r") -> list[str]:
    messages: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        messages.append(message)

    args = ResourceValidationArgs(rtype, unknown_checking_proxy(copy.deepcopy(props)), urn, name,
                                  opts=None, provider=None)  # type: ignore[arg-type]  # neither is used
    policy.validate(args, report)
    return messages


def stack_resource(r: dict[str, Any], props: dict[str, Any] | None = None,
                   deps: dict[str, list[PolicyResource]] | None = None) -> PolicyResource:
    """A plan resource as a stack policy sees it: props = inputs + {"id": id} (the outputs we can render)."""
    if props is None:
        props = {**copy.deepcopy(r["inputs"]), **({"id": r["id"]} if r["id"] else {})}
    return PolicyResource(r["type"], unknown_checking_proxy(props), r["urn"], r["name"], opts=None,  # type: ignore[arg-type]
                          provider=None, parent=None, dependencies=[], property_dependencies=deps or {})


def check_stack(policy: StackValidationPolicy, resources: list[PolicyResource]) -> list[tuple[str, str | None]]:
    reported: list[tuple[str, str | None]] = []
    policy.validate(StackValidationArgs(resources), lambda message, urn=None: reported.append((message, urn)))
    return reported



def check_plan(policy: ResourceValidationPolicy | StackValidationPolicy, plan: Plan) -> list[tuple[str, str]]:
    """(resource name, message) of every violation `policy` reports on `plan`, run as `make policy` runs it: a
    resource policy on each resource's inputs, a stack policy on every resource's inputs plus id, linked by the
    property dependencies the render captured. A policy that cannot run (a value unknown) counts as reporting."""
    report = policy_report.check(plan, [policy])
    return [(r.resource_name, r.message) for r in report.violations]


def renamed(resources: list[dict[str, Any]], stack: str) -> list[dict[str, Any]]:
    """The plan's resources as if rendered for stack `stack` (stack policies read the stack name from the URNs)."""
    out = copy.deepcopy(resources)
    for r in out:
        r["urn"] = r["urn"].replace(r["urn"].split("::")[0], f"urn:pulumi:{stack}", 1)
    return out
