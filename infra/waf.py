"""WebAcl: the web application firewall in front of the app's ALB. A WAFv2 REGIONAL web ACL with three AWS managed
rule groups (IP reputation, known bad inputs, the core rule set; the versioned ones at the version lock's static
version) and a per-IP rate limit, logging what it blocks or counts to a CloudWatch log group (with retention) named
as WAF requires.

The ALB is attached by whoever owns it: on ECS this component (a web ACL association, `alb_arn`); on EKS the AWS
Load Balancer Controller, from the Ingress annotation `alb.ingress.kubernetes.io/wafv2-acl-arn` (its published IAM
policy allows wafv2:AssociateWebACL, DisassociateWebACL, GetWebACL and GetWebACLForResource)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from . import iam

TYPE = "webstack:ops:WebAcl"
# WAF sends logs only to a log group whose name starts with this (WAF developer guide, "CloudWatch Logs").
LOG_GROUP_PREFIX = "aws-waf-logs-"
RATE_WINDOW_SECONDS = 300
# Headers whose values never reach the log group: credentials and session cookies of the app's users (WAF writes the
# header name with the value REDACTED). Lower case: "must be provided in lowercase characters" (pulumi-aws docs).
REDACTED_HEADERS = ("authorization", "cookie")


# The managed rule groups, in evaluation order (rules() sets the rate limit between the first two). The versioned
# ones (infra/config/ops.py WAF_VERSIONED_GROUPS, the keys of WebAclArgs.group_versions) get the static version of
# the stack's version lock: AWS moves a group's default
# version by itself, and a new static version can block requests the app needs. `make bump` writes AWS's current
# default version there (ListAvailableManagedRuleGroupVersions' CurrentDefaultVersion, the static version AWS
# recommends); review its changelog
# (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-changelog.html) and the dashboard's
# blocked requests after `pulumi up`. A pinned version AWS has expired makes CreateWebACL/UpdateWebACL fail
# (WAFNonexistentItemException): bump it then (AWS e-mails expiry notices to SNS subscribers of the group). A group
# the lock leaves `unpinned` runs AWS's default version (no version in the request), with a warning.
MANAGED_GROUPS = ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesKnownBadInputsRuleSet",
                  "AWSManagedRulesCommonRuleSet")


@dataclass(frozen=True, kw_only=True)
class WebAclArgs:
    name: str
    """The web ACL's name and CloudWatch metric name (letters, digits, '-' and '_')."""
    rate_limit: int
    """Requests per client IP per 5 minutes above which the IP is blocked (WAF: 10 to 2,000,000,000)."""
    log_retention_days: int
    group_versions: Mapping[str, str | None]
    """Every versioned managed rule group -> its static version from the lock, None for AWS's default version (the
    lock's `unpinned`). A group not named (the IP reputation list: no versions) is sent without a version."""
    alb_arn: pulumi.Input[str] | None
    """The ALB to attach (ECS); None when the LB controller attaches it from the Ingress (EKS)."""
    region: str
    partition: str
    account_id: pulumi.Input[str]
    tags: Mapping[str, str]


def visibility(metric_name: str) -> dict[str, Any]:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric_name, "sampled_requests_enabled": True}


def rules(name: str, rate_limit: int, group_versions: Mapping[str, str | None]) -> list[dict[str, Any]]:
    """The rules, first to last: IP reputation (cheapest, drops known bad sources first), the rate limit, known bad
    inputs (Log4Shell and the like), then the core rule set (OWASP-style). Managed groups keep their own actions
    (override: none). 927 WCUs in all, under the 1,500 a web ACL gets without extra charge."""
    out: list[dict[str, Any]] = []
    for index, group in enumerate(MANAGED_GROUPS):
        statement: dict[str, Any] = {"name": group, "vendor_name": "AWS"}
        if group_versions.get(group):
            statement["version"] = group_versions[group]
        out.append({"name": group, "priority": (index + 1) * 10, "override_action": {"none": {}},
                    "statement": {"managed_rule_group_statement": statement},
                    "visibility_config": visibility(f"{name}-{group}")})
    out.append({"name": "rate-limit-per-ip", "priority": 15, "action": {"block": {}},
                "statement": {"rate_based_statement": {"limit": rate_limit, "aggregate_key_type": "IP",
                                                       "evaluation_window_sec": RATE_WINDOW_SECONDS}},
                "visibility_config": visibility(f"{name}-rate-limit-per-ip")})
    return sorted(out, key=lambda r: r["priority"])


def unpinned_warning(group_versions: Mapping[str, str | None]) -> str | None:
    unpinned = [g for g in MANAGED_GROUPS if g in group_versions and not group_versions[g]]
    if not unpinned:
        return None
    return (f"the version lock leaves the WAF rule group(s) {', '.join(unpinned)} unpinned: AWS's default version is "
            "deployed, and AWS moves it by itself. Run `make bump STACK=<stack>` to pin the current default "
            "(docs/operations.md, \"The firewall (WAF)\").")


def logging_filter() -> dict[str, Any]:
    """Log what the firewall blocks or only counts, not every allowed request (CloudWatch Logs bills ingestion
    per GB: the ALB's own metrics already count the allowed ones)."""
    kept = [{"action_condition": {"action": action}} for action in ("BLOCK", "COUNT", "EXCLUDED_AS_COUNT")]
    return {"default_behavior": "DROP",
            "filters": [{"behavior": "KEEP", "requirement": "MEETS_ANY", "conditions": kept}]}


def redacted_fields() -> list[dict[str, Any]]:
    return [{"single_header": {"name": header}} for header in REDACTED_HEADERS]


class WebAcl(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    name: str
    metric_name: str
    log_group_name: str

    def __init__(self, name: str, args: WebAclArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        tags, child = dict(args.tags), pulumi.ResourceOptions(parent=self)
        if warning := unpinned_warning(args.group_versions):
            pulumi.log.warn(warning, self)  # on every `make plan` (the render's stderr), preview and up
        # (The description takes letters, digits, spaces and + = : # @ / - , . only: WAF's EntityDescription.)
        acl = aws.wafv2.WebAcl(
            f"{name}-acl", name=args.name, scope="REGIONAL", description="webstack: firewall of the app ALB",
            default_action={"allow": {}}, rules=rules(args.name, args.rate_limit, args.group_versions),
            visibility_config=visibility(args.name), tags=tags, opts=child)
        self.log_group_name = f"{LOG_GROUP_PREFIX}{args.name}"
        log_group = aws.cloudwatch.LogGroup(f"{name}-logs", name=self.log_group_name,
                                            retention_in_days=args.log_retention_days, tags=tags, opts=child)
        delivery = aws.cloudwatch.LogResourcePolicy(
            f"{name}-log-delivery", policy_name=f"{args.name}-waf-log-delivery",
            policy_document=iam.json_output(lambda arn, account: iam.waf_log_delivery_policy(
                arn, args.partition, args.region, account), log_group.arn, args.account_id),
            opts=child)
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-logging", resource_arn=acl.arn, log_destination_configs=[log_group.arn],
            logging_filter=logging_filter(), redacted_fields=redacted_fields(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[delivery]))
        if args.alb_arn is not None:
            # Deleted before the ACL and the ALB; WAF refuses to delete an ACL still associated (the provider
            # retries WAFAssociatedItemException for 5 minutes). Replaced delete-first: the provider's delete calls
            # DisassociateWebACL(ResourceArn) alone, which removes whatever ACL the ALB has, so after a
            # create-first replacement on the same ALB (a new web ACL ARN) the old one's delete would detach the new.
            aws.wafv2.WebAclAssociation(
                f"{name}-alb", resource_arn=args.alb_arn, web_acl_arn=acl.arn,
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True))
        self.arn = acl.arn
        self.name = args.name
        self.metric_name = args.name
        self.register_outputs({"arn": self.arn, "log_group_name": self.log_group_name})
