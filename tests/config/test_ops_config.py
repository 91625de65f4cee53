"""Operations keys (infra/config/ops.py): alarm addresses and thresholds, the firewall (on by default for prod*
stacks, required there) and its settings; each bad value refused by key with what is allowed, all at once."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError, load_config, ops_prefix, schema
from infra.config.ops import EMAILS_MAX

EKS = {"zoneName": "example.com", "hostname": "app.example.com", "publicAccessCidrs": ["203.0.113.0/24"]}
ECS = {"runtime": "ecs", "zoneName": "example.com", "hostname": "app.example.com"}


def load(stack: str = "dev", base: dict[str, Any] = EKS, **raw: Any) -> Any:
    return load_config({**base, **raw}, project="webstack", stack=stack, region="us-east-1")


def problems(stack: str = "dev", base: dict[str, Any] = EKS, **raw: Any) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load(stack, base, **raw)
    return err.value.problems


def test_defaults_and_the_firewall_follows_the_stack_name() -> None:
    dev, prod = load("dev").ops, load("prod").ops
    assert (dev.alarm_emails, dev.alarm_5xx_percent, dev.alarm_latency_p99_ms) == ((), 5, 1000)
    assert (dev.waf, prod.waf, load("prod-eu").ops.waf, load("production").ops.waf) == (False, True, True, True)
    assert load("dev", wafEnabled=True).ops.waf and load("dev", wafEnabled="true").ops.waf
    assert (prod.waf_rate_limit, prod.waf_log_retention_days) == (2000, 90)
    # no default in Pulumi.yaml: the CLI would pass it as if set, and prod stacks would lose the firewall
    assert "default" not in schema()["wafEnabled"] and schema()["wafEnabled"]["type"] == "boolean"


def test_deletion_protection_follows_the_stack_name_and_can_be_turned_off() -> None:
    protected = {stack: load(stack).ops.protected for stack in ("dev", "prod", "prod-eu", "production", "staging")}
    assert protected == {"dev": False, "prod": True, "prod-eu": True, "production": True, "staging": False}
    # turning it off on a production stack is the first teardown step (docs/operations.md): allowed, not a problem
    assert not load("prod", deletionProtection=False).ops.protected
    assert load("dev", deletionProtection="true").ops.protected
    assert not load("prod", base=ECS, deletionProtection="false").ops.protected
    # no default in Pulumi.yaml: the CLI would pass it as if set, and prod stacks would lose the protection
    assert "default" not in schema()["deletionProtection"] and schema()["deletionProtection"]["type"] == "boolean"
    assert problems("prod", deletionProtection="on") == [
        "webstack:deletionProtection = 'on': must be true or false"]


def test_accepted_values() -> None:
    cfg = load("prod", alarmEmails=["oncall@example.com", "Team.Web+alerts@sub.example.org"], alarm5xxPercent=1,
               alarmLatencyP99Ms=60000, wafRateLimit=10, wafLogRetentionDays=3653).ops
    assert cfg.alarm_emails == ("oncall@example.com", "Team.Web+alerts@sub.example.org")
    assert (cfg.waf_rate_limit, load("prod", wafRateLimit=2_000_000_000).ops.waf_rate_limit) == (10, 2_000_000_000)
    assert load(alarmEmails=[f"a{i}@example.com" for i in range(EMAILS_MAX)]).ops.alarm_emails[-1] == "a19@example.com"


@pytest.mark.parametrize(("raw", "expect"), [
    ({"alarmEmails": ["oncall"]}, "webstack:alarmEmails = ['oncall']: entry 'oncall': must be e-mail addresses"),
    ({"alarmEmails": ["on call@example.com"]}, "must be e-mail addresses"),
    ({"alarmEmails": ["oncall@example"]}, "must be e-mail addresses"),
    ({"alarmEmails": ["oncall@-example.com"]}, "must be e-mail addresses"),
    ({"alarmEmails": ["on..call@example.com"]}, "must be e-mail addresses"),
    ({"alarmEmails": [".oncall@example.com"]}, "must be e-mail addresses"),
    ({"alarmEmails": ["oncall@exa_mple.com"]}, "must be e-mail addresses"),
    ({"alarmEmails": ["\u00e9t\u00e9@example.com"]}, "must be e-mail addresses"),
    ({"alarmEmails": ["a" * 65 + "@example.com"]}, "must be e-mail addresses"),
    ({"alarmEmails": ["a@" + ".".join(c * 63 for c in "bcde") + ".com"]},
     "at most 254 characters"),
    ({"alarmEmails": ["oncall@example.com", "OnCall@Example.com"]}, "entries must be unique (regardless of case"),
    ({"alarmEmails": [f"a{i}@example.com" for i in range(EMAILS_MAX + 1)]}, "at most 20 entries"),
    ({"alarmEmails": "oncall@example.com"}, "must be a list of strings"),
    ({"alarm5xxPercent": 0}, "webstack:alarm5xxPercent = 0: must be 1 to 100"),
    ({"alarm5xxPercent": 101}, "must be 1 to 100"),
    ({"alarm5xxPercent": "5%"}, "whole number"),
    ({"alarmLatencyP99Ms": 9}, "webstack:alarmLatencyP99Ms = 9: must be 10 to 60000"),
    ({"alarmLatencyP99Ms": 60001}, "must be 10 to 60000"),
    ({"wafEnabled": "yes"}, "webstack:wafEnabled = 'yes': must be true or false"),
    ({"wafEnabled": True, "wafRateLimit": 9}, "webstack:wafRateLimit = 9: must be 10 to 2000000000"),
    ({"wafEnabled": True, "wafRateLimit": 2_000_000_001}, "must be 10 to 2000000000"),
    ({"wafEnabled": True, "wafLogRetentionDays": 10}, "webstack:wafLogRetentionDays = 10: allowed: 1, 3, 5"),
    # a key of the firewall while it is off: refused, not silently ignored
    ({"wafRateLimit": 500}, "webstack:wafEnabled/wafRateLimit/wafLogRetentionDays = False/500/90: wafRateLimit set "
                            "while the firewall is off"),
    ({"wafEnabled": False, "wafLogRetentionDays": 30}, "wafLogRetentionDays set while the firewall is off"),
])
def test_bad_values_are_refused_by_name(raw: dict[str, Any], expect: str) -> None:
    found = problems(**raw)
    assert any(expect in p for p in found), found


def test_production_stacks_keep_the_firewall() -> None:
    assert problems("prod", wafEnabled=False) == [
        "webstack:wafEnabled = False: must be true (or unset) on a production stack (prod): the policy pack "
        "requires the firewall"]
    assert problems("prod-eu", wafEnabled="false")[0].startswith("webstack:wafEnabled = False: must be true")


def test_a_service_that_can_scale_to_zero_needs_container_insights_for_its_alarm() -> None:
    night = [{"name": "night", "schedule": "cron(0 20 ? * * *)", "minTasks": 0, "maxTasks": 0}]
    for raw in ({"ecsMinTasks": 0}, {"ecsScheduledScaling": night}):
        found = problems(base=ECS, ecsContainerInsights="disabled", **raw)
        assert any(p.startswith("webstack:ecsContainerInsights/ecsMinTasks/ecsScheduledScaling = 'disabled'")
                   and "needs Container Insights" in p for p in found), found
        assert load(base=ECS, ecsContainerInsights="enabled", **raw).ecs.container_insights == "enabled"
    assert load(base=ECS, ecsContainerInsights="disabled").ecs.min_tasks == 2  # never zero: no alarm at night


def test_all_problems_at_once() -> None:
    found = problems("prod", wafEnabled=False, alarm5xxPercent=0, alarmEmails=["x"])
    assert {p.split(" ", 1)[0] for p in found} == {"webstack:wafEnabled", "webstack:alarm5xxPercent",
                                                    "webstack:alarmEmails"}


def test_names_start_with_a_prefix_aws_accepts_for_topics_dashboards_and_web_acls() -> None:
    assert ops_prefix(load("dev")) == "webstack-dev"
    # a stack name's dot (the cluster and ALB names need clusterName set then)
    dotted = load_config({**EKS, "clusterName": "shop"}, project="webstack", stack="team.dev_1", region="us-east-1")
    assert ops_prefix(dotted) == "webstack-team-dev_1"
