"""A scheduled task: EventBridge Scheduler runs the app's task definition with a command override, in the private
subnets, with a role that may only run that family in that cluster and pass the task's two roles.

The schedule calls ECS RunTask through Scheduler's universal target `aws-sdk:ecs:runTask` with the whole request
as its input, container override included. The templated ECS target (target = the cluster, `ecsParameters`)
documents no container overrides at all (Scheduler API reference, EcsParameters; terraform-provider-aws #34057
recommends the universal target for overrides): a command that never reaches the container would start nginx,
which never exits, on every run."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import available_timezones

import pulumi
import pulumi_aws as aws

from .. import iam
from .cluster import StrategyItem

TYPE = "webstack:ecs:ScheduledTask"
# A run that could not start within an hour is dropped rather than started late (the default is 24 h, 185 tries).
MAXIMUM_EVENT_AGE_SECONDS = 3600
MAXIMUM_RETRY_ATTEMPTS = 3
# Scheduler's universal target for ECS RunTask (Scheduler User Guide, "Using universal targets"):
# arn:<partition>:scheduler:::aws-sdk:<service>:<apiAction>.
RUN_TASK_TARGET = "arn:{partition}:scheduler:::aws-sdk:ecs:runTask"
# Target.Input is at most 8192 characters (the Scheduler API model); the command is the part that varies.
MAXIMUM_COMMAND_JSON = 4096

# EventBridge Scheduler expressions: cron(minutes hours day-of-month month day-of-week year), rate(n unit), at(...)
_CRON = re.compile(r"^cron\((?P<body>[^()]+)\)$")
_RATE = re.compile(r"^rate\((?P<n>[1-9]\d*) (?P<unit>minutes?|hours?|days?)\)$")
_AT = re.compile(r"^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/#L W-]+$")


def schedule_expression_problems(expression: str) -> list[str]:
    """Why `expression` is not an EventBridge Scheduler cron/rate/at expression (empty when it is)."""
    cron = _CRON.match(expression)
    if cron:
        fields = cron["body"].split(" ")
        if len(fields) != 6:
            return [f"{expression!r}: cron() takes 6 fields (minutes hours day-of-month month day-of-week year), "
                    f"got {len(fields)}"]
        if not all(_CRON_FIELD.match(f) for f in fields):
            return [f"{expression!r}: a cron field has characters outside 0-9 A-Z * ? , / - # L W"]
        day_of_month, day_of_week = fields[2], fields[4]
        if (day_of_month == "?") == (day_of_week == "?"):
            return [f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'"]
        return []
    rate = _RATE.match(expression)
    if rate:
        singular = rate["n"] == "1"
        if singular != (not rate["unit"].endswith("s")):
            return [f"{expression!r}: rate(1 <unit>) is singular, rate(n <units>) plural"]
        return []
    if _AT.match(expression):
        return []
    return [f"{expression!r}: expected cron(...), rate(n minutes|hours|days) or at(yyyy-mm-ddThh:mm:ss)"]


_TZ_NAME = re.compile(r"^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+){1,2})$")


def timezone_problems(name: str) -> list[str]:
    """Why `name` is not an IANA time zone. Checked against the IANA database (system tzdata or the tzdata
    package); on a machine with neither, only the name's shape can be checked."""
    zones = available_timezones()
    if name not in zones if zones else not _TZ_NAME.match(name):
        return [f"schedule_timezone={name!r}: not an IANA time zone name (e.g. Europe/Paris, UTC)"]
    return []


@dataclass(frozen=True, kw_only=True)
class ScheduledTaskArgs:
    cluster_arn: pulumi.Input[str]
    task_definition_arn: pulumi.Input[str]
    task_definition_family: str
    container_name: str
    command: Sequence[str]
    schedule_expression: str  # cron(...) or rate(...), EventBridge Scheduler syntax
    schedule_timezone: str  # IANA name, e.g. "Europe/Paris"
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_ids: Sequence[pulumi.Input[str]]
    capacity_provider_strategy: Sequence[StrategyItem]
    task_role_arn: pulumi.Input[str]
    execution_role_arn: pulumi.Input[str]
    platform_version: str | None = None
    """Fargate platform version of each run (RunTask's platformVersion); None: not sent, RunTask uses LATEST."""
    tags: Mapping[str, str]

    def __post_init__(self) -> None:
        problems = [*schedule_expression_problems(self.schedule_expression),
                    *timezone_problems(self.schedule_timezone)]
        if not self.command or not all(isinstance(c, str) and c for c in self.command):
            problems.append(f"command={list(self.command)!r}: a non-empty list of non-empty strings")
        elif len(json.dumps(list(self.command))) > MAXIMUM_COMMAND_JSON:
            problems.append(f"command: at most {MAXIMUM_COMMAND_JSON} characters as JSON (the schedule's input "
                            "is at most 8192)")
        if not self.subnet_ids:
            problems.append("subnet_ids is empty: awsvpc tasks need subnets")
        if not self.capacity_provider_strategy:
            problems.append("capacity_provider_strategy is empty")
        if problems:
            raise ValueError("ScheduledTaskArgs: " + "; ".join(problems))


def run_task_input(*, cluster_arn: str, task_definition_arn: str, container_name: str, command: Sequence[str],
                   subnet_ids: Sequence[str], security_group_ids: Sequence[str],
                   strategy: Sequence[StrategyItem], platform_version: str | None) -> dict[str, Any]:
    """The ECS RunTask request the universal target sends: RunTask's members in PascalCase, the spelling universal
    targets take (public configurations all use it; one reports CreateSchedule refusing camelCase with "missing
    field TaskDefinition"), the command as an explicit container override, tasks in the private subnets without
    public IPs, tagged like the service's."""
    request: dict[str, Any] = {
        "Cluster": cluster_arn,
        "TaskDefinition": task_definition_arn,
        "Count": 1,
        # never LaunchType with a strategy: ECS refuses both
        "CapacityProviderStrategy": [{"CapacityProvider": i.capacity_provider, "Weight": i.weight, "Base": i.base}
                                     for i in strategy],
        "NetworkConfiguration": {"AwsvpcConfiguration": {
            "Subnets": list(subnet_ids), "SecurityGroups": list(security_group_ids), "AssignPublicIp": "DISABLED"}},
        "EnableECSManagedTags": True,
        "PropagateTags": "TASK_DEFINITION",
        "Overrides": {"ContainerOverrides": [{"Name": container_name, "Command": list(command)}]},
    }
    if platform_version:
        request["PlatformVersion"] = platform_version
    return request


class ScheduledTask(pulumi.ComponentResource):
    schedule_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ScheduledTaskArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        cluster_arn = pulumi.Output.from_input(args.cluster_arn)

        role = aws.iam.Role(
            f"{name}-scheduler",
            description=f"EventBridge Scheduler: runs {args.task_definition_family} on a schedule",
            assume_role_policy=iam.json_output(
                lambda arn: iam.scheduler_trust_policy(iam.EcsArn.parse(arn).account), cluster_arn),
            max_session_duration=3600,
            tags=tags,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-scheduler",
            role=role.id,
            policy=iam.json_output(
                lambda arn, task_role, execution_role: iam.scheduler_run_task_policy(
                    arn, args.task_definition_family, task_role, execution_role),
                cluster_arn, args.task_role_arn, args.execution_role_arn),
            opts=child,
        )

        request = pulumi.Output.all(cluster_arn, args.task_definition_arn, list(args.subnet_ids),
                                    list(args.security_group_ids),
                                    [i.capacity_provider for i in args.capacity_provider_strategy]).apply(
            lambda v: json.dumps(run_task_input(
                cluster_arn=v[0], task_definition_arn=v[1], container_name=args.container_name,
                command=args.command, subnet_ids=v[2], security_group_ids=v[3],
                strategy=[item._replace(capacity_provider=name)
                          for item, name in zip(args.capacity_provider_strategy, v[4], strict=True)],
                platform_version=args.platform_version), sort_keys=True))
        schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            description=f"Runs {args.task_definition_family} with a command override",
            schedule_expression=args.schedule_expression,
            schedule_expression_timezone=args.schedule_timezone,
            flexible_time_window={"mode": "OFF"},
            state="ENABLED",
            target={
                "arn": cluster_arn.apply(lambda arn: RUN_TASK_TARGET.format(partition=iam.EcsArn.parse(arn).partition)),
                "role_arn": role.arn,
                "input": request,
                "retry_policy": {"maximum_event_age_in_seconds": MAXIMUM_EVENT_AGE_SECONDS,
                                 "maximum_retry_attempts": MAXIMUM_RETRY_ATTEMPTS},
            },
            # the role's permissions must exist before the first run
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.schedule_arn = schedule.arn
        self.role_arn = role.arn
        self.register_outputs({"schedule_arn": schedule.arn, "role_arn": role.arn})
