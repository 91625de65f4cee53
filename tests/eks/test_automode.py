"""nodeProvisioner auto-mode (issue 19): EKS Auto Mode through pulumi-eks 4.4's `autoMode`, the stack's own NodeClass
and NodePool in the private subnets, Auto Mode's ALB IngressClass, no node group, no LB controller, no Cluster
Autoscaler, no managed add-on, the destroy rule and what switching an existing stack does, asserted on the `automode`
test stack's render (arm64: Auto Mode's built-in general-purpose pool would be amd64 only)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from infra.config import DEFAULT_KUBERNETES_VERSION, settings
from infra.config.addons import KARPENTER_CHART_VERSIONS
from infra.config.capacity import AUTO_MODE_SYSTEM_CPU_MILLICORES
from infra.eks.automode import (
    ALB_CONTROLLER,
    INGRESS_CLASS,
    INSTANCE_CATEGORIES,
    NODE_CLASS,
    OLDEST_GENERATION_EXCLUDED,
)
from infra.eks.workload import controller_target_group_problem
from tests.support.crds import crd_schema
from tests.support.day2 import what_up_does
from tools.render import Plan
from tools.render.artifacts import helm_releases, kubernetes_objects

NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
NODECLASS = "kubernetes:eks.amazonaws.com/v1:NodeClass"
PARAMS = "kubernetes:eks.amazonaws.com/v1:IngressClassParams"
INGRESS_CLASS_TYPE = "kubernetes:networking.k8s.io/v1:IngressClass"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
# No CRD schema of Auto Mode's own kinds is published (they are installed by EKS: `kubectl get crd` on a cluster
# lists nodeclasses.eks.amazonaws.com and ingressclassparams.eks.amazonaws.com; no repository or document holds
# their openAPIV3Schema). The field names the AWS EKS user guide documents are what these objects may use:
# create-node-class.adoc ("Node Class Specification") and auto-configure-alb.adoc ("IngressClassParams Reference"
# and its migration table: certificateARNs, subnets.matchTags, listeners.attributes).
NODECLASS_FIELDS = {"role", "subnetSelectorTerms", "securityGroupSelectorTerms", "snatPolicy", "networkPolicy",
                    "networkPolicyEventLogs", "ephemeralStorage", "tags"}
EPHEMERAL_STORAGE_FIELDS = {"size", "iops", "throughput"}
SELECTOR_TERM_FIELDS = {"id", "tags"}
PARAMS_FIELDS = {"scheme", "namespaceSelector", "group", "ipAddressType", "subnets", "certificateARNs", "tags",
                 "loadBalancerAttributes", "listeners"}
# Annotations Auto Mode does not read (auto-configure-alb.adoc, "Ingress annotations"): none may be set.
UNSUPPORTED_ANNOTATIONS = ("kubernetes.io/ingress.class", "alb.ingress.kubernetes.io/group.name",
                           "alb.ingress.kubernetes.io/waf-acl-id", "alb.ingress.kubernetes.io/web-acl-id",
                           "alb.ingress.kubernetes.io/shield-advanced-protection")


@pytest.fixture(scope="module")
def plan(automode: Plan) -> Plan:
    return automode


def custom_resource(plan: Plan, typ: str) -> dict[str, Any]:
    inputs = plan.one(typ)["inputs"]
    return {key: inputs[key] for key in ("apiVersion", "kind", "metadata", "spec")}


def test_cluster_turns_auto_mode_on_without_built_in_pools_or_add_ons(plan: Plan) -> None:
    """pulumi-eks 4.4 `autoMode`: compute, block storage and load balancing on together (it sets the three), no
    built-in node pool and so no node role in computeConfig; coredns and kube-proxy options off, the default VPC
    CNI kept (pulumi-eks creates none of the three add-ons, #1726); no managed add-on, node group or launch
    template of this stack's either."""
    cluster = plan.one("eks:index:Cluster")["inputs"]
    assert cluster["autoMode"] == {"enabled": True, "createNodeRole": False,
                                   "computeConfig": {"enabled": True, "nodePools": []}}
    assert cluster["bootstrapSelfManagedAddons"] is False
    assert cluster["corednsAddonOptions"]["enabled"] is False and cluster["kubeProxyAddonOptions"]["enabled"] is False
    assert cluster["useDefaultVpcCni"] is True
    for typ in ("aws:eks/addon:Addon", "eks:index:ManagedNodeGroup", "aws:ec2/launchTemplate:LaunchTemplate",
                "command:local:Command"):
        assert [r["name"] for r in plan.of_type(typ) if not r["name"].startswith("platform-")] == [], typ


def test_no_lb_controller_nor_autoscaler_external_dns_stays(plan: Plan) -> None:
    releases = helm_releases(plan)
    assert set(releases) == {"external-dns", "metrics-server"}
    # ExternalDNS keeps its workload identity (Pod Identity: the agent is Auto Mode's own).
    association = plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "platform-external-dns")
    assert association["inputs"]["serviceAccount"] == "external-dns"
    assert not [r for r in plan.of_type(ROLE) if "alb-controller" in r["name"] or "autoscaler" in r["name"]]


def test_the_system_pods_cpu_the_loader_counts_is_the_renders(plan: Plan) -> None:
    """infra/config/capacity.py AUTO_MODE_SYSTEM_CPU_MILLICORES (autoModeCpuLimit's rule) assumes exactly these
    charts with the charts' default requests (metrics-server 100m, ExternalDNS none) and these replicas."""
    releases = helm_releases(plan)
    assert set(releases) == set(AUTO_MODE_SYSTEM_CPU_MILLICORES)
    assert releases["metrics-server"]["values"]["replicas"] * 100 == AUTO_MODE_SYSTEM_CPU_MILLICORES["metrics-server"]
    assert AUTO_MODE_SYSTEM_CPU_MILLICORES["external-dns"] == 0
    for release in releases.values():
        assert "resources" not in release["values"] and release["values"].get("replicaCount", 1) in (1, None)


def test_node_role_policies_and_access_entry(plan: Plan) -> None:
    """pulumi-eks's node role policies (AmazonEKSWorkerNodeMinimalPolicy, AmazonEC2ContainerRegistryPullOnly) and
    an access entry of type EC2 with AmazonEKSAutoNodePolicy (botocore CreateAccessEntry: "EC2 (for EKS Auto
    Mode)"); no managed node group role."""
    role = plan.one(ROLE, "cluster-auto-node")
    assert '"ec2.amazonaws.com"' in role["inputs"]["assumeRolePolicy"]
    policies = {r["inputs"]["policyArn"] for r in plan.of_type(ATTACHMENT) if r["name"].startswith("cluster-auto-node")}
    assert policies == {"arn:aws:iam::aws:policy/AmazonEKSWorkerNodeMinimalPolicy",
                        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"}
    entry = plan.one("aws:eks/accessEntry:AccessEntry", "cluster-auto-node")["inputs"]
    assert entry["type"] == "EC2" and entry["principalArn"] == role["state"]["arn"]
    association = plan.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "cluster-auto-node")["inputs"]
    assert association["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy"
    assert association["accessScope"] == {"type": "cluster"}
    assert not [r for r in plan.of_type(ROLE) if r["name"] == "cluster-node"]


def test_nodeclass_places_nodes_in_the_private_subnets_only(plan: Plan) -> None:
    spec = custom_resource(plan, NODECLASS)["spec"]
    private = {r["id"] for r in plan.of_type("aws:ec2/subnet:Subnet") if "private" in r["name"]}
    public = {r["id"] for r in plan.of_type("aws:ec2/subnet:Subnet") if "public" in r["name"]}
    assert {t["id"] for t in spec["subnetSelectorTerms"]} == private and private and not private & public
    assert spec["securityGroupSelectorTerms"] == [
        {"id": plan.one("eks:index:Cluster")["state"]["clusterSecurityGroupId"]}]
    assert spec["role"] == plan.one(ROLE, "cluster-auto-node")["state"]["name"]
    assert spec["ephemeralStorage"] == {"size": "40Gi"}  # nodeDiskSizeGb


def test_auto_mode_objects_use_only_documented_fields(plan: Plan) -> None:
    """No CRD schema of eks.amazonaws.com kinds exists offline: the objects use only the fields the user guide
    documents (the check refuses one it does not)."""
    def unknown(obj: dict[str, Any]) -> list[str]:
        spec = obj["spec"]
        if obj["kind"] == "NodeClass":
            bad = set(spec) - NODECLASS_FIELDS
            bad |= set(spec.get("ephemeralStorage", {})) - EPHEMERAL_STORAGE_FIELDS
            for field in ("subnetSelectorTerms", "securityGroupSelectorTerms"):
                bad |= {k for term in spec.get(field, []) for k in term} - SELECTOR_TERM_FIELDS
            return sorted(bad)
        return sorted(set(spec) - PARAMS_FIELDS)

    for typ in (NODECLASS, PARAMS):
        obj = custom_resource(plan, typ)
        assert obj["apiVersion"] == "eks.amazonaws.com/v1" and unknown(obj) == []
        broken = copy.deepcopy(obj)
        broken["spec"]["certificateArn"] = "x"  # the controller's old name, not Auto Mode's
        assert unknown(broken) == ["certificateArn"]


def test_nodepool_passes_the_karpenter_v1_nodepool_schema(plan: Plan) -> None:
    """Auto Mode serves NodePool as karpenter.sh/v1; its CRD as EKS installs it is not published, so the pinned
    Karpenter v1 NodePool CRD (tests/data/crds/) is the closest schema: structure and types, strictly."""
    schema = crd_schema(f"karpenter-{KARPENTER_CHART_VERSIONS[0]}", "karpenter.sh_nodepools.yaml")
    pool = custom_resource(plan, NODEPOOL)
    jsonschema.validate(pool, schema)
    spec = pool["spec"]
    assert spec["template"]["spec"]["nodeClassRef"] == {"group": "eks.amazonaws.com", "kind": "NodeClass",
                                                        "name": NODE_CLASS}
    requirements = {r["key"]: r["values"] for r in spec["template"]["spec"]["requirements"]}
    assert requirements["kubernetes.io/arch"] == ["arm64"]  # m7g.large: the image's architecture
    assert requirements["karpenter.sh/capacity-type"] == ["on-demand"]
    assert spec["limits"] == {"cpu": "16"} and spec["disruption"]["budgets"]
    broken = copy.deepcopy(pool)
    broken["spec"]["template"]["spec"]["nodeClassRef"]["extra"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_ingress_uses_auto_modes_alb_class(plan: Plan) -> None:
    ingress_class = kubernetes_objects(plan)[f"ingressclass-cluster-{INGRESS_CLASS}"]
    assert ingress_class["spec"] == {"controller": ALB_CONTROLLER, "parameters": {
        "apiGroup": "eks.amazonaws.com", "kind": "IngressClassParams", "name": INGRESS_CLASS}}
    params = custom_resource(plan, PARAMS)["spec"]
    certificate = plan.one("aws:acm/certificate:Certificate")["state"]["arn"]
    assert params == {"scheme": "internet-facing", "certificateARNs": [certificate],
                      "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "webapp"}}}
    ingress = plan.one(INGRESS)["inputs"]
    assert ingress["spec"]["ingressClassName"] == INGRESS_CLASS
    annotations = ingress["metadata"]["annotations"]
    assert not [a for a in UNSUPPORTED_ANNOTATIONS if a in annotations]
    assert annotations["alb.ingress.kubernetes.io/scheme"] == params["scheme"]
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == certificate
    # Network policies are enforced only once asked (the app has one).
    patch = plan.one("kubernetes:core/v1:ConfigMapPatch")["inputs"]
    assert patch["metadata"]["name"] == "amazon-vpc-cni" and patch["data"] == {
        "enable-network-policy-controller": "true"}


def test_default_storage_class_is_encrypted_gp3_on_auto_modes_block_storage(plan: Plan) -> None:
    """Auto Mode's EBS provisioner (no EBS CSI add-on, no driver role), the spec of infra/eks/storage_class.py,
    Retain (the render does not record replaceOnChanges: infra/eks/automode.py sets it for the immutable
    reclaimPolicy and volumeBindingMode)."""
    [storage] = plan.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
    assert storage["inputs"]["provisioner"] == "ebs.csi.eks.amazonaws.com"
    assert storage["inputs"]["parameters"]["encrypted"] == "true" and storage["inputs"]["parameters"]["type"] == "gp3"
    assert storage["inputs"]["reclaimPolicy"] == "Retain"
    assert storage["inputs"]["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert not [a for a in plan.of_type("aws:eks/addon:Addon") if a["inputs"]["addonName"] == "aws-ebs-csi-driver"]


def test_alarms_watch_the_target_group_auto_mode_tags(plan: Plan) -> None:
    """By the cluster and the stack tag only (`<namespace>/<ingress>`, the form public Terraform looks Auto Mode's
    ALBs up by): the value of Auto Mode's `resource` tag is not documented anywhere, and a wrong guess would fail
    every `pulumi up` at the lookup. One backend, so one target group; it is still checked against the ALB."""
    [lookup] = [i for i in plan.invokes if i["token"] == "aws:lb/getTargetGroup:getTargetGroup"]
    [ingress] = plan.of_type(INGRESS)
    meta = ingress["inputs"]["metadata"]
    assert lookup["args"]["tags"] == {"eks:eks-cluster-name": lookup["args"]["tags"]["eks:eks-cluster-name"],
                                      "ingress.eks.amazonaws.com/stack": f"{meta['namespace']}/{meta['name']}"}
    assert lookup["args"]["tags"]["eks:eks-cluster-name"]


def test_builtin_objects_pass_strict_kubernetes_validation(plan: Plan) -> None:
    checked = 0
    for obj in kubernetes_objects(plan).values():
        if obj["apiVersion"].startswith(("karpenter.", "eks.amazonaws.com")):
            continue  # custom kinds: above
        kubernetes_validate.validate(obj, DEFAULT_KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked >= 10


def test_destroy_rule_nodes_go_after_what_runs_on_them_and_before_what_they_need(plan: Plan) -> None:
    """Every in-cluster object that runs pods (the app, the charts) is deleted before the NodePool (Auto Mode drains
    and terminates its nodes), the NodePool before the NodeClass, the NodeClass before the node role, its
    policies and access entry; the Ingress (Auto Mode deletes its ALB) before the IngressClass and its parameters;
    all of it before the Kubernetes provider, the NAT routes and the cluster."""
    nodepool, nodeclass = plan.one(NODEPOOL), plan.one(NODECLASS)
    classes = {plan.one(INGRESS_CLASS_TYPE)["urn"], plan.one(PARAMS)["urn"]}
    # Objects that run no pod need not wait: the classes, the network policy switch.
    own = {nodepool["urn"], nodeclass["urn"], *classes, plan.one("kubernetes:core/v1:ConfigMapPatch")["urn"],
           plan.one("kubernetes:storage.k8s.io/v1:StorageClass")["urn"]}
    others = [r for r in plan.resources if r["type"].startswith("kubernetes:") and r["custom"]
              and r["urn"] not in own]
    assert len(others) >= 10
    for obj in others:
        assert plan.depends_on(obj["urn"], nodepool["urn"]), f"{obj['name']} is not deleted before the NodePool"
    assert plan.depends_on(nodepool["urn"], nodeclass["urn"])
    needs = [plan.one(ROLE, "cluster-auto-node"), plan.one("aws:eks/accessEntry:AccessEntry", "cluster-auto-node"),
             plan.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "cluster-auto-node"),
             *[r for r in plan.of_type(ATTACHMENT) if r["name"].startswith("cluster-auto-node")],
             plan.one("eks:index:Cluster"),
             *[r for r in plan.of_type("aws:ec2/route:Route") if r["inputs"].get("natGatewayId")]]
    for need in needs:
        assert plan.depends_on(nodeclass["urn"], need["urn"]), f"NodeClass not deleted before {need['name']}"
    ingress = plan.one(INGRESS)["urn"]
    assert all(plan.depends_on(ingress, c) for c in classes)


def test_day2_switching_a_stack_to_auto_mode_updates_the_cluster_in_place(
        dev: Plan, variant: Callable[..., Plan]) -> None:
    """dev moved to auto-mode (the lock `make bump` writes for it; the node group keys removed): the cluster is
    updated in place (UpdateClusterConfig; bootstrapSelfManagedAddons was false already and pulumi-eks ignores it),
    the Kubernetes provider and every in-cluster object keep their state, the node group, its add-ons, the LB
    controller and the Cluster Autoscaler go (deleted at the end of the update, after the NodePool exists), and the
    Ingress's class change is flagged: Auto Mode makes a new ALB (docs/operations.md)."""
    moved = variant("dev", lock={"charts": {"cluster-autoscaler": None, "aws-load-balancer-controller": None}},
                    nodeProvisioner="auto-mode", nodeMinSize=None, nodeDesiredSize=None, nodeMaxSize=None)
    out = what_up_does(dev, moved)
    assert out["replace"] == out["replace, delete first"] == set()
    assert "Cluster/cluster-eks" in out["update"] and "kubernetes/cluster-k8s" in out["state only"]
    assert {"ManagedNodeGroup/cluster-nodes", "LaunchTemplate/cluster-nodes", "Release/aws-load-balancer-controller",
            "Release/cluster-autoscaler", "Addon/cluster-vpc-cni", "Addon/cluster-coredns",
            "Addon/cluster-kube-proxy", "Addon/cluster-eks-pod-identity-agent", "Role/cluster-node"} <= out["removed"]
    assert {"NodePool/auto-mode-nodepool", "NodeClass/auto-mode-nodeclass", "IngressClass/auto-mode-ingress-class",
            "Role/cluster-auto-node", "AccessEntry/cluster-auto-node"} <= out["added"]
    assert "Ingress/webapp-ingress" in out["blocking"]


def test_a_switch_that_finds_the_old_alb_says_to_run_up_again_and_the_switch_section_says_so() -> None:
    """On the switch the Ingress awaiter returns on the old ALB's address: the lookups may find the old ALB (or
    none) before Auto Mode's exists. The error names Auto Mode and the switch section, which tells to run again."""
    problem = controller_target_group_problem(
        target_group_arn="arn:tg", target_type="ip", load_balancer_arns=["arn:alb-old"], want_target_type="ip",
        alb_arn="arn:alb-new", alb_name="webstack-dev", ingress_class=INGRESS_CLASS)
    assert problem and "EKS Auto Mode" in problem and "Load Balancer Controller" not in problem
    section = "Switching `nodeProvisioner` to or from `auto-mode`"
    assert f'"{section}"' in problem
    text = (Path(__file__).parents[2] / "docs" / "operations.md").read_text()
    switch = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    assert "the first `up` may fail at the target group lookup: run it again" in switch


def test_node_instance_types_says_auto_mode_uses_only_their_architecture(plan: Plan) -> None:
    """The NodePool asks for the architecture of nodeInstanceTypes and Auto Mode's own categories and generations
    (not the types): the setting's description (Pulumi.yaml, generated) says so, so nobody expects m7g.large nodes."""
    [decl] = [d for d in settings() if d.key == "nodeInstanceTypes"]
    assert "'auto-mode' only that architecture is used" in decl.description
    assert f"any {', '.join(INSTANCE_CATEGORIES[:-1])} or {INSTANCE_CATEGORIES[-1]} type" in decl.description
    assert f"newer than generation {OLDEST_GENERATION_EXCLUDED}" in decl.description
    requirements = {r["key"]: r for r in custom_resource(plan, NODEPOOL)["spec"]["template"]["spec"]["requirements"]}
    assert "node.kubernetes.io/instance-type" not in requirements
    assert requirements["eks.amazonaws.com/instance-category"]["values"] == list(INSTANCE_CATEGORIES)
