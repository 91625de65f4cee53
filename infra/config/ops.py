"""Operations keys, both runtimes: who the alarms page (e-mail), the alarms' thresholds, the web application
firewall in front of the app's ALB and deletion protection (both on by default on production stacks)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .core import between, each, length, one_of, rule, setting, unique
from .ecs import is_production
from .network import LOG_RETENTION_DAYS

if TYPE_CHECKING:
    from .stack import StackConfig

# An e-mail address SNS can deliver to: a dot-atom local part (RFC 5322, no quoted forms) of at most 64 characters
# and a DNS domain with a letter TLD, 254 characters in all (RFC 5321 path limit).
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
EMAIL = re.compile(rf"(?P<local>{_LOCAL})@(?P<domain>{_DOMAIN})", re.ASCII)
EMAILS_MAX = 20  # chosen bound: a team's on-call addresses, not a mailing list (use a list address for that)
# WAFv2 RateBasedStatement.Limit, requests per IP per evaluation window (botocore wafv2 model, shape RateLimit).
WAF_RATE_LIMIT_MIN, WAF_RATE_LIMIT_MAX = 10, 2_000_000_000
# The rate-based rule's window (RateBasedStatement.EvaluationWindowSec: 60, 120, 300 or 600): fixed at 5 minutes.
WAF_RATE_WINDOW_SECONDS = 300
# The AWS managed rule groups of the web ACL that have versions (the IP reputation group has none: "The only rule
# groups that aren't versioned are the IP reputation rule groups", WAF developer guide). The stack's version lock
# pins each (infra/config/lock.py `wafRuleGroups`, written by `make bump`).
WAF_VERSIONED_GROUPS = ("AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesCommonRuleSet")
# A static version's name as WAF lists it (ListAvailableManagedRuleGroupVersions, e.g. Version_1.19).
WAF_GROUP_VERSION = r"Version_[0-9]{1,3}\.[0-9]{1,3}"
# The lock's word for "no static version: AWS's default version, which AWS moves by itself".
WAF_UNPINNED = "unpinned"
# ALB TargetResponseTime cannot exceed the ALB's idle timeout (60 s on both runtimes' ALBs).
LATENCY_MS_MAX = 60_000


def email_check(address: str) -> str | None:
    m = EMAIL.fullmatch(address)
    if m is None or len(address) > 254 or len(m.group("local")) > 64:
        return "must be e-mail addresses such as oncall@example.com (at most 254 characters)"
    return None


@dataclass(frozen=True, kw_only=True)
class OpsConfig:
    alarm_emails: tuple[str, ...] = setting(
        "alarmEmails", (),
        "E-mail addresses the alarms notify (each confirms by e-mail first); empty: `pulumi up` warns, nobody is "
        "told.",
        length(0, EMAILS_MAX), each(email_check), unique(str.lower, " (regardless of case: SNS would subscribe once)"))
    alarm_5xx_percent: int = setting(
        "alarm5xxPercent", 5, "Alarm when 5xx responses (ALB and app) exceed this % of requests, 3 of 5 minutes.",
        between(1, 100))
    alarm_latency_p99_ms: int = setting(
        "alarmLatencyP99Ms", 1000, "Alarm when the app's p99 response time exceeds this many ms, 5 minutes in a row.",
        between(10, LATENCY_MS_MAX))
    waf_enabled: bool | None = setting(
        "wafEnabled", None, "WAFv2 web ACL (AWS managed rules, a rate limit) in front of the ALB (unset: on for "
        "prod* stacks, where it is required).")
    waf_rate_limit: int = setting(
        "wafRateLimit", 2000, f"WAF: block a client IP above this many requests per {WAF_RATE_WINDOW_SECONDS // 60} "
        "minutes.", between(WAF_RATE_LIMIT_MIN, WAF_RATE_LIMIT_MAX))
    waf_log_retention_days: int = setting(
        "wafLogRetentionDays", 90, "WAF: retention of the log group of blocked and counted requests, in days.",
        one_of(*LOG_RETENTION_DAYS))

    deletion_protection: bool | None = setting(
        "deletionProtection", None, "Deletion protection on the EKS cluster and the app's ALB, both runtimes (unset: "
        "on for prod* stacks). To tear down on purpose: set false, `make up`, then `make down` (docs/operations.md).")

    @property
    def protected(self) -> bool:
        """Deletion protection is on (after `resolved`: deletionProtection, or on for a production stack)."""
        return bool(self.deletion_protection)

    @property
    def waf(self) -> bool:
        """The firewall is on (after `resolved`: wafEnabled, or on for a production stack)."""
        return bool(self.waf_enabled)


def resolved(ops: OpsConfig, stack: str) -> OpsConfig:
    """wafEnabled and deletionProtection unset mean: on for a production stack, off otherwise. (No default in
    Pulumi.yaml, so the CLI never passes one: an explicit value is the user's.)"""
    production = is_production(stack)
    return dataclasses.replace(
        ops, waf_enabled=production if ops.waf_enabled is None else ops.waf_enabled,
        deletion_protection=production if ops.deletion_protection is None else ops.deletion_protection)


def ops_prefix(cfg: StackConfig) -> str:
    """<project>-<stack>, the names of the stack's alarms, topic, dashboard and web ACL start with it (SNS topic,
    dashboard and web ACL names take letters, digits, '-' and '_' only: a stack name's dots become '-')."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{cfg.project}-{cfg.stack}")


@rule("wafEnabled")
def _waf_in_prod(cfg: StackConfig) -> str | None:
    if is_production(cfg.stack) and not cfg.ops.waf:
        return f"must be true (or unset) on a production stack ({cfg.stack}): the policy pack requires the firewall"
    return None


_WAF_KEYS = {"wafRateLimit": "waf_rate_limit", "wafLogRetentionDays": "waf_log_retention_days"}


@rule("wafEnabled", *_WAF_KEYS)
def _waf_keys_need_waf(cfg: StackConfig) -> str | None:
    defaults = OpsConfig()
    unused = [] if cfg.ops.waf else [k for k, attr in _WAF_KEYS.items()
                                       if getattr(cfg.ops, attr) != getattr(defaults, attr)]
    return f"{', '.join(unused)} set while the firewall is off: enable wafEnabled or remove them" if unused else None


@rule("ecsContainerInsights", "ecsMinTasks", "ecsScheduledScaling")
def _zero_tasks_needs_insights(cfg: StackConfig) -> str | None:
    """The no-healthy-targets alarm tells "no task should run" from "none does" by Container Insights' desired
    count; without it, a service scaled to zero would page every time."""
    e = cfg.ecs
    if cfg.runtime != "ecs" or e.container_insights != "disabled":
        return None
    if e.min_tasks == 0 or any(s.min_tasks == 0 for s in e.scheduled_scaling):
        return ("the service can scale to zero tasks: the no-healthy-targets alarm needs Container Insights "
                "(enabled or enhanced) to tell that from an outage")
    return None
