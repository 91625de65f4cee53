"""appOnFargate (issue 19): the app's Fargate profile, its pod execution role, the pods it selects, the ALB target
type, the create/destroy order, and what switching it on or off does to a deployed stack, asserted on the
`eks-fargate` test stack's render and one variant of it (the same stack with appOnFargate off)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from infra import iam
from infra.eks.fargate import FARGATE_LABEL
from tests.support.day2 import what_up_does
from tests.support.iam_lint import unexpected_findings
from tools.render import Plan
from tools.render.artifacts import iam_documents

PROFILE = "aws:eks/fargateProfile:FargateProfile"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
TARGET_TYPE = "alb.ingress.kubernetes.io/target-type"


@pytest.fixture(scope="module")
def plan(variant: Callable[..., Plan]) -> Plan:
    return variant("eks-fargate")


@pytest.fixture(scope="module")
def on_nodes(variant: Callable[..., Plan]) -> Plan:
    """The same stack before appOnFargate (ClusterIP already: the documented first step)."""
    return variant("eks-fargate", appOnFargate=None)


def pod_template(plan: Plan) -> dict[str, Any]:
    return plan.one(DEPLOYMENT)["inputs"]["spec"]["template"]


def test_the_profile_selects_the_apps_labelled_pods_in_the_private_subnets_only(plan: Plan) -> None:
    profile = plan.one(PROFILE)
    inputs = profile["inputs"]
    key, value = FARGATE_LABEL
    assert inputs["selectors"] == [{"namespace": "webapp", "labels": {key: value}}]
    private = {s["urn"]: s["id"] for s in plan.of_type(SUBNET) if "-private-" in s["name"]}
    public = {s["id"] for s in plan.of_type(SUBNET) if "-public-" in s["name"]}
    assert sorted(inputs["subnetIds"]) == sorted(private.values()) and not public & set(inputs["subnetIds"])
    # Auto-named (create-before-delete on replacement), and its pods pull their image through the NAT routes.
    assert "fargateProfileName" not in inputs and profile["options"]["deleteBeforeReplace"] is False
    routes = [r["urn"] for r in plan.of_type(ROUTE) if "private-default" in r["name"]]
    assert routes and all(r in profile["dependencies"] for r in routes)


def test_the_pod_execution_role_trusts_this_clusters_profiles_only_with_the_managed_policy(plan: Plan) -> None:
    profile = plan.one(PROFILE)
    [role] = [r for r in plan.of_type(ROLE) if r["name"] == "app-fargate-pod-execution"]
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    assert trust == iam.fargate_pod_execution_trust_policy("aws", "us-east-1", "123456789012",
                                                           "webstack-eks-fargate")
    assert trust["Statement"][0]["Condition"] == {"ArnLike": {
        "aws:SourceArn": "arn:aws:eks:us-east-1:123456789012:fargateprofile/webstack-eks-fargate/*"}}
    assert iam_documents(plan)["app-fargate-pod-execution-trust"] == trust
    assert not unexpected_findings("app-fargate-pod-execution-trust", trust)
    [attachment] = [a for a in plan.of_type(ATTACHMENT) if a["name"] == "app-fargate-pod-execution"]
    assert attachment["inputs"]["policyArn"] == "arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy"
    assert {role["urn"], attachment["urn"]} <= set(profile["dependencies"])
    # EKS makes the role's FARGATE_LINUX access entry itself: the stack declares none for it (one per principal).
    assert all("fargate" not in json.dumps(e["inputs"]).lower() for e in plan.of_type(ACCESS_ENTRY))


def test_pods_carry_the_label_and_neither_node_selector_nor_spread_on_fargate(plan: Plan, dev: Plan) -> None:
    key, value = FARGATE_LABEL
    template = pod_template(plan)
    assert template["metadata"]["labels"][key] == value
    assert "nodeSelector" not in template["spec"] and "topologySpreadConstraints" not in template["spec"]
    on_nodes = pod_template(dev)
    assert key not in on_nodes["metadata"]["labels"] and on_nodes["spec"]["nodeSelector"]
    assert not dev.of_type(PROFILE)


def test_the_alb_targets_pod_ips(plan: Plan) -> None:
    assert plan.one(SERVICE)["inputs"]["spec"]["type"] == "ClusterIP"
    assert plan.one(INGRESS)["inputs"]["metadata"]["annotations"][TARGET_TYPE] == "ip"


def test_the_profile_exists_before_the_apps_pods_and_outlives_them_on_destroy(plan: Plan) -> None:
    """The Namespace waits for the profile, so does every object in it: the Deployment's pods are created once
    they can match the profile, and `pulumi destroy` deletes them (the namespace waits for its contents) before
    the profile, its role and the cluster."""
    profile = plan.one(PROFILE)["urn"]
    namespace = plan.one(NAMESPACE, "webapp-ns")["urn"]
    for urn in (namespace, *(plan.one(typ)["urn"] for typ in (DEPLOYMENT, SERVICE, INGRESS))):
        assert plan.depends_on(urn, profile), urn
    assert not plan.depends_on(profile, namespace)


def test_switching_on_creates_the_profile_and_rolls_the_pods_onto_it(on_nodes: Plan, plan: Plan) -> None:
    """Only the profile and its role are added, and the Deployment updated (its template gains the label, so it
    rolls onto Fargate); nothing is replaced or removed."""
    up = what_up_does(on_nodes, plan)
    assert up["added"] == {"AppFargateProfile/app-fargate", "Role/app-fargate-pod-execution",
                           "RolePolicyAttachment/app-fargate-pod-execution", "FargateProfile/app-fargate"}
    assert up["update"] == {"Deployment/webapp-deployment"}
    assert not (up["replace"] | up["replace, delete first"] | up["removed"] | up["blocking"])


def test_switching_off_rolls_the_pods_back_then_deletes_the_profile(on_nodes: Plan, plan: Plan) -> None:
    """The reverse: the Deployment update (label removed: new pods match no profile, land on the nodes) is an
    update, the profile a deletion, which Pulumi runs after every create and update of the same `pulumi up`."""
    up = what_up_does(plan, on_nodes)
    assert up["update"] == {"Deployment/webapp-deployment"}
    assert up["removed"] == {"AppFargateProfile/app-fargate", "Role/app-fargate-pod-execution",
                             "RolePolicyAttachment/app-fargate-pod-execution", "FargateProfile/app-fargate"}
    assert not (up["replace"] | up["replace, delete first"] | up["added"])


def test_the_cost_bills_each_pod_at_its_fargate_size(plan: Plan) -> None:
    """250m/256Mi requested -> 0.25 vCPU, 0.5 GB (256Mi + the 256 MiB Fargate adds), for the HPA's 2-6 pods at
    the us-east-1 Fargate x86 rates (/work/shared/reference/aws-prices.md: $0.04048 per vCPU-hour, $0.004445 per
    GB-hour)."""
    from tools.review.cost import estimate, load_prices, load_usage

    lines = [line for line in estimate(plan, load_prices("us-east-1"), load_usage()).lines
             if line.type == PROFILE]
    vcpu, gb = (next(line for line in lines if word in line.component) for word in ("vCPU", "memory"))
    assert (vcpu.unit_price, gb.unit_price) == (0.04048, 0.004445)
    assert vcpu.quantity == 2 * 0.25 * 730 and vcpu.high_quantity == 6 * 0.25 * 730
    assert gb.quantity == 2 * 0.5 * 730 and gb.high_quantity == 6 * 0.5 * 730


def test_the_diagram_shows_the_pods_on_the_profile(plan: Plan) -> None:
    from tools.review.diagram import build_graph, to_mermaid

    mermaid = to_mermaid(build_graph(plan))
    assert 'fargate["Fargate profile (private subnets) webapp webstack/compute=fargate"]' in mermaid
    assert "pods -->|runs on| fargate" in mermaid and "pods -->|runs on| nodes" not in mermaid
    assert "alb -->|targets| pods" in mermaid  # target type ip: the ALB reaches the pods, not a NodePort
