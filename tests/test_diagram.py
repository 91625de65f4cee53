"""Architecture diagram: drawn from the plan, written by `make plan`, and current in the README."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.render import ROOT, Plan
from infra.render.diagram import README_BEGIN, README_END, build_graph, readme_block, to_dot, to_mermaid, write_diagram


@pytest.mark.project_root  # also run on a user's edited stacks (tests/test_user_stacks.py)
def test_readme_embeds_the_current_diagram(dev: Plan) -> None:
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(README_BEGIN), readme.index(README_END) + len(README_END)
    assert readme[start:end] == readme_block(to_mermaid(build_graph(dev))), "stale diagram: run `make diagram`"


@pytest.mark.parametrize(("stack", "nats", "azs"), [("dev", 1, 2), ("prod", 3, 3)])
def test_diagram_follows_the_plan(request: pytest.FixtureRequest, stack: str, nats: int, azs: int) -> None:
    plan: Plan = request.getfixturevalue(stack)
    mermaid = to_mermaid(build_graph(plan))
    assert mermaid.count('["NAT gateway"]') == nats
    assert len(re.findall(r'subgraph az\d\["AZ ', mermaid)) == azs
    for subnet in plan.of_type("aws:ec2/subnet:Subnet"):
        assert subnet["inputs"]["cidrBlock"] in mermaid
    # the app's path: Route 53 -> ALB -> Service -> pods, image -> ECR -> pods
    for edge in ("zone -->|alias record| alb", "alb -->|targets| service", "service --> pods",
                 "image -->|push| ecr", "ecr -->|pull by digest| pods", "external_dns -->|upserts record| zone",
                 "aws_load_balancer_controller -->|manages| alb", "cert -->|TLS| alb"):
        assert edge in mermaid, edge
    assert f"EKS webstack-{stack} 1.35" in mermaid
    # every edge joins declared nodes
    graph = build_graph(plan)
    assert all(src in graph.nodes and dst in graph.nodes for src, dst, _ in graph.edges)
    assert to_dot(graph).count("->") == len(graph.edges)


def test_ip_target_type_draws_the_alb_straight_to_the_pods(variant: Callable[..., Plan]) -> None:
    assert "alb -->|targets| pods" in to_mermaid(build_graph(variant("dev", serviceType="ClusterIP")))


def test_make_plan_writes_the_diagram_files(tmp_path: Path, dev: Plan) -> None:
    written = write_diagram(dev, tmp_path)
    assert (tmp_path / "architecture.mmd").read_text().startswith("flowchart LR")
    if shutil.which("dot") is None:
        assert written == [tmp_path / "architecture.mmd"]
        pytest.skip("Graphviz (dot) is not installed: the SVG is optional (.ci/run installs it)")
    svg = (tmp_path / "architecture.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "NAT gateway" in svg
