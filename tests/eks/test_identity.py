"""webstack:workloadIdentity: the controllers' AWS identity by EKS Pod Identity (default, the prod test stack) or
IRSA (the dev test stack), and what switching an existing stack does (day 2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from infra import iam
from infra.eks.identity import IdentityContext, workload_identity
from tools.render import Plan
from tools.review.diff import PlanDiff, diff_plans

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
ADDON = "aws:eks/addon:Addon"
RELEASE = "kubernetes:helm.sh/v3:Release"
COMMAND = "command:local:Command"
CONTROLLERS = ("alb-controller", "external-dns", "cluster-autoscaler")
# The service account of each controller (namespace, name).
ACCOUNTS = {"alb-controller": ("kube-system", "aws-load-balancer-controller"),
            "external-dns": ("external-dns", "external-dns"),
            "cluster-autoscaler": ("kube-system", "cluster-autoscaler")}
CHARTS = {"alb-controller": "aws-load-balancer-controller", "external-dns": "external-dns",
          "cluster-autoscaler": "cluster-autoscaler"}


def kinds(refs: Any) -> set[tuple[str, str]]:
    return {(r.type.split(":")[-1], r.name) for r in refs}


def named(plan: Plan, typ: str, name: str) -> dict[str, Any]:
    [found] = [r for r in plan.of_type(typ) if r["name"] == name]
    return found


def release(plan: Plan, controller: str) -> dict[str, Any]:
    [found] = [r for r in plan.of_type(RELEASE) if r["inputs"]["chart"] == CHARTS[controller]]
    return found


@pytest.fixture(scope="module")
def pod_identity_dev(variant: Callable[..., Plan]) -> Plan:
    return variant("dev", workloadIdentity="pod-identity")


@pytest.fixture(scope="module")
def to_pod_identity(dev: Plan, pod_identity_dev: Plan) -> PlanDiff:
    return diff_plans(dev, pod_identity_dev)


@pytest.fixture(scope="module")
def to_irsa(dev: Plan, pod_identity_dev: Plan) -> PlanDiff:
    return diff_plans(pod_identity_dev, dev)


# --- the trust -----------------------------------------------------------------------------------------------------

def test_the_pod_identity_trust_names_one_service_account_of_one_cluster() -> None:
    arn = "arn:aws:eks:eu-west-1:123456789012:cluster/webstack-prod"
    [st] = iam.pod_identity_trust_policy(arn, "kube-system", "cluster-autoscaler")["Statement"]
    assert st["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert st["Action"] == ["sts:AssumeRole", "sts:TagSession"]  # Pod Identity always tags the session
    assert st["Condition"] == {"StringEquals": {"aws:RequestTag/eks-cluster-arn": arn,
                                                "aws:RequestTag/kubernetes-namespace": "kube-system",
                                                "aws:RequestTag/kubernetes-service-account": "cluster-autoscaler"}}


def test_every_controller_role_of_prod_is_a_pod_identity_role_of_this_cluster(prod: Plan) -> None:
    cluster = prod.one("eks:index:Cluster")
    account = cluster["state"]["oidcProviderArn"].split(":")[4]
    arn = f"arn:aws:eks:eu-west-1:{account}:cluster/webstack-prod"
    for controller in CONTROLLERS:
        namespace, account_name = ACCOUNTS[controller]
        association = named(prod, ASSOCIATION, f"platform-{controller}")
        role = named(prod, ROLE, f"platform-{controller}-pod-identity")
        assert (association["inputs"]["namespace"], association["inputs"]["serviceAccount"]) == ACCOUNTS[controller]
        assert association["inputs"]["roleArn"] == role["state"]["arn"]
        assert association["inputs"]["clusterName"] == "webstack-prod"
        assert json.loads(role["inputs"]["assumeRolePolicy"]) == iam.pod_identity_trust_policy(
            arn, namespace, account_name)
        values = release(prod, controller)["inputs"]["values"]
        sa = values.get("serviceAccount") or values["rbac"]["serviceAccount"]
        assert sa["name"] == account_name and not sa.get("annotations")  # no IRSA role beside the association
    assert not [r for r in prod.of_type(ROLE) if r["name"].endswith("-irsa")]


def test_the_agent_add_on_comes_before_every_association_and_every_controller(prod: Plan) -> None:
    """Associations give credentials only through the eks-pod-identity-agent DaemonSet: each association waits
    for the add-on (and is deleted before it); each controller's release waits for it through the provider."""
    [agent] = [a for a in prod.of_type(ADDON) if a["inputs"]["addonName"] == "eks-pod-identity-agent"]
    associations = prod.of_type(ASSOCIATION)
    assert len(associations) == 4  # the three controllers' and the EBS CSI driver's
    for association in associations:
        assert agent["urn"] in association["dependencies"], association["name"]
    for controller in CONTROLLERS:
        assert prod.depends_on(release(prod, controller)["urn"], agent["urn"])


def test_each_association_is_replaced_delete_first_and_waited_for(prod: Plan) -> None:
    """One association per service account (CreatePodIdentityAssociation refuses a second): a replacement deletes
    first. The wait after it is EKS's documented eventual consistency, re-run when the association changes."""
    for association in prod.of_type(ASSOCIATION):
        assert association["options"]["deleteBeforeReplace"] is True
        [settle] = [c for c in prod.of_type(COMMAND) if association["urn"] in c["dependencies"]]
        assert settle["inputs"]["create"].startswith("sleep ") and settle["inputs"]["triggers"] == [association["id"]]


def test_the_module_refuses_an_identity_it_cannot_build() -> None:
    with pytest.raises(ValueError, match="IdentityContext.mode='oidc'"):
        IdentityContext(mode="oidc", cluster_name="c", cluster_arn="a", oidc_provider_arn="o", oidc_issuer="i",
                        pod_identity_agent=None)
    with pytest.raises(ValueError, match="pod_identity_agent is None"):
        IdentityContext(mode="pod-identity", cluster_name="c", cluster_arn="a", oidc_provider_arn="o",
                        oidc_issuer="i", pod_identity_agent=None)
    ctx = IdentityContext(mode="irsa", cluster_name="c", cluster_arn="a", oidc_provider_arn="o", oidc_issuer="i",
                          pod_identity_agent=None)
    with pytest.raises(ValueError, match="give a policy document or managed policy ARNs"):
        workload_identity("x", ctx, namespace="n", service_account="s", parent=None)  # type: ignore[arg-type]


# --- irsa keeps today's resources ------------------------------------------------------------------------------------

def test_irsa_keeps_the_urns_it_always_had(dev: Plan) -> None:
    """The dev test stack sets workloadIdentity irsa: its roles and attachments keep their URNs; each policy's new
    name claims its IRSA-era one by alias, so `pulumi up` neither deletes nor recreates it."""
    base = "urn:pulumi:dev::webstack::webstack:addons:PlatformAddons$"
    parents = {"alb-controller": base, "external-dns": base,
               "cluster-autoscaler": base + "webstack:autoscaler:ClusterAutoscaler$"}
    for controller, parent in parents.items():
        name = f"platform-{controller}"
        assert named(dev, ROLE, f"{name}-irsa")["urn"] == f"{parent}{ROLE}::{name}-irsa"
        assert named(dev, ATTACHMENT, f"{name}-irsa")["urn"] == f"{parent}{ATTACHMENT}::{name}-irsa"
        policy = named(dev, POLICY, name)
        assert policy["urn"] == f"{parent}{POLICY}::{name}"
        assert policy["aliases"] == [f"{parent}{POLICY}::{name}-irsa"]
        assert named(dev, ROLE, f"{name}-irsa")["inputs"]["description"].startswith("IRSA role of ")
    assert dev.of_type(ASSOCIATION) == []


# --- day 2: switching an existing stack --------------------------------------------------------------------------

def test_switching_to_pod_identity_creates_new_roles_and_associations_and_deletes_only_the_irsa_roles(
        to_pod_identity: PlanDiff) -> None:
    assert kinds(to_pod_identity.added) == {
        (kind, f"platform-{c}{suffix}") for c in CONTROLLERS for kind, suffix in (
            ("Role", "-pod-identity"), ("RolePolicyAttachment", "-pod-identity"), ("PodIdentityAssociation", ""),
            ("Command", "-pod-identity-settle"))} | {
        ("Role", "ebs-csi-pod-identity"), ("RolePolicyAttachment", "ebs-csi-pod-identity"),
        ("PodIdentityAssociation", "ebs-csi"), ("Command", "ebs-csi-pod-identity-settle")}
    assert kinds(to_pod_identity.removed) == {
        (kind, f"platform-{c}-irsa") for c in CONTROLLERS for kind in ("Role", "RolePolicyAttachment")} | {
        ("Role", "ebs-csi-irsa"), ("RolePolicyAttachment", "ebs-csi-irsa")}
    assert to_pod_identity.moved == ()  # the permissions stay the same resource, unchanged
    changed = kinds(c.ref for c in to_pod_identity.changed)
    assert not any(kind == "Policy" for kind, _ in changed)
    assert {("Release", r) for r in ("aws-load-balancer-controller", "external-dns", "cluster-autoscaler")} <= changed


def test_switching_to_pod_identity_rolls_each_controller_after_its_association_is_usable(
        to_pod_identity: PlanDiff, pod_identity_dev: Plan) -> None:
    """The release update (service account annotation gone, pod annotation changed, so the pods roll) waits for
    the new role, its permissions, the association and its propagation; the IRSA role is deleted only after, as
    Pulumi deletes what left the program once every create and update succeeded: the old pods keep calling AWS
    until they are replaced."""
    for controller in CONTROLLERS:
        r = release(pod_identity_dev, controller)
        change = next(c for c in to_pod_identity.changed if c.ref.key == r["urn"].split("::", 2)[2])
        assert "eks.amazonaws.com/role-arn" in change.yaml_diff and "webstack/aws-identity" in change.yaml_diff
        needs = [named(pod_identity_dev, kind, f"platform-{controller}{suffix}") for kind, suffix in (
            (ROLE, "-pod-identity"), (ATTACHMENT, "-pod-identity"), (ASSOCIATION, ""),
            (COMMAND, "-pod-identity-settle"))]
        for need in needs:
            assert need["urn"] in r["dependencies"], f"{r['name']} does not wait for {need['name']}"
        association = needs[2]
        assert needs[1]["urn"] in association["dependencies"]  # the role can do its job before it is handed out


def test_switching_back_to_irsa_annotates_after_the_irsa_role_exists_and_drops_the_associations(
        to_irsa: PlanDiff, dev: Plan) -> None:
    assert kinds(to_irsa.added) == {
        (kind, f"platform-{c}-irsa") for c in CONTROLLERS for kind in ("Role", "RolePolicyAttachment")} | {
        ("Role", "ebs-csi-irsa"), ("RolePolicyAttachment", "ebs-csi-irsa")}
    assert {kind for kind, _ in kinds(to_irsa.removed)} == {"Role", "RolePolicyAttachment", "PodIdentityAssociation",
                                                           "Command"}
    for controller in CONTROLLERS:
        r = release(dev, controller)
        for need in (named(dev, ROLE, f"platform-{controller}-irsa"), named(dev, ATTACHMENT,
                                                                             f"platform-{controller}-irsa")):
            assert need["urn"] in r["dependencies"]


def test_switching_the_ebs_csi_add_on_to_pod_identity_drops_its_irsa_role_after_the_association(
        to_pod_identity: PlanDiff, pod_identity_dev: Plan) -> None:
    """The managed add-on takes the IRSA role by serviceAccountRoleArn; under Pod Identity that is unset and the
    add-on's update waits for the association and its propagation (its pods still need a restart: docs/nodes.md)."""
    [addon] = [a for a in pod_identity_dev.of_type(ADDON) if a["inputs"]["addonName"] == "aws-ebs-csi-driver"]
    assert not addon["inputs"].get("serviceAccountRoleArn")
    assert ("Addon", "ebs-csi") in kinds(c.ref for c in to_pod_identity.changed)
    for need in (named(pod_identity_dev, ASSOCIATION, "ebs-csi"), named(pod_identity_dev, COMMAND,
                                                                         "ebs-csi-pod-identity-settle")):
        assert need["urn"] in addon["dependencies"]
