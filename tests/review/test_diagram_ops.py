"""The diagram draws the firewall in front of the ALB and the alarms watching it, on both runtimes."""

from __future__ import annotations

from collections.abc import Callable

from tests.support import WAF_LOCK
from tools.render import Plan
from tools.review.diagram import build_graph, to_mermaid


def edges(plan: Plan) -> set[tuple[str, str, str]]:
    return {(e.src, e.dst, e.label) for e in build_graph(plan).edges}


def test_eks_the_firewall_filters_the_ingress_alb_and_the_alarms_watch_it(prod: Plan, dev: Plan) -> None:
    graph = build_graph(prod)
    assert graph.nodes["waf"].icon == "aws.security.WAF"
    assert "webstack-prod-app (4 rules" in graph.nodes["waf"].label.replace("\n", " ")
    assert {("waf", "alb", "filters"), ("alarms", "alb", "watches"), ("alarms", "alarm_topic", "notifies")} <= \
        edges(prod)
    assert "1 e-mail subscription(s)" in graph.nodes["alarm_topic"].label.replace("\n", " ")
    assert "five-xx-rate, no-healthy-targets, latency-p99" in graph.nodes["alarms"].label.replace("\n", " ")
    lean = build_graph(dev)  # no firewall on a dev stack; the alarms all the same
    assert "waf" not in lean.nodes and ("alarms", "alb", "watches") in edges(dev)
    assert 'alarms -->|notifies| alarm_topic' in to_mermaid(lean)


def test_ecs_the_firewall_filters_the_stacks_own_alb(variant: Callable[..., Plan]) -> None:
    plan = variant("ecs", lock=WAF_LOCK, wafEnabled=True, alarmEmails=["oncall@example.net"])
    assert {("waf", "web_alb", "filters"), ("alarms", "web_alb", "watches")} <= edges(plan)
    assert "running-tasks" in build_graph(plan).nodes["alarms"].label.replace("\n", "")
