"""ECS config keys (infra/config/ecs.py) and the runtime key: each bad value refused by key with what is allowed,
the cross-key rules (Fargate sizes, EC2 architecture, production guards), all at once, before any
resource is declared. No render: load_config only."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.config import ConfigError, load_config
from infra.config.ecs import FARGATE_SIZES, PLATFORM_VERSIONS, cron_problem, ecs_cluster_name

ECS = {"runtime": "ecs", "zoneName": "example.com", "hostname": "app.example.com"}


def load(stack: str = "dev", **raw: Any) -> Any:
    return load_config({**ECS, **raw}, project="webstack", stack=stack, region="us-east-1")


def problems(stack: str = "dev", **raw: Any) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load(stack, **raw)
    return err.value.problems


def test_ecs_defaults_need_no_eks_settings() -> None:
    cfg = load()
    assert cfg.runtime == "ecs"
    e = cfg.ecs
    # ecsPlatformVersion only pins: unset, every launch takes the lock's version (infra/config/lock.py)
    assert (e.capacity, e.task_cpu, e.task_memory, e.platform_version) == ("fargate", 256, 512, "")
    assert (e.fargate_base, e.fargate_weight, e.fargate_spot_weight, e.spot) == (1, 1, 0, False)
    assert (e.min_tasks, e.max_tasks, e.scale_on_cpu_percent, e.log_retention_days) == (2, 6, 70, 90)
    assert ecs_cluster_name(cfg) == "webstack-dev"
    assert ecs_cluster_name(load(ecsClusterName="shop")) == "shop"


def test_runtime_defaults_to_eks_which_still_needs_its_allow_list() -> None:
    raw = {"zoneName": "example.com", "hostname": "app.example.com"}
    with pytest.raises(ConfigError) as err:
        load_config(raw, project="webstack", stack="dev", region="us-east-1")
    assert any(p.startswith("webstack:publicAccessCidrs/endpointPublicAccess") for p in err.value.problems)
    assert load_config({**raw, "publicAccessCidrs": ["203.0.113.0/24"]}, project="webstack", stack="dev",
                       region="us-east-1").runtime == "eks"


def test_unknown_runtime() -> None:
    assert "webstack:runtime = 'k8s': allowed: eks, ecs" in problems(runtime="k8s")


@pytest.mark.parametrize(("cpu", "memory"), [(c, m) for c, ms in FARGATE_SIZES.items() for m in (ms[0], ms[-1])])
def test_every_fargate_size_edge_is_accepted(cpu: int, memory: int) -> None:
    assert load(ecsTaskCpu=cpu, ecsTaskMemory=memory).ecs.task_memory == memory


@pytest.mark.parametrize(("raw", "expect"), [
    ({"ecsTaskCpu": 300}, "webstack:ecsTaskCpu = 300: allowed: 256, 512"),
    ({"ecsTaskCpu": 256, "ecsTaskMemory": 4096}, "webstack:ecsTaskCpu/ecsTaskMemory = 256/4096: not a Fargate size"),
    ({"ecsTaskCpu": 1024, "ecsTaskMemory": 2500}, "in steps of 1024"),
    ({"ecsContainerInsights": "on"}, "webstack:ecsContainerInsights = 'on': allowed: enabled, enhanced, disabled"),
    ({"ecsPlatformVersion": "LATEST"}, "webstack:ecsPlatformVersion = 'LATEST': allowed: 1.4.0"),
    ({"ecsLogRetentionDays": 0}, "webstack:ecsLogRetentionDays = 0: allowed: 1, 3,"),
    ({"ecsSecrets": {"DB": "my-password"}}, "must be SSM parameter or Secrets Manager secret ARNs"),
    ({"ecsSecrets": {"1DB": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}}, "names must be shell identifiers"),
    ({"ecsEnvironment": {"A-B": "x"}}, "webstack:ecsEnvironment"),
    ({"ecsSecretsKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:alias/app"}, "must be a KMS key ARN"),
    ({"ecsMinTasks": 5, "ecsMaxTasks": 3}, "webstack:ecsMinTasks/ecsMaxTasks = 5/3: must satisfy min <= max"),
    ({"ecsMinTasks": 3, "ecsMaxTasks": 3}, "target tracking needs room to scale"),
    ({"ecsFargateWeight": 0}, "at least one weight must be > 0"),
    ({"ecsCapacity": "ec2", "ecsEc2InstanceType": "m7g.large"},
     "the instance type is arm64, the image is built for amd64"),
    ({"ecsCapacity": "ec2", "ecsEc2InstanceType": "m9z.huge"}, "must be an EC2 instance type"),
    ({"ecsCapacity": "ec2", "ecsClusterName": "ecs-shop"}, "must not start with aws, ecs or fargate"),
    ({"ecsCapacity": "ec2", "ecsEc2CapacityProviderName": "fargate-shop"},
     "webstack:ecsClusterName/ecsCapacity/ecsEc2CapacityProviderName = ''/'ec2'/'fargate-shop': with EC2"),
    ({"ecsCapacity": "ec2", "ecsClusterName": "c" * 243}, "the cluster name must have at most 242 characters"),
    ({"ecsCapacity": "ec2", "ecsEc2CapacityProviderName": "shop ec2"}, "1-255 letters, digits, '-' or '_'"),
    ({"ecsEc2MinSize": 4, "ecsEc2MaxSize": 2}, "webstack:ecsEc2MinSize/ecsEc2MaxSize = 4/2"),
    ({"ecsDeploymentMaximumPercent": 90}, "webstack:ecsDeploymentMaximumPercent = 90: must be 100 to 400"),
    ({"ecsEfsEnabled": True, "ecsEfsMountPath": "/tmp"}, "webstack:ecsEfsMountPath = '/tmp': must not be /tmp"),
    ({"ecsEfsMountPath": "data"}, "an absolute path"),
    ({"ecsEfsRootDirectory": "/a/b/c/d/e"}, "webstack:ecsEfsRootDirectory = '/a/b/c/d/e': must be an absolute path"),
    ({"ecsEfsRootDirectory": "/.hidden"}, "none dot-leading"),
    ({"ecsEfsTransitionToIa": "AFTER_2_DAYS"}, "webstack:ecsEfsTransitionToIa = 'AFTER_2_DAYS': allowed: AFTER_1_DAY"),
    ({"ecsScheduledTaskSchedule": "rate(1 hour)"}, "a scheduled task needs a command override"),
    ({"ecsScheduledTaskSchedule": "cron(0 3 * * *)", "ecsScheduledTaskCommand": ["x"]}, "or rate(N unit)"),
    ({"ecsScheduledTaskTimezone": "Mars/Olympus"}, "must be an IANA time zone"),
    ({"ecsScheduledScaling": [{"name": "night", "schedule": "cron(0 25 ? * * *)", "minTasks": 0, "maxTasks": 0}]},
     "night: hours must be 0-23"),
    ({"ecsScheduledScaling": [{"name": "night", "schedule": "cron(0 20 * * * *)", "minTasks": 0, "maxTasks": 0}]},
     "exactly one of day-of-month and day-of-week must be '?'"),
    ({"ecsScheduledScaling": [{"name": "night", "schedule": "cron(0 20 ? * * *)", "timezone": "Paris",
                               "minTasks": 0, "maxTasks": 0}]}, "must be an IANA time zone"),
    ({"ecsScheduledScaling": [{"name": "n", "schedule": "cron(0 20 ? * * *)", "minTasks": 3, "maxTasks": 1}]},
     "must satisfy 0 <= minTasks <= maxTasks"),
    ({"ecsScheduledScaling": [{"name": "n", "schedule": "cron(0 20 ? * * *)", "minTasks": 0}]},
     "must be a list of {name, schedule"),
    ({"ecsScheduledScaling": "not json"}, "must be a list of {name, schedule"),
    ({"ecsDeploymentStrategy": "canary"},
     "webstack:ecsDeploymentStrategy = 'canary': allowed: rolling, blue-green (ECS canary and linear deployments are "
     "not offered"),
    ({"ecsDeploymentStrategy": "BLUE_GREEN"}, "webstack:ecsDeploymentStrategy = 'BLUE_GREEN': allowed: rolling, "
     "blue-green"),
    ({"ecsDeploymentStrategy": "blue-green", "ecsBlueGreenBakeMinutes": 1441},
     "webstack:ecsBlueGreenBakeMinutes = 1441: must be 0 to 1440"),
    ({"ecsDeploymentStrategy": "blue-green", "ecsScaleOnRequestsPerTarget": 500},
     "ecsScaleOnRequestsPerTarget scale on one target group's requests"),
    ({"ecsDeploymentStrategy": "blue-green",
      "ecsStepScaling": {"threshold": 1200, "steps": [{"over": 0, "add": 2}], "evaluationPeriods": 2, "cooldown": 120}},
     "ecsStepScaling scale on one target group's requests"),
])
def test_bad_values_are_refused_by_key(raw: dict[str, Any], expect: str) -> None:
    found = problems(**raw)
    assert any(expect in p for p in found), found


@pytest.mark.parametrize(("raw", "expect"), [
    ({"ecsEfsMountPath": "/data"}, "ecsEfsMountPath set while ecsEfsEnabled is false"),
    ({"ecsEc2InstanceType": "t3.large"}, "ecsEc2InstanceType set while ecsCapacity is not ec2"),
    ({"ecsEc2CapacityProviderName": "webstack-dev-ec2"}, "ecsEc2CapacityProviderName set while ecsCapacity is not"),
    ({"ecsCapacity": "ec2", "ecsFargateSpotWeight": 2}, "ecsFargateSpotWeight set while ecsCapacity is ec2"),
    ({"ecsScheduledTaskCommand": ["x"]}, "ecsScheduledTaskCommand set without ecsScheduledTaskSchedule"),
    ({"ecsSecretsKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
     "ecsSecrets is empty"),
    ({"ecsBlueGreenBakeMinutes": 5}, "ecsBlueGreenBakeMinutes set while ecsDeploymentStrategy is not blue-green"),
    ({"ecsBlueGreenSwitching": True}, "ecsBlueGreenSwitching set while ecsDeploymentStrategy is not blue-green"),
])
def test_keys_of_a_feature_that_is_off_are_refused_not_ignored(raw: dict[str, Any], expect: str) -> None:
    found = problems(**raw)
    assert any(expect in p for p in found), found


def test_production_stacks_refuse_exec_and_protect_the_alb_unless_told() -> None:
    found = problems("prod", ecsExec=True)
    exec_line = "webstack:ecsExec/ecsExecAllowedInProd = True/False: ECS Exec opens a shell"
    assert [p for p in found if p.startswith(exec_line)] == found
    cfg = load("prod", ecsExec=True, ecsExecAllowedInProd=True)
    assert cfg.ecs.exec_enabled and cfg.ops.protected  # deletionProtection unset: on for prod*
    assert not load("prod", deletionProtection=False).ops.protected  # the teardown step (docs/operations.md)
    assert load("dev", ecsExec=True).ecs.exec_enabled, "allowed outside production"
    efs = problems("prod", ecsEfsEnabled=True)
    assert efs == ["webstack:ecsEfsProtect/ecsEfsEnabled = False/True: must be true on a production stack (prod): "
                   "the file system holds the app's data"]


def test_the_retired_alb_key_says_what_replaces_it() -> None:
    assert problems("prod", ecsAlbDeletionProtection=True) == [
        "webstack:ecsAlbDeletionProtection: replaced by deletionProtection (both runtimes, the EKS cluster too; "
        "unset: on for prod* stacks)"]


@pytest.mark.parametrize(("raw", "stalls_at"), [
    ({"ecsDeploymentMinimumHealthyPercent": 50, "ecsDeploymentMaximumPercent": 150, "ecsMinTasks": 1}, 1),
    ({"ecsDeploymentMinimumHealthyPercent": 100, "ecsDeploymentMaximumPercent": 100}, 2),
    ({"ecsDeploymentMinimumHealthyPercent": 100, "ecsDeploymentMaximumPercent": 120, "ecsMinTasks": 3}, 3),
    # a scheduled action can bring the count down to where the deployment stalls
    ({"ecsDeploymentMinimumHealthyPercent": 50, "ecsDeploymentMaximumPercent": 150,
      "ecsScheduledScaling": [{"name": "night", "schedule": "cron(0 20 ? * * *)", "minTasks": 1, "maxTasks": 1}]},
     1),
])
def test_deployments_that_cannot_progress_are_refused(raw: dict[str, Any], stalls_at: int) -> None:
    """ECS rounds maximumPercent of the desired count down and minimumHealthyPercent up: at some counts a rolling
    deployment can neither start nor stop a task, and `pulumi up` (wait_for_steady_state) hangs until it times out."""
    found = [p for p in problems(**raw) if "rolling deployment could neither" in p]
    assert len(found) == 1 and f"with {stalls_at} task(s)" in found[0], found


@pytest.mark.parametrize("raw", [
    {},  # 100 / 200
    {"ecsDeploymentMinimumHealthyPercent": 50, "ecsDeploymentMaximumPercent": 150},  # 2..6 tasks
    {"ecsDeploymentMinimumHealthyPercent": 0, "ecsDeploymentMaximumPercent": 100, "ecsMinTasks": 1},
    {"ecsDeploymentMinimumHealthyPercent": 100, "ecsDeploymentMaximumPercent": 150},  # 2 tasks: 3 may run
])
def test_deployments_that_progress_are_accepted(raw: dict[str, Any]) -> None:
    load(**raw)


def test_fargate_spot_on_graviton_is_accepted() -> None:
    """FARGATE_SPOT runs ARM64 tasks on platform 1.4.0 (ECS API model, CapacityProviderStrategyItem): Graviton and
    Spot together are the cheapest Fargate tasks, not a configuration to refuse."""
    from botocore.loaders import create_loader

    doc = create_loader().load_service_model("ecs", "service-2")["shapes"]["CapacityProviderStrategyItem"]
    text = " ".join(re.sub(r"<[^>]+>", "", doc["documentation"]).split())
    assert "FARGATE_SPOT supports Linux tasks with the ARM64 architecture on platform version 1.4.0" in text
    cfg = load(ecsFargateSpotWeight=2, ecsCpuArchitecture="arm64")
    assert cfg.ecs.spot and cfg.ecs.cpu_architecture == "arm64"
    assert PLATFORM_VERSIONS == ("1.4.0",)  # what a lock or a pin can name: 1.4.0 only


def test_all_problems_at_once() -> None:
    found = problems(ecsTaskCpu=300, ecsSecrets={"X": "nope"}, ecsEfsMountPath="/etc", ecsEfsEnabled=True)
    assert {p.split(" =")[0] for p in found} == {"webstack:ecsTaskCpu", "webstack:ecsSecrets",
                                                  "webstack:ecsEfsMountPath"}


def test_scheduled_scaling_parses_from_yaml_and_cli_text() -> None:
    entry = {"name": "night", "schedule": "cron(0 20 ? * MON-FRI *)", "timezone": "Europe/Paris", "minTasks": 0,
             "maxTasks": 0}
    import json

    for raw in ([entry], json.dumps([entry])):
        (action,) = load(ecsScheduledScaling=raw).ecs.scheduled_scaling
        assert (action.name, action.timezone, action.min_tasks, action.max_tasks) == ("night", "Europe/Paris", 0, 0)


@pytest.mark.parametrize("expr", ["cron(0 20 ? * MON-FRI *)", "cron(15 10 ? * 6L 2026-2030)", "cron(0/15 * * * ? *)",
                                  "cron(0 8 1 * ? *)"])
def test_valid_cron_expressions(expr: str) -> None:
    assert cron_problem(expr) is None


@pytest.mark.parametrize("expr", [
    "cron(30 2 * * ? *)", "cron(0 20 ? * MON-FRI *)", "cron(0 3 * * *)", "cron(0 3 * * * *)", "rate(5 minutes)",
    "rate(1 hour)", "rate(0 hours)", "cron(0/15 * * * ? *)", "cron(61 3 * * ? *)", "cron(0 3 ? * 6L 2026)",
    "at(2026-12-01T00:00:00)", "cron(0 3 ? * MON *) ",
])
def test_what_the_config_accepts_the_scheduled_task_component_accepts(expr: str) -> None:
    from infra.ecs.scheduled import schedule_expression_problems

    raw = {"ecsScheduledTaskSchedule": expr, "ecsScheduledTaskCommand": ["true"]}
    try:
        load(**raw)
    except ConfigError:
        return  # refused early, with the key named: fine
    assert schedule_expression_problems(expr) == [], "the config let through what the component refuses"


# Secrets Manager ARNs: IAM matches the secret's full ARN (name + "-" + 6 characters), the execution role is granted
# exactly the configured ARN, so a partial ARN would pass here and fail at task start with AccessDenied.
SM = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"


@pytest.mark.parametrize(("arn", "expect"), [
    (f"{SM}webapp/api-token", "must be complete, ending in the '-' and 6 characters"),
    (f"{SM}db", "describe-secret --secret-id <name> --query ARN"),
    (f"{SM}webapp/api-token-AbCdE", "must be complete"),
    (f"{SM}webapp/api-token-AbCdE!", "must be SSM parameter or Secrets Manager secret ARNs"),
    (f"{SM}webapp/api-token:password::", "must be complete"),
    (f"{SM}webapp/api-token-AbCdEf:password:", "must be SSM parameter or Secrets Manager secret ARNs"),
])
def test_partial_secrets_manager_arns_are_refused(arn: str, expect: str) -> None:
    found = problems(ecsSecrets={"API_TOKEN": arn, "DB": "arn:aws:ssm:us-east-1:123456789012:parameter/db"})
    assert any(p.startswith("webstack:ecsSecrets") and "entry 'API_TOKEN'" in p and expect in p for p in found), found


@pytest.mark.parametrize("arn", [f"{SM}webapp/api-token-AbCdEf", f"{SM}db-x1Y2z3",
                                 "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:a/b-000000",
                                 "arn:aws:ssm:us-east-1:123456789012:parameter/webapp/db-password",
                                 f"{SM}db-x1Y2z3:password::", f"{SM}db-x1Y2z3:password:AWSCURRENT:",
                                 f"{SM}db-x1Y2z3::AWSPREVIOUS:"])
def test_complete_secret_arns_are_accepted(arn: str) -> None:
    assert dict(load(ecsSecrets={"API_TOKEN": arn}).ecs.secrets) == {"API_TOKEN": arn}


def test_a_deployed_ec2_stack_keeps_its_provider_name() -> None:
    cfg = load(ecsCapacity="ec2", ecsEc2CapacityProviderName="webstack-dev-ec2")
    assert cfg.ecs.ec2_capacity_provider_name == "webstack-dev-ec2"
    assert load(ecsCapacity="ec2", ecsClusterName="c" * 242).ecs.ec2_capacity_provider_name == ""


def test_the_execution_role_is_granted_the_secret_not_its_json_key() -> None:
    """ECS reads `...:secret:name-AbCdEf:json-key:stage:id` with GetSecretValue on the secret itself: IAM matches
    the secret's ARN, so a grant on the whole valueFrom would match nothing (AccessDenied at task start)."""
    from infra.iam import ecs_execution_policy
    arns = [f"{SM}db-x1Y2z3:password::", f"{SM}db-x1Y2z3:username::", f"{SM}api-AbCdEf"]
    (read,) = [s for s in ecs_execution_policy("repo", "logs", arns, None)["Statement"] if s["Sid"] == "ReadSecrets"]
    assert read["Resource"] == [f"{SM}api-AbCdEf", f"{SM}db-x1Y2z3"]


def test_blue_green_is_offered_on_both_capacities_with_its_defaults() -> None:
    """ECS native blue/green works with awsvpc tasks on Fargate and on EC2 capacity providers (AWS ECS developer
    guide, "Amazon ECS blue/green service deployments"); rolling stays the default."""
    assert load().ecs.deployment_strategy == "rolling"
    for capacity in ("fargate", "ec2"):
        ecs = load(ecsDeploymentStrategy="blue-green", ecsCapacity=capacity).ecs
        assert (ecs.deployment_strategy, ecs.blue_green_bake_minutes, ecs.blue_green_switching) == (
            "blue-green", 10, False)
