"""The ECS runtime over time (issue 16): what a later `pulumi up`, an operator's documented step or a replacement
does on a real account, asserted on the renders (test stacks, cached per session) and on the documented commands
checked against botocore's ECS model. Each test names what only a real account can prove."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from typing import Any

import pytest

from infra.config.ecs import FARGATE_SIZES
from infra.ecs.capacity import provider_name
from infra.ecs.task import EC2_AGENT_EXEC_MOUNTS, EXEC_VOLUMES
from tests.support import ecs_api
from tests.support.day2 import diff_actions, what_up_does
from tools.render import ROOT, Plan

TASKDEF = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()


def section(title: str) -> str:
    return OPERATIONS.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def containers(plan: Plan) -> list[dict[str, Any]]:
    return json.loads(plan.one(TASKDEF)["inputs"]["containerDefinitions"])


# --- finding 6: back from EC2 to Fargate ------------------------------------------------------------------------
# Fargate's task definition rules (RegisterTaskDefinition with FARGATE compatibility; ECS developer guide, "Amazon
# ECS task definition differences for Fargate"): awsvpc, task-level cpu/memory of a Fargate size, no host paths,
# no Docker volumes, no placement constraints; linuxParameters without devices, tmpfs or sharedMemorySize, and
# SYS_PTRACE as the only added capability.
FARGATE_LINUX_PARAMETERS = frozenset({"capabilities", "initProcessEnabled"})


def fargate_problems(task: dict[str, Any]) -> list[str]:
    """Why the task definition `task` (Pulumi inputs) cannot run on Fargate (empty when it can)."""
    problems = []
    if task.get("networkMode") != "awsvpc":
        problems.append(f"networkMode {task.get('networkMode')!r}")
    cpu, memory = int(task.get("cpu") or 0), int(task.get("memory") or 0)
    if memory not in FARGATE_SIZES.get(cpu, ()):
        problems.append(f"cpu/memory {cpu}/{memory} is not a Fargate size")
    if task.get("placementConstraints"):
        problems.append("placementConstraints")
    for v in task.get("volumes") or []:
        if v.get("hostPath") or v.get("dockerVolumeConfiguration"):
            problems.append(f"volume {v['name']}: host path or Docker volume")
    for c in json.loads(task["containerDefinitions"]):
        linux = c.get("linuxParameters") or {}
        if set(linux) - FARGATE_LINUX_PARAMETERS:
            problems.append(f"{c['name']}: linuxParameters {sorted(set(linux) - FARGATE_LINUX_PARAMETERS)}")
        if set((linux.get("capabilities") or {}).get("add") or []) - {"SYS_PTRACE"}:
            problems.append(f"{c['name']}: added capabilities")
    return problems


def test_the_ec2_task_definition_can_also_run_on_fargate(ec2: Plan, fargate: Plan, variant: Callable[..., Plan]
                                                         ) -> None:
    """ECS refuses `update-service --capacity-provider-strategy FARGATE` for a task definition that does not
    declare FARGATE ("Task definition does not support launch_type FARGATE"): with ecsEc2FargateCompatible the EC2
    task declares both, and it is a valid Fargate task (without Docker's no-new-privileges, which Fargate refuses).
    By default an EC2 task is EC2-only and keeps no-new-privileges."""
    assert ec2.one(TASKDEF)["inputs"]["requiresCompatibilities"] == ["EC2"]
    task = variant("ecs-ec2", ecsEc2FargateCompatible=True).one(TASKDEF)["inputs"]
    assert sorted(task["requiresCompatibilities"]) == ["EC2", "FARGATE"]
    assert all("dockerSecurityOptions" not in c for c in json.loads(task["containerDefinitions"]))
    assert fargate_problems(task) == []
    assert ecs_api.validate("RegisterTaskDefinition", ecs_api.register_task_definition_params(task)) == []
    assert fargate.one(TASKDEF)["inputs"]["requiresCompatibilities"] == ["FARGATE"]


def test_the_fargate_check_catches_what_fargate_refuses(ec2: Plan) -> None:
    task = dict(ec2.one(TASKDEF)["inputs"], networkMode="bridge", memory="4096",
                volumes=[{"name": "host", "hostPath": "/var/run/docker.sock"}])
    found = fargate_problems(task)
    assert any("networkMode" in p for p in found) and any("not a Fargate size" in p for p in found)
    assert any("host path" in p for p in found)


def cli_update_service(command: str) -> dict[str, Any]:
    """The UpdateService request an `aws ecs update-service ...` command line makes (the options the docs use)."""
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:3] == ["aws", "ecs", "update-service"], words[:3]
    params: dict[str, Any] = {}
    i = 3
    while i < len(words):
        option = words[i]
        if option == "--force-new-deployment":
            params["forceNewDeployment"] = True
            i += 1
            continue
        value = words[i + 1]
        if option == "--capacity-provider-strategy":
            item = dict(kv.split("=", 1) for kv in value.split(","))
            params["capacityProviderStrategy"] = [
                {k: int(v) if k in ("weight", "base") and v.isdigit() else v for k, v in item.items()}]
        elif option in ("--placement-strategy", "--placement-constraints"):
            params[{"--placement-strategy": "placementStrategy",
                    "--placement-constraints": "placementConstraints"}[option]] = json.loads(value)
        else:
            params[{"--cluster": "cluster", "--service": "service",
                    "--platform-version": "platformVersion"}[option]] = value
        i += 2
    return params


def test_the_documented_move_to_fargate_is_a_valid_update_service(fargate: Plan) -> None:
    """The manual step of "Changing `ecsCapacity` from `ec2` to `fargate`": a FARGATE strategy, a new deployment,
    the EC2 placement cleared (ECS refuses placement strategies with Fargate) and the pinned platform version."""
    text = section("Changing `ecsCapacity` from `ec2` to `fargate`")
    (command,) = re.findall(r"aws ecs update-service[^`]*", text)
    params = cli_update_service(command)
    assert ecs_api.validate("UpdateService", params) == []
    assert params["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE", "weight": 1, "base": 1}]
    assert params["forceNewDeployment"] is True
    assert params["placementStrategy"] == [] and params["placementConstraints"] == []
    assert params["platformVersion"] == fargate.one(SERVICE)["inputs"]["platformVersion"]
    assert text.index("aws ecs update-service") < text.index("aws ecs wait services-stable") < text.index(
        "webstack:ecsCapacity fargate")


def test_the_cli_mapping_reports_what_the_model_refuses() -> None:
    params = cli_update_service("aws ecs update-service --cluster c --service s "
                                "--capacity-provider-strategy capacityProvider=FARGATE,weight=x")
    assert any("weight" in p for p in ecs_api.validate("UpdateService", params))


# --- finding 7: ECS Exec mounts per capacity ----------------------------------------------------------------------
@pytest.mark.parametrize(("stack", "overrides"), [("ecs-ec2", {"ecsExec": True}), ("ecs-spot", {})])
def test_exec_volumes_never_collide_with_what_the_agent_mounts(stack: str, overrides: dict[str, Any],
                                                               variant: Any) -> None:
    """EC2: the ECS agent bind-mounts /var/log/amazon/ssm for ECS Exec itself; a task volume at the same path gives
    Docker two mounts at one destination and the container never starts. Fargate gets all three writable paths.
    (ecs-spot has ECS Exec on already.) Only a real container instance proves the agent's mounts."""
    plan = variant(stack, **overrides)
    assert plan.one(SERVICE)["inputs"]["enableExecuteCommand"] is True
    (app,) = containers(plan)
    paths = [m["containerPath"] for m in app["mountPoints"]]
    assert len(paths) == len(set(paths)), "one mount per destination"
    runs_on = "EC2" if stack == "ecs-ec2" else "FARGATE"
    exec_paths = {p for _, p in EXEC_VOLUMES[runs_on]}
    assert exec_paths <= set(paths) and "/var/lib/amazon/ssm" in exec_paths
    if runs_on == "EC2":
        assert not set(EC2_AGENT_EXEC_MOUNTS) & set(paths)
    else:
        assert {"/managed-agents", "/var/log/amazon/ssm"} <= set(paths)
    volumes = {v["name"] for v in plan.one(TASKDEF)["inputs"]["volumes"]}
    assert {m["sourceVolume"] for m in app["mountPoints"]} == volumes, "every volume mounted, every mount declared"


# --- finding 12: NAT egress before anything boots in the private subnets ---------------------------------------
def test_instances_and_tasks_start_only_once_the_private_subnets_have_nat_egress(ec2: Plan, fargate: Plan) -> None:
    """An EC2 container instance booting before its subnet's default route through NAT cannot reach the ECS
    endpoint and never registers (the EKS node group waits for the same routes); tasks could not pull from ECR.
    Destroy deletes the group and the service before the routes. Boot timing itself is only provable on AWS."""
    for plan in (ec2, fargate):
        routes = [r["urn"] for r in plan.of_type("aws:ec2/route:Route")
                  if r["inputs"].get("natGatewayId") and r["inputs"].get("destinationCidrBlock") == "0.0.0.0/0"]
        assert routes, "the premise: private default routes through NAT"
        users = [*(g["urn"] for g in plan.of_type("aws:autoscaling/group:Group")), plan.one(SERVICE)["urn"]]
        for urn in users:
            for route in routes:
                assert plan.depends_on(urn, route), (urn, route)
    assert ec2.of_type("aws:autoscaling/group:Group"), "the EC2 stack has its group"


# --- finding 9: the capacity provider's name follows its Auto Scaling group ----------------------------------------
PROVIDER = "aws:ecs/capacityProvider:CapacityProvider"
ASG = "aws:autoscaling/group:Group"


def test_a_new_auto_scaling_group_gets_a_provider_of_a_new_name(ec2: Plan) -> None:
    """A provider is replaced with its group (the group ARN forces it) and Pulumi creates the new one first: under a
    fixed name that create fails ("already exists", terraform-provider-aws #14393, #11358). The name is the
    cluster's plus a digest of the group's ARN, so a new group means a new provider name; what names the provider
    (the association, the service's strategy) takes the provider's output and follows. That ECS then accepts the
    swap needs the service off the old provider first (docs/operations.md): only provable on AWS."""
    provider, group = ec2.one(PROVIDER), ec2.one(ASG)
    name = provider["inputs"]["name"]
    assert name == provider_name("webstack-ecs-ec2", group["state"]["arn"])
    assert provider_name("webstack-ecs-ec2", group["state"]["arn"] + "-replaced") != name
    assert group["urn"] in provider["propertyDependencies"]["name"], "the name is computed from the group"
    service = ec2.one(SERVICE)
    assert service["inputs"]["capacityProviderStrategies"] == [{"capacityProvider": name, "weight": 1, "base": 0}]
    assert provider["urn"] in service["propertyDependencies"]["capacityProviderStrategies"]
    association = ec2.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert provider["urn"] in association["propertyDependencies"]["defaultCapacityProviderStrategies"]


def test_a_deployed_stack_keeps_its_provider(variant: Any) -> None:
    """A stack deployed with the fixed name keeps it with ecsEc2CapacityProviderName (renaming would replace the
    provider on the same group, which ECS refuses)."""
    kept = variant("ecs-ec2", ecsEc2CapacityProviderName="webstack-ecs-ec2-ec2")
    assert kept.one(PROVIDER)["inputs"]["name"] == "webstack-ecs-ec2-ec2"
    assert kept.one(SERVICE)["inputs"]["capacityProviderStrategies"][0]["capacityProvider"] == "webstack-ecs-ec2-ec2"
    text = section("The EC2 capacity provider and its Auto Scaling group")
    assert "pulumi config set webstack:ecsEc2CapacityProviderName <cluster>-ec2" in text
    assert "Move the service to Fargate first" in text


def test_a_schedule_on_ec2_capacity_runs_on_the_stacks_provider(variant: Any) -> None:
    """The EC2 stack (GovCloud) with a scheduled job: the universal target is the partition's, RunTask's strategy
    names the EC2 provider by its output (new with each group), no platform version goes with EC2 capacity (ECS:
    "The platform version must be null when specifying an EC2 launch type")."""
    plan = variant("ecs-ec2", ecsScheduledTaskSchedule="rate(1 day)", ecsScheduledTaskCommand=["/bin/true"])
    target = plan.one("aws:scheduler/schedule:Schedule")["inputs"]["target"]
    assert target["arn"] == "arn:aws-us-gov:scheduler:::aws-sdk:ecs:runTask"
    operation, params, casing = ecs_api.universal_target_request(target)
    assert casing == [] and ecs_api.validate(operation, params) == []
    assert params["capacityProviderStrategy"] == [
        {"capacityProvider": plan.one(PROVIDER)["inputs"]["name"], "weight": 1, "base": 0}]
    assert "platformVersion" not in params
    assert params["overrides"]["containerOverrides"] == [{"name": "webapp", "command": ["/bin/true"]}]


def test_day2_capacity_switch_to_fargate_deletes_the_ec2_capacity_and_blocks_on_its_provider(
        ec2: Plan, variant: Callable[..., Plan]) -> None:
    """Step 2 of docs/operations.md's move from EC2 to Fargate, as `make diff` labels it: ecsCapacity fargate, the
    ecsEc2* keys removed, the lock holding the Fargate platform version instead of the ECS AMIs."""
    ec2_keys = ("ecsEc2InstanceType", "ecsEc2MinSize", "ecsEc2MaxSize", "ecsEc2DiskSizeGb",
                "ecsEc2TargetCapacityPercent")
    fargate = variant("ecs-ec2", ecsCapacity="fargate", **dict.fromkeys(ec2_keys),
                      lock={"ecsAmis": None, "fargatePlatformVersion": "1.4.0"})
    found = what_up_does(ec2, fargate)
    assert found == {**{k: set() for k in found},
                     # the association drops the EC2 provider; the service takes the Fargate task definition
                     "update": {"ClusterCapacityProviders/ecs-capacity-providers", "Service/app-service"},
                     "replace": {"TaskDefinition/app-taskdef"},  # a new revision (requiresCompatibilities FARGATE)
                     "removed": {"CapacityProvider/ecs-ec2-provider", "Ec2Capacity/ecs-ec2", "Group/ecs-ec2-asg",
                                 "LaunchTemplate/ecs-ec2-lt", "InstanceProfile/ecs-ec2-instance",
                                 "Role/ecs-ec2-instance", "RolePolicyAttachment/ecs-ec2-instance-ecs",
                                 "SecurityGroup/ecs-ec2-instances",
                                 "SecurityGroupEgressRule/ecs-ec2-instances-https"},
                     "blocking": {"CapacityProvider/ecs-ec2-provider"}}  # acknowledged in the commit (Allow-Replace)
    assert diff_actions(ec2, fargate)["TaskDefinition/app-taskdef"].reasons == (
        "containerDefinitions", "requiresCompatibilities")
