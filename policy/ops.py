"""Operations, both runtimes: production stacks put a web application firewall in front of every public ALB,
and alarm topics are encrypted with a key CloudWatch can use; tested in tests/policy/test_policy_ops.py."""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, StackValidationArgs

from .common import Area, as_list, as_map, dig, known, known_prop

OPERATIONS = Area("Operations: firewall and alarms")

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
SNS_TOPIC = "aws:sns/topic:Topic"
EKS_CLUSTER = "eks:index:Cluster"
LB_ATTRIBUTES_ANNOTATION = "alb.ingress.kubernetes.io/load-balancer-attributes"
WAF_ANNOTATION = "alb.ingress.kubernetes.io/wafv2-acl-arn"
REQUIRED_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                   "AWSManagedRulesAmazonIpReputationList")
_STACK = re.compile(r"^urn:pulumi:(?P<stack>[^:]+)::")


def _production(resources: list[Any]) -> bool:
    """Production stacks are named prod* (as the config's rules say: infra/config/ecs.py is_production)."""
    for r in resources:
        m = _STACK.match(str(getattr(r, "urn", "") or ""))
        if m:
            return m.group("stack").startswith("prod")
    return False


def acl_problems(props: Any) -> list[str]:
    """What a web ACL lacks: REGIONAL scope (an ALB's), the three AWS managed rule groups, a rate-based rule."""
    problems = []
    if props.get("scope") != "REGIONAL":
        problems.append(f"scope is {props.get('scope')!r}, an ALB needs REGIONAL")
    rules = [as_map(r) for r in as_list(props.get("rules"))]
    groups = {dig(r, "statement", "managedRuleGroupStatement", "name") for r in rules
              if dig(r, "statement", "managedRuleGroupStatement", "vendorName") == "AWS"}
    missing = [g for g in REQUIRED_GROUPS if g not in groups]
    if missing:
        problems.append(f"lacks the AWS managed rule group(s) {', '.join(missing)}")
    # A group overridden to count (overrideAction count) only labels what it would block: present, yet off.
    for r in rules:
        name = dig(r, "statement", "managedRuleGroupStatement", "name")
        if name in REQUIRED_GROUPS and as_map(r.get("overrideAction")) != {"none": {}}:
            problems.append(f"rule {r.get('name')!r} ({name}) has overrideAction {r.get('overrideAction')!r}: only "
                            "none keeps the group's own block actions (count blocks nothing)")
    rates = [r for r in rules if dig(r, "statement", "rateBasedStatement")]
    if not rates:
        problems.append("has no rate-based rule")
    if rates and not any(as_map(r.get("action")).get("block") is not None for r in rates):
        problems.append(f"no rate-based rule blocks (action {rates[0].get('action')!r}): the rate limit only counts")
    return problems


@OPERATIONS.stack("waf-on-production", "Production (prod*) stacks have a REGIONAL WAFv2 web ACL with the AWS managed "
                  "Common, KnownBadInputs and AmazonIpReputationList groups (override action none: their own "
                  "blocks) and a blocking rate-based rule, attached to every internet-facing ALB (a web ACL "
                  "association, or the Ingress's wafv2-acl-arn annotation).")
def waf_on_production(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    resources = list(args.resources)
    if not _production(resources):
        return
    acls = [r for r in resources if r.resource_type == WEB_ACL]
    if not acls:
        report_violation("a production stack has no WAFv2 web ACL: set webstack:wafEnabled (on by default for prod*)")
    for acl in acls:
        ok, problems = known(lambda acl=acl: acl_problems(acl.props))
        for problem in problems if ok else []:
            report_violation(f"web ACL {acl.name!r} {problem}", acl.urn)
    associations = sum(1 for r in resources if r.resource_type == WEB_ACL_ASSOCIATION)
    public_albs = [r for r in resources if r.resource_type == LOAD_BALANCER
                   and (known_prop(r, "loadBalancerType") or "application") == "application"
                   and known_prop(r, "internal") is not True]
    if len(public_albs) > associations:
        for alb in public_albs:
            report_violation(f"internet-facing ALB {alb.name!r}: {len(public_albs)} public ALB(s) but "
                             f"{associations} web ACL association(s): attach the web ACL", alb.urn)
    for ingress in (r for r in resources if r.resource_type == INGRESS):
        ok, annotations = known(lambda ingress=ingress: dict(as_map(dig(ingress.props, "metadata", "annotations"))))
        if not ok or annotations.get("alb.ingress.kubernetes.io/scheme") != "internet-facing":
            continue
        acl_ok, arn = known(lambda annotations=annotations: annotations.get(WAF_ANNOTATION))
        if acl_ok and (not arn or arn == "none"):
            report_violation(f"Ingress {ingress.name!r}: {WAF_ANNOTATION} is {arn!r}: the LB controller attaches no "
                             "web ACL to its internet-facing ALB", ingress.urn)


@OPERATIONS.resource("sns-topic-customer-key", "SNS topics are encrypted with a customer managed KMS key (CloudWatch "
                     "alarms cannot publish to a topic under the AWS managed alias/aws/sns key).")
def sns_topic_customer_key(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != SNS_TOPIC:
        return
    ok, key = known(lambda: args.props.get("kmsMasterKeyId"))
    if not ok:
        return  # a key made in the same run: unknown at preview, a customer key by construction
    if not key:
        report_violation("kmsMasterKeyId is not set: the topic is not encrypted")
    elif str(key).endswith("alias/aws/sns"):
        report_violation(f"kmsMasterKeyId is {key}: the AWS managed key's policy cannot let CloudWatch (or any other "
                         "AWS service) publish, so alarm notifications would be dropped")


def _annotation_attributes(text: Any) -> dict[str, str]:
    """`k=v,k=v` as the LB controller parses its load-balancer-attributes annotation."""
    pairs = (p.split("=", 1) for p in str(text or "").split(",") if "=" in p)
    return {k.strip(): v.strip() for k, v in pairs}


# Advisory: turning it off on a production stack is the first step of a deliberate teardown (docs/operations.md),
# which `make up` must be able to deploy; the warning still shows in every review of such a change.
@OPERATIONS.stack("deletion-protection-on-production", "Production (prod*) stacks protect the EKS cluster "
                  "(deletionProtection) and every ALB from deletion (enableDeletionProtection, or the Ingress's "
                  "load-balancer-attributes deletion_protection.enabled=true). Advisory: a deliberate teardown turns "
                  "it off first.", EnforcementLevel.ADVISORY)
def deletion_protection_on_production(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    resources = list(args.resources)
    if not _production(resources):
        return
    flags = {EKS_CLUSTER: ("EKS cluster", "deletionProtection"), LOAD_BALANCER: ("ALB", "enableDeletionProtection")}
    for r in resources:
        if r.resource_type in flags:
            what, prop = flags[r.resource_type]
            ok, on = known(lambda r=r, prop=prop: r.props.get(prop))
            if ok and on is not True:
                report_violation(f"{what} {r.name!r}: {prop} is off (webstack:deletionProtection)", r.urn)
        elif r.resource_type == INGRESS:
            ok, annotations = known(lambda r=r: dict(as_map(dig(r.props, "metadata", "annotations"))))
            if ok and _annotation_attributes(annotations.get(LB_ATTRIBUTES_ANNOTATION)).get(
                    "deletion_protection.enabled") != "true":
                report_violation(f"Ingress {r.name!r}: no deletion_protection.enabled=true in "
                                 f"{LB_ATTRIBUTES_ANNOTATION} (webstack:deletionProtection)", r.urn)


OPS_POLICY_NAMES = OPERATIONS.names
