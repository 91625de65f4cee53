"""Edits of a rendered plan as plain data, for tests that break one thing in a real render (the policy pack's
mutation test, tests/policy/test_mutations.py, and its ECS tests). Each edit works on the plan it is given: pass
a deep copy of a session render, never the render itself."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from tools.render import Plan

TASK = "aws:ecs/taskDefinition:TaskDefinition"
ROLE, ROLE_POLICY = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def inputs(plan: Plan, rtype: str, name: str | None = None) -> dict[str, Any]:
    return plan.one(rtype, name)["inputs"]


def setp(d: dict[str, Any], *path_and_value: Any) -> None:
    *path, value = path_and_value
    for key in path[:-1]:
        d = d[key]
    d[path[-1]] = value


def drop(d: dict[str, Any], *path: str) -> None:
    for key in path[:-1]:
        d = d[key]
    d.pop(path[-1], None)


def edit_props(rtype: str, name: str | None, edit: Callable[[dict[str, Any]], Any]) -> Callable[[Plan], None]:
    return lambda plan: edit(inputs(plan, rtype, name))


def containers(edit: Callable[[list[dict[str, Any]]], Any]) -> Callable[[Plan], None]:
    """Edit the container definitions (a JSON string) of the plan's task definition."""
    def apply(plan: Plan) -> None:
        task = inputs(plan, TASK)
        defs = json.loads(task["containerDefinitions"])
        edit(defs)
        task["containerDefinitions"] = json.dumps(defs)
    return apply


def app(edit: Callable[[dict[str, Any]], Any]) -> Callable[[Plan], None]:
    """Edit the app container, the task definition's first."""
    return containers(lambda defs: edit(defs[0]))


def sidecar(**changes: Any) -> Callable[[Plan], None]:
    """Add a sidecar: a copy of the app container (hardened, logging, by digest) with `changes` (None drops)."""
    def add(defs: list[dict[str, Any]]) -> None:
        c = {**copy.deepcopy(defs[0]), "name": "collector", "portMappings": [], "mountPoints": []}
        c.update(changes)
        defs.append({k: v for k, v in c.items() if v is not None})
    return containers(add)


def document(rtype: str, name: str, edit: Callable[[dict[str, Any]], Any], key: str = "policy"
             ) -> Callable[[Plan], None]:
    """Edit an IAM document (a JSON string) of a resource."""
    def apply(plan: Plan) -> None:
        props = inputs(plan, rtype, name)
        doc = json.loads(props[key])
        edit(doc)
        props[key] = json.dumps(doc)
    return apply


def statement(sid: str, edit: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    return lambda doc: edit(next(s for s in doc["Statement"] if s.get("Sid") == sid))


def grant(actions: list[str] | str, resource: list[str] | str) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc["Statement"].append({"Effect": "Allow", "Action": actions, "Resource": resource})


def add_resource(plan: Plan, rtype: str, name: str, props: dict[str, Any], deps: dict[str, list[str]]) -> None:
    """A resource added to the plan, as the render records one (URN, id, property dependencies)."""
    prefix = plan.resources[0]["urn"].split("::")[0:2]
    urn = f"{'::'.join(prefix)}::{rtype}::{name}"
    plan.resources.append({"type": rtype, "name": name, "urn": urn, "id": f"{name}-id", "custom": True,
                           "parent": None, "provider": None, "dependencies": sorted({u for v in deps.values()
                                                                                     for u in v}),
                           "propertyDependencies": deps, "options": {}, "inputs": props, "state": {}})


def attach(role: str, policy_arn: str) -> Callable[[Plan], None]:
    """Attach a managed policy to a role of the plan, as a RolePolicyAttachment does."""
    def apply(plan: Plan) -> None:
        r = plan.one(ROLE, role)
        add_resource(plan, ATTACHMENT, f"{role}-extra", {"role": r["id"], "policyArn": policy_arn},
                     {"role": [r["urn"]]})
    return apply


def role_policy(role: str, *statements: dict[str, Any]) -> Callable[[Plan], None]:
    """Add a RolePolicy to a role of the plan."""
    def apply(plan: Plan) -> None:
        r = plan.one(ROLE, role)
        doc = {"Version": "2012-10-17", "Statement": list(statements)}
        add_resource(plan, ROLE_POLICY, f"{role}-extra", {"role": r["id"], "policy": json.dumps(doc)},
                     {"role": [r["urn"]]})
    return apply


def allow(actions: list[str] | str, resource: list[str] | str) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}
