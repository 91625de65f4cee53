"""ECS native blue/green (`ecsDeploymentStrategy: blue-green`), on the render of the Fargate test stack switched to
it: the second target group, the production and test listener rules (whose actions ECS owns), the infrastructure
role, the service's BLUE_GREEN configuration with bake time and alarm rollback, what `pulumi up` ignores so it does
not fight ECS, the alarms that watch whichever group serves, the API requests botocore's models accept, and the
policy pack. What only AWS proves (ECS accepting the rules, the traffic shift, the rollback) is in
docs/operations.md."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import iam
from infra.ecs.service import BlueGreenSpec, load_balancer_ignores, switching_warning
from tests.support import ecs_api, ops_api, rendered
from tests.support.pack import RESOURCE_POLICIES, check_resource
from tools.render import Plan
from tools.review import diff

SERVICE = "aws:ecs/service:Service"
TG = "aws:lb/targetGroup:TargetGroup"
RULE = "aws:lb/listenerRule:ListenerRule"
LISTENER = "aws:lb/listener:Listener"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
BAKE = 7


@pytest.fixture(scope="module")
def plan() -> Plan:
    return rendered("ecs", ecsDeploymentStrategy="blue-green", ecsBlueGreenBakeMinutes=BAKE)


def arn(plan: Plan, typ: str, name: str) -> str:
    return str(plan.one(typ, name)["state"]["arn"])


def test_the_service_deploys_blue_green_with_bake_time_alarm_rollback_and_the_circuit_breaker(plan: Plan) -> None:
    inputs = plan.one(SERVICE)["inputs"]
    assert inputs["deploymentConfiguration"] == {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": BAKE}
    assert inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    alarms = inputs["alarms"]
    assert alarms["enable"] is True and alarms["rollback"] is True
    declared = {r["inputs"]["name"] for r in plan.of_type(ALARM)}
    assert sorted(alarms["alarmNames"]) == ["webstack-ecs-five-xx-rate", "webstack-ecs-no-healthy-targets"]
    assert set(alarms["alarmNames"]) <= declared


def test_the_service_names_both_groups_both_rules_and_the_role(plan: Plan) -> None:
    (lb,) = plan.one(SERVICE)["inputs"]["loadBalancers"]
    assert lb["targetGroupArn"] == arn(plan, TG, "web-tg")
    assert lb["advancedConfiguration"] == {
        "alternateTargetGroupArn": arn(plan, TG, "web-tg-green"),
        "productionListenerRule": arn(plan, RULE, "web-production"),
        "testListenerRule": arn(plan, RULE, "web-test"),
        "roleArn": arn(plan, ROLE, "web-blue-green"),
    }


def test_the_second_group_is_the_first_one_again(plan: Plan) -> None:
    blue, green = plan.one(TG, "web-tg")["inputs"], plan.one(TG, "web-tg-green")["inputs"]
    assert {k: v for k, v in green.items() if k != "name"} == {k: v for k, v in blue.items() if k != "name"}
    assert green["targetType"] == "ip"


def test_the_rules_sit_on_the_https_listener_test_first_and_forward_to_both_groups(plan: Plan) -> None:
    https = arn(plan, LISTENER, "web-https")
    blue, green = arn(plan, TG, "web-tg"), arn(plan, TG, "web-tg-green")
    test, production = plan.one(RULE, "web-test")["inputs"], plan.one(RULE, "web-production")["inputs"]
    assert test["listenerArn"] == production["listenerArn"] == https
    assert test["priority"] < production["priority"]  # a request with the header never reaches production
    assert test["conditions"] == [{"httpHeader": {"httpHeaderName": "X-Webstack-Test", "values": ["green"]}}]
    assert production["conditions"] == [{"pathPattern": {"values": ["/*"]}}]
    weights = [{g["arn"]: g["weight"] for g in r["actions"][0]["forward"]["targetGroups"]} for r in (test, production)]
    assert weights == [{blue: 0, green: 100}, {blue: 100, green: 0}]


def test_pulumi_up_leaves_what_ecs_owns_alone(plan: Plan) -> None:
    """ECS rewrites the rules' forward weights at every shift (terraform-aws-alb #409) and alternates the groups
    (terraform-provider-aws #45678): `pulumi up` ignores the rules' actions and the service's loadBalancers."""
    for name in ("web-test", "web-production"):
        assert plan.one(RULE, name)["options"]["ignoreChanges"] == ["actions"]
    assert plan.one(RULE, "web-attach-tg")["options"]["ignoreChanges"] == []
    assert set(plan.one(SERVICE)["options"]["ignoreChanges"]) == {"desiredCount", "loadBalancers"}


def test_the_switching_run_sends_the_load_balancer_settings() -> None:
    spec = BlueGreenSpec(alternate_target_group_arn="g", production_rule_arn="p", test_rule_arn="t", role_arn="r",
                         bake_minutes=0, alarm_names=["a"], switching=False)
    assert load_balancer_ignores(spec) == ["loadBalancers"]
    assert load_balancer_ignores(BlueGreenSpec(**{**spec.__dict__, "switching": True})) == []
    assert load_balancer_ignores(None) == []
    # the flag is for one run: while it is on, every plan/preview/up says to remove it afterwards
    on = switching_warning(BlueGreenSpec(**{**spec.__dict__, "switching": True}))
    assert on and "remove the key" in on and "Switching an existing ECS stack to blue/green" in on
    assert switching_warning(spec) is None and switching_warning(None) is None


def test_the_infrastructure_role_is_ecs_s_with_the_managed_load_balancer_policy(plan: Plan) -> None:
    role = plan.one(ROLE, "web-blue-green")["inputs"]
    trust = json.loads(role["assumeRolePolicy"])
    assert trust == iam.ecs_infrastructure_trust_policy()
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "ecs.amazonaws.com"}]
    attachment = plan.one(ATTACHMENT, "web-blue-green")["inputs"]
    assert attachment["policyArn"] == "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
    assert attachment["role"] == plan.one(ROLE, "web-blue-green")["state"]["name"]


def test_the_listener_rules_and_role_exist_before_the_service_and_the_listener_does_not_wait_for_it(
        plan: Plan) -> None:
    """ECS checks the rules and assumes the role when it creates the service; deleted after it. The HTTPS listener
    carries the rules, so it cannot come after the service as in a rolling stack."""
    deps = set(plan.one(SERVICE)["dependencies"])
    for typ, name in ((LISTENER, "web-https"), (RULE, "web-test"), (RULE, "web-production"),
                      (ATTACHMENT, "web-blue-green"), (TG, "web-tg-green")):
        assert plan.one(typ, name)["urn"] in deps, name
    assert plan.one(SERVICE)["urn"] not in plan.one(LISTENER, "web-https")["dependencies"]


def metric_dims(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    queries = alarm["inputs"].get("metricQueries") or []
    return [q["metric"]["dimensions"] for q in queries if "metric" in q and q["metric"]["namespace"].endswith("ELB")]


def test_the_alarms_watch_whichever_group_serves(plan: Plan) -> None:
    """After a deployment the tasks are in the other group: the healthy count is the sum of both groups (else the
    alarm would fire, and roll back, on the emptied one), the p99 is the load balancer's."""
    groups = {plan.one(TG, n)["state"]["arnSuffix"] for n in ("web-tg", "web-tg-green")}
    healthy = plan.one(ALARM, "alarms-no-healthy-targets")
    assert {d["TargetGroup"] for d in metric_dims(healthy)} == groups
    (total,) = [q for q in healthy["inputs"]["metricQueries"] if q.get("returnData")]
    assert "FILL(healthy, 0) + FILL(healthy2, 0)" in total["expression"]
    assert "TargetGroup" not in plan.one(ALARM, "alarms-latency-p99")["inputs"]["dimensions"]


def test_a_rolling_stack_has_none_of_it(fargate: Plan) -> None:
    service = fargate.one(SERVICE)
    assert "deploymentConfiguration" not in service["inputs"] and "alarms" not in service["inputs"]
    assert "advancedConfiguration" not in service["inputs"]["loadBalancers"][0]
    assert [r["name"] for r in fargate.of_type(TG)] == ["web-tg"]
    assert not any(r["name"] in ("web-test", "web-production") for r in fargate.of_type(RULE))
    assert service["urn"] in fargate.one(LISTENER, "web-https")["dependencies"]


@pytest.mark.parametrize(("typ", "name"), [(SERVICE, None), (RULE, "web-test"), (RULE, "web-production"),
                                           (ALARM, "alarms-no-healthy-targets"), (ALARM, "alarms-latency-p99")])
def test_botocore_accepts_the_requests(plan: Plan, typ: str, name: str | None) -> None:
    operation, to_params = ecs_api.BY_TYPE[typ]
    if typ == ALARM:  # metric math too (ops_api's mapping; ecs_api's covers plain metric alarms)
        to_params = ops_api.put_metric_alarm_params
    params = to_params(plan.one(typ, name)["inputs"])
    assert ecs_api.validate(operation, params) == []
    if typ == SERVICE:
        assert params["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
        assert params["loadBalancers"][0]["advancedConfiguration"]["productionListenerRule"]
    if typ == RULE:
        assert params["Actions"][0]["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"]


def test_the_policy_pack_passes_the_blue_green_service(plan: Plan) -> None:
    found = [(p.name, m) for r in plan.of_type(SERVICE) for p in RESOURCE_POLICIES
             for m in check_resource(p, SERVICE, r["inputs"], r["urn"], "ok")]
    assert found == []


def test_switching_a_rolling_stack_adds_five_resources_and_replaces_nothing(fargate: Plan) -> None:
    """The labelled diff (tools/review/diff.py with the replacement data) of the switching run: the second group,
    both rules, the role and its attachment are added; the service, two alarms updated in place; nothing deleted
    or replaced (docs/operations.md "Switching an existing ECS stack to blue/green")."""
    switching = rendered("ecs", ecsDeploymentStrategy="blue-green", ecsBlueGreenSwitching=True)
    result = diff.diff_plans(diff.normalise(fargate), diff.normalise(switching))
    assert sorted(r.name for r in result.added) == ["web-blue-green", "web-blue-green", "web-production",
                                                     "web-test", "web-tg-green"]
    assert result.removed == ()
    actions = {c.ref.name: c.action.kind for c in result.changed if c.action is not None}
    assert not any(c.action.destructive for c in result.changed if c.action is not None), actions
    assert actions["app-service"] == actions["alarms-no-healthy-targets"] == actions["alarms-latency-p99"] == "update"
    service = next(c for c in result.changed if c.ref.name == "app-service")
    assert any(p.path.endswith("advancedConfiguration") for p in service.changes)
    assert "loadBalancers" not in switching.one(SERVICE)["options"]["ignoreChanges"]


def test_the_rollback_alarms_exist_before_the_service(plan: Plan, fargate: Plan) -> None:
    """Review: the service names its rollback alarms as plain strings, so nothing ordered them; now it depends on
    them (created first, deleted after). A rolling service gains no such dependency."""
    service = plan.one(SERVICE)
    for alarm in plan.of_type(ALARM):
        if alarm["inputs"]["name"] in service["inputs"]["alarms"]["alarmNames"]:
            assert plan.depends_on(service["urn"], alarm["urn"]), alarm["name"]
    rolling = fargate.one(SERVICE)
    assert not any(fargate.depends_on(rolling["urn"], a["urn"]) for a in fargate.of_type(ALARM))


def test_the_wait_covers_the_bake_time() -> None:
    """Review: terraform-provider-aws waits 20 minutes for a steady service by default; a blue/green deployment is
    steady only after its bake, so a bake of 15+ minutes would time `pulumi up` out while ECS carries on."""
    from infra.ecs.service import BlueGreenSpec, service_timeouts
    assert service_timeouts(None) is None
    spec = BlueGreenSpec(**{**{f: None for f in BlueGreenSpec.__dataclass_fields__}, "bake_minutes": 600})
    timeouts = service_timeouts(spec)
    assert timeouts is not None and (timeouts.create, timeouts.update) == ("620m", "620m")
