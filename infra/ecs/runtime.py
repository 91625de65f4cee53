"""The ECS runtime's wiring: cluster and capacity -> image -> ALB -> (EFS) -> task -> service -> auto scaling
-> (scheduled task). A plain function, not a component: the resources keep the URNs they always had.

Config -> Args happens here (and only here for the ECS components): each component takes explicit plain fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..config import StackConfig, alb_name
from ..config.ecs import ecs_cluster_name
from ..dns import Dns
from ..image import APP_UID, AppImage, AppImageArgs, app_contract
from ..monitoring import Alarms, EcsServiceMetrics
from ..network import Network
from ..registry import Registry
from ..waf import WebAcl
from ..wiring import account_id, alarms_args, waf_args
from .autoscaling import ScheduledCapacity, ServiceAutoScaling, ServiceAutoScalingArgs, StepScaleOut
from .cluster import Ec2CapacitySpec, EcsCluster, EcsClusterArgs
from .efs import AppFileSystem, AppFileSystemArgs
from .loadbalancer import AppLoadBalancer, AppLoadBalancerArgs, BlueGreenRouting
from .scheduled import ScheduledTask, ScheduledTaskArgs
from .service import AppService, AppServiceArgs, BlueGreenSpec
from .sidecars import CollectorSpec, LogRouterSpec
from .task import EXEC_VOLUMES, AppTask, AppTaskArgs, ContainerSpec


@dataclass(frozen=True, kw_only=True)
class EcsRuntime:
    """What the stack exports from the ECS runtime."""

    url: pulumi.Input[str]
    alb_hostname: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    image: AppImage
    service_name: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    alarms: Alarms
    firewall: WebAcl | None


def task_compatibilities(runs_on: str, fargate_compatible: bool) -> tuple[str, ...]:
    """EC2 tasks are EC2-only by default, so they keep Docker's no-new-privileges (Fargate refuses it). With
    ecsEc2FargateCompatible they declare FARGATE too, so the service can be moved back to Fargate: the task is
    Fargate-valid then (awsvpc, ecsTaskCpu/ecsTaskMemory a Fargate pair on every capacity: the rule _fargate_pair)."""
    if runs_on == "FARGATE":
        return ("FARGATE",)
    return ("EC2", "FARGATE") if fargate_compatible else ("EC2",)


def ecs_runtime(cfg: StackConfig, *, network: Network, registry: Registry, dns: Dns,
                tags: Mapping[str, str]) -> EcsRuntime:
    """No EKS or Kubernetes resource at all: ECS behind its own ALB, with a Route 53 alias."""
    ecs_cluster = EcsCluster("ecs", cluster_args(cfg, network, tags))
    image = AppImage("app", AppImageArgs(repository_url=registry.repository_url, registry_id=registry.registry_id,
                                         architecture=cfg.ecs.cpu_architecture))
    lb = AppLoadBalancer("web", load_balancer_args(cfg, network, dns, tags))
    account = account_id()
    firewall = WebAcl("firewall", waf_args(cfg, tags, alb_arn=lb.alb_arn, account=account)) if cfg.ops.waf else None
    green = lb.alternate_target_group
    # Before the service: the alarms need only the ALB and plain names (a deployment can roll back on them).
    alarms = Alarms("alarms", alarms_args(
        cfg, tags, load_balancer=lb.alb_arn_suffix, target_group=lb.target_group_arn_suffix,
        ecs_service=EcsServiceMetrics(cluster_name=ecs_cluster_name(cfg), service_name=cfg.app.name,
                                      container_insights=cfg.ecs.container_insights != "disabled"),
        firewall=firewall, after=[lb.target_group, lb.attach_rule, *([green] if green else [])], account=account,
        alternate_target_group=green.arn_suffix if green else None))
    files = AppFileSystem("files", file_system_args(cfg, network, lb, tags)) if cfg.ecs.efs_enabled else None
    task = AppTask("app", task_args(cfg, image, registry, files, tags))
    # Blue/green: the HTTPS listener and its rules come first (the service names them); ECS moves the traffic.
    routing = lb.route_blue_green() if cfg.ecs.deployment_strategy == "blue-green" else None
    blue_green = blue_green_spec(cfg, routing, alarms)
    # A blue/green service rolls back on the alarms, named as plain strings: depend on them, so they exist first.
    service = AppService("app", service_args(cfg, ecs_cluster, network, lb, files, task, tags, blue_green=blue_green,
                                             rollback_alarms=[alarms] if blue_green else []))
    if routing is None:
        # After the service: a new target group gets traffic only once the service is steady in it.
        lb.route_https(after=[service])
    ServiceAutoScaling("app", autoscaling_args(cfg, service, lb, tags))
    if cfg.ecs.scheduled_task_schedule:
        ScheduledTask("job", scheduled_task_args(cfg, ecs_cluster, network, lb, task, tags))
    return EcsRuntime(url=lb.url, alb_hostname=lb.dns_name, cluster_name=ecs_cluster.cluster_name, image=image,
                      service_name=service.service_name, task_definition_arn=task.task_definition_arn,
                      log_group_name=task.log_group_name, alarms=alarms, firewall=firewall)


def cluster_args(cfg: StackConfig, network: Network, tags: Mapping[str, str]) -> EcsClusterArgs:
    ecs = cfg.ecs
    ec2 = Ec2CapacitySpec(instance_type=ecs.ec2_instance_type, min_size=ecs.ec2_min_size, max_size=ecs.ec2_max_size,
                          disk_size_gb=ecs.ec2_disk_size_gb, target_capacity_percent=ecs.ec2_target_capacity_percent,
                          ami_id=cfg.versions.ecs_ami_id, provider_name=ecs.ec2_capacity_provider_name or None)
    return EcsClusterArgs(
        name=ecs_cluster_name(cfg), container_insights=ecs.container_insights, fargate_base=ecs.fargate_base,
        fargate_weight=ecs.fargate_weight, fargate_spot_weight=ecs.fargate_spot_weight,
        ec2=ec2 if ecs.capacity == "ec2" else None, vpc_id=network.vpc_id,
        private_subnet_ids=network.private_subnet_ids, egress_ready=network.private_default_routes,
        architecture=ecs.cpu_architecture, partition=cfg.partition,
        tags=tags)


def load_balancer_args(cfg: StackConfig, network: Network, dns: Dns, tags: Mapping[str, str]) -> AppLoadBalancerArgs:
    contract = app_contract()
    return AppLoadBalancerArgs(
        # Not the EKS Ingress's ALB name: switching runtimes creates this ALB before that one is deleted.
        name=alb_name(ecs_cluster_name(cfg), "ecs"), vpc_id=network.vpc_id, vpc_cidr=cfg.network.vpc_cidr,
        public_subnet_ids=network.public_subnet_ids, container_port=contract["port"],
        health_path=contract["healthPath"], certificate_arn=dns.certificate_arn, ssl_policy=cfg.app.ssl_policy,
        hostname=cfg.dns.hostname, zone_id=dns.zone_id, deletion_protection=cfg.ops.protected,
        take_over_record=cfg.ecs.take_over_hostname_record, nfs_egress=cfg.ecs.efs_enabled,
        blue_green=cfg.ecs.deployment_strategy == "blue-green", partition=cfg.partition, tags=tags)


def blue_green_spec(cfg: StackConfig, routing: BlueGreenRouting | None, alarms: Alarms) -> BlueGreenSpec | None:
    """Blue/green: the routing's rules and role, the bake time, and the alarms a deployment rolls back on (the 5xx
    rate and no healthy target: plain names, the alarms exist before the service)."""
    if routing is None:
        return None
    return BlueGreenSpec(
        alternate_target_group_arn=routing.alternate_target_group_arn, production_rule_arn=routing.production_rule_arn,
        test_rule_arn=routing.test_rule_arn, role_arn=routing.role_arn, bake_minutes=cfg.ecs.blue_green_bake_minutes,
        alarm_names=alarms.rollback_alarm_names, switching=cfg.ecs.blue_green_switching)


def file_system_args(cfg: StackConfig, network: Network, lb: AppLoadBalancer,
                     tags: Mapping[str, str]) -> AppFileSystemArgs:
    return AppFileSystemArgs(
        vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids, task_security_group_id=lb.task_security_group_id,
        posix_uid=APP_UID, posix_gid=APP_UID, root_directory=cfg.ecs.efs_root_directory,
        transition_to_ia=cfg.ecs.efs_transition_to_ia, protect=cfg.ecs.efs_protect, tags=tags)


def task_args(cfg: StackConfig, image: AppImage, registry: Registry, files: AppFileSystem | None,
              tags: Mapping[str, str]) -> AppTaskArgs:
    ecs, contract = cfg.ecs, app_contract()
    runs_on = "EC2" if ecs.capacity == "ec2" else "FARGATE"
    container = ContainerSpec(
        name=cfg.app.name, port=contract["port"], health_path=contract["healthPath"], user=str(APP_UID),
        environment=ecs.environment, secrets=ecs.secrets,
        # Fargate Spot warns 2 minutes ahead: let nginx finish its requests (default stopTimeout is 30 s).
        stop_timeout=120 if ecs.spot else None, init_process=ecs.exec_enabled,
        exec_volumes=EXEC_VOLUMES[runs_on] if ecs.exec_enabled else (),
        extra_mount=("files", ecs.efs_mount_path) if files else None, environment_files=ecs.environment_files)
    return AppTaskArgs(
        family=f"{ecs_cluster_name(cfg)}-{cfg.app.name}", container=container, image=image.repo_digest,
        repository_arn=registry.repository_arn, cpu=ecs.task_cpu, memory=ecs.task_memory,
        architecture=ecs.cpu_architecture, compatibilities=task_compatibilities(runs_on, ecs.ec2_fargate_compatible),
        log_retention_days=ecs.log_retention_days, secrets_kms_key_arn=ecs.secrets_kms_key_arn,
        exec_enabled=ecs.exec_enabled, region=cfg.region, partition=cfg.partition,
        account_id=aws.get_caller_identity_output().account_id,
        extra_volumes=[files.volume("files")] if files else [],
        extra_task_policies=[("efs", files.client_policy(writable=True))] if files else [],
        environment_files_kms_key_arn=ecs.environment_files_kms_key_arn, collector=collector_spec(cfg),
        log_router=log_router_spec(cfg), tags=tags)


def collector_spec(cfg: StackConfig) -> CollectorSpec | None:
    ecs = cfg.ecs
    if not ecs.adot_collector:
        return None
    return CollectorSpec(image=ecs.adot_collector_image, cpu=ecs.adot_collector_cpu,
                         memory=ecs.adot_collector_memory, metrics_namespace=ecs.adot_metrics_namespace)


def log_router_spec(cfg: StackConfig) -> LogRouterSpec | None:
    ecs = cfg.ecs
    if not ecs.fire_lens:
        return None
    return LogRouterSpec(image=ecs.fire_lens_image, cpu=ecs.fire_lens_cpu, memory=ecs.fire_lens_memory)


def service_args(cfg: StackConfig, ecs_cluster: EcsCluster, network: Network, lb: AppLoadBalancer,
                 files: AppFileSystem | None, task: AppTask, tags: Mapping[str, str],
                 blue_green: BlueGreenSpec | None = None,
                 rollback_alarms: Sequence[pulumi.Resource] = ()) -> AppServiceArgs:
    ecs, ec2 = cfg.ecs, cfg.ecs.capacity == "ec2"
    return AppServiceArgs(
        name=cfg.app.name, cluster_arn=ecs_cluster.cluster_arn, task_definition_arn=task.task_definition_arn,
        strategy=ecs_cluster.strategy, platform_version=None if ec2 else cfg.versions.fargate_platform,
        subnet_ids=network.private_subnet_ids, security_group_ids=[lb.task_security_group_id],
        target_group_arn=lb.target_group_arn, container_name=task.container_name,
        container_port=app_contract()["port"], desired_count=ecs.min_tasks, autoscaled=True,
        minimum_healthy_percent=ecs.minimum_healthy_percent, maximum_percent=ecs.maximum_percent,
        health_check_grace_period_seconds=ecs.health_check_grace_period_seconds,
        architecture=ecs.cpu_architecture, ec2_placement=ec2, exec_enabled=ecs.exec_enabled, blue_green=blue_green,
        # The target group attached to the ALB (ECS refuses one no load balancer uses), the capacity provider
        # association, EFS mount targets and NAT egress (tasks in the private subnets pull from ECR through it).
        after=[lb.attach_rule, lb.target_group, ecs_cluster.association, *(files.mount_targets if files else []),
               *network.private_default_routes, *(routing.ready if (routing := lb.blue_green_routing) else ()),
               *rollback_alarms],
        tags=tags)


def autoscaling_args(cfg: StackConfig, service: AppService, lb: AppLoadBalancer,
                     tags: Mapping[str, str]) -> ServiceAutoScalingArgs:
    ecs = cfg.ecs
    return ServiceAutoScalingArgs(
        cluster_name=ecs_cluster_name(cfg), service_name=service.service_name, min_tasks=ecs.min_tasks,
        max_tasks=ecs.max_tasks, cpu_percent=ecs.scale_on_cpu_percent or None,
        memory_percent=ecs.scale_on_memory_percent or None,
        requests_per_target=ecs.scale_on_requests_per_target or None, alb_arn_suffix=lb.alb_arn_suffix,
        target_group_arn_suffix=lb.target_group_arn_suffix,
        scheduled=[ScheduledCapacity(name=s.name, schedule=s.schedule, timezone=s.timezone, min_tasks=s.min_tasks,
                                     max_tasks=s.max_tasks) for s in ecs.scheduled_scaling],
        step=StepScaleOut(threshold=step.threshold, steps=step.steps, evaluation_periods=step.evaluation_periods,
                          cooldown=step.cooldown) if (step := ecs.step_scaling) else None,
        tags=tags)


def scheduled_task_args(cfg: StackConfig, ecs_cluster: EcsCluster, network: Network, lb: AppLoadBalancer,
                        task: AppTask, tags: Mapping[str, str]) -> ScheduledTaskArgs:
    ecs = cfg.ecs
    return ScheduledTaskArgs(
        cluster_arn=ecs_cluster.cluster_arn, task_definition_arn=task.task_definition_arn,
        task_definition_family=task.family, container_name=task.container_name,
        command=ecs.scheduled_task_command, schedule_expression=ecs.scheduled_task_schedule,
        schedule_timezone=ecs.scheduled_task_timezone, subnet_ids=network.private_subnet_ids,
        security_group_ids=[lb.task_security_group_id], capacity_provider_strategy=ecs_cluster.strategy,
        task_role_arn=task.task_role_arn, execution_role_arn=task.execution_role_arn,
        # Every run names the lock's platform version, as the service does; on Fargate only (ECS wants none with an
        # EC2 capacity provider).
        platform_version=None if ecs.capacity == "ec2" else cfg.versions.fargate_platform, tags=tags)
