"""Architecture diagram drawn from a Plan: Mermaid (renders on GitHub) and, with Graphviz, SVG.

Everything shown comes from captured registrations (subnets grouped by the AZ they were declared
in, NATs by the subnet they sit in, the image by the repository it is pushed to, releases by chart),
so the picture changes when the stack does. One graph model feeds both outputs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import Plan
from .artifacts import helm_releases, kubernetes_objects

README_BEGIN = "<!-- architecture:begin (make diagram) -->"
README_END = "<!-- architecture:end -->"


@dataclass
class Graph:
    title: str
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (label, shape)
    groups: list[tuple[str, str, list[str], str | None]] = field(default_factory=list)  # id, label, nodes, parent
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # src, dst, label

    def node(self, node_id: str, label: str, shape: str = "box") -> str:
        self.nodes[node_id] = (label, shape)
        return node_id

    def group(self, group_id: str, label: str, members: list[str], parent: str | None = None) -> str:
        self.groups.append((group_id, label, members, parent))
        return group_id

    def edge(self, src: str, dst: str, label: str = "") -> None:
        self.edges.append((src, dst, label))


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", text)


def build_graph(plan: Plan) -> Graph:
    """The EKS runtime's picture, or the ECS runtime's when the plan has no EKS cluster (webstack:runtime = ecs)."""
    one = plan.one
    vpc = one("aws:ec2/vpc:Vpc")
    repo = one("aws:ecr/repository:Repository")
    cert = one("aws:acm/certificate:Certificate")["inputs"]
    zones = plan.of_type("aws:route53/zone:Zone")
    zone_name = zones[0]["inputs"]["name"] if zones else next(
        i["args"]["name"] for i in plan.invokes if i["token"] == "aws:route53/getZone:getZone")
    region = vpc["state"]["arn"].split(":")[3]
    g = Graph(f"webstack {plan.stack} ({region})")
    ecs = not plan.of_type("eks:index:Cluster")
    if ecs:
        alb_name = one("aws:lb/loadBalancer:LoadBalancer")["inputs"]["name"]
    else:
        objects = kubernetes_objects(plan)
        ingress = next(o for o in objects.values() if o["kind"] == "Ingress")
        alb_name = ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/load-balancer-name"]

    users = g.node("users", "Internet users", "round")
    r53 = g.node("zone", f"Route 53 zone {zone_name}" + (" (created)" if zones else " (looked up)"), "cyl")
    acm = g.node("cert", f"ACM certificate {cert['domainName']} (DNS-validated)")
    igw = g.node("igw", "Internet gateway")
    alb = g.node("alb", f"ALB {alb_name} HTTPS 443, HTTP 80 redirects", "stadium")

    subnets = plan.of_type("aws:ec2/subnet:Subnet")
    by_id = {s["id"]: s for s in subnets}
    nats = {n["inputs"]["subnetId"]: n for n in plan.of_type("aws:ec2/natGateway:NatGateway")}
    az_groups = []
    for index, az in enumerate(sorted({s["inputs"]["availabilityZone"] for s in subnets})):
        members = []
        for s in sorted((s for s in subnets if s["inputs"]["availabilityZone"] == az), key=lambda s: s["name"]):
            kind = "public" if "kubernetes.io/role/elb" in s["inputs"]["tags"] else "private"
            sid = g.node(_safe(s["name"]), f"{kind} subnet {s['inputs']['cidrBlock']}")
            members.append(sid)
            if s["id"] in nats:
                nat = g.node(_safe(nats[s["id"]]["name"]), "NAT gateway")
                members.append(nat)
                g.edge(sid, nat, "")
        az_groups.append(g.group(f"az{index}", f"AZ {az}", members, "vpc"))
    for route in plan.of_type("aws:ec2/route:Route"):
        nat_id = route["inputs"].get("natGatewayId")
        if not nat_id:
            continue
        table = route["inputs"]["routeTableId"]
        for assoc in plan.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation"):
            if assoc["inputs"]["routeTableId"] == table and assoc["inputs"]["subnetId"] in by_id:
                nat = next(n for n in plan.of_type("aws:ec2/natGateway:NatGateway") if n["id"] == nat_id)
                g.edge(_safe(by_id[assoc["inputs"]["subnetId"]]["name"]), _safe(nat["name"]), "0.0.0.0/0")
    g.group("vpc", f"VPC {vpc['inputs']['cidrBlock']}", [igw, alb], None)

    if ecs:
        _ecs_part(plan, g, users, r53, acm, igw, alb)
        return g
    eks = one("eks:index:Cluster")["inputs"]
    mng = one("eks:index:ManagedNodeGroup")["inputs"]
    releases = helm_releases(plan)
    deployment = next(o for o in objects.values() if o["kind"] == "Deployment")
    service = next(o for o in objects.values() if o["kind"] == "Service")
    # One instance type is set in the launch template, several on the node group.
    types = mng.get("instanceTypes") or [lt["inputs"]["instanceType"]
                                         for lt in plan.of_type("aws:ec2/launchTemplate:LaunchTemplate")]
    nodes = g.node("nodes", f"managed node group (private subnets) {', '.join(types)} "
                            f"{mng['scalingConfig']['minSize']}-{mng['scalingConfig']['maxSize']} nodes")
    controllers = []
    for name, release in sorted(releases.items()):
        controllers.append(g.node(_safe(name), f"{release['chart']} {release['version']} (Helm)"))
    app_ns = deployment["metadata"]["namespace"]
    ing = g.node("ingress", f"Ingress {ingress['metadata']['name']} (class alb)")
    svc = g.node("service", f"Service {service['metadata']['name']} {service['spec']['type']}")
    port = deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    replicas = deployment["spec"]["replicas"]
    pods = g.node("pods", f"Deployment {deployment['metadata']['name']} x{replicas} (port {port})")
    g.group("app", f"namespace {app_ns}", [ing, svc, pods], "eks")
    api = "private + allow-listed public API" if eks["endpointPublicAccess"] else "private API only"
    g.group("eks", f"EKS {eks['name']} {eks['version']} (KMS secrets, {api})", [nodes, *controllers], "vpc")

    ecr = g.node("ecr", f"ECR {repo['inputs']['name']} (immutable, scan on push)", "cyl")
    image = one("docker:index/image:Image")
    img = g.node("image", f"app image, content-hash tag, {image['inputs']['build']['platform']}")

    g.edge(users, r53, "DNS")
    g.edge(users, alb, "HTTPS")
    g.edge(r53, alb, "alias record")
    g.edge(igw, alb, "")
    g.edge(acm, alb, "TLS")
    g.edge(alb, svc if service["spec"]["type"] == "NodePort" else pods, "targets")
    g.edge(ing, alb, "")
    g.edge(svc, pods, "")
    g.edge(img, ecr, "push")
    g.edge(ecr, pods, "pull by digest")
    g.edge(pods, nodes, "runs on")
    if "aws-load-balancer-controller" in releases:
        g.edge(_safe("aws-load-balancer-controller"), alb, "manages")
    if "external-dns" in releases:
        g.edge(_safe("external-dns"), r53, "upserts record")
    return g


def _ecs_part(plan: Plan, g: Graph, users: str, r53: str, acm: str, igw: str, alb: str) -> None:
    """ECS: the cluster (capacity), the service and its tasks, auto scaling, EFS and the scheduled task if any."""
    one = plan.one
    cluster = one("aws:ecs/cluster:Cluster")["inputs"]
    strategy = one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")["inputs"][
        "defaultCapacityProviderStrategies"]
    capacity = ", ".join(f"{s['capacityProvider']} base {s['base']} weight {s['weight']}" for s in strategy)
    service = one("aws:ecs/service:Service")["inputs"]
    task = one("aws:ecs/taskDefinition:TaskDefinition")["inputs"]
    (container,) = json.loads(task["containerDefinitions"])
    target = one("aws:appautoscaling/target:Target")["inputs"]
    members = [
        g.node("service", f"service {service['name']} (private subnets, circuit breaker)"),
        g.node("tasks", f"tasks {task['cpu']} CPU / {task['memory']} MiB, uid {container['user']}, read-only "
                        f"(port {container['portMappings'][0]['containerPort']})"),
        g.node("scaling", f"auto scaling {target['minCapacity']}-{target['maxCapacity']} tasks"),
    ]
    if plan.of_type("aws:autoscaling/group:Group"):
        asg = one("aws:autoscaling/group:Group")["inputs"]
        lt = one("aws:ec2/launchTemplate:LaunchTemplate")["inputs"]
        members.append(g.node("instances", f"EC2 {lt['instanceType']} {asg['minSize']}-{asg['maxSize']} "
                                           "(private subnets)"))
        g.edge("tasks", "instances", "runs on")
    g.group("ecs", f"ECS {cluster['name']} ({capacity})", members, "vpc")
    ecr = g.node("ecr", f"ECR {one('aws:ecr/repository:Repository')['inputs']['name']} (immutable, scan on push)",
                 "cyl")
    image = one("docker:index/image:Image")
    img = g.node("image", f"app image, content-hash tag, {image['inputs']['build']['platform']}")
    g.edge(users, r53, "DNS")
    g.edge(users, alb, "HTTPS")
    g.edge(r53, alb, "alias record")
    g.edge(igw, alb, "")
    g.edge(acm, alb, "TLS")
    g.edge(alb, "tasks", "targets, ip")
    g.edge("service", "tasks", "")
    g.edge("scaling", "service", "desired count")
    g.edge(img, ecr, "push")
    g.edge(ecr, "tasks", "pull by digest")
    if plan.of_type("aws:efs/fileSystem:FileSystem"):
        efs = g.node("efs", "EFS (encrypted, TLS + IAM, access point)", "cyl")
        g.edge("tasks", efs, "NFS")
    if plan.of_type("aws:scheduler/schedule:Schedule"):
        schedule = one("aws:scheduler/schedule:Schedule")["inputs"]
        job = g.node("job", f"EventBridge Scheduler {schedule['scheduleExpression']}")
        g.edge(job, "tasks", "RunTask")


def _layout(g: Graph, node: Callable[[str, str, str], str], group_open: Callable[[str, str], str],
            group_close: str) -> list[str]:
    """Nodes outside any group, then each group tree with its members, indented; one syntax per caller."""
    lines: list[str] = []
    grouped = {n for _, _, members, _ in g.groups for n in members}

    def emit_group(group_id: str, indent: str) -> None:
        _, label, members, _ = next(x for x in g.groups if x[0] == group_id)
        lines.append(indent + group_open(group_id, label))
        for child in (x[0] for x in g.groups if x[3] == group_id):
            emit_group(child, indent + "  ")
        lines.extend(indent + "  " + node(m, *g.nodes[m]) for m in members)
        lines.append(indent + group_close)

    lines.extend("  " + node(n, *g.nodes[n]) for n in g.nodes if n not in grouped)
    for group_id, _, _, parent in g.groups:
        if parent is None:
            emit_group(group_id, "  ")
    return lines


def to_mermaid(g: Graph) -> str:
    shapes = {"box": ("[\"", "\"]"), "round": ("([\"", "\"])"), "cyl": ("[(\"", "\")]"),
              "stadium": ("([\"", "\"])")}
    lines = ["flowchart LR", f"  %% {g.title}: generated by infra/render/diagram.py from the rendered plan"]
    lines += _layout(g, lambda n, label, shape: f"{n}{shapes[shape][0]}{label}{shapes[shape][1]}",
                     lambda gid, label: f'subgraph {gid}["{label}"]', "end")
    lines += [f"  {src} -->|{label}| {dst}" if label else f"  {src} --> {dst}" for src, dst, label in g.edges]
    return "\n".join(lines) + "\n"


def to_dot(g: Graph) -> str:
    shapes = {"box": "box", "round": "ellipse", "cyl": "cylinder", "stadium": "box"}
    lines = ["digraph architecture {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];',
             f"  label={json.dumps(g.title)};"]
    lines += _layout(g, lambda n, label, shape: f"{n} [label={json.dumps(label)}, shape={shapes[shape]}];",
                     lambda gid, label: f"subgraph cluster_{gid} {{ label={json.dumps(label)};", "}")
    lines += [f"  {src} -> {dst} [label={json.dumps(label)}];" for src, dst, label in g.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_diagram(plan: Plan, out: Path) -> list[Path]:
    """architecture.mmd always; architecture.svg (and .dot) when Graphviz's `dot` is installed."""
    g = build_graph(plan)
    written = [out / "architecture.mmd"]
    written[0].write_text(to_mermaid(g))
    dot = shutil.which("dot")
    if dot:
        source = out / "architecture.dot"
        source.write_text(to_dot(g))
        svg = out / "architecture.svg"
        subprocess.run([dot, "-Tsvg", str(source), "-o", str(svg)], check=True, timeout=60)
        written += [source, svg]
    return written


def readme_block(mermaid: str) -> str:
    return f"{README_BEGIN}\n```mermaid\n{mermaid}```\n{README_END}"


def update_readme(readme: Path, mermaid: str) -> bool:
    """Replace the README's diagram block; True if it changed."""
    text = readme.read_text()
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    new = text[:start] + readme_block(mermaid) + text[end:]
    if new != text:
        readme.write_text(new)
    return new != text


def main() -> int:
    """`make diagram`: regenerate the README's diagram from the committed example stack tests/stacks/Pulumi.dev.yaml
    (never from the user's own Pulumi.dev.yaml, so editing it leaves the README as it is)."""
    from . import ROOT, TEST_STACKS, render

    changed = update_readme(ROOT / "README.md", to_mermaid(build_graph(render("dev", stacks=TEST_STACKS))))
    print("README.md diagram " + ("updated" if changed else "already current"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
