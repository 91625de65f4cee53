"""AppService: the ECS service running the app's task behind the target group: capacity provider strategy, pinned
platform version, private subnets without public IPs, rolling (or native blue/green) deployments guarded by the
circuit breaker (with rollback; blue/green also by CloudWatch alarms) and awaited to steady state, AZ rebalancing
(Fargate), managed tags, placement for EC2 tasks."""

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
class BlueGreenSpec:
    """ECS native blue/green: what loadBalancers[0].advancedConfiguration names, the bake time and the alarms a
    deployment rolls back on."""

    alternate_target_group_arn: pulumi.Input[str]
    production_rule_arn: pulumi.Input[str]
    test_rule_arn: pulumi.Input[str]
    role_arn: pulumi.Input[str]
    bake_minutes: int
    alarm_names: Sequence[str]
    switching: bool
    """The one run that turns an existing rolling service blue/green: its load balancer settings are sent (they are
    ignored otherwise, see `load_balancer_ignores`)."""


def load_balancer_ignores(blue_green: BlueGreenSpec | None) -> list[str]:
    """ECS alternates the two target groups of a blue/green service; the provider sends `loadBalancers` in
    UpdateService only when it differs (terraform-provider-aws, resourceServiceUpdate: `d.HasChange("load_balancer")`)
    and then names the configured group production, which is what stops the alternation (terraform-provider-aws
    #45678). Ignoring `loadBalancers` keeps `pulumi up` from sending it again, whatever ECS now reports. The cost:
    the service's load balancer settings are set at creation, or in a run with `switching` (docs/operations.md)."""
    return ["loadBalancers"] if blue_green is not None and not blue_green.switching else []


def switching_warning(blue_green: BlueGreenSpec | None) -> str | None:
    """Left on after its run, the switching flag would resend `loadBalancers` at every `pulumi up` (#45678): say so
    at every plan, preview and up while it is on."""
    if blue_green is None or not blue_green.switching:
        return None
    return ("webstack:ecsBlueGreenSwitching is on: this run sends the service's load balancer settings (the switch to "
            "blue/green). Once `make up` has succeeded, remove the key and run `make up` again: left on, every run "
            "would resend them and could point production back at a target group ECS has stopped serving from "
            "(docs/operations.md, \"Switching an existing ECS stack to blue/green\").")


def deployment_settings(blue_green: BlueGreenSpec | None) -> dict[str, object]:
    """The service arguments of a blue/green deployment (none for rolling: the provider's defaults, today's)."""
    if blue_green is None:
        return {}
    return {"deployment_configuration": {"strategy": "BLUE_GREEN", "bake_time_in_minutes": blue_green.bake_minutes},
            "alarms": {"alarm_names": list(blue_green.alarm_names), "enable": True, "rollback": True}}


# terraform-provider-aws's aws_ecs_service waits (wait_for_steady_state) at most 20 minutes by default; a blue/green
# deployment is steady only after its bake time (DescribeServiceDeployments SUCCESSFUL), so its wait is the bake
# plus that.
PROVIDER_WAIT_MINUTES = 20


def service_timeouts(blue_green: BlueGreenSpec | None) -> pulumi.CustomTimeouts | None:
    """Create/update timeouts long enough for a blue/green deployment's bake time (None: the provider's)."""
    if blue_green is None:
        return None
    wait = f"{blue_green.bake_minutes + PROVIDER_WAIT_MINUTES}m"
    return pulumi.CustomTimeouts(create=wait, update=wait)


def load_balancer(args: AppServiceArgs) -> dict[str, object]:
    lb: dict[str, object] = {"target_group_arn": args.target_group_arn, "container_name": args.container_name,
                             "container_port": args.container_port}
    if (bg := args.blue_green) is not None:
        lb["advanced_configuration"] = {
            "alternate_target_group_arn": bg.alternate_target_group_arn,
            "production_listener_rule": bg.production_rule_arn, "test_listener_rule": bg.test_rule_arn,
            "role_arn": bg.role_arn}
    return lb


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
    blue_green: BlueGreenSpec | None = None
    """None: rolling deployments."""
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)
    """Created after (deleted before) these: the target group and the rule attaching it to the ALB (the HTTPS
    listener comes after the service), the capacity provider association, EFS mount targets, NAT routes."""
    tags: Mapping[str, str]


class AppService(pulumi.ComponentResource):
    service_name: pulumi.Output[str]
    service_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AppServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        if warning := switching_warning(args.blue_green):
            pulumi.log.warn(warning, self)
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
            load_balancers=[load_balancer(args)],
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
            **deployment_settings(args.blue_green),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after),
                                        custom_timeouts=service_timeouts(args.blue_green), ignore_changes=[
                *(["desiredCount"] if args.autoscaled else []), *load_balancer_ignores(args.blue_green)] or None))
        self.service_name = service.name
        self.service_arn = service.id
        self.register_outputs({"service_name": self.service_name})
