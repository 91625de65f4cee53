"""AppTask: the app's task definition, its log group, execution role and task role.

`container_definitions` is sent as canonical JSON, the form ECS returns from DescribeTaskDefinition (containers
sorted by name, defaults filled, lists present, environment sorted), because the provider compares the text:
anything else shows a diff and replaces the task definition on every `pulumi up` (pulumi-aws #4576, #5256).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import iam
from .sidecars import (
    CollectorSpec,
    LogRouterSpec,
    collector_container,
    firelens_logs,
    log_router_container,
    reservations,
    sidecar_dependencies,
)

TYPE = "webstack:ecs:AppTask"
# "Task definition max containers: 10" (ECS service quotas, not adjustable).
MAX_CONTAINERS = 10
# Where nginx writes with a read-only root filesystem (pid and temp files, see app/nginx.conf). The image declares
# the same path as a VOLUME so Fargate gives the bind mount the image's ownership and mode (app/Dockerfile).
SCRATCH_VOLUME = "tmp"
SCRATCH_PATH = "/tmp"
# ECS Exec runs the SSM agent inside the app container; with a read-only root filesystem the paths it writes must
# be volumes (aws/containers-roadmap#1359; the agent runs as root, so root-owned bind mounts suit it): its state
# (/var/lib/amazon/ssm, the agent's DefaultDataStorePath) and its log directory. On Fargate also /managed-agents.
# On EC2 the ECS agent bind-mounts the SSM agent's binaries under /ecs-execute-command-<uuid> and the log directory
# /var/log/amazon/ssm itself (amazon-ecs-agent agent/engine/execcmd/manager_init_task_linux.go, InitializeContainer:
# `getBindMountMapping(filepath.Join(HostLogDir, taskId, cn), ContainerLogDir)`): a task volume there as well would
# be a second mount at one destination, which Docker refuses ("Duplicate mount point"), so no container starts.
EXEC_VOLUMES: dict[str, tuple[tuple[str, str], ...]] = {
    "FARGATE": (("exec-agents", "/managed-agents"), ("exec-ssm-lib", "/var/lib/amazon/ssm"),
                ("exec-ssm-log", "/var/log/amazon/ssm")),
    "EC2": (("exec-ssm-lib", "/var/lib/amazon/ssm"),),
}
# What the ECS agent on an EC2 container instance mounts into a container with ECS Exec (see above).
EC2_AGENT_EXEC_MOUNTS = ("/var/log/amazon/ssm",)
# ECS's defaults for what a container definition omits, as DescribeTaskDefinition returns them.
_LIST_DEFAULTS = ("environment", "mountPoints", "portMappings", "volumesFrom", "systemControls")


def canonical_container_definitions(containers: Sequence[Mapping[str, Any]]) -> str:
    """The JSON ECS would return for these container definitions: containers sorted by name, `cpu` 0,
    `essential` true, empty lists present, `hostPort` = `containerPort` and protocol tcp (awsvpc), environment
    and secrets sorted by name, `dependsOn` by container name, keys sorted, compact. `environmentFiles` keep their
    order (it is ECS's order of precedence). Idempotent."""
    out = []
    for c in sorted(containers, key=lambda c: str(c["name"])):
        d: dict[str, Any] = json.loads(json.dumps(c))
        d.setdefault("cpu", 0)
        d.setdefault("essential", True)
        for key in _LIST_DEFAULTS:
            d.setdefault(key, [])
        d["portMappings"] = [{"hostPort": p["containerPort"], "protocol": "tcp", **p} for p in d["portMappings"]]
        d["environment"] = sorted(d["environment"], key=lambda e: e["name"])
        if "secrets" in d:
            d["secrets"] = sorted(d["secrets"], key=lambda e: e["name"])
        if "dependsOn" in d:  # ECS keeps the order given: ours is by container name
            d["dependsOn"] = sorted(d["dependsOn"], key=lambda e: e["containerName"])
        d["mountPoints"] = [{"readOnly": False, **m} for m in d["mountPoints"]]
        out.append(d)
    return _go_json(out)


def _go_json(value: Any) -> str:
    """JSON as Go's encoding/json writes it (the provider re-marshals the text it stores): keys sorted, compact,
    UTF-8 kept, and <, >, &, U+2028, U+2029 escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


@dataclass(frozen=True, kw_only=True)
class ContainerSpec:
    """Everything of the app container that is plain data (the image and log group come as Outputs)."""

    name: str
    port: int
    health_path: str
    user: str
    environment: Sequence[tuple[str, str]] = ()
    secrets: Sequence[tuple[str, str]] = ()
    """Env var name -> SSM parameter or Secrets Manager ARN."""
    stop_timeout: int | None = None
    init_process: bool = False
    exec_volumes: Sequence[tuple[str, str]] = ()
    """(volume name, container path) the SSM agent of ECS Exec writes to (EXEC_VOLUMES of the capacity)."""
    extra_mount: tuple[str, str] | None = None
    """(volume name, container path) of an extra volume, e.g. the EFS one."""
    environment_files: Sequence[str] = ()
    """S3 object ARNs of .env files, in ECS's order of precedence (the first value of a variable wins)."""


def container_definition(spec: ContainerSpec, image: str, log_group: str, region: str,
                         compatibilities: Sequence[str]) -> dict[str, Any]:
    """The app container: non-root, read-only root filesystem, ALL capabilities dropped, no-new-privileges on EC2,
    writable scratch volume, health check, awslogs."""
    mounts = [{"sourceVolume": SCRATCH_VOLUME, "containerPath": SCRATCH_PATH, "readOnly": False}]
    mounts += [{"sourceVolume": v, "containerPath": path, "readOnly": False} for v, path in spec.exec_volumes]
    if spec.extra_mount:
        mounts.append({"sourceVolume": spec.extra_mount[0], "containerPath": spec.extra_mount[1], "readOnly": False})
    linux: dict[str, Any] = {"capabilities": {"add": [], "drop": ["ALL"]}}
    if spec.init_process:
        linux["initProcessEnabled"] = True  # ECS Exec's agent needs an init process to reap its children
    c: dict[str, Any] = {
        "name": spec.name,
        "image": image,
        "essential": True,
        "user": spec.user,
        "readonlyRootFilesystem": True,
        "portMappings": [{"containerPort": spec.port, "hostPort": spec.port, "protocol": "tcp"}],
        "mountPoints": mounts,
        "environment": [{"name": k, "value": v} for k, v in spec.environment],
        "linuxParameters": linux,
        "healthCheck": {
            "command": ["CMD", "wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{spec.port}{spec.health_path}"],
            "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 10},
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": spec.name}},
    }
    if "FARGATE" not in compatibilities:
        # Setuid binaries gain nothing (Docker's --security-opt no-new-privileges, the ECS analogue of Kubernetes'
        # allowPrivilegeEscalation: false). A definition valid on Fargate may not carry dockerSecurityOptions
        # (Fargate refuses them); the EC2 agent passes it to Docker
        # (amazon-ecs-agent 1.13.0: "Add support for security-opt=no-new-privileges").
        c["dockerSecurityOptions"] = ["no-new-privileges"]
    if spec.secrets:
        c["secrets"] = [{"name": k, "valueFrom": v} for k, v in spec.secrets]
    if spec.environment_files:
        c["environmentFiles"] = [{"value": arn, "type": "s3"} for arn in spec.environment_files]
    if spec.stop_timeout is not None:
        c["stopTimeout"] = spec.stop_timeout
    return c


@dataclass(frozen=True, kw_only=True)
class AppTaskArgs:
    family: str
    container: ContainerSpec
    image: pulumi.Input[str]
    """By digest: `repo@sha256:...`."""
    repository_arn: pulumi.Input[str]
    cpu: int
    memory: int
    architecture: str  # amd64 | arm64
    compatibilities: Sequence[str]
    """requiresCompatibilities: FARGATE, or EC2 and FARGATE on EC2 capacity (the service can move back to Fargate:
    docs/operations.md "Changing `ecsCapacity` from `ec2` to `fargate`")."""
    log_retention_days: int
    secrets_kms_key_arn: str | None
    exec_enabled: bool
    region: str
    partition: str
    account_id: pulumi.Input[str]
    extra_volumes: Sequence[Any] = field(default_factory=tuple)
    """Task definition volumes beyond the scratch one (aws.ecs.TaskDefinitionVolumeArgs, e.g. EFS)."""
    extra_task_policies: Sequence[tuple[str, pulumi.Input[str]]] = field(default_factory=tuple)
    """(name, policy JSON) put on the task role, e.g. the EFS client policy."""
    environment_files_kms_key_arn: str | None = None
    collector: CollectorSpec | None = None
    """An ADOT collector sidecar (traces to X-Ray, metrics as EMF into a metrics log group of the stack)."""
    log_router: LogRouterSpec | None = None
    """A FireLens log router sidecar: the app's logs go through it into the task's log group."""
    tags: Mapping[str, str]


def task_containers(args: AppTaskArgs, image: str, log_group: str, metrics_log_group: str | None) -> list[Any]:
    """The app container and its sidecars. With sidecars the app starts after them and reserves what they leave of
    the task size (its CPU share under contention; a soft memory reservation, the task size bounding it)."""
    app = container_definition(args.container, image, log_group, args.region, args.compatibilities)
    sidecars: list[dict[str, Any]] = []
    if args.collector:
        sidecars.append(collector_container(args.collector, log_group=log_group,
                                            metrics_log_group=metrics_log_group or "", region=args.region))
    if args.log_router:
        sidecars.append(log_router_container(args.log_router, log_group=log_group, region=args.region))
        app["logConfiguration"] = firelens_logs(log_group, args.region, args.container.name)
    if not sidecars:
        return [app]
    if "FARGATE" not in args.compatibilities:  # no-new-privileges like the app (Fargate refuses the option)
        for sidecar in sidecars:
            sidecar["dockerSecurityOptions"] = list(app["dockerSecurityOptions"])
    cpu, memory = reservations(sidecars)
    if len(sidecars) + 1 > MAX_CONTAINERS or cpu >= args.cpu or memory >= args.memory:
        raise ValueError(f"{len(sidecars) + 1} containers reserving {cpu} CPU units and {memory} MiB do not fit a "
                         f"task of {args.cpu} CPU units and {args.memory} MiB (at most {MAX_CONTAINERS} containers)")
    app["dependsOn"] = sidecar_dependencies(args.collector is not None, args.log_router is not None)
    app["cpu"], app["memoryReservation"] = args.cpu - cpu, args.memory - memory
    return [app, *sidecars]


class AppTask(pulumi.ComponentResource):
    task_definition_arn: pulumi.Output[str]
    family: str
    container_name: str
    log_group_name: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]
    task_role_name: pulumi.Output[str]

    def __init__(self, name: str, args: AppTaskArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        log_group = aws.cloudwatch.LogGroup(f"{name}-logs", name=f"/ecs/{args.family}",
                                            retention_in_days=args.log_retention_days, tags=tags, opts=child)
        trust = iam.json_output(lambda account: iam.ecs_tasks_trust_policy(args.partition, args.region, account),
                                args.account_id)

        # Execution role: used by the ECS agent to start the task (pull, logs, secrets); never by the app.
        execution = aws.iam.Role(f"{name}-execution", assume_role_policy=trust, tags=tags, opts=child)
        secret_arns = [arn for _, arn in args.container.secrets]
        policies = [aws.iam.RolePolicy(f"{name}-execution", role=execution.id, policy=iam.json_output(
            lambda repo, group: iam.ecs_execution_policy(
                repo, group, secret_arns, args.secrets_kms_key_arn, args.container.environment_files,
                args.environment_files_kms_key_arn),
            args.repository_arn, log_group.arn), opts=child)]

        # Task role: the app's own AWS calls. The static site makes none; ECS Exec, EFS and the sidecars add theirs.
        task_role = aws.iam.Role(f"{name}-task", assume_role_policy=trust, tags=tags, opts=child)
        metrics_group = self._metrics_log_group(name, args, tags) if args.collector else None
        policies += self._task_role_policies(name, args, task_role, log_group, metrics_group)

        metrics_name = metrics_group.name if metrics_group else None
        definitions = pulumi.Output.all(args.image, log_group.name, metrics_name).apply(
            lambda v: canonical_container_definitions(task_containers(args, v[0], v[1], v[2])))
        task = aws.ecs.TaskDefinition(
            f"{name}-taskdef",
            family=args.family,
            cpu=str(args.cpu),
            memory=str(args.memory),
            network_mode="awsvpc",
            requires_compatibilities=list(args.compatibilities),
            runtime_platform={"operating_system_family": "LINUX",
                              "cpu_architecture": "ARM64" if args.architecture == "arm64" else "X86_64"},
            execution_role_arn=execution.arn,
            task_role_arn=task_role.arn,
            container_definitions=definitions,
            volumes=[{"name": SCRATCH_VOLUME}, *({"name": v} for v, _ in args.container.exec_volumes),
                     *args.extra_volumes],
            tags=tags,
            # Tasks start only once both roles can do their job; the policies outlive the service at destroy.
            opts=pulumi.ResourceOptions(parent=self, depends_on=policies))

        self.task_definition_arn = task.arn
        self.family = args.family
        self.container_name = args.container.name
        self.log_group_name = log_group.name
        self.execution_role_arn = execution.arn
        self.task_role_arn = task_role.arn
        self.task_role_name = task_role.name
        self.register_outputs({"task_definition_arn": self.task_definition_arn,
                               "execution_role_arn": self.execution_role_arn, "task_role_arn": self.task_role_arn})

    def _metrics_log_group(self, name: str, args: AppTaskArgs, tags: dict[str, str]) -> aws.cloudwatch.LogGroup:
        """Where the collector writes the app's metrics as EMF events (CloudWatch extracts the metrics), with the
        stack's retention: created here so the exporter never creates one that would never expire."""
        return aws.cloudwatch.LogGroup(f"{name}-metrics", name=f"/ecs/{args.family}/metrics",
                                       retention_in_days=args.log_retention_days, tags=tags,
                                       opts=pulumi.ResourceOptions(parent=self))

    def _task_role_policies(self, name: str, args: AppTaskArgs, task_role: aws.iam.Role,
                            log_group: aws.cloudwatch.LogGroup,
                            metrics_group: aws.cloudwatch.LogGroup | None) -> list[aws.iam.RolePolicy]:
        child = pulumi.ResourceOptions(parent=self)
        documents: list[tuple[str, pulumi.Input[str]]] = []
        if args.exec_enabled:
            documents.append(("exec", iam.to_json(iam.ecs_exec_policy())))
        documents += list(args.extra_task_policies)
        if metrics_group is not None:
            documents.append(("otel", iam.json_output(iam.ecs_otel_collector_policy, metrics_group.arn)))
        if args.log_router:
            documents.append(("firelens", iam.json_output(iam.ecs_firelens_policy, log_group.arn)))
        return [aws.iam.RolePolicy(f"{name}-task-{short}", role=task_role.id, policy=document, opts=child)
                for short, document in documents]
