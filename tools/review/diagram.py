"""Architecture diagram drawn from a Plan with the official AWS icons (the `diagrams` package, Graphviz `dot`).

Everything shown comes from captured registrations, so the picture changes when the stack does: subnets grouped
by the AZ they were declared in, NATs by their subnet, the EKS runtime from its cluster, node group, Helm releases
and Kubernetes objects, and any runtime built from plain AWS resources (the ECS one: cluster, service, task
definition, load balancer, listener, target group, EFS, schedules, auto scaling, Route 53 records) generically
by type: each drawn type has an icon and a label, and an edge joins two drawn resources when one's inputs refer
to the other (the captured property dependencies), labelled with the input's name.

One graph model (`Graph`) feeds every output: the PNG/SVG, Mermaid (build/plan) and the JSON model committed
beside the picture under docs/, which a test compares with the current render (PNG bytes depend on the
Graphviz build; the model does not).
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from tools.markers import Block
from tools.render import Plan
from tools.render.artifacts import helm_releases, kubernetes_objects

DOCS = Path(__file__).resolve().parents[2] / "docs"
WRAP = 22  # characters per label line: keeps every label inside its node's width (no overlaps)
ICON_PT = 64  # icon size in points


class Node(NamedTuple):
    id: str
    label: str  # lines separated by "\n"
    icon: str  # a class of the diagrams package, e.g. "aws.network.NATGateway"


class Group(NamedTuple):
    id: str
    label: str
    parent: str | None
    members: tuple[str, ...]


class Edge(NamedTuple):
    src: str
    dst: str
    label: str = ""


@dataclass
class Graph:
    title: str
    nodes: dict[str, Node] = field(default_factory=dict)
    groups: list[Group] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def node(self, node_id: str, label: str, icon: str) -> str:
        self.nodes[node_id] = Node(node_id, wrap(label), icon)
        return node_id

    def group(self, group_id: str, label: str, members: Iterable[str], parent: str | None = None) -> str:
        self.groups.append(Group(group_id, label, parent, tuple(members)))
        return group_id

    def edge(self, src: str, dst: str, label: str = "") -> None:
        if Edge(src, dst, label) not in self.edges:
            self.edges.append(Edge(src, dst, label))

    def model(self) -> dict[str, Any]:
        """The graph as plain data (what the committed docs/architecture-<stack>.json holds)."""
        return {"title": self.title,
                "nodes": [n._asdict() for n in self.nodes.values()],
                "groups": [{**g._asdict(), "members": list(g.members)} for g in self.groups],
                "edges": [e._asdict() for e in self.edges]}


def wrap(text: str, width: int = WRAP) -> str:
    """Break a label into lines of at most `width` characters at spaces (longer words stay whole)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return "\n".join(lines)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", text)


# --- generic AWS types (the ECS runtime, and anything else built from plain AWS resources) -----------------
class Kind(NamedTuple):
    icon: str
    label: Callable[[dict[str, Any]], str]  # the resource's inputs -> label
    in_vpc: bool  # drawn inside the VPC box


def _capacity(i: dict[str, Any]) -> str:
    strategies = i.get("capacityProviderStrategies") or []
    if strategies:
        return " + ".join(str(s.get("capacityProvider")) for s in strategies)
    return str(i.get("launchType") or "")


_OPERATORS = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=", "LessThanThreshold": "<",
              "LessThanOrEqualToThreshold": "<="}


def _sidecars(i: dict[str, Any]) -> str:
    """`, <app> + sidecars a, b` when the task definition runs several containers (the app is the one that waits
    for the others: it has `dependsOn`); nothing for a single container."""
    try:
        defs = [c for c in json.loads(i.get("containerDefinitions") or "[]") if isinstance(c, dict)]
    except (ValueError, TypeError):
        return ""
    if len(defs) < 2:
        return ""
    app = next((str(c.get("name")) for c in defs if c.get("dependsOn")), None)
    others = sorted(str(c.get("name")) for c in defs if str(c.get("name")) != app)
    return f", {app} + sidecars {', '.join(others)}" if app else f", containers {', '.join(others)}"


def _listener(i: dict[str, Any]) -> str:
    actions = [a.get("type") for a in i.get("defaultActions") or []]
    return f"listener {i.get('protocol') or ''} {i.get('port') or ''}" + (
        " redirects" if actions == ["redirect"] else "")


TYPES: dict[str, Kind] = {
    "aws:ecs/cluster:Cluster": Kind("aws.compute.ElasticContainerService",
                                    lambda i: f"ECS cluster {i.get('name') or ''}", False),
    "aws:ecs/service:Service": Kind(
        "aws.compute.ElasticContainerServiceService",
        lambda i: f"ECS service {i.get('name') or ''} x{i.get('desiredCount', '?')} {_capacity(i)}", True),
    "aws:ecs/taskDefinition:TaskDefinition": Kind(
        "aws.compute.ElasticContainerServiceTask",
        lambda i: f"task definition {i.get('family') or ''} {i.get('cpu') or ''} CPU / {i.get('memory') or ''} MiB"
                  + _sidecars(i), False),
    "aws:cloudwatch/metricAlarm:MetricAlarm": Kind(
        "aws.management.CloudwatchAlarm",
        lambda i: f"alarm {i.get('metricName') or ''} {_OPERATORS.get(str(i.get('comparisonOperator')), '?')} "
                  f"{i.get('threshold', '?'):g} x{i.get('evaluationPeriods', '?')}"
                  if isinstance(i.get("threshold"), int | float) else f"alarm {i.get('metricName') or ''}", False),
    "aws:lb/loadBalancer:LoadBalancer": Kind(
        "aws.network.ElbApplicationLoadBalancer",
        lambda i: f"{'internal' if i.get('internal') else 'internet-facing'} "
                  f"{(i.get('loadBalancerType') or 'application').upper().replace('APPLICATION', 'ALB')} "
                  f"{i.get('name') or ''}", True),
    "aws:lb/targetGroup:TargetGroup": Kind(
        "aws.network.ElasticLoadBalancing",
        lambda i: f"target group {i.get('protocol') or ''} {i.get('port') or ''} "
                  f"({i.get('targetType') or 'instance'} targets)", True),
    "aws:lb/listener:Listener": Kind("aws.network.ElasticLoadBalancing", _listener, True),
    "aws:efs/fileSystem:FileSystem": Kind(
        "aws.storage.ElasticFileSystemEFS",
        lambda i: "EFS file system" + (" (encrypted)" if i.get("encrypted") else ""), True),
    "aws:scheduler/schedule:Schedule": Kind(
        "aws.integration.EventbridgeScheduler",
        lambda i: f"schedule {i.get('scheduleExpression') or ''} {i.get('scheduleExpressionTimezone') or ''}",
        False),
    "aws:autoscaling/group:Group": Kind(
        "aws.compute.EC2AutoScaling",
        lambda i: f"EC2 Auto Scaling group {i.get('minSize', '?')}-{i.get('maxSize', '?')} instances", True),
    "aws:appautoscaling/target:Target": Kind(
        "aws.compute.ApplicationAutoScaling",
        lambda i: f"auto scaling {i.get('minCapacity', '?')}-{i.get('maxCapacity', '?')} tasks", False),
    "aws:route53/record:Record": Kind(
        "aws.network.Route53",
        lambda i: f"{i.get('type') or ''} record {i.get('name') or ''}" + (" (alias)" if i.get("aliases") else ""),
        False),
}


def _generic(plan: Plan, g: Graph, ids: dict[str, str]) -> list[str]:
    """Nodes for every resource of a type in TYPES (returns those inside the VPC); edges from input references.

    `ids` maps URNs to node ids: it is extended here, and also names the shared nodes (zone, certificate,
    repository) so a generic resource referring to them gets an edge too."""
    in_vpc: list[str] = []
    # (the alarms that notify people are drawn as one node by _operations, not one each)
    drawn = [r for r in plan.resources if r["type"] in TYPES and r["custom"]
             and "webstack:ops:Alarms" not in (r["parent"] or "")]
    for r in drawn:
        if r["type"] == "aws:route53/record:Record" and r["urn"] not in _alias_records(plan):
            continue  # validation records and the like: the zone already stands for them
        kind = TYPES[r["type"]]
        node_id = _safe(r["name"])
        while node_id in g.nodes:  # a resource named like a fixed node ("zone", "alb", ...) gets its own id
            node_id += "_"
        node = g.node(node_id, kind.label(r["inputs"]), kind.icon)
        ids[r["urn"]] = node
        if kind.in_vpc:
            in_vpc.append(node)
    for policy in plan.of_type("aws:appautoscaling/policy:Policy"):  # an alarm's action: drawn as its target
        targets = [ids[u] for u in (policy.get("propertyDependencies") or {}).get("resourceId", []) if u in ids]
        if targets:
            ids[policy["urn"]] = targets[0]
    for r in drawn:
        if r["urn"] not in ids:
            continue
        for prop, urns in sorted((r.get("propertyDependencies") or {}).items()):
            for urn in urns:
                if urn in ids and ids[urn] != ids[r["urn"]]:
                    g.edge(ids[r["urn"]], ids[urn], prop)
    return in_vpc


def _alias_records(plan: Plan) -> set[str]:
    return {r["urn"] for r in plan.of_type("aws:route53/record:Record") if r["inputs"].get("aliases")}


# --- the graph ------------------------------------------------------------------------------------------
def build_graph(plan: Plan) -> Graph:
    one = plan.one
    vpc = one("aws:ec2/vpc:Vpc")
    repo = one("aws:ecr/repository:Repository")
    certs = plan.of_type("aws:acm/certificate:Certificate")
    zones = plan.of_type("aws:route53/zone:Zone")
    zone_name = zones[0]["inputs"]["name"] if zones else plan.looked_up_zones()[0]
    region = vpc["state"]["arn"].split(":")[3]
    g = Graph(f"webstack {plan.stack} ({region})")
    ids: dict[str, str] = {}

    users = g.node("users", "Internet users", "onprem.client.Users")
    r53 = g.node("zone", f"Route 53 zone {zone_name}" + (" (created)" if zones else " (looked up)"),
                 "aws.network.Route53HostedZone")
    if zones:
        ids[zones[0]["urn"]] = r53
    acm = None
    if certs:
        acm = g.node("cert", f"ACM certificate {certs[0]['inputs']['domainName']} (DNS-validated)",
                     "aws.security.CertificateManager")
        ids[certs[0]["urn"]] = acm
        for validation in plan.of_type("aws:acm/certificateValidation:CertificateValidation"):
            ids[validation["urn"]] = acm  # listeners take the validated ARN from here
    igw = g.node("igw", "Internet gateway", "aws.network.InternetGateway")

    subnets = plan.of_type("aws:ec2/subnet:Subnet")
    by_id = {s["id"]: s for s in subnets}
    nat_list = plan.of_type("aws:ec2/natGateway:NatGateway")
    nats = {n["inputs"]["subnetId"]: n for n in nat_list}
    az_groups = []
    for index, az in enumerate(sorted({s["inputs"]["availabilityZone"] for s in subnets})):
        members = []
        for s in sorted((s for s in subnets if s["inputs"]["availabilityZone"] == az), key=lambda s: s["name"]):
            public = "kubernetes.io/role/elb" in s["inputs"]["tags"]
            kind = "public" if public else "private"
            sid = g.node(_safe(s["name"]), f"{kind} subnet {s['inputs']['cidrBlock']}",
                         "aws.network.PublicSubnet" if public else "aws.network.PrivateSubnet")
            members.append(sid)
            if s["id"] in nats:
                nat = g.node(_safe(nats[s["id"]]["name"]), "NAT gateway", "aws.network.NATGateway")
                members.append(nat)
                g.edge(sid, nat)
        az_groups.append(g.group(f"az{index}", f"AZ {az}", members, "vpc"))
    for route in plan.of_type("aws:ec2/route:Route"):
        nat_id = route["inputs"].get("natGatewayId")
        if not nat_id:
            continue
        table = route["inputs"]["routeTableId"]
        for assoc in plan.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation"):
            if assoc["inputs"]["routeTableId"] == table and assoc["inputs"]["subnetId"] in by_id:
                nat = next(n for n in nat_list if n["id"] == nat_id)
                g.edge(_safe(by_id[assoc["inputs"]["subnetId"]]["name"]), _safe(nat["name"]), "0.0.0.0/0")

    ecr = g.node("ecr", f"ECR {repo['inputs']['name']} (immutable, scan on push)",
                 "aws.compute.EC2ContainerRegistry")
    ids[repo["urn"]] = ecr
    images = plan.of_type("docker:index/image:Image")
    img = None
    if images:
        img = g.node("image", f"app image, content-hash tag, {images[0]['inputs']['build']['platform']}",
                     "aws.compute.EC2ContainerRegistryImage")
        g.edge(img, ecr, "push")
    g.edge(users, r53, "DNS")

    vpc_members = [igw]
    if plan.of_type("eks:index:Cluster"):
        vpc_members += _eks(plan, g, r53, acm, igw, ecr, users)
    in_vpc = _generic(plan, g, ids)
    vpc_members += in_vpc
    for lb in (r for r in plan.of_type("aws:lb/loadBalancer:LoadBalancer") if r["urn"] in ids):
        alb = ids[lb["urn"]]
        g.edge(users, alb, "HTTPS")
        g.edge(igw, alb)
    for svc in (r for r in plan.of_type("aws:ecs/service:Service") if r["urn"] in ids):
        g.edge(ecr, ids[svc["urn"]], "pull by digest")
    for record in (r for r in plan.of_type("aws:route53/record:Record") if r["urn"] in ids):
        g.edge(r53, ids[record["urn"]], "record")
    _operations(plan, g, ids)
    g.group("vpc", f"VPC {vpc['inputs']['cidrBlock']}", vpc_members, None)
    return g


def _operations(plan: Plan, g: Graph, ids: dict[str, str]) -> None:
    """The firewall in front of the app's ALB, the alarms watching it and the topic they notify (infra/waf.py,
    infra/monitoring.py); the ALB is the EKS Ingress's (node `alb`) or the ECS runtime's own."""
    albs = [ids[lb["urn"]] for lb in plan.of_type("aws:lb/loadBalancer:LoadBalancer") if lb["urn"] in ids]
    alb = "alb" if "alb" in g.nodes else (albs[0] if albs else None)
    for acl in plan.of_type("aws:wafv2/webAcl:WebAcl"):
        rules = acl["inputs"].get("rules") or []
        waf = g.node("waf", f"WAF web ACL {acl['inputs'].get('name')} ({len(rules)} rules: managed groups, rate "
                            "limit)", "aws.security.WAF")
        if alb:
            g.edge(waf, alb, "filters")
    alarms = plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    topics = plan.of_type("aws:sns/topic:Topic")
    if not alarms or not topics:
        return
    names = ", ".join(a["name"].split("-", 1)[-1] for a in alarms)  # alarms-five-xx-rate -> five-xx-rate
    watch = g.node("alarms", f"CloudWatch alarms ({len(alarms)}): {names}", "aws.management.CloudwatchAlarm")
    emails = sum(1 for s in plan.of_type("aws:sns/topicSubscription:TopicSubscription")
                 if s["inputs"].get("protocol") == "email")
    topic = g.node("alarm_topic", f"SNS topic {topics[0]['inputs'].get('name')} (KMS), {emails} e-mail "
                                  "subscription(s)", "aws.integration.SimpleNotificationServiceSnsTopic")
    g.edge(watch, topic, "notifies")
    if alb:
        g.edge(watch, alb, "watches")


def _eks(plan: Plan, g: Graph, r53: str, acm: str | None, igw: str, ecr: str, users: str) -> list[str]:
    """The EKS runtime: cluster, node group, Helm releases and the app's Kubernetes objects."""
    eks = plan.one("eks:index:Cluster")["inputs"]
    groups = plan.of_type("eks:index:ManagedNodeGroup")
    releases = helm_releases(plan)
    objects = kubernetes_objects(plan)
    ingress = next(o for o in objects.values() if o["kind"] == "Ingress")
    deployment = next(o for o in objects.values() if o["kind"] == "Deployment")
    service = next(o for o in objects.values() if o["kind"] == "Service")
    name = ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/load-balancer-name"]
    alb = g.node("alb", f"ALB {name} HTTPS 443, HTTP 80 redirects", "aws.network.ElbApplicationLoadBalancer")

    pools = plan.of_type("kubernetes:karpenter.sh/v1:NodePool")
    nodes = _node_group(plan, g, groups[0]["inputs"], bool(pools)) if groups else None
    controllers = [g.node(_safe(n), f"{r['chart']} {r['version']} (Helm)",
                          "k8s.ecosystem.ExternalDns" if n == "external-dns" else "k8s.ecosystem.Helm")
                   for n, r in sorted(releases.items())]
    ing = g.node("ingress", f"Ingress {ingress['metadata']['name']} (class {ingress['spec']['ingressClassName']})",
                 "k8s.network.Ing")
    svc = g.node("service", f"Service {service['metadata']['name']} {service['spec']['type']}", "k8s.network.SVC")
    port = deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    pods = g.node("pods", f"Deployment {deployment['metadata']['name']} x{deployment['spec']['replicas']} "
                          f"(port {port})", "k8s.compute.Deploy")
    g.group("app", f"namespace {deployment['metadata']['namespace']}", [ing, svc, pods], "eks")
    karpenter = [_karpenter_nodes(g, pool["inputs"]["spec"]) for pool in pools]
    fargate = _fargate_profile(plan, g)
    classes = [_storage_class(g, o) for o in objects.values() if o["kind"] == "StorageClass"]
    api = "private + allow-listed public API" if eks["endpointPublicAccess"] else "private API only"
    auto = " with EKS Auto Mode (nodes, load balancing, block storage)" if eks.get("autoMode") else ""
    g.group("eks", f"EKS {eks['name']} {eks['version']}{auto} (KMS secrets, {api})",
            [n for n in (nodes, *karpenter, *fargate, *controllers, *classes) if n], "vpc")

    g.edge(users, alb, "HTTPS")
    g.edge(r53, alb, "alias record")
    g.edge(igw, alb)
    if acm:
        g.edge(acm, alb, "TLS")
    # The Ingress's target type decides (ip: the pods, NodePort Service or not; instance: the Service's NodePort).
    instance = ingress["metadata"].get("annotations", {}).get("alb.ingress.kubernetes.io/target-type") == "instance"
    g.edge(alb, svc if instance else pods, "targets")
    g.edge(ing, alb)
    g.edge(svc, pods)
    g.edge(ecr, pods, "pull by digest")
    if fargate or nodes:
        g.edge(pods, fargate[0] if fargate else nodes, "runs on")
    for pool in [] if fargate else karpenter:
        g.edge(pods, pool, "runs on")
        if "karpenter" in releases:
            g.edge(_safe("karpenter"), pool, "launches")
    if "aws-load-balancer-controller" in releases:
        g.edge(_safe("aws-load-balancer-controller"), alb, "manages")
    if "external-dns" in releases:
        g.edge(_safe("external-dns"), r53, "upserts record")
    return [alb]


def _storage_class(g: Graph, obj: dict[str, Any]) -> str:
    """A StorageClass: its provisioner (the CSI driver add-on), encryption or TLS, reclaim policy, default or not."""
    params, meta = obj.get("parameters") or {}, obj["metadata"]
    secured = "encrypted" if params.get("encrypted") == "true" else "TLS" if "tls" in (obj.get("mountOptions") or []) \
        else "unencrypted"
    default = meta.get("annotations", {}).get("storageclass.kubernetes.io/is-default-class") == "true"
    return g.node(_safe(f"sc-{meta['name']}"), f"StorageClass {meta['name']}{' (default)' if default else ''} "
                                               f"{obj['provisioner']} {secured}, {obj.get('reclaimPolicy')}",
                  "k8s.storage.SC")


def _node_group(plan: Plan, g: Graph, mng: dict[str, Any], system: bool) -> str:
    """The managed node group. One instance type is set in the launch template, several on the node group."""
    types = mng.get("instanceTypes") or [lt["inputs"]["instanceType"]
                                         for lt in plan.of_type("aws:ec2/launchTemplate:LaunchTemplate")]
    return g.node("nodes", f"{'system ' if system else ''}managed node group (private subnets) {', '.join(types)} "
                           f"{mng['scalingConfig']['minSize']}-{mng['scalingConfig']['maxSize']} nodes",
                  "aws.compute.EC2AutoScaling")


def _fargate_profile(plan: Plan, g: Graph) -> list[str]:
    """The app's EKS Fargate profile (appOnFargate), as what its pods run on: [] when there is none."""
    profiles = plan.of_type("aws:eks/fargateProfile:FargateProfile")
    selectors = [sel for p in profiles for sel in p["inputs"].get("selectors") or []]
    return [g.node("fargate", "Fargate profile (private subnets) " + ", ".join(
        f"{sel['namespace']} {'/'.join(f'{k}={v}' for k, v in (sel.get('labels') or {}).items())}".strip()
        for sel in selectors), "aws.compute.Fargate")] if profiles else []


def _karpenter_nodes(g: Graph, spec: dict[str, Any]) -> str:
    """Karpenter's NodePool (or EKS Auto Mode's) as the nodes it launches: capacity types and the CPU limit."""
    requirements = {r["key"]: r["values"] for r in spec["template"]["spec"]["requirements"]}
    if spec["template"]["spec"]["nodeClassRef"]["group"] == "eks.amazonaws.com":
        return g.node("auto_mode_nodes", f"EKS Auto Mode nodes (private subnets) "
                                         f"{'/'.join(requirements['kubernetes.io/arch'])}, "
                                         f"up to {spec['limits']['cpu']} vCPUs", "aws.compute.EC2Instances")
    return g.node("karpenter_nodes", f"Karpenter nodes (private subnets) "
                                     f"{'/'.join(requirements['karpenter.sh/capacity-type'])}, "
                                     f"up to {spec['limits']['cpu']} vCPUs", "aws.compute.EC2Instances")


# --- outputs --------------------------------------------------------------------------------------------
def _layout(g: Graph, node: Callable[[Node], str], group_open: Callable[[Group], str], group_close: str
            ) -> list[str]:
    """Nodes outside any group, then each group tree with its members, indented; one syntax per caller."""
    lines: list[str] = []
    grouped = {n for grp in g.groups for n in grp.members}

    def emit_group(grp: Group, indent: str) -> None:
        lines.append(indent + group_open(grp))
        for child in (x for x in g.groups if x.parent == grp.id):
            emit_group(child, indent + "  ")
        lines.extend(indent + "  " + node(g.nodes[m]) for m in grp.members)
        lines.append(indent + group_close)

    lines.extend("  " + node(n) for n in g.nodes.values() if n.id not in grouped)
    for grp in g.groups:
        if grp.parent is None:
            emit_group(grp, "  ")
    return lines


def to_mermaid(g: Graph) -> str:
    def text(label: str) -> str:
        return label.replace("\n", " ")

    lines = ["flowchart LR", f"  %% {g.title}: generated by tools/review/diagram.py from the rendered plan"]
    lines += _layout(g, lambda n: f'{n.id}["{text(n.label)}"]', lambda grp: f'subgraph {grp.id}["{grp.label}"]',
                     "end")
    lines += [f"  {e.src} -->|{e.label}| {e.dst}" if e.label else f"  {e.src} --> {e.dst}" for e in g.edges]
    return "\n".join(lines) + "\n"


def _icon(path: str) -> type:
    module, cls = path.rsplit(".", 1)
    return getattr(importlib.import_module(f"diagrams.{module}"), cls)  # type: ignore[no-any-return]


def to_dot(g: Graph) -> str:
    """The Graphviz source the `diagrams` package builds for the graph, icons and all (ids are the model's)."""
    from diagrams import Cluster, Diagram, setcluster, setdiagram
    from diagrams import Edge as DEdge

    # splines=spline (the package offers only ortho or curved, and dot places edge labels with neither)
    diagram = Diagram(g.title, filename="architecture", show=False, direction="LR", curvestyle="curved",
                      graph_attr={"splines": "spline", "pad": "0.4", "nodesep": "0.5", "ranksep": "1.0",
                                  "fontsize": "18", "labelloc": "t", "newrank": "true"},
                      edge_attr={"fontname": "Sans-Serif", "fontsize": "11", "fontcolor": "#2D3436"})
    made: dict[str, Any] = {}

    def place(node: Node) -> None:
        # The package draws an icon as a fixed-size node with its label laid over the box's bottom edge, so long
        # labels run into the icon and the neighbours. An HTML-like label (the package's icon above the text
        # lines) makes the node exactly as large as both: dot then keeps every label clear of the others.
        icon = _icon(node.icon)
        path = Path(importlib.import_module("diagrams").__file__ or "").parent.parent / icon._icon_dir / icon._icon
        text = "<BR/>".join(html.escape(line) for line in node.label.split("\n"))
        label = (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2"><TR><TD FIXEDSIZE="TRUE" '
                 f'WIDTH="{ICON_PT}" HEIGHT="{ICON_PT}"><IMG SRC="{html.escape(str(path))}" SCALE="TRUE"/></TD>'
                 f'</TR><TR><TD>{text}</TD></TR></TABLE>>')
        made[node.id] = icon(label, nodeid=node.id, shape="plain", image="", fixedsize="false", width="0",
                             height="0")

    def emit(grp: Group) -> None:
        with Cluster(grp.label, graph_attr={"margin": "16"}):
            for child in (x for x in g.groups if x.parent == grp.id):
                emit(child)
            for m in grp.members:
                place(g.nodes[m])

    # Diagram's own `with` block renders on exit; set the context by hand and run dot ourselves.
    setdiagram(diagram)
    try:
        grouped = {n for grp in g.groups for n in grp.members}
        for n in g.nodes.values():
            if n.id not in grouped:
                place(n)
        for grp in g.groups:
            if grp.parent is None:
                emit(grp)
        for e in g.edges:
            made[e.src] >> DEdge(label=e.label) >> made[e.dst]
    finally:
        setcluster(None)
        setdiagram(None)
    return str(diagram.dot.source)


def render_dot(source: str, out: Path, fmt: str) -> Path:
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("Graphviz `dot` is not installed (apt-get install graphviz)")
    subprocess.run([dot, f"-T{fmt}", "-o", str(out)], input=source, text=True, check=True, timeout=120)
    return out


def write_diagram(plan: Plan, out: Path) -> list[Path]:
    """architecture.mmd and architecture.json always; .dot, .png and .svg when Graphviz's `dot` and the `diagrams`
    package (requirements-dev.txt) are installed."""
    g = build_graph(plan)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "architecture.mmd", out / "architecture.json"]
    written[0].write_text(to_mermaid(g))
    written[1].write_text(model_json(g))
    if shutil.which("dot") and importlib.util.find_spec("diagrams"):  # both ship with the dev tools, not the runtime
        source = to_dot(g)
        (out / "architecture.dot").write_text(source)
        written += [out / "architecture.dot", render_dot(source, out / "architecture.png", "png"),
                    render_dot(source, out / "architecture.svg", "svg")]
    return written


def model_json(g: Graph) -> str:
    return json.dumps(g.model(), indent=1, sort_keys=True) + "\n"


# --- the committed pictures -------------------------------------------------------------------------------
BLOCK = Block("<!-- architecture:begin (make diagram) -->", "<!-- architecture:end -->")
README_BEGIN, README_END = BLOCK
# The example stacks drawn under docs/: stack file name -> picture name. The ECS one joins when its
# example stack exists (tests/stacks/Pulumi.ecs.yaml).
EXAMPLES = ("dev", "ecs")


def example_stacks() -> list[str]:
    from tools.render import TEST_STACKS

    return [s for s in EXAMPLES if (TEST_STACKS / f"Pulumi.{s}.yaml").exists()]


def readme_block(stacks: list[str]) -> str:
    pictures = "\n\n".join(f"![architecture of the {s} example stack](docs/architecture-{s}.png)" for s in stacks)
    return BLOCK.wrap(pictures)


def update_readme(readme: Path, stacks: list[str]) -> bool:
    """Replace the README's diagram block; True if it changed."""
    return BLOCK.rewrite(readme, readme_block(stacks))


def main() -> int:
    """`make diagram`: redraw docs/architecture-<stack>.png (+ .json model) from the committed example stacks
    in tests/stacks/ (never from the user's own Pulumi.<stack>.yaml), and point the README at them."""
    from tools.render import ROOT, TEST_STACKS, render

    DOCS.mkdir(exist_ok=True)
    stacks = example_stacks()
    for stack in stacks:
        g = build_graph(render(stack, stacks=TEST_STACKS))
        (DOCS / f"architecture-{stack}.json").write_text(model_json(g))
        render_dot(to_dot(g), DOCS / f"architecture-{stack}.png", "png")
        print(f"docs/architecture-{stack}.png and .json drawn")
    changed = update_readme(ROOT / "README.md", stacks)
    print("README.md diagram block " + ("updated" if changed else "already current"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


# --- layout check ---------------------------------------------------------------------------------------
class Box(NamedTuple):
    what: str
    owner: str  # the node, edge or group the box belongs to (its own boxes may nest)
    left: float
    bottom: float
    right: float
    top: float

    def overlaps(self, other: Box, slack: float = 1.0) -> bool:
        return (self.left < other.right - slack and other.left < self.right - slack
                and self.bottom < other.top - slack and other.bottom < self.top - slack)


def _text_boxes(ops: list[dict[str, Any]], what: str, owner: str) -> list[Box]:
    boxes, size = [], 14.0
    for op in ops:
        if op.get("op") == "F":
            size = float(op["size"])
        elif op.get("op") == "T":
            x, y, width = op["pt"][0], op["pt"][1], float(op["width"])
            left = {"l": x, "r": x - width}.get(op.get("align", "c"), x - width / 2)
            boxes.append(Box(f"{what} {op['text']!r}", owner, left, y - 0.25 * size, left + width, y + 0.85 * size))
    return boxes


def layout_boxes(layout: dict[str, Any]) -> list[Box]:
    """What is written on the drawn picture, from `dot -Tjson`: each node (icon and label lines), each edge label
    and each group label, as boxes in points."""
    boxes: list[Box] = []
    for obj in layout.get("objects", []):
        if "pos" in obj:  # a node
            x, y = (float(v) for v in obj["pos"].split(","))
            w, h = float(obj["width"]) * 36, float(obj["height"]) * 36
            boxes.append(Box(f"node {obj['name']}", obj["name"], x - w, y - h, x + w, y + h))
            boxes += _text_boxes(obj.get("_ldraw_", []), f"label of {obj['name']}", obj["name"])
        else:  # a group
            boxes += _text_boxes(obj.get("_ldraw_", []), f"group {obj['name']}", obj["name"])
    for i, edge in enumerate(layout.get("edges", [])):
        boxes += _text_boxes(edge.get("_ldraw_", []), "edge label", f"edge {i}")
    return boxes


def overlaps(source: str) -> list[tuple[str, str]]:
    """Pairs of labels or nodes that overlap in dot's layout of `source` (empty when the picture is clean)."""
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("Graphviz `dot` is not installed (apt-get install graphviz)")
    # json needs no images: dot says so on stderr and keeps the (fixed) icon cell sizes
    run = subprocess.run([dot, "-Tjson"], input=source, capture_output=True, text=True, check=True, timeout=120)
    boxes = layout_boxes(json.loads(run.stdout))
    return [(a.what, b.what) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a.owner != b.owner and a.overlaps(b)]
