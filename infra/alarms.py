"""CloudWatch metric alarms as plain data plus one function that declares them: the ECS step scaling policy's alarm
today; alarms that notify (an SNS topic among their actions) use the same function.

An alarm's name is fixed (the provider replaces the alarm when it changes: alarm_name forces a new resource), and
every other field is updated in place by PutMetricAlarm, which replaces the whole alarm definition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

# CloudWatch statistics and operators an alarm on one metric can use (PutMetricAlarm's enums in botocore's model).
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
OPERATORS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
             "LessThanOrEqualToThreshold")


@dataclass(frozen=True, kw_only=True)
class AlarmSpec:
    """One alarm on one metric: ALARM when `datapoints` of the last `evaluation_periods` periods of `period` seconds
    compare to `threshold` with `operator`."""

    name: str
    description: str
    namespace: str
    metric: str
    dimensions: Mapping[str, pulumi.Input[str]]
    statistic: str
    period: int
    evaluation_periods: int
    threshold: float
    operator: str
    datapoints: int | None = None
    """Defaults to every period (`evaluation_periods`)."""
    treat_missing_data: str = "notBreaching"
    """No data is no load for traffic metrics (an ALB publishes nothing without requests)."""
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS or self.operator not in OPERATORS:
            raise ValueError(f"alarm {self.name}: statistic {self.statistic!r} or operator {self.operator!r} unknown")
        # PutMetricAlarm: Period is 10, 20, 30 (high resolution) or a multiple of 60, and Period x
        # EvaluationPeriods at most one day (CloudWatch API reference, PutMetricAlarm).
        if not (self.period in (10, 20, 30) or (self.period > 0 and self.period % 60 == 0)):
            raise ValueError(f"alarm {self.name}: period {self.period} must be 10, 20, 30 or a multiple of 60")
        if self.period * self.evaluation_periods > 86400:
            raise ValueError(f"alarm {self.name}: period x evaluation_periods must be at most 86400 seconds")
        if not 1 <= (self.datapoints or self.evaluation_periods) <= self.evaluation_periods:
            raise ValueError(f"alarm {self.name}: datapoints must be 1 to evaluation_periods")


def metric_alarm(resource_name: str, spec: AlarmSpec, actions: Sequence[pulumi.Input[str]],
                 opts: pulumi.ResourceOptions | None = None) -> aws.cloudwatch.MetricAlarm:
    """The alarm, invoking `actions` (scaling policy ARNs, SNS topic ARNs) when it enters ALARM. Passing the
    actions' resources as inputs makes the alarm be deleted before them."""
    return aws.cloudwatch.MetricAlarm(
        resource_name, name=spec.name, alarm_description=spec.description, namespace=spec.namespace,
        metric_name=spec.metric, dimensions=dict(spec.dimensions), statistic=spec.statistic, period=spec.period,
        evaluation_periods=spec.evaluation_periods, datapoints_to_alarm=spec.datapoints or spec.evaluation_periods,
        threshold=spec.threshold, comparison_operator=spec.operator, treat_missing_data=spec.treat_missing_data,
        actions_enabled=True, alarm_actions=list(actions), tags=dict(spec.tags), opts=opts)
