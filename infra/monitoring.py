"""Alarms: who is told when users feel something, and what they see. An SNS topic encrypted with its own KMS key
(CloudWatch can publish to it; the AWS managed key could not allow that), an e-mail subscription per
`alarmEmails` address, CloudWatch alarms on the app's ALB and target group (5xx rate, no healthy target, p99
response time) and, on ECS, on the service's running tasks, and a dashboard of the same metrics.

Every alarm is named `<prefix>-<what>` (plain strings, known before anything exists): ECS deployment alarms (a
blue/green rollback) can name them without waiting for them. The alarms watch what `after` lists (the ALB, or on
EKS the Ingress whose ALB the controller makes): created after it, deleted before it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from . import iam

TYPE = "webstack:ops:Alarms"
ALB = "AWS/ApplicationELB"
INSIGHTS = "ECS/ContainerInsights"
WAF = "AWS/WAFV2"
MINUTE = 60
RUNBOOK = "docs/operations.md#alarms"
CONSOLES = {"aws": "console.aws.amazon.com", "aws-us-gov": "console.amazonaws-us-gov.com",
            "aws-cn": "console.amazonaws.cn"}


@dataclass(frozen=True, kw_only=True)
class EcsServiceMetrics:
    """The ECS service whose task counts Container Insights reports (plain names: known before the service)."""

    cluster_name: str
    service_name: str
    container_insights: bool
    """Container Insights on (enabled or enhanced): the running-tasks alarm exists and the no-healthy-targets
    alarm ignores a service scaled to zero."""


@dataclass(frozen=True, kw_only=True)
class AlarmsArgs:
    prefix: str
    """Names: `<prefix>-alarms` (topic, dashboard), `<prefix>-<alarm>`; letters, digits, '-' and '_' only."""
    emails: Sequence[str]
    load_balancer: pulumi.Input[str]
    """The ALB's ARN suffix, `app/<name>/<id>` (the CloudWatch dimension LoadBalancer)."""
    target_group: pulumi.Input[str]
    """The app's target group's ARN suffix, `targetgroup/<name>/<id>` (the dimension TargetGroup)."""
    five_xx_percent: int
    latency_p99_ms: int
    ecs_service: EcsServiceMetrics | None
    """ECS: the service's task alarms; None on EKS."""
    waf_metric_name: str | None
    """The metric name of the web ACL in front of the ALB (its WebACL dimension), for the dashboard (None: no
    firewall)."""
    after: Sequence[pulumi.Resource]
    """What the alarms watch: they are created after it and deleted before it."""
    region: str
    partition: str
    account_id: pulumi.Input[str]
    tags: Mapping[str, str]
    alternate_target_group: pulumi.Input[str] | None = None
    """ECS blue/green: the second target group's ARN suffix. The tasks move between the two at every deployment, so
    the healthy count is their sum and the p99 is the load balancer's (a percentile cannot be summed)."""


class Alarms(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    alarm_names: dict[str, str]
    """key (five-xx-rate, no-healthy-targets, latency-p99, running-tasks) -> alarm name."""
    alarm_arns: dict[str, pulumi.Output[str]]
    rollback_alarm_names: list[str]
    """The alarms a deployment should roll back on: the 5xx rate and no healthy target."""
    dashboard_name: str
    dashboard_url: str

    def __init__(self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        topic, policy = self._topic(name, args)
        watch = pulumi.ResourceOptions(parent=self, depends_on=[*args.after, policy])
        actions = [topic.arn]
        alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        for key, spec in alarm_specs(args).items():
            alarms[key] = aws.cloudwatch.MetricAlarm(
                f"{name}-{key}", name=f"{args.prefix}-{key}", alarm_actions=actions, ok_actions=actions,
                tags=dict(args.tags), opts=watch, **spec)
        self.alarm_names = {key: f"{args.prefix}-{key}" for key in alarms}
        self.alarm_arns = {key: alarm.arn for key, alarm in alarms.items()}
        self.rollback_alarm_names = [self.alarm_names["five-xx-rate"], self.alarm_names["no-healthy-targets"]]
        self.dashboard_name = f"{args.prefix}-app"
        body = pulumi.Output.all(args.load_balancer, args.target_group, *self.alarm_arns.values()).apply(
            lambda v: json.dumps(dashboard_body(args, v[0], v[1], list(v[2:])), sort_keys=True))
        aws.cloudwatch.Dashboard(f"{name}-dashboard", dashboard_name=self.dashboard_name, dashboard_body=body,
                                 opts=watch)
        console = CONSOLES.get(args.partition, CONSOLES["aws"])
        self.dashboard_url = (f"https://{console}/cloudwatch/home?region={args.region}"
                              f"#dashboards/dashboard/{self.dashboard_name}")
        self.topic_arn = topic.arn
        self.register_outputs({"topic_arn": self.topic_arn, "dashboard_name": self.dashboard_name,
                               **{f"alarm_{k.replace('-', '_')}": v for k, v in self.alarm_arns.items()}})

    def _topic(self, name: str, args: AlarmsArgs) -> tuple[aws.sns.Topic, aws.sns.TopicPolicy]:
        """The topic, its key (CloudWatch may use it for this stack's alarms only), the policy letting those
        alarms publish, and one e-mail subscription per address. SNS sends each address a confirmation e-mail:
        until someone clicks it, nothing is delivered there (Pulumi cannot confirm; the subscription stays
        "pending confirmation", and AWS drops unconfirmed ones after 3 days)."""
        tags, child = dict(args.tags), pulumi.ResourceOptions(parent=self)
        topic_name = f"{args.prefix}-alarms"
        key_policy = iam.json_output(lambda account: iam.alarm_topic_key_policy(args.partition, account),
                                     args.account_id)
        key = aws.kms.Key(f"{name}-topic-key", description=f"SNS topic {topic_name}: alarm notifications",
                          policy=key_policy, enable_key_rotation=True, deletion_window_in_days=30, tags=tags,
                          opts=child)
        aws.kms.Alias(f"{name}-topic-key", name=f"alias/{topic_name}", target_key_id=key.key_id, opts=child)
        topic = aws.sns.Topic(f"{name}-topic", name=topic_name, kms_master_key_id=key.arn, tags=tags, opts=child)
        policy = aws.sns.TopicPolicy(
            f"{name}-topic-policy", arn=topic.arn,
            policy=iam.json_output(lambda arn, account: iam.alarm_topic_policy(
                arn, args.partition, args.region, account, args.prefix), topic.arn, args.account_id),
            opts=child)
        for address in args.emails:
            # Named by a digest of the address: adding or removing one never renames the others.
            digest = hashlib.sha256(address.lower().encode()).hexdigest()[:10]
            aws.sns.TopicSubscription(f"{name}-email-{digest}", topic=topic.arn, protocol="email", endpoint=address,
                                      opts=child)
        if not args.emails:
            pulumi.log.warn("webstack:alarmEmails is empty: the alarms notify a topic nobody is subscribed to. "
                            "List your on-call addresses (docs/operations.md \"Alarms\").", resource=self)
        return topic, policy


# --- the alarms, as plain data -----------------------------------------------------------------------------------
def metric(metric_id: str, namespace: str, name: str, stat: str, dimensions: Mapping[str, Any]) -> dict[str, Any]:
    """One metric query of a metric-math alarm (not returned: an expression uses it)."""
    return {"id": metric_id, "return_data": False, "metric": {
        "namespace": namespace, "metric_name": name, "stat": stat, "period": MINUTE, "dimensions": dict(dimensions)}}


def expression(expr_id: str, text: str, label: str) -> dict[str, Any]:
    return {"id": expr_id, "expression": text, "label": label, "return_data": True}


def five_xx_rate(args: AlarmsArgs) -> dict[str, Any]:
    """Share of requests answered 5xx, by the ALB itself (no target, timeouts) or by the app. 5xx counts are only
    published when non-zero (FILL makes them 0); requests the ALB rejects before choosing a target are not in
    RequestCount, so the denominator is at least the errors: with every request failing the rate is 100 %, not
    more, and no traffic at all is no data (not an outage: the no-healthy-targets alarm covers that)."""
    lb = {"LoadBalancer": args.load_balancer}
    return {
        "alarm_description": (f"More than {args.five_xx_percent}% of requests answered 5xx (ALB or app) in 3 of 5 "
                              f"minutes: users see errors. See {RUNBOOK}."),
        "comparison_operator": "GreaterThanThreshold", "threshold": args.five_xx_percent,
        "evaluation_periods": 5, "datapoints_to_alarm": 3, "treat_missing_data": "notBreaching",
        "metric_queries": [
            metric("elb", ALB, "HTTPCode_ELB_5XX_Count", "Sum", lb),
            metric("app", ALB, "HTTPCode_Target_5XX_Count", "Sum", lb),
            metric("requests", ALB, "RequestCount", "Sum", lb),
            {"id": "errors", "expression": "FILL(elb, 0) + FILL(app, 0)", "label": "5xx responses",
             "return_data": False},
            expression("rate", "IF(errors > 0, 100 * errors / MAX([FILL(requests, 0), errors]), 0)",
                       "5xx responses (% of requests)"),
        ],
    }


def no_healthy_targets(args: AlarmsArgs) -> dict[str, Any]:
    """Nothing can serve: no target passes the ALB's health check (on EKS: no pod is ready, the Deployment is
    below its PodDisruptionBudget's minimum of 1; on ECS: no task is healthy). A target group with no target at
    all may publish nothing, so missing data counts as the outage it is. On ECS with Container Insights, a service
    whose desired count is 0 (scaled to zero on purpose) is not an outage: the expression fills a missing healthy
    count with 0 wherever a task is wanted, and no data at all (nothing wanted, nothing reported) is not breaching
    (a scaled-to-zero service must not page every night)."""
    dims = {"LoadBalancer": args.load_balancer, "TargetGroup": args.target_group}
    common = {"alarm_description": f"No healthy target behind the ALB for 3 minutes: the app is down. See {RUNBOOK}.",
              "evaluation_periods": 3, "datapoints_to_alarm": 3}
    svc = args.ecs_service
    healthy = [metric("healthy", ALB, "HealthyHostCount", "Minimum", dims)]
    total = "FILL(healthy, 0)"
    if args.alternate_target_group is not None:  # blue/green: whichever group serves
        healthy.append(metric("healthy2", ALB, "HealthyHostCount", "Minimum",
                              {"LoadBalancer": args.load_balancer, "TargetGroup": args.alternate_target_group}))
        total = "FILL(healthy, 0) + FILL(healthy2, 0)"
    if svc is None or not svc.container_insights:
        breaching = {**common, "comparison_operator": "LessThanThreshold", "threshold": 1,
                     "treat_missing_data": "breaching"}
        if args.alternate_target_group is None:
            return {**breaching, "namespace": ALB, "metric_name": "HealthyHostCount", "statistic": "Minimum",
                    "period": MINUTE, "dimensions": dims}
        return {**breaching, "metric_queries": [*healthy, expression("total", total, "healthy targets")]}
    service = {"ClusterName": svc.cluster_name, "ServiceName": svc.service_name}
    return {**common, "comparison_operator": "GreaterThanOrEqualToThreshold", "threshold": 1,
            "treat_missing_data": "notBreaching",
            "metric_queries": [
                *healthy,
                metric("desired", INSIGHTS, "DesiredTaskCount", "Maximum", service),
                expression("down", f"IF(FILL(desired, 0) >= 1 AND {total} < 1, 1, 0)",
                           "tasks wanted but none healthy"),
            ]}


def latency_p99(args: AlarmsArgs) -> dict[str, Any]:
    """The slowest 1 % of the app's responses (time from the ALB sending the request to the app's first byte);
    no requests is no data, not slowness."""
    return {
        "alarm_description": (f"p99 response time above {args.latency_p99_ms} ms for 5 minutes: users wait. "
                              f"See {RUNBOOK}."),
        "comparison_operator": "GreaterThanThreshold", "threshold": args.latency_p99_ms / 1000,
        "evaluation_periods": 5, "datapoints_to_alarm": 5, "treat_missing_data": "notBreaching",
        "namespace": ALB, "metric_name": "TargetResponseTime", "extended_statistic": "p99", "period": MINUTE,
        "dimensions": {"LoadBalancer": args.load_balancer, **(
            {"TargetGroup": args.target_group} if args.alternate_target_group is None else {})},
    }


def running_tasks(svc: EcsServiceMetrics) -> dict[str, Any]:
    """ECS runs fewer tasks than it wants for 10 minutes: tasks that cannot start or keep crashing (image pull,
    capacity, failing health checks), before users notice. Without data (Container Insights paused, the service
    gone) there is nothing to compare: not breaching."""
    service = {"ClusterName": svc.cluster_name, "ServiceName": svc.service_name}
    return {
        "alarm_description": f"Fewer tasks running than desired for 10 minutes. See {RUNBOOK}.",
        "comparison_operator": "GreaterThanOrEqualToThreshold", "threshold": 1,
        "evaluation_periods": 10, "datapoints_to_alarm": 10, "treat_missing_data": "notBreaching",
        "metric_queries": [
            metric("desired", INSIGHTS, "DesiredTaskCount", "Maximum", service),
            metric("running", INSIGHTS, "RunningTaskCount", "Minimum", service),
            expression("missing", "desired - running", "tasks missing"),
        ],
    }


def alarm_specs(args: AlarmsArgs) -> dict[str, dict[str, Any]]:
    """key -> the MetricAlarm arguments (all but name, actions and tags)."""
    specs = {"five-xx-rate": five_xx_rate(args), "no-healthy-targets": no_healthy_targets(args),
             "latency-p99": latency_p99(args)}
    if args.ecs_service is not None and args.ecs_service.container_insights:
        specs["running-tasks"] = running_tasks(args.ecs_service)
    return specs


# --- the dashboard ------------------------------------------------------------------------------------------------
def _widget(x: int, y: int, title: str, metrics: list[list[Any]], region: str, **extra: Any) -> dict[str, Any]:
    return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
            "properties": {"title": title, "region": region, "view": "timeSeries", "period": MINUTE,
                           "metrics": metrics, **extra}}


def dashboard_body(args: AlarmsArgs, load_balancer: str, target_group: str, alarm_arns: list[str]
                   ) -> dict[str, Any]:
    """The alarms' metrics on one page (CloudWatch dashboard body structure:
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html)."""
    r, lb, tg = args.region, ["LoadBalancer", load_balancer], ["LoadBalancer", load_balancer, "TargetGroup",
                                                                 target_group]
    widgets = [
        {"type": "alarm", "x": 0, "y": 0, "width": 24, "height": 3,
         "properties": {"title": "Alarms", "alarms": sorted(alarm_arns)}},
        _widget(0, 3, "Requests and 5xx responses", [
            [ALB, "RequestCount", *lb, {"stat": "Sum", "label": "requests"}],
            [ALB, "HTTPCode_ELB_5XX_Count", *lb, {"stat": "Sum", "label": "5xx from the ALB"}],
            [ALB, "HTTPCode_Target_5XX_Count", *lb, {"stat": "Sum", "label": "5xx from the app"}]], r),
        _widget(12, 3, "Response time (s)", [
            [ALB, "TargetResponseTime", *tg, {"stat": stat, "label": stat}] for stat in ("p50", "p90", "p99")], r,
            annotations={"horizontal": [{"label": "alarm", "value": args.latency_p99_ms / 1000}]}),
        _widget(0, 9, "Targets", [
            [ALB, "HealthyHostCount", *tg, {"stat": "Minimum", "label": "healthy"}],
            [ALB, "UnHealthyHostCount", *tg, {"stat": "Maximum", "label": "unhealthy"}]], r),
    ]
    svc = args.ecs_service
    if svc is not None and svc.container_insights:
        dims = ["ClusterName", svc.cluster_name, "ServiceName", svc.service_name]
        widgets.append(_widget(12, 9, "ECS tasks", [
            [INSIGHTS, "DesiredTaskCount", *dims, {"stat": "Maximum", "label": "desired"}],
            [INSIGHTS, "RunningTaskCount", *dims, {"stat": "Minimum", "label": "running"}]], r))
    if args.waf_metric_name:
        acl = ["WebACL", args.waf_metric_name, "Region", r, "Rule", "ALL"]
        widgets.append(_widget(0, 15, "Firewall", [
            [WAF, "AllowedRequests", *acl, {"stat": "Sum", "label": "allowed"}],
            [WAF, "BlockedRequests", *acl, {"stat": "Sum", "label": "blocked"}]], r))
    return {"widgets": widgets}
