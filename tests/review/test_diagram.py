"""Architecture diagram: drawn from the plan with the AWS icons, no overlapping labels, current under docs/."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.crafted_plans import ecs_plan
from tools.render import ROOT, Plan
from tools.review import diagram as d
from tools.review.diagram import build_graph, overlaps, to_dot, to_mermaid, write_diagram

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed (.ci/run does)")


@pytest.mark.project_root  # reads README.md; also run on a user's edited stacks (tests/tools/test_user_stacks.py)
@pytest.mark.parametrize("stack", d.EXAMPLES)
def test_committed_pictures_are_current(variant: Callable[..., Plan], stack: str) -> None:
    """docs/architecture-<stack>.json is the graph model the PNG beside it was drawn from; `make diagram` redraws
    both for every example stack in tests/stacks/. (PNG bytes depend on the Graphviz build: the model is compared.)"""
    if stack not in d.example_stacks():
        assert stack != "dev"
        pytest.skip(f"no example stack tests/stacks/Pulumi.{stack}.yaml (yet)")
    committed = json.loads((d.DOCS / f"architecture-{stack}.json").read_text())
    assert committed == build_graph(variant(stack)).model(), "stale diagram: run `make diagram`"
    assert (d.DOCS / f"architecture-{stack}.png").read_bytes().startswith(b"\x89PNG")
    readme = (ROOT / "README.md").read_text()
    assert d.BLOCK.current(readme) == d.readme_block(d.example_stacks())
    assert f"docs/architecture-{stack}.png" in d.BLOCK.current(readme)


def test_a_changed_plan_makes_the_committed_model_stale(variant: Callable[..., Plan]) -> None:
    committed = json.loads((d.DOCS / "architecture-dev.json").read_text())
    assert build_graph(variant("dev", serviceType="ClusterIP")).model() != committed


@pytest.mark.parametrize(("stack", "nats", "azs"), [("dev", 1, 2), ("prod", 3, 3)])
def test_diagram_follows_the_plan(request: pytest.FixtureRequest, stack: str, nats: int, azs: int) -> None:
    plan: Plan = request.getfixturevalue(stack)
    graph = build_graph(plan)
    mermaid = to_mermaid(graph)
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
    # every edge joins declared nodes; the picture has one node and one edge per model node and edge
    assert all(e.src in graph.nodes and e.dst in graph.nodes for e in graph.edges)
    dot = to_dot(graph)
    assert dot.count(" -> ") == len(graph.edges)
    assert all(f"\t{n} [" in dot for n in graph.nodes)


def test_icons_are_the_official_aws_ones(dev: Plan) -> None:
    graph = build_graph(dev)
    icons = {n.id: n.icon for n in graph.nodes.values()}
    assert icons["network_nat_0"] == "aws.network.NATGateway" and icons["zone"] == "aws.network.Route53HostedZone"
    assert icons["alb"] == "aws.network.ElbApplicationLoadBalancer"
    assert icons["ecr"] == "aws.compute.EC2ContainerRegistry"
    dot = to_dot(graph)
    for node in graph.nodes.values():
        module, cls = node.icon.rsplit(".", 1)
        icon = getattr(__import__(f"diagrams.{module}", fromlist=[cls]), cls)
        path = re.search(rf'\t{node.id} \[label=<.*?<IMG SRC="([^"]+)"', dot)
        assert path and path.group(1).endswith(f"{icon._icon_dir}/{icon._icon}"), node.id
        assert Path(path.group(1)).is_file(), path.group(1)


def test_labels_are_wrapped(dev: Plan) -> None:
    assert all(len(line) <= d.WRAP or " " not in line for n in build_graph(dev).nodes.values()
               for line in n.label.split("\n"))
    assert d.wrap("managed node group (private subnets)", 20) == "managed node group\n(private subnets)"


def test_ip_target_type_draws_the_alb_straight_to_the_pods(variant: Callable[..., Plan]) -> None:
    assert "alb -->|targets| pods" in to_mermaid(build_graph(variant("dev", serviceType="ClusterIP")))


# --- the ECS runtime, drawn generically by type -------------------------------------------------------------
ECS_TYPES = ["aws:ecs/cluster:Cluster", "aws:ecs/service:Service", "aws:ecs/taskDefinition:TaskDefinition",
             "aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup", "aws:lb/listener:Listener",
             "aws:efs/fileSystem:FileSystem", "aws:scheduler/schedule:Schedule", "aws:autoscaling/group:Group",
             "aws:appautoscaling/target:Target", "aws:route53/record:Record"]


def test_every_ecs_type_has_an_icon() -> None:
    assert set(ECS_TYPES) <= set(d.TYPES)
    for kind in d.TYPES.values():
        module, cls = kind.icon.rsplit(".", 1)
        assert hasattr(__import__(f"diagrams.{module}", fromlist=[cls]), cls), kind.icon


def test_ecs_shaped_plan_draws(dev: Plan) -> None:
    plan = ecs_plan(dev)
    graph = build_graph(plan)
    drawn = {n.id for n in graph.nodes.values()}
    # one node per resource of each type; records only when they alias something (validation records are
    # left to the zone)
    for rtype in ECS_TYPES:
        for r in plan.of_type(rtype):
            alias = rtype != "aws:route53/record:Record" or bool(r["inputs"].get("aliases"))
            assert (re.sub(r"[^A-Za-z0-9]", "_", r["name"]) in drawn) == alias, r["name"]
    assert "ecs_alias" in drawn and "ecs_cert_validation" not in drawn
    assert not any(n.startswith("k8s.") for n in (x.icon for x in graph.nodes.values()))
    labels = {n.id: n.label.replace("\n", " ") for n in graph.nodes.values()}
    assert labels["ecs_service"] == "ECS service webapp x2 FARGATE + FARGATE_SPOT"
    assert labels["ecs_tg"] == "target group HTTP 8080 (ip targets)"
    assert labels["ecs_http"] == "listener HTTP 80 redirects"
    assert labels["ecs_scaling"] == "auto scaling 2-6 tasks"
    # edges come from the captured property dependencies, labelled with the input's name
    edges = {(e.src, e.dst, e.label) for e in graph.edges}
    assert {("ecs_service", "ecs_task", "taskDefinition"), ("ecs_service", "ecs_tg", "loadBalancers"),
            ("ecs_https", "ecs_alb", "loadBalancerArn"), ("ecs_https", "cert", "certificateArn"),
            ("ecs_alias", "ecs_alb", "aliases"), ("ecs_nightly", "ecs_task", "target"),
            ("users", "ecs_alb", "HTTPS"), ("ecr", "ecs_service", "pull by digest")} <= edges
    vpc = next(g for g in graph.groups if g.id == "vpc")
    assert {"ecs_alb", "ecs_service", "ecs_efs", "ecs_capacity"} <= set(vpc.members)
    assert "ecs_cluster" not in vpc.members
    # optional parts disappear with their resources
    lean = build_graph(ecs_plan(dev, efs=False, ec2=False))
    assert "ecs_efs" not in lean.nodes and "ecs_capacity" not in lean.nodes


# --- the picture ---------------------------------------------------------------------------------------------
@needs_dot
@pytest.mark.parametrize("stack", ["dev", "prod", "ecs"])
def test_no_overlapping_labels(request: pytest.FixtureRequest, dev: Plan, stack: str) -> None:
    plan = ecs_plan(dev) if stack == "ecs" else request.getfixturevalue(stack)
    assert overlaps(to_dot(build_graph(plan))) == []


@needs_dot
def test_overlap_check_catches_overlaps() -> None:
    crowded = ('digraph { nodesep=0.1; node [shape=box, fixedsize=true, width=1]; '
               'a [label="a very long label that overflows"]; b [label="another long label"]; {rank=same; a; b} }')
    assert ("label of a 'a very long label that overflows'", "label of b 'another long label'") in overlaps(crowded)


def test_make_plan_writes_the_diagram_files(tmp_path: Path, dev: Plan) -> None:
    written = write_diagram(dev, tmp_path)
    assert (tmp_path / "architecture.mmd").read_text().startswith("flowchart LR")
    assert json.loads((tmp_path / "architecture.json").read_text()) == build_graph(dev).model()
    if shutil.which("dot") is None:
        assert written == [tmp_path / "architecture.mmd", tmp_path / "architecture.json"]
        pytest.skip("Graphviz (dot) is not installed: the pictures are optional (.ci/run installs it)")
    assert (tmp_path / "architecture.png").read_bytes().startswith(b"\x89PNG")
    svg = (tmp_path / "architecture.svg").read_text()
    assert "<svg" in svg and "NAT gateway" in svg


def test_karpenter_draws_its_nodes_beside_the_system_group(karpenter: Plan) -> None:
    g = build_graph(karpenter)
    assert g.nodes["nodes"].label.replace("\n", " ").startswith("system managed node group")
    pool = g.nodes["karpenter_nodes"]
    assert pool.label.replace("\n", " ") == "Karpenter nodes (private subnets) spot/on-demand, up to 16 vCPUs"
    assert d.Edge("pods", "karpenter_nodes", "runs on") in g.edges
    assert d.Edge("karpenter", "karpenter_nodes", "launches") in g.edges
    assert "karpenter_nodes" in next(grp for grp in g.groups if grp.id == "eks").members


def test_auto_mode_draws_its_nodes_and_no_node_group(automode: Plan) -> None:
    g = build_graph(automode)
    assert "nodes" not in g.nodes and "aws_load_balancer_controller" not in g.nodes
    pool = g.nodes["auto_mode_nodes"]
    assert pool.label.replace("\n", " ") == "EKS Auto Mode nodes (private subnets) arm64, up to 16 vCPUs"
    assert d.Edge("pods", "auto_mode_nodes", "runs on") in g.edges
    eks = next(grp for grp in g.groups if grp.id == "eks")
    assert "auto_mode_nodes" in eks.members and "EKS Auto Mode" in eks.label
    assert "(class eks-auto-alb)" in g.nodes["ingress"].label.replace("\n", " ")
