"""`make cost` for the alarms, the dashboard, alarm e-mails and the firewall: lines against hand computation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.support import WAF_LOCK
from tools.render import Plan
from tools.review.cost import PRICES_DIR, Usage, estimate, load_prices

USAGE = Usage(defaults={"aws:wafv2/webAcl:WebAcl": {"monthly_requests_millions": 10},
                        "aws:sns/topicSubscription:TopicSubscription": {"monthly_notifications": 100},
                        "aws:cloudwatch/logGroup:LogGroup": {"monthly_ingestion_gb": 5}},
              resources={"firewall-logs": {"monthly_ingestion_gb": 1}})


def prices(region: str = "us-east-1") -> dict[str, float]:
    data = yaml.safe_load((PRICES_DIR / f"{region}.yaml").read_text())
    return {k: float(v["price"]) for k, v in data["prices"].items()}


@pytest.fixture(scope="module")
def ecs_waf(variant: Callable[..., Plan]) -> Plan:
    return variant("ecs", lock=WAF_LOCK, wafEnabled=True, alarmEmails=["oncall@example.net"])


def test_the_firewall_alarms_dashboard_and_e_mail_lines(ecs_waf: Plan) -> None:
    p = prices()
    assert (p["waf.web_acl"], p["waf.rule"], p["waf.requests"], p["cloudwatch.alarm.standard"],
            p["cloudwatch.dashboard"], p["sns.email"]) == (5.0, 1.0, 0.6, 0.1, 3.0, 0.00002)
    e = estimate(ecs_waf, load_prices("us-east-1"), USAGE)
    by = {(line.resource, line.component.split(" (")[0]): line for line in e.lines}
    # WAF: the web ACL, its 4 rules (3 managed groups and the rate limit), 10 million requests
    assert by[("firewall-acl", "WAF web ACL")].monthly == pytest.approx(5.0)
    assert by[("firewall-acl", "WAF rules")].monthly == pytest.approx(4 * 1.0)
    assert by[("firewall-acl", "WAF requests")].monthly == pytest.approx(10 * 0.6)
    # alarms by metric: the 5xx rate 3, no healthy target (with the desired count) 2, p99 1, running tasks 2
    alarms = {r: line.quantity for (r, c), line in by.items() if c == "CloudWatch standard-resolution alarm"}
    assert alarms == {"alarms-five-xx-rate": 3, "alarms-no-healthy-targets": 2, "alarms-latency-p99": 1,
                      "alarms-running-tasks": 2}
    assert sum(by[(r, "CloudWatch standard-resolution alarm")].monthly for r in alarms) == pytest.approx(8 * 0.10)
    assert by[("alarms-dashboard", "CloudWatch dashboard")].monthly == pytest.approx(3.0)
    [mail] = [line for (r, c), line in by.items() if c == "SNS e-mail notifications"]
    assert mail.monthly == pytest.approx(100 * 0.00002)
    assert by[("alarms-topic-key", "KMS customer managed key")].monthly == pytest.approx(1.0)
    assert by[("firewall-logs", "log ingestion")].quantity == 1  # only blocked and counted requests are logged
    assert not [line for line in e.lines if line.unit_price is None]


def _plan(*resources: dict[str, Any]) -> Plan:
    rs = [{"urn": f"urn:{r['name']}", "propertyDependencies": {}, **r} for r in resources]
    return Plan(stack="s", resources=rs, invokes=[], outputs={}, config={"aws:region": "us-east-1"})


def test_high_resolution_alarms_and_other_subscriptions() -> None:
    plan = _plan({"name": "fast", "type": "aws:cloudwatch/metricAlarm:MetricAlarm", "inputs": {"period": 10}},
                 {"name": "hook", "type": "aws:sns/topicSubscription:TopicSubscription",
                  "inputs": {"protocol": "https"}})
    e = estimate(plan, load_prices("us-east-1"), USAGE)
    [line] = e.lines  # an HTTPS subscription costs nothing here; a 10 s alarm is not priced as a standard one
    assert line.component.startswith("CloudWatch high-resolution alarm")
    assert line.unit_price is None and "no 'cloudwatch.alarm.high' price" in line.note
