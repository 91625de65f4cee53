"""ServiceAutoScaling: Application Auto Scaling of the service's task count: min/max, target tracking on CPU,
memory and ALB requests per target (any subset), scheduled actions (cron with a time zone), and a step scale-out
policy on a CloudWatch alarm of ALB requests per target.

How the policies combine (PutScalingPolicy's documentation in botocore's Application Auto Scaling model; ECS
Developer Guide, "Target tracking scaling policies"): when several would scale at once, the one giving the largest
capacity wins, for scale-out and scale-in alike; the service scales out when any target tracking policy asks and in
only when all of them agree; a step scale-in is not blocked by target tracking, and target tracking may then scale
out again. So the step policy here only ever scales out, on the metric a target tracking policy also follows with a
lower target (infra/config/ecs.py refuses anything else): the step adds capacity fast on a burst, target tracking
removes it once the load is below its own target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..alarms import AlarmSpec, metric_alarm

TYPE = "webstack:ecs:ServiceAutoScaling"
DIMENSION = "ecs:service:DesiredCount"


@dataclass(frozen=True, kw_only=True)
class StepScaleOut:
    """Add `steps[i][1]` tasks when the ALB's requests per target per minute exceed `threshold` by at least
    `steps[i][0]`, for `evaluation_periods` consecutive minutes; then wait `cooldown` seconds."""

    threshold: int
    steps: Sequence[tuple[int, int]]
    evaluation_periods: int
    cooldown: int


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
    step: StepScaleOut | None = None


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
        if args.step is not None:
            self._step_scale_out(name, args, args.step, target, on_target)
        self.resource_id = target.resource_id
        self.register_outputs({"resource_id": self.resource_id})

    def _step_scale_out(self, name: str, args: ServiceAutoScalingArgs, step: StepScaleOut,
                        target: aws.appautoscaling.Target, on_target: pulumi.ResourceOptions) -> None:
        """The step policy and the alarm that invokes it (the alarm names the policy, so it is deleted first)."""
        bounds = [over for over, _ in step.steps]
        policy = aws.appautoscaling.Policy(
            f"{name}-requests-step", name=f"{args.cluster_name}-requests-step", policy_type="StepScaling",
            service_namespace="ecs", scalable_dimension=DIMENSION, resource_id=target.resource_id,
            step_scaling_policy_configuration={
                "adjustment_type": "ChangeInCapacity", "cooldown": step.cooldown, "metric_aggregation_type": "Average",
                # Bounds are relative to the alarm threshold: [over_i, over_i+1), the last one open-ended.
                "step_adjustments": [
                    {"metric_interval_lower_bound": str(over), "scaling_adjustment": add,
                     **({"metric_interval_upper_bound": str(bounds[i + 1])} if i + 1 < len(bounds) else {})}
                    for i, (over, add) in enumerate(step.steps)]},
            opts=on_target)
        metric_alarm(f"{name}-requests-step", requests_alarm(args, step), [policy.arn],
                     opts=pulumi.ResourceOptions(parent=self))


def requests_alarm(args: ServiceAutoScalingArgs, step: StepScaleOut) -> AlarmSpec:
    """RequestCountPerTarget of the service's target group (AWS/ApplicationELB; per minute; Sum is its only valid
    statistic and already the per-target average), the same metric ALBRequestCountPerTarget tracks."""
    return AlarmSpec(
        name=f"{args.cluster_name}-requests-step",
        description=(f"ALB requests per target above {step.threshold}/min for {step.evaluation_periods} min: step "
                     f"scale-out of the app service in cluster {args.cluster_name}"),
        namespace="AWS/ApplicationELB", metric="RequestCountPerTarget",
        dimensions={"LoadBalancer": args.alb_arn_suffix, "TargetGroup": args.target_group_arn_suffix},
        statistic="Sum", period=60, evaluation_periods=step.evaluation_periods, threshold=float(step.threshold),
        operator="GreaterThanThreshold", tags=args.tags)
