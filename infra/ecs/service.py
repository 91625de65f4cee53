"""AppService: the ECS service running the app's task behind the target group: capacity provider strategy, pinned
platform version, private subnets without public IPs, rolling deployments guarded by the circuit breaker (with
rollback) and awaited to steady state, AZ rebalancing (Fargate), managed tags, placement for EC2 tasks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .cluster import StrategyItem, strategy_input

TYPE = "webstack:ecs:AppService"


def placement(architecture: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """EC2 tasks: spread over AZs first, then pack by memory; only on instances of the image's architecture."""
    strategies = [{"type": "spread", "field": "attribute:ecs.availability-zone"},
                  {"type": "binpack", "field": "memory"}]
    arch = "arm64" if architecture == "arm64" else "x86_64"
    constraints = [{"type": "memberOf", "expression": f"attribute:ecs.cpu-architecture == {arch}"}]
    return strategies, constraints


@dataclass(frozen=True, kw_only=True)
class AppServiceArgs:
    name: str
    cluster_arn: pulumi.Input[str]
    task_definition_arn: pulumi.Input[str]
    strategy: Sequence[StrategyItem]
    platform_version: str | None
    """Fargate platform version (None on EC2 capacity, where it does not apply)."""
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_ids: Sequence[pulumi.Input[str]]
    target_group_arn: pulumi.Input[str]
    container_name: str
    container_port: int
    desired_count: int
    autoscaled: bool
    """Application Auto Scaling owns the task count: desiredCount is ignored after creation."""
    minimum_healthy_percent: int
    maximum_percent: int
    health_check_grace_period_seconds: int
    architecture: str
    ec2_placement: bool
    exec_enabled: bool
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)
    """Created after (deleted before) these: the target group and the rule attaching it to the ALB (the HTTPS
    listener comes after the service), the capacity provider association, EFS mount targets, NAT routes."""
    tags: Mapping[str, str]


class AppService(pulumi.ComponentResource):
    service_name: pulumi.Output[str]
    service_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AppServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        strategies, constraints = placement(args.architecture) if args.ec2_placement else (None, None)
        service = aws.ecs.Service(
            f"{name}-service",
            name=args.name,
            cluster=args.cluster_arn,
            task_definition=args.task_definition_arn,
            desired_count=args.desired_count,
            # A strategy, never launch_type; changing it needs a new deployment.
            capacity_provider_strategies=strategy_input(args.strategy),
            force_new_deployment=True,
            platform_version=args.platform_version,
            scheduling_strategy="REPLICA",
            deployment_controller={"type": "ECS"},
            network_configuration={"subnets": list(args.subnet_ids), "security_groups": list(args.security_group_ids),
                                   "assign_public_ip": False},
            load_balancers=[{"target_group_arn": args.target_group_arn, "container_name": args.container_name,
                             "container_port": args.container_port}],
            health_check_grace_period_seconds=args.health_check_grace_period_seconds,
            deployment_circuit_breaker={"enable": True, "rollback": True},
            deployment_minimum_healthy_percent=args.minimum_healthy_percent,
            deployment_maximum_percent=args.maximum_percent,
            wait_for_steady_state=True,
            # AWS counts services with a binpack strategy as incompatible with AZ rebalancing (they default to
            # DISABLED since 2025-06-30): the EC2 placement spreads over AZs first instead.
            availability_zone_rebalancing="DISABLED" if args.ec2_placement else "ENABLED",
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            enable_execute_command=args.exec_enabled,
            ordered_placement_strategies=strategies,
            placement_constraints=constraints,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after),
                                        ignore_changes=["desiredCount"] if args.autoscaled else None))
        self.service_name = service.name
        self.service_arn = service.id
        self.register_outputs({"service_name": self.service_name})
