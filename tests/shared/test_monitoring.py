"""infra/monitoring.py on the renders: what the alarms watch (this stack's ALB and target group: the ECS runtime's own,
or on EKS the one the LB controller made from the Ingress, looked up after it), whom they notify (the KMS-encrypted
topic), when they are created and deleted, and the requests botocore's CloudWatch model accepts."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import MockCallArgs, MockResourceArgs

from infra.config import OpsConfig
from infra.eks.workload import controller_target_group_problem, controller_target_group_tags
from infra.monitoring import AlarmsArgs, EcsServiceMetrics, alarm_specs
from tests.support import WAF_LOCK
from tests.support.ecs_api import validate
from tests.support.ops_api import dashboard_problems, put_metric_alarm_params
from tests.support.programs import program
from tools.render import Plan, render
from tools.render.fakes import LOAD_BALANCER_LOOKUP, TARGET_GROUP_LOOKUP, FakeCloud

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
TOPIC = "aws:sns/topic:Topic"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
EKS_ALARMS = {"five-xx-rate", "no-healthy-targets", "latency-p99"}


@pytest.fixture(scope="module")
def ecs_waf(variant: Callable[..., Plan]) -> Plan:
    return variant("ecs", lock=WAF_LOCK, wafEnabled=True, alarmEmails=["oncall@example.net"])


def alarms(plan: Plan) -> dict[str, dict[str, Any]]:
    """key (five-xx-rate, ...) -> the alarm's registration."""
    return {r["name"].removeprefix("alarms-"): r for r in plan.of_type(ALARM)}


def dims(alarm: dict[str, Any]) -> list[dict[str, str]]:
    """The dimensions of every metric an alarm reads (its own, or each of its metric queries')."""
    i = alarm["inputs"]
    if i.get("dimensions"):
        return [i["dimensions"]]
    return [q["metric"]["dimensions"] for q in i["metricQueries"] if q.get("metric")]


def test_eks_alarms_watch_the_alb_and_target_group_the_controller_made_from_the_ingress(dev: Plan) -> None:
    ingress = dev.one(INGRESS)
    annotations = ingress["inputs"]["metadata"]["annotations"]
    lookups = {i["token"]: i["args"] for i in dev.invokes}
    # by the Ingress's ALB name, and the target group by the controller's tags for this cluster's Ingress backend
    assert lookups[LOAD_BALANCER_LOOKUP] == {"name": annotations["alb.ingress.kubernetes.io/load-balancer-name"]}
    cluster = dev.one("eks:index:Cluster")["inputs"]["name"]
    assert lookups[TARGET_GROUP_LOOKUP] == {"tags": controller_target_group_tags(
        cluster_name=cluster, namespace="webapp", ingress="webapp", service="webapp", port="http")}
    backend = ingress["inputs"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert (ingress["inputs"]["metadata"]["name"], backend["name"], backend["port"]) == ("webapp", "webapp",
                                                                                         {"name": "http"})
    fake = FakeCloud(dev.region)  # what the render's lookups answered
    load_balancer = fake.call(MockCallArgs(LOAD_BALANCER_LOOKUP, lookups[LOAD_BALANCER_LOOKUP], ""))["arnSuffix"]
    target_group = fake.call(MockCallArgs(TARGET_GROUP_LOOKUP, lookups[TARGET_GROUP_LOOKUP], ""))["arnSuffix"]
    assert load_balancer.startswith("app/webstack-dev-webapp/") and target_group.startswith("targetgroup/k8s-")
    found = alarms(dev)
    assert set(found) == EKS_ALARMS
    for key, alarm in found.items():
        for d in dims(alarm):
            assert d["LoadBalancer"] == load_balancer, key
            assert d.get("TargetGroup", target_group) == target_group, key
        # created once the Ingress (and so its ALB) exists, deleted before it
        assert dev.depends_on(alarm["urn"], ingress["urn"]), key
        assert not dev.depends_on(ingress["urn"], alarm["urn"])
    assert dev.depends_on(dev.one(DASHBOARD)["urn"], ingress["urn"])


def target_group_found(plan: Plan, annotations: dict[str, str]) -> dict[str, Any]:
    """What the fake's target group lookup answers once the plan's Ingress, with `annotations` changed, exists."""
    ingress = plan.one(INGRESS)
    inputs = json.loads(json.dumps(ingress["inputs"]))
    inputs["metadata"]["annotations"].update(annotations)
    fake = FakeCloud(plan.region)
    fake.new_resource(MockResourceArgs(INGRESS, ingress["name"], inputs, "", "", False, None))
    lookup = next(i["args"] for i in plan.invokes if i["token"] == TARGET_GROUP_LOOKUP)
    return fake.call(MockCallArgs(TARGET_GROUP_LOOKUP, lookup, ""))


def check(found: dict[str, Any], *, region: str, want: str, alb_name: str) -> str | None:
    alb = FakeCloud(region)._alb(alb_name)["arn"]
    return controller_target_group_problem(
        target_group_arn=found["arn"], target_type=found["targetType"], load_balancer_arns=found["loadBalancerArns"],
        want_target_type=want, alb_arn=alb, alb_name=alb_name)


def test_the_target_group_found_must_be_the_ingresses_on_its_alb(dev: Plan) -> None:
    """pulumi-kubernetes's Ingress awaiter returns on the old load balancer address: after a Service type or ALB
    name change the tags still find the old target group (or the new one before it serves the new ALB). The
    program fails then, saying a second `pulumi up` finds the right one, instead of alarms watching nothing."""
    annotations = dev.one(INGRESS)["inputs"]["metadata"]["annotations"]
    want, name = annotations["alb.ingress.kubernetes.io/target-type"], annotations[
        "alb.ingress.kubernetes.io/load-balancer-name"]
    found = target_group_found(dev, {})
    assert check(found, region=dev.region, want=want, alb_name=name) is None  # what the dev render's own lookup passed
    stale = target_group_found(dev, {"alb.ingress.kubernetes.io/target-type": "instance" if want == "ip" else "ip"})
    problem = check(stale, region=dev.region, want=want, alb_name=name)
    assert problem and f"the Ingress asks for {want!r}" in problem and "run `pulumi up` again" in problem
    old_alb = target_group_found(dev, {"alb.ingress.kubernetes.io/load-balancer-name": "webstack-dev-old"})
    problem = check(old_alb, region=dev.region, want=want, alb_name=name)
    assert problem and f"not attached to the ALB {name}" in problem and "still reconciling" in problem
    detached = controller_target_group_problem(target_group_arn="arn:tg", target_type=want, load_balancer_arns=[],
                                               want_target_type=want, alb_arn="arn:alb", alb_name=name)
    assert detached and "serves no load balancer" in detached


def test_ecs_alarms_watch_this_stacks_alb_and_its_service(fargate: Plan) -> None:
    alb = fargate.one("aws:lb/loadBalancer:LoadBalancer")
    target_group = fargate.one("aws:lb/targetGroup:TargetGroup")
    service = fargate.one("aws:ecs/service:Service")
    cluster = fargate.one("aws:ecs/cluster:Cluster")["inputs"]["name"]
    found = alarms(fargate)
    assert set(found) == EKS_ALARMS | {"running-tasks"}
    for key, alarm in found.items():
        for d in dims(alarm):
            if "LoadBalancer" in d:
                assert d["LoadBalancer"] == alb["state"]["arnSuffix"], key
                assert d.get("TargetGroup", target_group["state"]["arnSuffix"]) == target_group["state"]["arnSuffix"]
            else:
                assert d == {"ClusterName": cluster, "ServiceName": service["inputs"]["name"]}, key
        assert fargate.depends_on(alarm["urn"], alb["urn"]), key  # deleted before the ALB
        # but not on the service: a deployment can roll back on them (blue/green), which needs them first
        assert not fargate.depends_on(alarm["urn"], service["urn"]), key


def test_without_container_insights_there_is_no_task_alarm_and_missing_targets_page(ec2: Plan) -> None:
    found = alarms(ec2)
    assert set(found) == EKS_ALARMS
    healthy = found["no-healthy-targets"]["inputs"]
    assert (healthy["metricName"], healthy["statistic"], healthy["comparisonOperator"], healthy["threshold"]) == (
        "HealthyHostCount", "Minimum", "LessThanThreshold", 1)
    assert healthy["treatMissingData"] == "breaching"


def test_missing_data_is_treated_deliberately(dev: Plan, fargate: Plan) -> None:
    treat = {k: a["inputs"]["treatMissingData"] for k, a in alarms(fargate).items()}
    # no traffic is neither errors nor slowness; no task data is nothing to compare; a service scaled to zero
    # (this stack does so at night) reports nothing and is no outage
    assert treat == {"five-xx-rate": "notBreaching", "latency-p99": "notBreaching", "running-tasks": "notBreaching",
                     "no-healthy-targets": "notBreaching"}
    # on EKS a target group with no target at all may publish nothing: that is the outage
    assert alarms(dev)["no-healthy-targets"]["inputs"]["treatMissingData"] == "breaching"
    math = alarms(fargate)["no-healthy-targets"]["inputs"]["metricQueries"]
    assert [q["expression"] for q in math if q.get("returnData")] == [
        "IF(FILL(desired, 0) >= 1 AND FILL(healthy, 0) < 1, 1, 0)"]


def test_thresholds_come_from_the_config(prod: Plan) -> None:
    found, defaults = alarms(prod), OpsConfig()
    assert found["five-xx-rate"]["inputs"]["threshold"] == defaults.alarm_5xx_percent == 5
    assert found["latency-p99"]["inputs"]["threshold"] == defaults.alarm_latency_p99_ms / 1000 == 1.0
    assert found["latency-p99"]["inputs"]["extendedStatistic"] == "p99"
    rate = next(q for q in found["five-xx-rate"]["inputs"]["metricQueries"] if q.get("returnData"))
    assert rate["expression"] == "IF(errors > 0, 100 * errors / MAX([FILL(requests, 0), errors]), 0)"


@pytest.mark.parametrize("stack", ["dev", "prod", "fargate"])
def test_every_alarm_notifies_the_encrypted_topic_and_only_its_alarms_may_use_it(
        request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    topic = plan.one(TOPIC)
    key = plan.one("aws:kms/key:Key", "alarms-topic-key")
    assert topic["inputs"]["kmsMasterKeyId"] == key["state"]["arn"]
    assert key["inputs"]["enableKeyRotation"] is True
    topic_policy = json.loads(plan.one("aws:sns/topicPolicy:TopicPolicy")["inputs"]["policy"])
    key_policy = json.loads(key["inputs"]["policy"])
    publish = next(s for s in topic_policy["Statement"] if s["Effect"] == "Allow")
    use_key = next(s for s in key_policy["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"})
    assert (publish["Action"], publish["Resource"]) == ("sns:Publish", topic["state"]["arn"])
    assert use_key["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    # AWS's documented key statement, unconditioned: whether CloudWatch's KMS request carries aws:SourceArn and
    # aws:SourceAccount is undocumented, and were it not to, every notification would be dropped (infra/iam.py)
    assert "Condition" not in use_key
    for alarm in plan.of_type(ALARM):
        assert alarm["inputs"]["alarmActions"] == alarm["inputs"]["okActions"] == [topic["state"]["arn"]]
        # the alarm's ARN is the source CloudWatch names when it publishes (the topic policy)
        assert fnmatch.fnmatchcase(alarm["state"]["arn"], publish["Condition"]["ArnLike"]["aws:SourceArn"])
        assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
        assert plan.depends_on(alarm["urn"], plan.one("aws:sns/topicPolicy:TopicPolicy")["urn"])
    other = alarms(plan)["five-xx-rate"]["state"]["arn"].replace(":alarm:webstack-", ":alarm:other-")
    assert not fnmatch.fnmatchcase(other, publish["Condition"]["ArnLike"]["aws:SourceArn"])


def test_each_address_gets_a_subscription_named_by_its_digest(prod: Plan, ecs_waf: Plan, dev: Plan) -> None:
    for plan, addresses in ((prod, ["oncall@prod.example.com"]), (ecs_waf, ["oncall@example.net"]), (dev, [])):
        subs = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
        assert sorted(s["inputs"]["endpoint"] for s in subs) == addresses
        assert all(s["inputs"]["protocol"] == "email" and s["inputs"]["topic"] == plan.one(TOPIC)["state"]["arn"]
                   for s in subs)
        assert all(addr not in s["name"] for s in subs for addr in addresses)  # no address in a URN


@pytest.mark.parametrize("stack", ["dev", "prod", "fargate", "ec2"])
def test_botocore_accepts_every_put_metric_alarm(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    for alarm in plan.of_type(ALARM):
        params = put_metric_alarm_params(alarm["inputs"])
        assert validate("cloudwatch:PutMetricAlarm", params) == [], alarm["name"]
        queries = params.get("Metrics") or []
        ids = {q["Id"] for q in queries}
        assert all(q["Id"][0].islower() for q in queries)  # CloudWatch: an id starts with a lower-case letter
        assert sum(q["ReturnData"] for q in queries) == (1 if queries else 0)
        for q in queries:  # an expression reads only ids of the same alarm
            words = {w for w in q.get("Expression", "").replace("(", " ").replace(")", " ").replace(",", " ")
                     .replace("[", " ").replace("]", " ").split() if w.isidentifier()}
            assert words - {"IF", "FILL", "MAX", "AND"} <= ids, (alarm["name"], q)
    broken = put_metric_alarm_params({**alarms(plan)["latency-p99"]["inputs"], "evaluationPeriods": 0})
    assert any("EvaluationPeriods" in p for p in validate("cloudwatch:PutMetricAlarm", broken))


@pytest.mark.parametrize("stack", ["dev", "prod", "fargate"])
def test_the_dashboard_shows_the_alarms_metrics(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    dashboard = plan.one(DASHBOARD)["inputs"]
    assert validate("cloudwatch:PutDashboard", {"DashboardName": dashboard["dashboardName"],
                                                "DashboardBody": dashboard["dashboardBody"]}) == []
    assert dashboard_problems(dashboard["dashboardBody"], plan.region) == []
    body = json.loads(dashboard["dashboardBody"])
    alarm_widget = next(w for w in body["widgets"] if w["type"] == "alarm")
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(a["state"]["arn"] for a in plan.of_type(ALARM))
    shown = {tuple(m[2:-1]) for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]}
    for alarm in plan.of_type(ALARM):  # every metric an alarm reads is on the dashboard, with the same dimensions
        for d in dims(alarm):
            assert any(dict(zip(s[::2], s[1::2], strict=True)) == d for s in shown), (alarm["name"], d)
    firewall = [w for w in body["widgets"] if w["properties"].get("title") == "Firewall"]
    assert len(firewall) == len(plan.of_type("aws:wafv2/webAcl:WebAcl"))


def test_the_dashboard_check_catches_a_broken_body() -> None:
    widget = {"type": "metric", "x": 20, "width": 12, "properties": {"region": "eu-west-1", "metrics": [
        ["AWS/ApplicationELB", "RequestCount", "LoadBalancer"], ["AWS/X", "Y", {"colour": "red"}]]}}
    problems = dashboard_problems(json.dumps({"widgets": [widget]}), "us-east-1")
    assert any("off the 24-column grid" in p for p in problems)
    assert any("region 'eu-west-1'" in p for p in problems)
    assert any("name/value pairs" in p for p in problems) and any("unknown options" in p for p in problems)
    assert dashboard_problems("{", "us-east-1")[0].startswith("not JSON")


def specs_for(ecs: EcsServiceMetrics | None) -> dict[str, dict[str, Any]]:
    args = AlarmsArgs(prefix="p", emails=[], load_balancer="app/x/1", target_group="targetgroup/y/2",
                      five_xx_percent=7, latency_p99_ms=250, ecs_service=ecs, waf_metric_name=None, after=[],
                      region="us-east-1", partition="aws", account_id="123456789012", tags={})
    return alarm_specs(args)


def test_alarm_specs_follow_the_runtime() -> None:
    assert set(specs_for(None)) == EKS_ALARMS
    insights = EcsServiceMetrics(cluster_name="c", service_name="s", container_insights=True)
    assert set(specs_for(insights)) == EKS_ALARMS | {"running-tasks"}
    blind = EcsServiceMetrics(cluster_name="c", service_name="s", container_insights=False)
    assert set(specs_for(blind)) == EKS_ALARMS
    assert specs_for(None)["five-xx-rate"]["threshold"] == 7 and specs_for(None)["latency-p99"]["threshold"] == 0.25


ROLLBACK_PROGRAM = '''import pulumi

from infra.monitoring import Alarms, AlarmsArgs, EcsServiceMetrics

alarms = Alarms("alarms", AlarmsArgs(
    prefix="shop-prod", emails=[], load_balancer="app/shop/1", target_group="targetgroup/shop/2",
    five_xx_percent=5, latency_p99_ms=1000,
    ecs_service=EcsServiceMetrics(cluster_name="shop", service_name="web", container_insights=True),
    waf_metric_name=None, after=[], region="us-east-1", partition="aws", account_id="123456789012", tags={}))
pulumi.export("rollback", alarms.rollback_alarm_names)
pulumi.export("names", alarms.alarm_names)
pulumi.export("arns", alarms.alarm_arns)
'''


def test_a_deployment_can_name_the_alarms_to_roll_back_on(tmp_path: Path) -> None:
    """What a blue/green ECS deployment (issue 20, item 3) takes from the component: the 5xx and no-healthy-target
    alarms' names, plain strings known before anything is created."""
    tree = program(tmp_path / "tree", ROLLBACK_PROGRAM, project="rollback")
    plan = render("dev", root=tree, stacks=tree)
    assert plan.outputs["rollback"] == ["shop-prod-five-xx-rate", "shop-prod-no-healthy-targets"]
    assert plan.outputs["names"] == {k: f"shop-prod-{k}" for k in EKS_ALARMS | {"running-tasks"}}
    arn = plan.outputs["arns"]["five-xx-rate"]
    assert arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:shop-prod-five-xx-rate"
