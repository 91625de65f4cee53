"""The ECS renders against third-party checks: botocore's API models (ECS RegisterTaskDefinition and CreateService,
Application Auto Scaling, Scheduler), parliament on every IAM document, the CrossGuard policy pack, the diagram;
and the destroy order around EFS. The three renders of tests/ecs/test_ecs.py and the sidecar one (cached per
session)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pulumi_policy import ResourceValidationArgs, StackValidationArgs, StackValidationPolicy
from pulumi_policy.proxy import unknown_checking_proxy

from policy.validators import POLICIES
from tests.support import ecs_api
from tests.support.iam_lint import unexpected_findings
from tests.support.pack import stack_resource
from tools.render import Plan
from tools.render.artifacts import iam_documents
from tools.review.diagram import build_graph, to_mermaid

STACKS = ("ecs", "ecs-spot", "ecs-ec2", "ecs-sidecars")


@pytest.fixture(scope="session", params=STACKS)
def plan(request: pytest.FixtureRequest, variant: Any) -> Plan:
    return variant(request.param)


# --- botocore API models ------------------------------------------------------------------------------------
def test_task_definition_passes_register_task_definition(plan: Plan) -> None:
    params = ecs_api.register_task_definition_params(plan.one("aws:ecs/taskDefinition:TaskDefinition")["inputs"])
    assert params["containerDefinitions"][0]["readonlyRootFilesystem"] is True, "the mapping parsed the JSON"
    assert ecs_api.validate("RegisterTaskDefinition", params) == []


def test_service_passes_create_service(plan: Plan) -> None:
    params = ecs_api.create_service_params(plan.one("aws:ecs/service:Service")["inputs"])
    assert params["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert ecs_api.validate("CreateService", params) == []


def test_auto_scaling_passes_the_application_auto_scaling_model(plan: Plan) -> None:
    checked = 0
    for r in plan.of_type("aws:appautoscaling/target:Target"):
        assert ecs_api.validate("application-autoscaling:RegisterScalableTarget",
                                ecs_api.register_scalable_target_params(r["inputs"])) == []
        checked += 1
    for r in plan.of_type("aws:appautoscaling/policy:Policy"):
        assert ecs_api.validate("application-autoscaling:PutScalingPolicy",
                                ecs_api.put_scaling_policy_params(r["inputs"])) == [], r["name"]
        checked += 1
    for r in plan.of_type("aws:appautoscaling/scheduledAction:ScheduledAction"):
        assert ecs_api.validate("application-autoscaling:PutScheduledAction",
                                ecs_api.put_scheduled_action_params(r["inputs"])) == [], r["name"]
        checked += 1
    assert checked >= 2


def test_schedule_passes_create_schedule(spot: Plan) -> None:
    (schedule,) = spot.of_type("aws:scheduler/schedule:Schedule")
    params = ecs_api.create_schedule_params(schedule["inputs"], autoname="job-schedule-1234567")
    assert ecs_api.validate("scheduler:CreateSchedule", params) == []


def test_the_model_catches_a_broken_task_definition(fargate: Plan) -> None:
    inputs = copy.deepcopy(fargate.one("aws:ecs/taskDefinition:TaskDefinition")["inputs"])
    containers = json.loads(inputs["containerDefinitions"])
    containers[0]["readOnlyRootFilesystem"] = True  # misspelt member
    inputs["containerDefinitions"] = json.dumps(containers)
    inputs["networkMode"] = "vpc"  # not an enum value
    problems = ecs_api.validate("RegisterTaskDefinition", ecs_api.register_task_definition_params(inputs))
    assert any("readOnlyRootFilesystem" in p for p in problems) and any("networkMode" in p for p in problems)


# --- parliament -------------------------------------------------------------------------------------------------
def test_every_iam_document_passes_parliament(plan: Plan) -> None:
    docs = iam_documents(plan)
    expected = {"app-execution-trust", "app-execution-policy", "app-task-trust"}
    assert expected <= set(docs)
    unexpected = [message for name, doc in docs.items() for message in unexpected_findings(name, doc)]
    assert unexpected == []


# --- the policy pack ----------------------------------------------------------------------------------------------
def _check(policy: Any, r: dict[str, Any]) -> list[str]:
    found: list[str] = []
    args = ResourceValidationArgs(r["type"], unknown_checking_proxy(copy.deepcopy(r["inputs"])), r["urn"], r["name"],
                                  opts=None, provider=None)  # type: ignore[arg-type]
    policy.validate(args, lambda message, urn=None: found.append(f"{r['type']} {r['name']}: {message}"))
    return found


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_ecs_renders_pass_every_policy(request: pytest.FixtureRequest, policy: Any) -> None:
    for stack in STACKS:
        plan: Plan = request.getfixturevalue("variant")(stack)
        if isinstance(policy, StackValidationPolicy):
            found: list[str] = []
            policy.validate(StackValidationArgs([stack_resource(r) for r in plan.resources]),
                            lambda message, urn=None, found=found: found.append(message))
        else:
            found = [m for r in plan.resources for m in _check(policy, r)]
        assert found == [], stack


# --- destroy order with EFS -----------------------------------------------------------------------------------------
def test_efs_is_wired_into_the_task_and_outlives_the_service(spot: Plan) -> None:
    service = spot.one("aws:ecs/service:Service")["urn"]
    mounts = spot.of_type("aws:efs/mountTarget:MountTarget")
    assert len(mounts) == 3, "one mount target per private subnet (3 AZs)"
    for m in mounts:
        assert spot.depends_on(service, m["urn"]), "EFS mount targets are deleted after the service"
    task = spot.one("aws:ecs/taskDefinition:TaskDefinition")["inputs"]
    (efs_volume,) = [v for v in task["volumes"] if "efsVolumeConfiguration" in v]
    config = efs_volume["efsVolumeConfiguration"]
    assert config["transitEncryption"] == "ENABLED" and config["authorizationConfig"]["iam"] == "ENABLED"
    assert config["fileSystemId"] == spot.one("aws:efs/fileSystem:FileSystem")["id"]
    assert config["authorizationConfig"]["accessPointId"] == spot.one("aws:efs/accessPoint:AccessPoint")["id"]
    (container,) = json.loads(task["containerDefinitions"])
    assert {"sourceVolume": efs_volume["name"], "containerPath": "/srv/shared", "readOnly": False} in container[
        "mountPoints"]
    policy = json.loads(spot.one("aws:iam/rolePolicy:RolePolicy", "app-task-efs")["inputs"]["policy"])
    assert policy["Statement"][0]["Resource"] == spot.one("aws:efs/fileSystem:FileSystem")["state"]["arn"]
    task_sg = spot.one("aws:ec2/securityGroup:SecurityGroup", "web-tasks")["id"]
    nfs = [r["inputs"] for r in spot.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
           if r["inputs"].get("fromPort") == 2049]
    assert nfs and all(r["referencedSecurityGroupId"] == task_sg for r in nfs), "NFS only from the task group"
    fs = spot.one("aws:efs/fileSystem:FileSystem")
    assert fs["inputs"]["lifecyclePolicies"] == [{"transitionToIa": "AFTER_30_DAYS"}]
    assert fs["options"]["protect"] is True
    ap = spot.one("aws:efs/accessPoint:AccessPoint")["inputs"]
    assert ap["posixUser"] == {"uid": 101, "gid": 101}


def test_no_efs_when_off(fargate: Plan) -> None:
    assert not [r for r in fargate.resources if r["type"].startswith("aws:efs/")]
    task = fargate.one("aws:ecs/taskDefinition:TaskDefinition")["inputs"]
    assert task["volumes"] == [{"name": "tmp"}]
    assert not [r for r in fargate.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
                if r["inputs"].get("fromPort") == 2049]


def test_scheduled_task_runs_this_task_definition(spot: Plan, fargate: Plan) -> None:
    """The spot stack's scheduled job: what reaches ECS RunTask (botocore's model) is this task definition in this
    cluster, the stack's strategy, no public IP, and the configured command as a container override."""
    (schedule,) = spot.of_type("aws:scheduler/schedule:Schedule")
    target = schedule["inputs"]["target"]
    assert target["arn"] == "arn:aws:scheduler:::aws-sdk:ecs:runTask"
    operation, params, casing = ecs_api.universal_target_request(target)
    assert (operation, casing) == ("ecs:RunTask", [])
    assert ecs_api.validate(operation, params) == []
    assert params["cluster"] == spot.one("aws:ecs/cluster:Cluster")["state"]["arn"]
    assert params["taskDefinition"] == spot.one("aws:ecs/taskDefinition:TaskDefinition")["state"]["arn"]
    vpc = params["networkConfiguration"]["awsvpcConfiguration"]
    assert vpc["securityGroups"] == [spot.one("aws:ec2/securityGroup:SecurityGroup", "web-tasks")["id"]]
    assert vpc["assignPublicIp"] == "DISABLED"
    assert [(s["capacityProvider"], s["weight"], s["base"]) for s in params["capacityProviderStrategy"]] == [
        ("FARGATE", 1, 2), ("FARGATE_SPOT", 3, 0)]
    assert params["overrides"]["containerOverrides"] == [
        {"name": "webapp", "command": ["/bin/sh", "-c", "find /srv/shared -mtime +30 -delete"]}]
    assert schedule["inputs"]["scheduleExpression"] == "cron(30 2 * * ? *)"
    assert schedule["inputs"]["scheduleExpressionTimezone"] == "Europe/Dublin"
    assert not fargate.of_type("aws:scheduler/schedule:Schedule")


# --- the diagram ---------------------------------------------------------------------------------------------------
def test_diagram_draws_the_ecs_runtime(plan: Plan) -> None:
    mermaid = to_mermaid(build_graph(plan))
    assert f'ecs_cluster["ECS cluster webstack-{plan.stack}"]' in mermaid
    assert "app_service -->|loadBalancers| web_tg" in mermaid and "app_service -->|taskDefinition|" in mermaid
    assert "EKS" not in mermaid and "Helm" not in mermaid and "Ingress" not in mermaid
    assert ("EC2 Auto Scaling group" in mermaid) == (plan.stack == "ecs-ec2")
    assert ("EFS file system" in mermaid) == (plan.stack == "ecs-spot")
