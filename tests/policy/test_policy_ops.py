"""policy/ops.py: the firewall on production stacks and the alarm topic's key. The rendered stacks pass; each
violation is a real render edited to break one thing (mutation style), reported by its own policy only."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from policy import ops
from tests.support import WAF_LOCK
from tests.support.pack import BY_NAME, STACK_POLICIES, check_resource, check_stack, renamed, stack_resource
from tools.render import Plan

WAF = BY_NAME["waf-on-production"]
TOPIC_KEY = BY_NAME["sns-topic-customer-key"]
Resources = list[dict[str, Any]]


def stack_report(resources: Resources, policy: Any = WAF) -> list[str]:
    return [m for m, _ in check_stack(policy, [stack_resource(r) for r in resources])]


def without(resources: Resources, rtype: str) -> Resources:
    return [r for r in resources if r["type"] != rtype]


def edit(resources: Resources, rtype: str, change: Callable[[dict[str, Any]], Any]) -> Resources:
    out = copy.deepcopy(resources)
    for r in out:
        if r["type"] == rtype:
            change(r["inputs"])
    return out


@pytest.fixture(scope="module")
def ecs_waf(variant: Callable[..., Plan]) -> Plan:
    """The ECS runtime with the firewall (and an alarm address): the ECS test stacks are not named prod*."""
    return variant("ecs", lock=WAF_LOCK, wafEnabled=True, alarmEmails=["oncall@example.net"])


def test_the_rendered_stacks_pass(dev: Plan, prod: Plan, ecs_waf: Plan, fargate: Plan) -> None:
    for plan in (dev, prod, ecs_waf, fargate):
        assert stack_report(plan.resources) == [], plan.stack
        assert [m for r in plan.resources for m in check_resource(TOPIC_KEY, r["type"], r["inputs"])] == []
    assert stack_report(renamed(ecs_waf.resources, "prod-ecs")) == []
    # a dev stack needs no firewall; the same render named prod* does
    assert stack_report(renamed(dev.resources, "prod-eu")) == [
        "a production stack has no WAFv2 web ACL: set webstack:wafEnabled (on by default for prod*)",
        "Ingress 'webapp-ingress': alb.ingress.kubernetes.io/wafv2-acl-arn is 'none': the LB controller attaches "
        "no web ACL to its internet-facing ALB"]


def managed_groups_but(name: str) -> Callable[[dict[str, Any]], None]:
    def change(acl: dict[str, Any]) -> None:
        acl["rules"] = [r for r in acl["rules"] if r["name"] != name]
    return change


EKS_CASES: list[tuple[str, Callable[[Resources], Resources], str]] = [
    ("no-web-acl", lambda rs: without(rs, ops.WEB_ACL), "a production stack has no WAFv2 web ACL"),
    ("no-common-rule-set", lambda rs: edit(rs, ops.WEB_ACL, managed_groups_but("AWSManagedRulesCommonRuleSet")),
     "lacks the AWS managed rule group(s) AWSManagedRulesCommonRuleSet"),
    ("no-ip-reputation",
     lambda rs: edit(rs, ops.WEB_ACL, managed_groups_but("AWSManagedRulesAmazonIpReputationList")),
     "lacks the AWS managed rule group(s) AWSManagedRulesAmazonIpReputationList"),
    ("no-rate-limit", lambda rs: edit(rs, ops.WEB_ACL, managed_groups_but("rate-limit-per-ip")),
     "has no rate-based rule"),
    ("cloudfront-scope", lambda rs: edit(rs, ops.WEB_ACL, lambda acl: acl.update(scope="CLOUDFRONT")),
     "an ALB needs REGIONAL"),
    ("ingress-detaches", lambda rs: edit(rs, ops.INGRESS, lambda i: i["metadata"]["annotations"].update(
        {ops.WAF_ANNOTATION: "none"})), "wafv2-acl-arn is 'none'"),
    ("ingress-without-annotation", lambda rs: edit(rs, ops.INGRESS, lambda i: i["metadata"]["annotations"].pop(
        ops.WAF_ANNOTATION)), "wafv2-acl-arn is None"),
]


@pytest.mark.parametrize(("build", "expect"), [c[1:] for c in EKS_CASES], ids=[c[0] for c in EKS_CASES])
def test_eks_production_violations(prod: Plan, build: Callable[[Resources], Resources], expect: str) -> None:
    found = stack_report(build(prod.resources))
    assert any(expect in m for m in found), found
    # reported by this policy only: every other stack policy still passes the broken render
    assert all(stack_report(build(prod.resources), p) == [] for p in STACK_POLICIES if p.name != WAF.name)


def test_ecs_production_needs_the_association(ecs_waf: Plan) -> None:
    prod_ecs = renamed(ecs_waf.resources, "prod-ecs")
    found = stack_report(without(prod_ecs, ops.WEB_ACL_ASSOCIATION))
    assert found == ["internet-facing ALB 'web-alb': 1 public ALB(s) but 0 web ACL association(s): attach the web "
                     "ACL"]
    # an internal ALB needs none
    internal = edit(without(prod_ecs, ops.WEB_ACL_ASSOCIATION), ops.LOAD_BALANCER, lambda lb: lb.update(internal=True))
    assert stack_report(internal) == []


@pytest.mark.parametrize(("key", "expect"), [
    (None, "kmsMasterKeyId is not set"),
    ("alias/aws/sns", "the AWS managed key's policy cannot let CloudWatch"),
    ("arn:aws:kms:us-east-1:123456789012:alias/aws/sns", "the AWS managed key's policy cannot let CloudWatch"),
])
def test_alarm_topic_key_violations(dev: Plan, key: str | None, expect: str) -> None:
    topic = copy.deepcopy(dev.one(ops.SNS_TOPIC)["inputs"])
    topic["kmsMasterKeyId"] = key
    found = check_resource(TOPIC_KEY, ops.SNS_TOPIC, topic)
    assert len(found) == 1 and expect in found[0], found
