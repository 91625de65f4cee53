"""ServiceAutoScaling: Application Auto Scaling of the service's task count: min/max, target tracking on CPU,
memory and ALB requests per target (any subset), and scheduled actions (cron with a time zone)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

TYPE = "webstack:ecs:ServiceAutoScaling"
DIMENSION = "ecs:service:DesiredCount"


@dataclass(frozen=True, kw_only=True)
class ScheduledCapacity:
    """At `schedule` (cron(...) in `timezone`), set the task count bounds to min..max (e.g. 0..0 at night)."""

    name: str
    schedule: str
    timezone: str
    min_tasks: int
    max_tasks: int


@dataclass(frozen=True, kw_only=True)
class ServiceAutoScalingArgs:
    cluster_name: str
    service_name: pulumi.Input[str]
    min_tasks: int
    max_tasks: int
    cpu_percent: int | None
    memory_percent: int | None
    requests_per_target: int | None
    alb_arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]
    scheduled: Sequence[ScheduledCapacity]
    tags: dict[str, str]


class ServiceAutoScaling(pulumi.ComponentResource):
    resource_id: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceAutoScalingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        resource_id = pulumi.Output.concat("service/", args.cluster_name, "/", args.service_name)
        target = aws.appautoscaling.Target(
            f"{name}-target", service_namespace="ecs", scalable_dimension=DIMENSION, resource_id=resource_id,
            min_capacity=args.min_tasks, max_capacity=args.max_tasks, tags=args.tags,
            # Scheduled actions move the bounds (0..0 at night): a `pulumi up` must not put them back until the
            # next action fires, so with schedules the bounds given here are the initial ones only.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["minCapacity", "maxCapacity"]
                                        if args.scheduled else None))
        on_target = pulumi.ResourceOptions(parent=self, depends_on=[target])

        metrics: list[tuple[str, str, int, pulumi.Input[str] | None]] = []
        if args.cpu_percent is not None:
            metrics.append(("cpu", "ECSServiceAverageCPUUtilization", args.cpu_percent, None))
        if args.memory_percent is not None:
            metrics.append(("memory", "ECSServiceAverageMemoryUtilization", args.memory_percent, None))
        if args.requests_per_target is not None:
            label = pulumi.Output.concat(args.alb_arn_suffix, "/", args.target_group_arn_suffix)
            metrics.append(("requests", "ALBRequestCountPerTarget", args.requests_per_target, label))
        for short, metric, value, label in metrics:
            spec: dict[str, pulumi.Input[str]] = {"predefined_metric_type": metric}
            if label is not None:
                spec["resource_label"] = label
            aws.appautoscaling.Policy(
                f"{name}-{short}", name=f"{args.cluster_name}-{short}", policy_type="TargetTrackingScaling",
                service_namespace="ecs", scalable_dimension=DIMENSION, resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration={
                    "target_value": float(value), "predefined_metric_specification": spec,
                    "scale_in_cooldown": 300, "scale_out_cooldown": 60, "disable_scale_in": False},
                opts=on_target)
        for action in args.scheduled:
            aws.appautoscaling.ScheduledAction(
                f"{name}-{action.name}", name=f"{args.cluster_name}-{action.name}", service_namespace="ecs",
                scalable_dimension=DIMENSION, resource_id=target.resource_id, schedule=action.schedule,
                timezone=action.timezone,
                scalable_target_action={"min_capacity": action.min_tasks, "max_capacity": action.max_tasks},
                opts=on_target)
        self.resource_id = target.resource_id
        self.register_outputs({"resource_id": self.resource_id})
