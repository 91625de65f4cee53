"""infra/waf.py on the renders: the web ACL's rules (managed groups pinned, the rate limit from the config), how
it is attached on each runtime (EKS: the Ingress annotation the LB controller reads; ECS: an association), its
logging, the create/delete order, and the WAF requests botocore's wafv2 model accepts."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from infra import iam
from infra.config import OpsConfig
from infra.waf import LOG_GROUP_PREFIX, logging_filter, rules, unpinned_warning
from tests.support import WAF_LOCK
from tests.support.ecs_api import validate
from tests.support.ops_api import (
    associate_web_acl_params,
    create_web_acl_params,
    put_logging_configuration_params,
)
from tools.render import Plan


def botocore_input_members(service: str, operation: str) -> list[str]:
    import botocore.session

    model = botocore.session.get_session().get_service_model(service).operation_model(operation)
    return list(model.input_shape.members)

ACL = "aws:wafv2/webAcl:WebAcl"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
ANNOTATION = "alb.ingress.kubernetes.io/wafv2-acl-arn"
PINNED = {"AWSManagedRulesKnownBadInputsRuleSet": "Version_1.99", "AWSManagedRulesCommonRuleSet": "Version_1.19"}
# The controller policy AWS publishes for v3.5.0 (infra/data/): what it needs to attach a web ACL from an Ingress.
CONTROLLER_WAF_ACTIONS = {"wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:AssociateWebACL",
                          "wafv2:DisassociateWebACL"}


@pytest.fixture(scope="module")
def ecs_waf(variant: Callable[..., Plan]) -> Plan:
    return variant("ecs", lock=WAF_LOCK, wafEnabled=True, alarmEmails=["oncall@example.net"])


def managed(acl: dict[str, Any]) -> dict[str, str | None]:
    return {r["statement"]["managedRuleGroupStatement"]["name"]: r["statement"]["managedRuleGroupStatement"].get(
        "version") for r in acl["inputs"]["rules"] if "managedRuleGroupStatement" in r["statement"]}


def test_prod_gets_the_firewall_by_default_and_dev_does_not(prod: Plan, dev: Plan, fargate: Plan) -> None:
    assert len(prod.of_type(ACL)) == 1
    assert dev.of_type(ACL) == [] and fargate.of_type(ACL) == []
    # without a firewall the Ingress asks the controller to detach any: turning it off must not leave it attached
    assert dev.one(INGRESS)["inputs"]["metadata"]["annotations"][ANNOTATION] == "none"


def test_the_rules_are_the_managed_groups_at_the_locks_versions_and_the_rate_limit(prod: Plan, ecs_waf: Plan
                                                                                      ) -> None:
    # the versions come from the stack's lock (tests/stacks/Pulumi.<stack>.lock.yaml): an `unpinned` group is
    # sent without a version (AWS's default), and the render says so
    assert managed(ecs_waf.one(ACL)) == {"AWSManagedRulesAmazonIpReputationList": None,  # not versioned
                                         "AWSManagedRulesKnownBadInputsRuleSet": "Version_1.99",
                                         "AWSManagedRulesCommonRuleSet": "Version_1.19"}
    acl = prod.one(ACL)
    assert managed(acl) == {"AWSManagedRulesAmazonIpReputationList": None,
                            "AWSManagedRulesKnownBadInputsRuleSet": None,
                            "AWSManagedRulesCommonRuleSet": "Version_1.19"}
    assert (acl["inputs"]["scope"], acl["inputs"]["defaultAction"]) == ("REGIONAL", {"allow": {}})
    warning = unpinned_warning({"AWSManagedRulesKnownBadInputsRuleSet": None,
                                "AWSManagedRulesCommonRuleSet": "Version_1.19"})
    assert warning and "AWSManagedRulesKnownBadInputsRuleSet unpinned" in warning and "make bump" in warning
    assert unpinned_warning(PINNED) is None
    [rate] = [r for r in acl["inputs"]["rules"] if "rateBasedStatement" in r["statement"]]
    assert rate["statement"]["rateBasedStatement"] == {"limit": OpsConfig().waf_rate_limit, "aggregateKeyType": "IP",
                                                       "evaluationWindowSec": 300}
    assert rate["action"] == {"block": {}}
    # managed groups keep their own actions; every rule and the ACL publish metrics under unique names
    assert all(r["overrideAction"] == {"none": {}} for r in acl["inputs"]["rules"] if "action" not in r)
    names = [r["visibilityConfig"]["metricName"] for r in acl["inputs"]["rules"]]
    assert len(set(names)) == len(names) and acl["inputs"]["visibilityConfig"]["metricName"] == "webstack-prod-app"
    assert sorted(r["priority"] for r in acl["inputs"]["rules"]) == [10, 15, 20, 30]


def test_the_rate_limit_is_the_configs() -> None:
    statement = next(r for r in rules("n", 777, PINNED) if r["name"] == "rate-limit-per-ip")["statement"]
    assert statement["rate_based_statement"]["limit"] == 777


def test_eks_the_controller_attaches_it_from_the_ingress(prod: Plan) -> None:
    acl, ingress = prod.one(ACL), prod.one(INGRESS)
    assert ingress["inputs"]["metadata"]["annotations"][ANNOTATION] == acl["state"]["arn"]
    # the ACL exists before the Ingress and is deleted after it (and so after its ALB)
    assert prod.depends_on(ingress["urn"], acl["urn"])
    assert prod.of_type(ASSOCIATION) == []  # one writer: the controller
    controller = json.dumps(iam.alb_controller_policy("3.5.0"))
    assert all(f'"{action}"' in controller for action in CONTROLLER_WAF_ACTIONS)


def test_ecs_an_association_attaches_it_to_this_stacks_alb(ecs_waf: Plan) -> None:
    acl, alb = ecs_waf.one(ACL), ecs_waf.one("aws:lb/loadBalancer:LoadBalancer")
    association = ecs_waf.one(ASSOCIATION)
    assert association["inputs"] == {"resourceArn": alb["state"]["arn"], "webAclArn": acl["state"]["arn"]}
    # deleted before both (WAF refuses to delete an ACL still associated)
    assert ecs_waf.depends_on(association["urn"], acl["urn"]) and ecs_waf.depends_on(association["urn"], alb["urn"])
    # replaced delete-first: DisassociateWebACL takes the ALB's ARN alone (botocore's model: no web ACL in the
    # request), so the old association's delete after a create-first replacement would detach the new web ACL
    assert set(botocore_input_members("wafv2", "DisassociateWebACL")) == {"ResourceArn"}
    assert association["options"]["deleteBeforeReplace"] is True


@pytest.mark.parametrize("stack", ["prod", "ecs_waf"])
def test_it_logs_what_it_blocks_to_a_group_waf_accepts(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    acl, logging = plan.one(ACL), plan.one(LOGGING)
    group = plan.one("aws:cloudwatch/logGroup:LogGroup", "firewall-logs")
    assert group["inputs"]["name"].startswith(LOG_GROUP_PREFIX)
    assert group["inputs"]["retentionInDays"] == OpsConfig().waf_log_retention_days
    assert logging["inputs"]["resourceArn"] == acl["state"]["arn"]
    assert logging["inputs"]["logDestinationConfigs"] == [group["state"]["arn"]]
    assert not group["state"]["arn"].endswith(":*")  # WAF refuses the ARN with the streams' :* suffix
    assert logging["inputs"]["loggingFilter"]["defaultBehavior"] == "DROP"
    kept = {c["actionCondition"]["action"] for f in logging["inputs"]["loggingFilter"]["filters"]
            for c in f["conditions"]}
    assert kept == {"BLOCK", "COUNT", "EXCLUDED_AS_COUNT"}
    # the users' credentials and session cookies never reach the log group
    assert logging["inputs"]["redactedFields"] == [{"singleHeader": {"name": "authorization"}},
                                                   {"singleHeader": {"name": "cookie"}}]
    delivery = plan.one("aws:cloudwatch/logResourcePolicy:LogResourcePolicy")
    doc = json.loads(delivery["inputs"]["policyDocument"])
    [statement] = doc["Statement"]
    assert statement["Resource"] == f"{group['state']['arn']}:log-stream:*"
    assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert plan.depends_on(logging["urn"], delivery["urn"])  # the delivery may write before logging starts


@pytest.mark.parametrize("stack", ["prod", "ecs_waf"])
def test_botocore_accepts_the_waf_requests(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    assert validate("wafv2:CreateWebACL", create_web_acl_params(plan.one(ACL)["inputs"])) == []
    logging = put_logging_configuration_params(plan.one(LOGGING)["inputs"])
    assert validate("wafv2:PutLoggingConfiguration", logging) == []
    for association in plan.of_type(ASSOCIATION):
        assert validate("wafv2:AssociateWebACL", associate_web_acl_params(association["inputs"])) == []
    # the checks bite: WAF's bounds and patterns
    inputs = copy.deepcopy(plan.one(ACL)["inputs"])
    next(r for r in inputs["rules"] if "rateBasedStatement" in r["statement"])["statement"]["rateBasedStatement"][
        "limit"] = 5
    broken = create_web_acl_params({**inputs, "name": "has.dots"})
    problems = validate("wafv2:CreateWebACL", broken)
    assert any("Name" in p and "pattern" in p for p in problems) and any("Limit" in p for p in problems), problems


def test_the_logging_filter_and_rules_are_plain_data() -> None:
    assert logging_filter()["default_behavior"] == "DROP"
    assert [r["name"] for r in rules("n", 100, PINNED)] == [
        "AWSManagedRulesAmazonIpReputationList", "rate-limit-per-ip", "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesCommonRuleSet"]
