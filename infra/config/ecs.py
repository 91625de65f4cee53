"""ECS runtime keys (`webstack:runtime` = ecs): cluster capacity, the task, the service, auto scaling, the
load balancer's protection, and the optional EFS volume, scheduled task and ECS Exec."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infra.instances import instance_architecture, is_instance_type

from .core import (
    Invalid,
    Setting,
    between,
    declared,
    each,
    length,
    matches,
    one_of,
    rule,
    setting,
    unique,
    when_set,
)
from .ecs_extras import (
    ADOT_IMAGE,
    APP_MIN_CPU,
    APP_MIN_MEMORY,
    ENV_FILES_MAX,
    FLUENT_BIT_IMAGE,
    METRICS_NAMESPACE,
    StepScaling,
    env_file_problem,
    parse_step_scaling,
)
from .network import LOG_RETENTION_DAYS

if TYPE_CHECKING:
    from .stack import StackConfig

RUNTIMES = ("eks", "ecs")
CONTAINER_INSIGHTS = ("enabled", "enhanced", "disabled")
CAPACITIES = ("fargate", "ec2")
# canary and linear (ECS's other alarm-guarded strategies) are not offered: docs/operations.md "Deployments".
DEPLOYMENT_STRATEGIES = ("rolling", "blue-green")
BAKE_MINUTES_MAX = 1440  # ECS DeploymentConfiguration.bakeTimeInMinutes: 0-1440
ARCHITECTURES = ("amd64", "arm64")
# Fargate task sizes (Linux, platform 1.4.0): CPU units -> allowed memory (MiB).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
# The Linux Fargate platform versions this project supports, newest last; every launch names one (the lock's or
# ecsPlatformVersion) so a new one is adopted deliberately ("LATEST" moves by itself). No AWS API lists them:
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-linux-fargate.html
PLATFORM_VERSIONS = ("1.4.0",)
ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,254}"
# SSM parameter or Secrets Manager secret ARN (the `valueFrom` of an ECS secret; full ARNs only, so the
# execution role can name exactly these). A Secrets Manager one may end in `:json-key:version-stage:version-id`
# (each part may be empty), which ECS resolves inside the secret (Developer Guide, "secrets-envvar-secrets-manager").
SECRET_ARN = (r"arn:(aws|aws-[a-z-]+):(ssm:[a-z0-9-]+:[0-9]{12}:parameter/[A-Za-z0-9_.\-/]{1,2011}"
              r"|secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}"
              r"(:[^:\s]*:[A-Za-z0-9_+=.@-]*:[A-Za-z0-9-]*)?)")
# Secrets Manager appends "-" and 6 random letters or digits to a secret's name in its ARN. The execution role is
# granted exactly the configured ARNs, and IAM matches the secret's full ARN: a partial ARN (the name without the
# suffix, which ECS and GetSecretValue would resolve) matches no grant, and the task fails with AccessDenied.
# AWS's own advice for name-based grants is `<name>-??????` (Secrets Manager User Guide, "Permissions policy
# examples"); an exact ARN is narrower still, so the loader asks for the complete one.
SECRETS_MANAGER_ARN_SUFFIX = r"-[A-Za-z0-9]{6}"
KMS_KEY_ARN = r"arn:(aws|aws-[a-z-]+):kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]{1,100}"
# EventBridge Scheduler / Application Auto Scaling cron: cron(minutes hours day-of-month month day-of-week year).
_CRON_FIELD = r"[0-9A-Za-z*?,/#-]+"
# Six fields, the year included (EventBridge Scheduler refuses five; use * for every year).
CRON = rf"cron\(({_CRON_FIELD}) ({_CRON_FIELD}) ({_CRON_FIELD}) ({_CRON_FIELD}) ({_CRON_FIELD}) ({_CRON_FIELD})\)"
RATE = r"rate\([1-9][0-9]{0,4} (minute|minutes|hour|hours|day|days)\)"
TIMEZONE = r"[A-Za-z]+(/[A-Za-z0-9_+-]+){0,2}|UTC"
SCHEDULE_NAME = r"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?"
ABSOLUTE_PATH = r"/[A-Za-z0-9._/-]{0,254}"
# An EFS access point path (the EFS API's pattern, less "/" itself): as infra/ecs/efs.py checks it.
EFS_ROOT_DIRECTORY = r"(/(?!\.)[^$#<>;`|&?{}^*/\n]+){1,4}"
# Paths the image needs: never mounted over by EFS.
# EFS lifecycle transitions to Infrequent Access (EFS PutLifecycleConfiguration TransitionToIA).
EFS_TRANSITIONS = ("AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS", "AFTER_60_DAYS", "AFTER_90_DAYS",
                   "AFTER_180_DAYS", "AFTER_270_DAYS", "AFTER_365_DAYS")
RESERVED_PATHS = ("/", "/tmp", "/etc", "/etc/nginx", "/usr", "/usr/share/nginx/html", "/proc", "/sys", "/dev")


def cron_problem(expr: str) -> str | None:
    """Why `expr` is not an AWS cron(...) expression, or None. One of day-of-month / day-of-week must be '?'."""
    m = re.fullmatch(CRON, expr, re.ASCII)
    if not m:
        return "must be cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 20 ? * MON-FRI *)"
    minutes, hours, dom, _month, dow = m.group(1, 2, 3, 4, 5)
    if (dom == "?") == (dow == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    for value, hi, what in ((minutes, 59, "minutes"), (hours, 23, "hours")):
        for number in re.findall(r"[0-9]+", value):
            if int(number) > hi:
                return f"{what} must be 0-{hi}"
    return None


def _strategy(value: str) -> str | None:
    if value in DEPLOYMENT_STRATEGIES:
        return None
    extra = (" (ECS canary and linear deployments are not offered: they need the same two target groups and "
             "drift handling as blue-green, untested here; docs/operations.md \"Deployments\")"
             if value.lower() in ("canary", "linear") else "")
    return f"allowed: {', '.join(DEPLOYMENT_STRATEGIES)}{extra}"


def _zone_known(name: str) -> bool:
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(name)
        return True
    except (ValueError, KeyError, OSError):
        return False


def timezone_problem(name: str) -> str | None:
    if not re.fullmatch(TIMEZONE, name, re.ASCII) or not _zone_known(name):
        return "must be an IANA time zone such as Europe/Paris or UTC"
    return None


@dataclass(frozen=True, kw_only=True)
class ScheduledScaling:
    """At `schedule` (cron in `timezone`), bound the task count to min..max."""

    name: str
    schedule: str
    timezone: str
    min_tasks: int
    max_tasks: int


def parse_scheduled_scaling(raw: Any) -> tuple[ScheduledScaling, ...]:
    """A list of {name, schedule, timezone?, minTasks, maxTasks} (YAML, or its JSON text from the CLI)."""
    allowed = ("must be a list of {name, schedule: cron(...), timezone, minTasks, maxTasks}, e.g. "
               "[{name: night, schedule: 'cron(0 20 ? * * *)', timezone: Europe/Paris, minTasks: 0, maxTasks: 0}]")
    if isinstance(raw, str):
        if len(raw) > 64 * 1024:
            raise Invalid(allowed)
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise Invalid(allowed) from None
    if not isinstance(raw, list) or len(raw) > 50:
        raise Invalid(allowed)
    out: list[ScheduledScaling] = []
    for item in raw:
        if not isinstance(item, dict) or not {"name", "schedule", "minTasks", "maxTasks"} <= set(item) or not set(
                item) <= {"name", "schedule", "timezone", "minTasks", "maxTasks"}:
            raise Invalid(allowed)
        name, schedule, tz = item["name"], item["schedule"], item.get("timezone", "UTC")
        lo, hi = item["minTasks"], item["maxTasks"]
        if not all(isinstance(v, str) for v in (name, schedule, tz)):
            raise Invalid(allowed)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, hi)):
            raise Invalid(f"{name}: minTasks and maxTasks must be whole numbers")
        if not re.fullmatch(SCHEDULE_NAME, name, re.ASCII):
            raise Invalid(f"{name!r}: name must be 1-32 lowercase letters, digits or '-'")
        why = cron_problem(schedule) or timezone_problem(tz)
        if why:
            raise Invalid(f"{name}: {why}")
        if not 0 <= lo <= hi <= 1000:
            raise Invalid(f"{name}: must satisfy 0 <= minTasks <= maxTasks <= 1000")
        out.append(ScheduledScaling(name=name, schedule=schedule, timezone=tz, min_tasks=lo, max_tasks=hi))
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise Invalid("names must be unique")
    return tuple(out)


def _schedule(value: str) -> str | None:
    if re.fullmatch(RATE, value, re.ASCII):
        return None
    return cron_problem(value) and "must be cron(minutes hours day-of-month month day-of-week year) or rate(N unit)"


def _command_fits(command: tuple[str, ...]) -> str | None:
    # It travels in the schedule's input (RunTask's request), which Scheduler limits to 8192 characters.
    size = len(json.dumps(list(command)))
    if size <= 4096:
        return None
    return (f"must be at most 4096 characters as JSON (is {size}): it travels in the schedule's input, at most "
            "8192 characters with the rest of the RunTask request")


def _env_name(pair: tuple[str, str]) -> str | None:
    return None if re.fullmatch(ENV_NAME, pair[0], re.ASCII) else "names must be shell identifiers"


def _secret_arn(pair: tuple[str, str]) -> str | None:
    arn = pair[1]
    if not re.fullmatch(SECRET_ARN, arn, re.ASCII):
        return "values must be SSM parameter or Secrets Manager secret ARNs"
    secret = ":".join(arn.split(":")[:7])  # without a :json-key:version-stage:version-id tail
    if ":secretsmanager:" in arn and not re.search(SECRETS_MANAGER_ARN_SUFFIX + "$", secret, re.ASCII):
        return ("a Secrets Manager ARN must be complete, ending in the '-' and 6 characters Secrets Manager adds to "
                "the name (e.g. ...:secret:webapp/api-token-AbCdEf, as `aws secretsmanager describe-secret "
                "--secret-id <name> --query ARN` prints it), optionally followed by :json-key:version-stage:"
                "version-id: the execution role is granted exactly the secret's ARN, and a partial one matches no "
                "secret. (A name that itself ends in '-' and 6 letters or digits, like db-passwd, cannot be told "
                "apart from a complete ARN: copy the ARN describe-secret prints)")
    return None


@dataclass(frozen=True, kw_only=True)
class EcsConfig:
    cluster_name: str = setting(
        "ecsClusterName", "", "ECS cluster name (default: <project>-<stack>).",
        matches(r"([A-Za-z0-9][A-Za-z0-9_-]{0,251})?", "webstack-dev", "1-252 letters, digits, '-' or '_'"))
    container_insights: str = setting(
        "ecsContainerInsights", "enabled", "CloudWatch Container Insights: enabled, enhanced or disabled.",
        one_of(*CONTAINER_INSIGHTS))
    capacity: str = setting(
        "ecsCapacity", "fargate",
        "Where tasks run: 'fargate' (FARGATE, plus FARGATE_SPOT by weight) or 'ec2' (an Auto Scaling group).",
        one_of(*CAPACITIES))
    fargate_base: int = setting("ecsFargateBase", 1, "Tasks always placed on FARGATE (on-demand) first.",
                                between(0, 100000))
    fargate_weight: int = setting("ecsFargateWeight", 1, "Weight of FARGATE beyond the base.", between(0, 1000))
    fargate_spot_weight: int = setting(
        "ecsFargateSpotWeight", 0, "Weight of FARGATE_SPOT beyond the base (0: no Spot).", between(0, 1000))
    cpu_architecture: str = setting(
        "ecsCpuArchitecture", "amd64", "CPU architecture of the image and tasks: amd64 or arm64 (Graviton).",
        one_of(*ARCHITECTURES))
    ec2_instance_type: str = setting(
        "ecsEc2InstanceType", "t3.medium", "Instance type of the EC2 capacity (ecsCapacity = ec2).",
        lambda t: None if is_instance_type(t) else "must be an EC2 instance type (botocore's list), e.g. t3.medium")
    ec2_min_size: int = setting("ecsEc2MinSize", 0, "EC2 capacity: Auto Scaling group minimum.", between(0, 1000))
    ec2_max_size: int = setting("ecsEc2MaxSize", 4, "EC2 capacity: Auto Scaling group maximum.", between(1, 1000))
    ec2_disk_size_gb: int = setting("ecsEc2DiskSizeGb", 30, "EC2 capacity: encrypted gp3 root volume (GiB).",
                                    between(30, 16384))
    ec2_target_capacity_percent: int = setting(
        "ecsEc2TargetCapacityPercent", 100, "EC2 capacity: managed scaling's target utilisation (%).",
        between(1, 100))
    ec2_capacity_provider_name: str = setting(
        "ecsEc2CapacityProviderName", "",
        "EC2 capacity: keep the capacity provider a stack deployed before names followed the Auto Scaling group "
        "(set <cluster>-ec2, its name then). Unset: <cluster>-ec2-<digest of the group's ARN>, new with each group.",
        matches(r"([A-Za-z0-9_-]{1,255})?", "webstack-prod-ec2", "1-255 letters, digits, '-' or '_'"))
    ec2_fargate_compatible: bool = setting(
        "ecsEc2FargateCompatible", False,
        "EC2 capacity: also make the task definition valid on Fargate (requiresCompatibilities EC2 and FARGATE), "
        "which drops Docker's no-new-privileges (Fargate refuses it). Set it for the run before moving the service "
        "back to Fargate (docs/operations.md).")
    task_cpu: int = setting("ecsTaskCpu", 256, "Task CPU units (256 = 0.25 vCPU); a Fargate size.",
                            one_of(*FARGATE_SIZES))
    task_memory: int = setting("ecsTaskMemory", 512, "Task memory (MiB); a Fargate pair with ecsTaskCpu.",
                               between(512, 122880))
    platform_version: str = setting(
        "ecsPlatformVersion", "",
        "Pins the Fargate platform version of the service and the scheduled task. Empty: the version in the "
        "stack's lock (make bump).", when_set(one_of(*PLATFORM_VERSIONS)))
    log_retention_days: int = setting("ecsLogRetentionDays", 90, "Retention of the app's log group, in days.",
                                      one_of(*LOG_RETENTION_DAYS))
    environment: tuple[tuple[str, str], ...] = setting(
        "ecsEnvironment", (), "Plain environment variables of the app container (name -> value).",
        each(_env_name))
    secrets: tuple[tuple[str, str], ...] = setting(
        "ecsSecrets", (),
        "Env var name -> SSM parameter or Secrets Manager secret ARN (complete: a Secrets Manager ARN ends in "
        "-<6 characters>, optionally :json-key:version-stage:version-id), read by the execution role.",
        each(_env_name, _secret_arn))
    secrets_kms_key_arn: str | None = setting(
        "ecsSecretsKmsKeyArn", None,
        "Customer managed KMS key of the secrets (adds kms:Decrypt on this key only; unset: AWS managed keys).",
        matches(KMS_KEY_ARN, "arn:aws:kms:us-east-1:123456789012:key/<key id>", "a KMS key ARN"))
    environment_files: tuple[str, ...] = setting(
        "ecsEnvironmentFiles", (),
        "S3 object ARNs of .env files loaded into the app container, first file first (at most 10; the execution "
        "role reads exactly these). ecsEnvironment values win over the files' (ECS precedence).",
        length(0, ENV_FILES_MAX), each(env_file_problem), unique())
    environment_files_kms_key_arn: str | None = setting(
        "ecsEnvironmentFilesKmsKeyArn", None,
        "Customer managed KMS key encrypting the environment files (adds kms:Decrypt on this key only).",
        matches(KMS_KEY_ARN, "arn:aws:kms:us-east-1:123456789012:key/<key id>", "a KMS key ARN"))
    adot_collector: bool = setting(
        "ecsAdotCollector", False,
        "AWS Distro for OpenTelemetry collector sidecar: OTLP on localhost:4317/4318, traces to X-Ray, metrics to "
        "CloudWatch (EMF). Needs ecsAdotCollectorImage.")
    adot_collector_image: str = setting(
        "ecsAdotCollectorImage", "",
        "The collector image by digest: public.ecr.aws/aws-observability/aws-otel-collector@sha256:<digest>.",
        when_set(matches(ADOT_IMAGE, "public.ecr.aws/aws-observability/aws-otel-collector@sha256:<64 hex>",
                         "the official ADOT collector image by digest")))
    adot_collector_cpu: int = setting(
        "ecsAdotCollectorCpu", 128, "CPU units of the collector sidecar (part of ecsTaskCpu).", between(16, 16384))
    adot_collector_memory: int = setting(
        "ecsAdotCollectorMemory", 256, "Memory limit of the collector sidecar, MiB (part of ecsTaskMemory).",
        between(64, 122880))
    adot_metrics_namespace: str = setting(
        "ecsAdotMetricsNamespace", "ECS/AWSOTel/Application", "CloudWatch namespace of the app's OTLP metrics.",
        matches(METRICS_NAMESPACE, "ECS/AWSOTel/Application", "1-255 letters, digits or . _ / # -, not AWS/..."))
    fire_lens: bool = setting(
        "ecsFireLens", False,
        "Route the app's logs through a FireLens (Fluent Bit) log router sidecar into its log group. Needs "
        "ecsFireLensImage.")
    fire_lens_image: str = setting(
        "ecsFireLensImage", "",
        "The log router image by digest: public.ecr.aws/aws-observability/aws-for-fluent-bit@sha256:<digest>.",
        when_set(matches(FLUENT_BIT_IMAGE, "public.ecr.aws/aws-observability/aws-for-fluent-bit@sha256:<64 hex>",
                         "the official AWS for Fluent Bit image by digest")))
    fire_lens_cpu: int = setting(
        "ecsFireLensCpu", 64, "CPU units of the log router sidecar (part of ecsTaskCpu).", between(16, 16384))
    fire_lens_memory: int = setting(
        "ecsFireLensMemory", 128, "Memory limit of the log router sidecar, MiB (part of ecsTaskMemory).",
        between(64, 122880))
    min_tasks: int = setting("ecsMinTasks", 2, "Auto scaling minimum task count (also the initial count).",
                             between(0, 1000))
    max_tasks: int = setting("ecsMaxTasks", 6, "Auto scaling maximum task count.", between(1, 1000))
    scale_on_cpu_percent: int = setting(
        "ecsScaleOnCpuPercent", 70, "Target tracking on average CPU (%); 0 turns it off.", between(0, 100))
    scale_on_memory_percent: int = setting(
        "ecsScaleOnMemoryPercent", 0, "Target tracking on average memory (%); 0 turns it off.", between(0, 100))
    scale_on_requests_per_target: int = setting(
        "ecsScaleOnRequestsPerTarget", 0, "Target tracking on ALB requests per target per minute; 0: off.",
        between(0, 1000000))
    step_scaling: StepScaling | None = setting(
        "ecsStepScaling", None,
        "Step scale-out on the ALB's requests per target per minute: {threshold, steps: [{over, add}], "
        "evaluationPeriods, cooldown}; needs ecsScaleOnRequestsPerTarget below the threshold (it scales in).",
        parse=parse_step_scaling)
    scheduled_scaling: tuple[ScheduledScaling, ...] = setting(
        "ecsScheduledScaling", (),
        "Scheduled task count bounds: [{name, schedule: cron(...), timezone, minTasks, maxTasks}]; with schedules, "
        "ecsMinTasks/ecsMaxTasks are the initial bounds only.",
        parse=parse_scheduled_scaling)
    minimum_healthy_percent: int = setting(
        "ecsDeploymentMinimumHealthyPercent", 100, "Rolling deployments: tasks kept running (% of desired).",
        between(0, 100))
    maximum_percent: int = setting(
        "ecsDeploymentMaximumPercent", 200, "Rolling deployments: tasks allowed at once (% of desired).",
        between(100, 400))
    health_check_grace_period_seconds: int = setting(
        "ecsHealthCheckGracePeriodSeconds", 60, "Seconds ECS ignores failing ALB health checks of a new task.",
        between(0, 7200))
    deployment_strategy: str = setting(
        "ecsDeploymentStrategy", "rolling",
        "rolling: tasks replaced in the one target group, rolled back by the circuit breaker; blue-green: ECS "
        "native blue/green (a second target group, all traffic moved once the new tasks are healthy, the old ones "
        "kept for ecsBlueGreenBakeMinutes, rolled back on the 5xx and no-healthy-target alarms). canary and linear "
        "are not offered (docs/operations.md).", _strategy)
    blue_green_bake_minutes: int = setting(
        "ecsBlueGreenBakeMinutes", 10,
        "blue-green: minutes the old tasks keep running after traffic moved (a rollback within them is instant).",
        between(0, BAKE_MINUTES_MAX))
    blue_green_switching: bool = setting(
        "ecsBlueGreenSwitching", False,
        "blue-green: true for the one `pulumi up` that switches an existing rolling service (sends its load "
        "balancer blue/green settings; remove it afterwards: docs/operations.md).")
    take_over_hostname_record: bool = setting(
        "ecsTakeOverHostnameRecord", False,
        "Let the ALB's alias overwrite an A record the hostname already has (the run that switches an EKS stack to "
        "ECS: docs/operations.md). Off: creating the alias fails when the record exists, nothing is taken over.")
    exec_enabled: bool = setting(
        "ecsExec", False, "ECS Exec (shell into tasks): task role ssmmessages, init process. Refused in prod.")
    exec_allowed_in_prod: bool = setting(
        "ecsExecAllowedInProd", False, "Allow ecsExec on a production stack (a deliberate exception).")
    efs_enabled: bool = setting("ecsEfsEnabled", False, "Mount an encrypted EFS file system into the app.")
    efs_mount_path: str = setting(
        "ecsEfsMountPath", "/srv/data", "Where the EFS volume is mounted in the container.",
        matches(ABSOLUTE_PATH, "/srv/data", "an absolute path"))
    efs_root_directory: str = setting(
        "ecsEfsRootDirectory", "/webapp", "The access point's root directory on the file system.",
        length(2, 100), matches(EFS_ROOT_DIRECTORY, "/webapp", "an absolute path of 1 to 4 levels, none dot-leading"))
    efs_transition_to_ia: str | None = setting(
        "ecsEfsTransitionToIa", None, "Move files unread this long to EFS Infrequent Access (unset: never).",
        one_of(*EFS_TRANSITIONS))
    efs_protect: bool = setting(
        "ecsEfsProtect", False,
        "Protect the file system: a replacement or destroy stops until unprotected (required on production stacks).")
    scheduled_task_schedule: str = setting(
        "ecsScheduledTaskSchedule", "",
        "Run the task definition on a schedule (EventBridge Scheduler cron(...) or rate(...)); empty: off.",
        when_set(_schedule))
    scheduled_task_timezone: str = setting(
        "ecsScheduledTaskTimezone", "UTC", "Time zone of ecsScheduledTaskSchedule (IANA name).", timezone_problem)
    scheduled_task_command: tuple[str, ...] = setting(
        "ecsScheduledTaskCommand", (), "Command override of the scheduled task (required with a schedule).",
        length(0, 100), _command_fits)

    @property
    def spot(self) -> bool:
        return self.capacity == "fargate" and self.fargate_spot_weight > 0

    @property
    def sidecar_reservations(self) -> tuple[tuple[str, int, int], ...]:
        """(config key prefix, CPU units, MiB) of each sidecar that is on."""
        return tuple((key, cpu, mem) for key, on, cpu, mem in (
            ("ecsAdotCollector", self.adot_collector, self.adot_collector_cpu, self.adot_collector_memory),
            ("ecsFireLens", self.fire_lens, self.fire_lens_cpu, self.fire_lens_memory)) if on)


def is_production(stack: str) -> bool:
    return stack.startswith("prod")


def ecs_cluster_name(cfg: StackConfig) -> str:
    """ecsClusterName, or <project>-<stack>."""
    return cfg.ecs.cluster_name or f"{cfg.project}-{cfg.stack}"


@rule("ecsTaskCpu", "ecsTaskMemory")
def _fargate_pair(cfg: StackConfig) -> str | None:
    allowed = FARGATE_SIZES[cfg.ecs.task_cpu]
    if cfg.ecs.task_memory in allowed:
        return None
    step = allowed[1] - allowed[0]
    return (f"not a Fargate size: with {cfg.ecs.task_cpu} CPU units memory must be {allowed[0]}-{allowed[-1]} "
            f"MiB in steps of {step}")


@rule("ecsMinTasks", "ecsMaxTasks")
def _task_bounds(cfg: StackConfig) -> str | None:
    return None if cfg.ecs.min_tasks <= cfg.ecs.max_tasks else "must satisfy min <= max"


@rule("ecsEc2MinSize", "ecsEc2MaxSize")
def _ec2_bounds(cfg: StackConfig) -> str | None:
    return None if cfg.ecs.ec2_min_size <= cfg.ecs.ec2_max_size else "must satisfy min <= max"


@rule("ecsFargateWeight", "ecsFargateSpotWeight")
def _some_weight(cfg: StackConfig) -> str | None:
    return None if cfg.ecs.fargate_weight + cfg.ecs.fargate_spot_weight > 0 else "at least one weight must be > 0"


# No Spot/architecture rule: FARGATE_SPOT runs ARM64 tasks on platform 1.4.0 (the one PLATFORM_VERSIONS allows),
# as the ECS API model's CapacityProviderStrategyItem says.


@rule("ecsEc2InstanceType", "ecsCpuArchitecture")
def _ec2_architecture(cfg: StackConfig) -> str | None:
    if cfg.ecs.capacity != "ec2":
        return None
    arch = instance_architecture(cfg.ecs.ec2_instance_type)
    if arch != cfg.ecs.cpu_architecture:
        return f"the instance type is {arch}, the image is built for {cfg.ecs.cpu_architecture}: they must match"
    return None


@rule("ecsEfsProtect", "ecsEfsEnabled")
def _efs_protected_in_prod(cfg: StackConfig) -> str | None:
    if cfg.ecs.efs_enabled and is_production(cfg.stack) and not cfg.ecs.efs_protect:
        return f"must be true on a production stack ({cfg.stack}): the file system holds the app's data"
    return None


@rule("ecsExec", "ecsExecAllowedInProd")
def _exec_not_in_prod(cfg: StackConfig) -> str | None:
    if cfg.ecs.exec_enabled and is_production(cfg.stack) and not cfg.ecs.exec_allowed_in_prod:
        return (f"ECS Exec opens a shell into production tasks ({cfg.stack}): set ecsExecAllowedInProd to true "
                "to allow it deliberately")
    return None


@rule("ecsEfsMountPath")
def _efs_path_free(cfg: StackConfig) -> str | None:
    path = cfg.ecs.efs_mount_path.rstrip("/") or "/"
    return f"must not be {path}: the image needs it" if path in RESERVED_PATHS else None


@rule("ecsScheduledTaskSchedule", "ecsScheduledTaskCommand")
def _scheduled_task_command(cfg: StackConfig) -> str | None:
    if cfg.ecs.scheduled_task_schedule and not cfg.ecs.scheduled_task_command:
        return "a scheduled task needs a command override (the default command serves HTTP forever)"
    return None


@rule("ecsScaleOnCpuPercent", "ecsScaleOnMemoryPercent", "ecsScaleOnRequestsPerTarget", "ecsMaxTasks")
def _scaling_has_room(cfg: StackConfig) -> str | None:
    e = cfg.ecs
    policies = e.scale_on_cpu_percent or e.scale_on_memory_percent or e.scale_on_requests_per_target
    if policies and e.max_tasks == e.min_tasks:
        return "target tracking needs room to scale: ecsMaxTasks must exceed ecsMinTasks"
    return None


@rule("ecsStepScaling", "ecsScaleOnRequestsPerTarget")
def _step_scaling_beside_tracking(cfg: StackConfig) -> str | None:
    # The step policy only scales out; scale-in is left to target tracking on the same metric, whose target lies
    # below the step threshold. So when the step alarm fires, the tracking policy wants more tasks too and never
    # removes what the step added (Application Auto Scaling scales in only when every target tracking policy
    # agrees, and a step scale-in would not be blocked: PutScalingPolicy's documentation, botocore's model).
    step, target = cfg.ecs.step_scaling, cfg.ecs.scale_on_requests_per_target
    if step is None:
        return None
    if not target:
        return ("step scaling only scales out: set ecsScaleOnRequestsPerTarget (target tracking on the same metric, "
                "below the threshold) so the service scales back in")
    if step.threshold <= target:
        return (f"the step threshold ({step.threshold}) must exceed the target tracking value ({target}): at or "
                "below it the step policy adds tasks that target tracking would then remove")
    return None


def stalled_task_count(minimum_healthy_percent: int, maximum_percent: int, counts: range | list[int]) -> int | None:
    """The first task count at which a rolling deployment can neither start a new task nor stop an old one: ECS
    rounds maximumPercent of the desired count down and minimumHealthyPercent up (DeploymentConfiguration), so
    e.g. 1 task at 50/150 % allows 1 running and needs 1 healthy. None when every count can progress."""
    for n in counts:
        if n > 0 and (n * maximum_percent) // 100 <= n and -(-n * minimum_healthy_percent // 100) >= n:
            return n
    return None


@rule("ecsDeploymentMinimumHealthyPercent", "ecsDeploymentMaximumPercent", "ecsMinTasks")
def _deployments_can_progress(cfg: StackConfig) -> str | None:
    e = cfg.ecs
    # Every count the service can have: auto scaling's bounds and those of each scheduled action.
    counts = sorted({n for lo, hi in [(e.min_tasks, e.max_tasks), *((s.min_tasks, s.max_tasks)
                                                                    for s in e.scheduled_scaling)]
                     for n in range(lo, hi + 1)})
    n = stalled_task_count(e.minimum_healthy_percent, e.maximum_percent, counts)
    if n is None:
        return None
    return (f"with {n} task(s) a rolling deployment could neither start a task (maximum {e.maximum_percent} % of {n}, "
            f"rounded down: {n * e.maximum_percent // 100}) nor stop one (minimum healthy "
            f"{e.minimum_healthy_percent} %, rounded up: {-(-n * e.minimum_healthy_percent // 100)}): `pulumi up` "
            "would wait for a steady state that never comes. Raise the maximum or lower the minimum")


# --- keys set for a feature that is off: refused rather than silently ignored ---------------------------------
@functools.cache
def _ecs_settings() -> dict[str, Setting]:
    return {s.key: s for s in declared(EcsConfig)}


def _set_keys(cfg: StackConfig, keys: tuple[str, ...]) -> list[str]:
    """The ECS keys among `keys` whose value differs from their declared default."""
    by_key = _ecs_settings()
    return [k for k in keys if getattr(cfg.ecs, by_key[k].attr) != by_key[k].default]


_EFS = ("ecsEfsMountPath", "ecsEfsRootDirectory", "ecsEfsTransitionToIa", "ecsEfsProtect")
_EC2 = ("ecsEc2InstanceType", "ecsEc2MinSize", "ecsEc2MaxSize", "ecsEc2DiskSizeGb", "ecsEc2TargetCapacityPercent",
        "ecsEc2CapacityProviderName", "ecsEc2FargateCompatible")
_FARGATE = ("ecsFargateBase", "ecsFargateWeight", "ecsFargateSpotWeight", "ecsPlatformVersion")
_JOB = ("ecsScheduledTaskTimezone", "ecsScheduledTaskCommand")
_BLUE_GREEN = ("ecsBlueGreenBakeMinutes", "ecsBlueGreenSwitching")


@rule("ecsEfsEnabled", *_EFS)
def _efs_keys_need_efs(cfg: StackConfig) -> str | None:
    unused = [] if cfg.ecs.efs_enabled else _set_keys(cfg, _EFS)
    return f"{', '.join(unused)} set while ecsEfsEnabled is false: enable EFS or remove them" if unused else None


@rule("ecsDeploymentStrategy", *_BLUE_GREEN)
def _blue_green_keys_need_blue_green(cfg: StackConfig) -> str | None:
    unused = [] if cfg.ecs.deployment_strategy == "blue-green" else _set_keys(cfg, _BLUE_GREEN)
    return (f"{', '.join(unused)} set while ecsDeploymentStrategy is not blue-green: they would be ignored"
            if unused else None)


@rule("ecsDeploymentStrategy", "ecsScaleOnRequestsPerTarget", "ecsStepScaling")
def _blue_green_scales_on_the_service(cfg: StackConfig) -> str | None:
    """Requests-per-target scaling watches one target group (ALBRequestCountPerTarget's label, the step alarm's
    TargetGroup dimension); blue/green moves the tasks to the other group at every deployment."""
    e = cfg.ecs
    if e.deployment_strategy != "blue-green":
        return None
    tied = [k for k, on in (("ecsScaleOnRequestsPerTarget", e.scale_on_requests_per_target),
                            ("ecsStepScaling", e.step_scaling)) if on]
    return (f"{', '.join(tied)} scale on one target group's requests, and blue-green moves the tasks to the other "
            "group at every deployment: scale on CPU or memory (ecsScaleOnCpuPercent, ecsScaleOnMemoryPercent)"
            if tied else None)


@rule("ecsCapacity", *_EC2)
def _ec2_keys_need_ec2(cfg: StackConfig) -> str | None:
    unused = [] if cfg.ecs.capacity == "ec2" else _set_keys(cfg, _EC2)
    return f"{', '.join(unused)} set while ecsCapacity is not ec2: they would be ignored" if unused else None


@rule("ecsCapacity", *_FARGATE)
def _fargate_keys_need_fargate(cfg: StackConfig) -> str | None:
    unused = [] if cfg.ecs.capacity == "fargate" else _set_keys(cfg, _FARGATE)
    return f"{', '.join(unused)} set while ecsCapacity is ec2: they would be ignored" if unused else None


@rule("ecsScheduledTaskSchedule", *_JOB)
def _job_keys_need_a_schedule(cfg: StackConfig) -> str | None:
    unused = [] if cfg.ecs.scheduled_task_schedule else _set_keys(cfg, _JOB)
    return f"{', '.join(unused)} set without ecsScheduledTaskSchedule: they would be ignored" if unused else None


# <cluster>-ec2-<8 hex digits> (infra/ecs/capacity.py provider_name); ECS allows 255 characters.
_PROVIDER_NAME_EXTRA = len("-ec2-") + 8


@rule("ecsClusterName", "ecsCapacity", "ecsEc2CapacityProviderName")
def _capacity_provider_name(cfg: StackConfig) -> str | None:
    # ECS refuses capacity provider names starting with aws, ecs or fargate, and names over 255 characters.
    if cfg.ecs.capacity != "ec2":
        return None
    kept, cluster = cfg.ecs.ec2_capacity_provider_name, ecs_cluster_name(cfg)
    name = kept or f"{cluster}-ec2-<digest>"
    if name.lower().startswith(("aws", "ecs", "fargate")):
        return f"with EC2 capacity the name must not start with aws, ecs or fargate (its provider is {name})"
    if not kept and len(cluster) + _PROVIDER_NAME_EXTRA > 255:
        return (f"with EC2 capacity the cluster name must have at most {255 - _PROVIDER_NAME_EXTRA} characters "
                f"(its provider is {name}, at most 255)")
    return None


@rule("ecsSecretsKmsKeyArn", "ecsSecrets")
def _kms_key_needs_secrets(cfg: StackConfig) -> str | None:
    if cfg.ecs.secrets_kms_key_arn and not cfg.ecs.secrets:
        return "a key for the secrets, but ecsSecrets is empty: the execution role would not use it"
    return None


# --- environment files, sidecars --------------------------------------------------------------------------------
@rule("ecsEnvironmentFiles", "aws:region")
def _env_files_in_partition(cfg: StackConfig) -> str | None:
    other = [a for a in cfg.ecs.environment_files if a.split(":")[1] != cfg.partition]
    if other:
        return f"S3 ARNs must be in the stack's partition (arn:{cfg.partition}:s3:::...); not {', '.join(other)}"
    return None


@rule("ecsEnvironmentFilesKmsKeyArn", "ecsEnvironmentFiles", "aws:region")
def _env_files_key(cfg: StackConfig) -> str | None:
    key = cfg.ecs.environment_files_kms_key_arn
    if key and not cfg.ecs.environment_files:
        return "a key for the environment files, but ecsEnvironmentFiles is empty: the execution role would not use it"
    if key and key.split(":")[1] != cfg.partition:
        return f"the key must be in the stack's partition (arn:{cfg.partition}:kms:...)"
    return None


_ADOT = ("ecsAdotCollectorImage", "ecsAdotCollectorCpu", "ecsAdotCollectorMemory", "ecsAdotMetricsNamespace")
_FIRE_LENS = ("ecsFireLensImage", "ecsFireLensCpu", "ecsFireLensMemory")


@rule("ecsAdotCollector", *_ADOT)
def _adot_keys_need_adot(cfg: StackConfig) -> str | None:
    if cfg.ecs.adot_collector:
        return None if cfg.ecs.adot_collector_image else (
            "the collector runs an image pinned by digest: set ecsAdotCollectorImage to "
            "public.ecr.aws/aws-observability/aws-otel-collector@sha256:<digest> (docs/runtimes.md: finding it)")
    unused = _set_keys(cfg, _ADOT)
    return f"{', '.join(unused)} set while ecsAdotCollector is false: they would be ignored" if unused else None


@rule("ecsFireLens", *_FIRE_LENS)
def _fire_lens_keys_need_fire_lens(cfg: StackConfig) -> str | None:
    if cfg.ecs.fire_lens:
        return None if cfg.ecs.fire_lens_image else (
            "the log router runs an image pinned by digest: set ecsFireLensImage to "
            "public.ecr.aws/aws-observability/aws-for-fluent-bit@sha256:<digest> (docs/runtimes.md: finding it)")
    unused = _set_keys(cfg, _FIRE_LENS)
    return f"{', '.join(unused)} set while ecsFireLens is false: they would be ignored" if unused else None


@rule("ecsTaskCpu", "ecsTaskMemory", "ecsAdotCollectorCpu", "ecsAdotCollectorMemory", "ecsFireLensCpu",
      "ecsFireLensMemory")
def _sidecars_fit_the_task(cfg: StackConfig) -> str | None:
    # ECS refuses a task definition whose containers reserve more than the task size; the app keeps the rest.
    e = cfg.ecs
    sidecars = e.sidecar_reservations
    if not sidecars:
        return None
    cpu, memory = sum(c for _, c, _ in sidecars), sum(m for _, _, m in sidecars)
    if e.task_cpu - cpu >= APP_MIN_CPU and e.task_memory - memory >= APP_MIN_MEMORY:
        return None
    names = " + ".join(f"{key}Cpu {c}" for key, c, _ in sidecars)
    mems = " + ".join(f"{key}Memory {m}" for key, _, m in sidecars)
    return (f"the sidecars take {cpu} CPU units ({names}) and {memory} MiB ({mems}), leaving the app "
            f"{e.task_cpu - cpu} of ecsTaskCpu {e.task_cpu} and {e.task_memory - memory} of ecsTaskMemory "
            f"{e.task_memory}: the app needs at least {APP_MIN_CPU} CPU units and {APP_MIN_MEMORY} MiB. Raise "
            "ecsTaskCpu/ecsTaskMemory (a Fargate size) or lower the sidecars'")
