"""`make diff` labels each change with what `pulumi up` does: update in place, replace, replace with the old one
deleted first, moved; destructive changes come first and guarded ones block until acknowledged."""

from __future__ import annotations

import copy
import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tools.render import Plan
from tools.review import diff as diff_module
from tools.review import replace as rp
from tools.review.diff import PlanDiff, diff_plans, format_markdown, format_text

OPTIONS = {"protect": False, "retainOnDelete": False, "deleteBeforeReplace": False, "ignoreChanges": [],
           "transforms": 0}


def res(name: str, typ: str, inputs: dict[str, Any], *, deps: dict[str, list[str]] | None = None,
        provider: str | None = None, options: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"urn": f"urn:pulumi:s::webstack::{typ}::{name}", "type": typ, "name": name, "custom": True,
            "id": f"{name}-id", "parent": None, "provider": provider, "dependencies": [],
            "propertyDependencies": deps or {}, "options": {**OPTIONS, **(options or {})}, "inputs": inputs,
            "state": dict(inputs)}


def plan(*resources: dict[str, Any]) -> Plan:
    return Plan(stack="s", resources=list(resources), invokes=[], outputs={})


def actions(d: PlanDiff) -> dict[str, rp.Action]:
    """Action by `Kind/name` (names repeat across types: a subnet and its route table association)."""
    return {_key(c.ref): c.action for c in [*d.changed, *d.affected] if c.action} | {
        _key(m.change.ref): m.change.action for m in d.moved if m.change.action}


def _key(ref: diff_module.ResourceRef) -> str:
    return f"{ref.type.rsplit(':', 1)[-1]}/{ref.name}"


def changed_copy(p: Plan, resource: str, typ: str, **inputs: Any) -> Plan:
    """`p` with the inputs of one resource changed (a change no config key makes)."""
    resources = copy.deepcopy(p.resources)
    target = next(r for r in resources if r["name"] == resource and r["type"] == typ)
    target["inputs"].update(inputs)
    return Plan(stack=p.stack, resources=resources, invokes=p.invokes, outputs=p.outputs, config=p.config)


# --- real renders --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dev_changes(dev: Plan, variant) -> PlanDiff:  # type: ignore[no-untyped-def]
    """One render with four unrelated changes: the VPC range, the repository, the node group's maximum size and
    the ALB name (an Ingress annotation)."""
    return diff_plans(dev, variant("dev", vpcCidr="10.1.0.0/16", repositoryName="webapp2", nodeMaxSize=5,
                                   loadBalancerName="webapp-alb2"))


def test_a_new_vpc_range_replaces_the_vpc_and_its_subnets_and_blocks(dev_changes: PlanDiff) -> None:
    acts = actions(dev_changes)
    assert acts["Vpc/network-vpc"].kind == rp.REPLACE and acts["Vpc/network-vpc"].reasons == ("cidrBlock",)
    for subnet in ("network-private-0", "network-private-1", "network-public-0", "network-public-1"):
        act = acts[f"Subnet/{subnet}"]
        assert act.kind == rp.REPLACE and act.reasons[0] == "cidrBlock", subnet
        assert "vpcId <- network-vpc" in act.reasons  # and its VPC id becomes a new one
    # What takes the replaced resources' ids follows, as `pulumi preview` shows it: forcing inputs replace...
    assert "RouteTable/network-private-rt-0" in {_key(c.ref) for c in dev_changes.affected}
    assert acts["RouteTable/network-private-rt-0"] == rp.Action(rp.REPLACE, ("vpcId <- network-vpc",))
    assert acts["ManagedNodeGroup/cluster-nodes"].kind == rp.REPLACE
    assert "subnetIds <- network-private-0" in acts["ManagedNodeGroup/cluster-nodes"].reasons
    # ... other inputs update in place
    assert acts["InternetGateway/network-igw"] == rp.Action(rp.UPDATE, ("vpcId <- network-vpc",))
    blocking = {x.ref.name for x in dev_changes.blocking()}
    assert {"network-vpc", "network-private-0", "network-public-1"} <= blocking
    assert "network-private-rt-0" not in blocking  # replaced, but not a guarded type


def test_a_new_flow_log_retention_is_exactly_one_update_in_place(prod: Plan, variant) -> None:  # type: ignore[no-untyped-def]
    """The acceptance check of an update: prod keeps flow logs (dev turns them off, where the key changes nothing)."""
    d = diff_plans(prod, variant("prod", flowLogsRetentionDays=30))
    assert [(c.ref.type, c.ref.name, c.action.kind, c.action.reasons, [ch.path for ch in c.changes])
            for c in d.changed] == [("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs", rp.UPDATE, (),
                                     ["inputs.retentionInDays"])]
    assert not (d.added or d.removed or d.moved or d.affected or d.destroyed or d.blocking())
    changes = [line for line in format_text(d).splitlines() if line[:2] in ("+ ", "- ", "~ ")]
    assert len(changes) == 1 and changes[0].endswith("[update]") and "Destroys" not in format_text(d)


def test_a_new_repository_name_replaces_it_and_the_fixed_name_deletes_it_first(dev_changes: PlanDiff) -> None:
    repo = next(c for c in dev_changes.changed if c.ref.type == "aws:ecr/repository:Repository")
    assert repo.action.kind == rp.DELETE_FIRST and repo.action.reasons == ("name",)
    assert repo.action.delete_first == "fixed `name`: deleted first"
    assert "stateful" in repo.action.guard


def test_a_node_group_size_is_an_update_in_place(dev_changes: PlanDiff) -> None:
    nodes = next(c for c in dev_changes.changed if c.ref.type == "eks:index:ManagedNodeGroup")
    assert "inputs.scalingConfig.maxSize" in {ch.path for ch in nodes.changes}
    # replaced here only by the new subnets: the size alone is an update (see the next test)
    alone = diff_plans(*[plan(res("nodes", "eks:index:ManagedNodeGroup", {"scalingConfig": {"maxSize": m}}))
                         for m in (3, 5)])
    assert actions(alone)["ManagedNodeGroup/nodes"] == rp.Action(rp.UPDATE)
    assert alone.destroyed == () and "Destroys" not in format_text(alone)


def test_a_new_alb_name_is_an_ingress_update_that_replaces_the_alb(dev_changes: PlanDiff) -> None:
    ingress = actions(dev_changes)["Ingress/webapp-ingress"]
    assert ingress.kind == rp.UPDATE and "replaces the ALB" in ingress.side_effect
    assert "webapp-ingress" in {x.ref.name for x in dev_changes.blocking()}


def test_a_new_zone_name_replaces_the_zone(prod: Plan, variant) -> None:  # type: ignore[no-untyped-def]
    d = diff_plans(prod, variant("prod", zoneName="prod2.example.com", hostname="www.prod2.example.com",
                                   certificateExtraNames=["prod2.example.com"]))
    zone = actions(d)["Zone/dns-zone"]
    assert zone.kind == rp.DELETE_FIRST and zone.reasons == ("name",) and "stateful" in zone.guard
    assert "dns-zone" in {x.ref.name for x in d.blocking()}


def test_the_ecs_load_balancer_target_group_and_capacity_provider(fargate: Plan, ec2: Plan) -> None:
    alb = diff_plans(fargate, changed_copy(fargate, "web-alb", "aws:lb/loadBalancer:LoadBalancer", name="other"))
    assert actions(alb)["LoadBalancer/web-alb"] == rp.Action(rp.DELETE_FIRST, ("name",), "fixed `name`: deleted first",
                                                actions(alb)["LoadBalancer/web-alb"].guard)
    tg = diff_plans(fargate, changed_copy(fargate, "web-tg", "aws:lb/targetGroup:TargetGroup", port=9090))
    acts = actions(tg)
    # no fixed name: created first
    assert acts["TargetGroup/web-tg"].kind == rp.REPLACE and acts["TargetGroup/web-tg"].reasons == ("port",)
    assert acts["Service/app-service"].kind == rp.UPDATE  # its load balancer entry takes the new ARN in place
    assert [x.ref.name for x in tg.blocking()] == ["web-tg"]
    cp = diff_plans(ec2, changed_copy(ec2, "ecs-ec2-provider", "aws:ecs/capacityProvider:CapacityProvider",
                                      name="webstack-ecs-ec2-ec2b"))
    provider = actions(cp)["CapacityProvider/ecs-ec2-provider"]
    assert provider.kind == rp.DELETE_FIRST and provider.reasons == ("name",) and provider.guard


def test_every_destructive_change_is_listed_first_in_text_and_markdown(dev_changes: PlanDiff) -> None:
    text = format_text(dev_changes)
    assert text.index("Destroys (") < text.index("~ ")
    assert "!! replace (cidrBlock)  aws:ec2/vpc:Vpc" in text and "Allow-Replace: network-vpc" in text
    markdown = format_markdown(dev_changes)
    top = markdown[:markdown.index(diff_module.DESTROYS_END)]
    assert "⛔" in top and "`aws:ec2/vpc:Vpc` network-vpc | `cidrBlock`" in top
    assert f"<!-- blocking: {len(dev_changes.blocking())} -->" in markdown
    acknowledged = format_markdown(dev_changes, allow=("network-*", "aws:ecr/*", "webapp-ingress"))
    assert "<!-- blocking: 0 -->" in acknowledged and "⚠️ ack." in acknowledged


# --- crafted pairs -------------------------------------------------------------------------------------------------

SG = "aws:ec2/securityGroup:SecurityGroup"
RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def test_the_delete_before_replace_option_labels_the_replacement() -> None:
    d = diff_plans(*[plan(res("sg", SG, {"vpcId": v}, options={"deleteBeforeReplace": True})) for v in ("a", "b")])
    assert actions(d)["SecurityGroup/sg"] == rp.Action(rp.DELETE_FIRST, ("vpcId",), "deleteBeforeReplace option")
    assert "replace, delete first (vpcId) [deleteBeforeReplace option]" in format_text(d)


def test_switching_the_source_kind_of_a_rule_replaces_it_but_a_new_port_does_not() -> None:
    base = plan(res("r", RULE, {"securityGroupId": "sg", "cidrIpv4": "10.0.0.0/8", "fromPort": 80}))
    port = plan(res("r", RULE, {"securityGroupId": "sg", "cidrIpv4": "10.0.0.0/8", "fromPort": 81}))
    kind = plan(res("r", RULE, {"securityGroupId": "sg", "referencedSecurityGroupId": "sg-2", "fromPort": 80}))
    assert actions(diff_plans(base, port))["SecurityGroupIngressRule/r"].kind == rp.UPDATE
    assert actions(diff_plans(base, kind))["SecurityGroupIngressRule/r"] == rp.Action(
        rp.REPLACE, ("cidrIpv4 -> referencedSecurityGroupId",))


def test_kubernetes_immutable_fields_and_a_replaced_provider() -> None:
    dep = "kubernetes:apps/v1:Deployment"
    prov = "urn:pulumi:s::webstack::pulumi:providers:kubernetes::k8s::k8s-id"

    def k8s(selector: str, kubeconfig: str) -> Plan:
        meta = {"name": "web", "namespace": "apps"}
        return plan(res("k8s", "pulumi:providers:kubernetes", {"kubeconfig": kubeconfig}),
                    res("web", dep, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                                     "spec": {"selector": {"matchLabels": {"app": selector}}}}, provider=prov),
                    res("svc", "kubernetes:core/v1:Service", {"apiVersion": "v1", "kind": "Service", "metadata": meta,
                                                              "spec": {"type": "NodePort"}}, provider=prov))

    selector = diff_plans(k8s("a", "c1"), k8s("b", "c1"))
    assert actions(selector) == {"Deployment/web": rp.Action(rp.DELETE_FIRST, ("spec.selector",),
                                                  "fixed Kubernetes name: deleted first")}
    cluster = actions(diff_plans(k8s("a", "c1"), k8s("a", "c2")))
    assert cluster["kubernetes/k8s"].kind == rp.REPLACE and cluster["kubernetes/k8s"].reasons == ("kubeconfig",)
    assert cluster["Service/svc"].kind == rp.DELETE_FIRST and cluster["Service/svc"].reasons == ("provider <- k8s",)


def test_a_helm_release_in_a_new_namespace_is_replaced_create_first() -> None:
    rel = "kubernetes:helm.sh/v3:Release"
    d = diff_plans(*[plan(res("r", rel, {"name": "r", "namespace": ns, "values": {}})) for ns in ("a", "b")])
    assert actions(d)["Release/r"] == rp.Action(rp.REPLACE, ("namespace",))


@pytest.mark.parametrize(("typ", "before", "after", "expected"), [
    # Kubernetes immutable fields (pulumi-kubernetes diff.go): a fixed name in the same namespace deletes first
    ("kubernetes:core/v1:Service", {"spec": {"clusterIP": "10.100.0.10"}}, {"spec": {"clusterIP": "10.100.0.11"}},
     rp.Action(rp.DELETE_FIRST, ("spec.clusterIP",), "fixed Kubernetes name: deleted first")),
    ("kubernetes:core/v1:Service", {"spec": {"type": "ClusterIP"}}, {"spec": {"type": "NodePort"}},
     rp.Action(rp.UPDATE)),
    ("kubernetes:batch/v1:Job", {"spec": {"template": {"spec": {"restartPolicy": "Never"}}}},
     {"spec": {"template": {"spec": {"restartPolicy": "OnFailure"}}}},
     rp.Action(rp.DELETE_FIRST, ("spec.template",), "fixed Kubernetes name: deleted first")),
    ("kubernetes:batch/v1:Job", {"spec": {"backoffLimit": 1}}, {"spec": {"backoffLimit": 2}}, rp.Action(rp.UPDATE)),
    ("kubernetes:apps/v1:Deployment", {"spec": {"replicas": 2}}, {"spec": {"replicas": 3}}, rp.Action(rp.UPDATE)),
    # Helm: a release's name and namespace
    ("kubernetes:helm.sh/v3:Release", {"name": "a"}, {"name": "b"}, rp.Action(rp.REPLACE, ("name",))),
    ("kubernetes:helm.sh/v3:Release", {"version": "1.0.0"}, {"version": "1.1.0"}, rp.Action(rp.UPDATE)),
    # pulumi-eks component inputs (the aws:eks/cluster and aws:eks/nodeGroup they pass them to)
    ("eks:index:Cluster", {"serviceRole": "arn:a"}, {"serviceRole": "arn:b"}, rp.REPLACE),
    ("eks:index:Cluster", {"version": "1.33"}, {"version": "1.34"}, rp.Action(rp.UPDATE)),
    ("eks:index:ManagedNodeGroup", {"instanceTypes": ["t3.medium"]}, {"instanceTypes": ["t3.large"]}, rp.REPLACE),
    ("eks:index:ManagedNodeGroup", {"amiType": "AL2023_x86_64_STANDARD"}, {"amiType": "AL2023_ARM_64_STANDARD"},
     rp.REPLACE),
    ("eks:index:ManagedNodeGroup", {"releaseVersion": "a"}, {"releaseVersion": "b"}, rp.Action(rp.UPDATE)),
])
def test_immutable_fields_helm_and_pulumi_eks_inputs(typ: str, before: dict[str, Any], after: dict[str, Any],
                                                     expected: rp.Action | str) -> None:
    meta: dict[str, Any] = {}
    if typ.startswith("kubernetes:") and "helm" not in typ:  # a manifest: apiVersion, kind, a fixed name
        group_version, kind = typ.split(":")[1].rsplit(":", 1)[0], typ.rsplit(":", 1)[1]
        meta = {"apiVersion": group_version.removeprefix("core/"), "kind": kind,
                "metadata": {"name": "x", "namespace": "apps"}}
    d = diff_plans(*[plan(res("x", typ, {**meta, **inputs})) for inputs in (before, after)])
    act = next(iter(actions(d).values()))
    if isinstance(expected, str):  # the kind, and the input named as the reason
        assert act.kind == expected and act.reasons == tuple(before), act
    else:
        assert dataclasses.replace(act, guard="") == expected


def test_options_and_dependencies_alone_change_only_pulumi_state() -> None:
    base = plan(res("sg", SG, {"vpcId": "a"}))
    head = plan(res("sg", SG, {"vpcId": "a"}, options={"protect": True}))
    assert actions(diff_plans(base, head))["SecurityGroup/sg"].kind == rp.STATE


def test_a_type_without_data_is_an_update_marked_unknown() -> None:
    d = diff_plans(*[plan(res("x", "aws:new/thing:Thing", {"a": v})) for v in (1, 2)])
    assert actions(d)["Thing/x"] == rp.Action(rp.UPDATE, unknown_type=True)


def test_a_deleted_guarded_resource_blocks_and_acknowledgement_patterns() -> None:
    d = diff_plans(plan(res("logs", "aws:cloudwatch/logGroup:LogGroup", {})), plan())
    assert [(x.ref.name, x.action.kind) for x in d.blocking()] == [("logs", rp.DELETE)]
    for pattern in ("logs", "aws:cloudwatch/*", "*::logs", "aws:cloudwatch/logGroup:LogGroup::logs"):
        assert d.blocking((pattern,)) == [], pattern
    assert d.blocking(("other",))


def test_the_cli_exits_3_on_a_blocking_change_unless_acknowledged(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    pair = (plan(res("v", "aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16"})),
            plan(res("v", "aws:ec2/vpc:Vpc", {"cidrBlock": "10.1.0.0/16"})), "0" * 40)
    monkeypatch.setattr(diff_module, "render_pair", lambda *a, **k: pair)
    args = ["--stack", "dev", "--stacks", "tests/stacks", "--base", "HEAD"]  # nothing renders: render_pair is stubbed
    monkeypatch.setattr(diff_module, "commit_allowances", lambda repo, base: ())
    assert diff_module.main(args) == diff_module.BLOCKED_EXIT
    assert "BLOCKING" in capsys.readouterr().out
    assert diff_module.main([*args, "--allow-replace", "v"]) == 0
    monkeypatch.setattr(diff_module, "commit_allowances", lambda repo, base: ("aws:ec2/vpc:Vpc",))
    assert diff_module.main(args) == 0


def test_commit_trailers_acknowledge(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True,
                              text=True).stdout.strip()

    git("init", "-q")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "base")
    base = git("rev-parse", "HEAD")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m",
        "new range\n\nAllow-Replace: network-vpc, network-private-*\nAllow-Replace: aws:ec2/subnet:Subnet")
    assert set(diff_module.commit_allowances(tmp_path, base)) == {
        "network-vpc", "network-private-*", "aws:ec2/subnet:Subnet"}
    assert diff_module.commit_allowances(tmp_path, "HEAD") == ()
