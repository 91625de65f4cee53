"""Cluster (EKS, node group, launch template, add-ons, provider) and AppImage, from the renders."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from infra.eks.cluster import (
    CLUSTER_ADMIN_POLICY,
    NODE_GROUP_TYPE,
    NODE_POLICIES,
    inherit_common_tags,
    node_group_update_config,
)
from infra.image import APP_DIR, content_tag
from tests.support import committed_lock
from tools.render import ROOT, Plan

EKS = "eks:index:Cluster"
MNG = "eks:index:ManagedNodeGroup"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
IMAGE = "docker:index/image:Image"
ADDON = "aws:eks/addon:Addon"
PROVIDER = "pulumi:providers:kubernetes"


def ids_of(plan: Plan, kind: str) -> list[str]:
    return [s["id"] for s in plan.of_type("aws:ec2/subnet:Subnet") if f"-{kind}-" in s["name"]]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_cluster_uses_the_network_and_skips_the_default_node_group(request: pytest.FixtureRequest,
                                                                    stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    i = plan.one(EKS)["inputs"]
    assert i["vpcId"] == plan.one("aws:ec2/vpc:Vpc")["id"]
    assert i["privateSubnetIds"] == ids_of(plan, "private")
    assert i["publicSubnetIds"] == ids_of(plan, "public")
    assert i["skipDefaultNodeGroup"] is True and i["nodeAssociatePublicIpAddress"] is False
    assert i["name"] == f"webstack-{stack}" and i["version"] == "1.35"
    assert i["createOidcProvider"] is True and i["authenticationMode"] == "API"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_secrets_are_encrypted_with_a_rotating_kms_key(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    key = plan.one("aws:kms/key:Key", "cluster-secrets")
    assert key["inputs"]["enableKeyRotation"] is True
    assert plan.one(EKS)["inputs"]["encryptionConfigKeyArn"] == key["state"]["arn"]


def test_control_plane_logs(dev: Plan, prod: Plan) -> None:
    assert dev.one(EKS)["inputs"]["enabledClusterLogTypes"] == ["api", "audit", "authenticator"]
    assert prod.one(EKS)["inputs"]["enabledClusterLogTypes"] == [
        "api", "audit", "authenticator", "controllerManager", "scheduler"]
    group = prod.one("aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane")
    assert group["inputs"]["name"] == "/aws/eks/webstack-prod/cluster" and group["inputs"]["retentionInDays"] == 365
    # created before EKS would create it without a retention
    assert group["urn"] in prod.one(EKS)["dependencies"]


def test_access_entries_grant_cluster_admin_to_configured_principals(dev: Plan, prod: Plan) -> None:
    assert dev.one(EKS)["inputs"]["accessEntries"] == {}
    entries = prod.one(EKS)["inputs"]["accessEntries"]
    assert list(entries.values()) == [{
        "principalArn": "arn:aws:iam::123456789012:role/platform-admins",
        "accessPolicies": {"cluster-admin": {"policyArn": f"arn:aws:{CLUSTER_ADMIN_POLICY}",
                                             "accessScope": {"type": "cluster"}}},
    }]


def test_public_endpoint_only_with_an_allow_list_and_private_access_always(
        dev: Plan, variant: Callable[..., Plan]) -> None:
    i = dev.one(EKS)["inputs"]
    assert i["endpointPrivateAccess"] is True and i["endpointPublicAccess"] is True
    assert i["publicAccessCidrs"] == ["203.0.113.0/24"]
    private = variant("dev", endpointPublicAccess=False, publicAccessCidrs=None).one(EKS)["inputs"]
    assert private["endpointPrivateAccess"] is True and private["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in private


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_node_role_has_exactly_the_three_worker_policies(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    role = plan.one("aws:iam/role:Role", "cluster-node")
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = [a["inputs"]["policyArn"] for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if a["inputs"]["role"] == role["state"]["name"]]
    assert sorted(attached) == sorted(f"arn:aws:iam::aws:policy/{p}" for p in NODE_POLICIES)
    assert plan.one(MNG)["inputs"]["nodeRoleArn"] == role["state"]["arn"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_launch_template_requires_imdsv2_with_hop_limit_1_and_encrypts_gp3(request: pytest.FixtureRequest,
                                                                           stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    lt = plan.one(LT)["inputs"]
    assert lt["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required",
                                     "httpPutResponseHopLimit": 1, "instanceMetadataTags": "disabled"}
    [bdm] = lt["blockDeviceMappings"]
    assert bdm["ebs"]["volumeType"] == "gp3" and bdm["ebs"]["encrypted"] == "true"
    assert bdm["ebs"]["volumeSize"] == {"dev": 30, "prod": 50}[stack]
    assert "keyName" not in lt  # no SSH key
    kinds = {t["resourceType"] for t in lt["tagSpecifications"]}
    assert {"instance", "volume"} <= kinds
    assert all(t["tags"]["project"] == "webstack" for t in lt["tagSpecifications"])
    mng = plan.one(MNG)["inputs"]
    assert mng["launchTemplate"] == {"id": plan.one(LT)["id"], "version": "1"}
    assert "diskSize" not in mng  # the launch template owns the disk


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_node_group_is_private_and_scaled_from_config(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    mng = plan.one(MNG)
    i = mng["inputs"]
    assert i["subnetIds"] == ids_of(plan, "private")
    assert not set(i["subnetIds"]) & set(ids_of(plan, "public"))
    assert i["cluster"] == plan.one(EKS)["urn"]
    assert i["capacityType"] == "ON_DEMAND" and i["amiType"] == "AL2023_x86_64_STANDARD"
    expected = {"dev": (["t3.medium"], 2, 2, 3), "prod": (["m6i.large", "m6a.large"], 3, 3, 9)}[stack]
    # one type: in the launch template (EKS rejects it in both places); several: on the node group
    types = i.get("instanceTypes") or [plan.one(LT)["inputs"]["instanceType"]]
    assert ("instanceTypes" in i) == (stack == "prod")
    assert ("instanceType" in plan.one(LT)["inputs"]) == (stack == "dev")
    assert (types, i["scalingConfig"]["minSize"], i["scalingConfig"]["desiredSize"],
            i["scalingConfig"]["maxSize"]) == expected
    assert i["ignoreScalingChanges"] is True  # the Cluster Autoscaler owns the desired size
    assert i["nodeGroupNamePrefix"] == f"webstack-{stack}-nodes-" and "nodeGroupName" not in i
    assert mng["options"]["transforms"] == 3  # updateConfig, the common tags, scalingConfig ignored (transform tests)
    assert plan.one(EKS)["options"]["transforms"] == 2  # the common tags, the access entry aliases


def test_update_config_transform_reaches_only_the_node_group() -> None:
    transform = node_group_update_config(2)
    opts = object()
    hit = transform(SimpleNamespace(type_=NODE_GROUP_TYPE, props={"clusterName": "c"}, opts=opts))
    assert hit is not None and hit.props == {"clusterName": "c", "updateConfig": {"maxUnavailable": 2}}
    assert hit.opts is opts
    assert transform(SimpleNamespace(type_="aws:ec2/securityGroup:SecurityGroup", props={}, opts=opts)) is None


def test_common_tags_reach_the_taggable_children_of_pulumi_eks() -> None:
    transform = inherit_common_tags({"project": "webstack", "stack": "dev", "managed-by": "pulumi"})
    opts = object()
    oidc = transform(SimpleNamespace(type_="aws:iam/openIdConnectProvider:OpenIdConnectProvider",
                                     props={"url": "https://oidc"}, opts=opts))
    assert oidc is not None and oidc.opts is opts
    assert oidc.props == {"url": "https://oidc", "tags": {"project": "webstack", "stack": "dev",
                                                          "managed-by": "pulumi"}}
    role = transform(SimpleNamespace(type_="aws:iam/role:Role", props={"tags": {"Name": "r", "stack": "x"}},
                                     opts=opts))
    assert role is not None and role.props["tags"] == {"Name": "r", "stack": "dev", "project": "webstack",
                                                       "managed-by": "pulumi"}
    # types without tags are left alone
    assert transform(SimpleNamespace(type_="aws:iam/rolePolicyAttachment:RolePolicyAttachment", props={},
                                     opts=opts)) is None


def test_spot_labels_and_arm64_by_config(variant: Callable[..., Plan]) -> None:
    plan = variant("dev", nodeInstanceTypes=["m7g.large", "c7g.large"], nodeCapacityType="SPOT",
                   nodeLabels={"tier": "web"})
    i = plan.one(MNG)["inputs"]
    assert i["capacityType"] == "SPOT" and i["amiType"] == "AL2023_ARM_64_STANDARD"
    assert i["labels"] == {"tier": "web"}
    assert plan.one(IMAGE)["inputs"]["build"]["platform"] == "linux/arm64"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_node_group_waits_for_nat_egress(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    mng = plan.one(MNG)["urn"]
    private_routes = [r for r in plan.of_type("aws:ec2/route:Route") if "private-default" in r["name"]]
    assert private_routes
    for route in private_routes:
        assert route["urn"] in plan.one(MNG)["dependencies"]
        nat = next(n for n in plan.of_type("aws:ec2/natGateway:NatGateway")
                   if n["id"] == route["inputs"]["natGatewayId"])
        assert plan.depends_on(mng, nat["urn"])  # the chain reaches the NAT gateway itself


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_managed_addons_versions_and_order(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    every = {a["inputs"]["addonName"]: a for a in plan.of_type(ADDON)}
    assert set(every) == {"vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"}
    # the storage driver runs on the nodes: after them (tests/eks/test_storage.py); the others are the cluster's
    assert plan.depends_on(every["aws-ebs-csi-driver"]["urn"], plan.one(MNG)["urn"])
    addons = {n: a for n, a in every.items() if n != "aws-ebs-csi-driver"}
    eks = plan.one(EKS)
    assert eks["inputs"]["bootstrapSelfManagedAddons"] is False
    mng = plan.one(MNG)["urn"]
    for name, addon in addons.items():
        assert addon["inputs"]["clusterName"] == f"webstack-{stack}"
        assert re.fullmatch(r"v\d+\.\d+\.\d+-eksbuild\.\d+", addon["inputs"]["addonVersion"])
        assert eks["urn"] in addon["dependencies"]
        if name == "coredns":  # needs schedulable nodes
            assert mng in addon["dependencies"]
        else:  # nodes need the CNI and kube-proxy to become Ready
            assert addon["urn"] in plan.one(MNG)["dependencies"]
    # Each version is the lock's: nothing is resolved at deploy time (no getAddonVersion mostRecent lookup), so a new
    # add-on version reaches the cluster only through a commit of the lock.
    assert {n: a["inputs"]["addonVersion"] for n, a in every.items()} == committed_lock(stack)["eksAddons"]
    assert not [i for i in plan.invokes if i["token"] == "aws:eks/getAddonVersion:getAddonVersion"]


def test_addon_versions_can_be_pinned(variant: Callable[..., Plan]) -> None:
    plan = variant("dev", addonVersions={"coredns": "v1.11.4-eksbuild.2"})
    versions = {a["inputs"]["addonName"]: a["inputs"]["addonVersion"] for a in plan.of_type(ADDON)}
    assert versions == {**committed_lock("dev")["eksAddons"], "coredns": "v1.11.4-eksbuild.2"}  # the pin wins


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_nodes_run_the_locks_ami_release(request: pytest.FixtureRequest, stack: str) -> None:
    """Set, the release moves only with the lock (a newer one rolls the nodes in place); unset, EKS would take the
    newest at creation and never patch the nodes within a minor."""
    plan: Plan = request.getfixturevalue(stack)
    release = plan.one(MNG)["inputs"]["releaseVersion"]
    assert release == committed_lock(stack)["eksNodeReleaseVersions"]["amd64"]
    assert release.startswith(plan.one(EKS)["inputs"]["version"] + ".")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_kubernetes_provider_is_built_from_the_clusters_kubeconfig(request: pytest.FixtureRequest,
                                                                   stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    provider = plan.one(PROVIDER)
    assert provider["propertyDependencies"]["kubeconfig"] == [plan.one(EKS)["urn"]]
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert "context" not in provider["inputs"]  # never the ambient kubeconfig
    assert plan.outputs["kubeconfig"] == "[secret]"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_cluster_outputs(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    state = plan.one(EKS)["state"]
    assert plan.outputs["cluster_name"] == f"webstack-{stack}"
    assert plan.outputs["cluster_endpoint"].startswith("https://")
    assert plan.outputs["oidc_provider_arn"] == state["oidcProviderArn"]
    assert plan.outputs["node_security_group_id"] == state["nodeSecurityGroupId"]
    assert plan.outputs["node_role_arn"] == plan.one("aws:iam/role:Role", "cluster-node")["state"]["arn"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_image_is_built_from_app_for_the_node_architecture_and_pushed_to_the_repo(
        request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    image = plan.one(IMAGE)
    build = image["inputs"]["build"]
    # Relative to the project root, where Pulumi runs the program and the docker provider: pulumi-docker diffs
    # `build` as given (provider.go Diff), so an absolute path (another clone, a CI runner) would rebuild and
    # re-push an existing tag, which the immutable repository refuses.
    assert (build["context"], build["dockerfile"]) == ("app", "app/Dockerfile")
    assert (ROOT / build["context"]).resolve() == APP_DIR and (ROOT / build["dockerfile"]).is_file()
    assert str(ROOT) not in json.dumps(image["inputs"])
    assert build["platform"] == "linux/amd64"
    repo_url = plan.one("aws:ecr/repository:Repository")["state"]["repositoryUrl"]
    assert image["inputs"]["imageName"] == f"{repo_url}:{content_tag(platform='linux/amd64')}"
    assert build["args"]["APP_VERSION"] == content_tag(platform="linux/amd64")
    assert image["inputs"]["registry"] == "[secret]"  # holds the ECR password
    assert "mock-ecr-password" not in json.dumps(plan.resources)
    assert any(i["token"] == "aws:ecr/getAuthorizationToken:getAuthorizationToken" for i in plan.invokes)
    assert re.fullmatch(re.escape(repo_url) + r"@sha256:[0-9a-f]{64}", plan.outputs["image_digest"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_image_never_waits_for_the_cluster(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    image = plan.one(IMAGE)["urn"]
    component = plan.one("webstack:cluster:Cluster")
    cluster_side = [component, *plan.descendants(component["urn"])]
    assert cluster_side
    for r in cluster_side:
        assert not plan.depends_on(image, r["urn"]), r["name"]
    assert not any(a.endswith("webstack:cluster:Cluster::cluster") for a in plan.ancestors(image))


def test_content_tag_changes_with_content_and_only_then(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    (tmp_path / "a.txt").write_text("one")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("two")
    def tag() -> str:
        return content_tag(tmp_path, platform="linux/amd64")

    first = tag()
    assert first == tag() and re.fullmatch(r"sha-[0-9a-f]{16}", first)
    assert content_tag(tmp_path, platform="linux/arm64") != first  # same files, other architecture
    (tmp_path / "sub" / "b.txt").write_text("three")
    assert tag() != first
    (tmp_path / "sub" / "b.txt").write_text("two")
    assert tag() == first
    (tmp_path / "sub" / "b.txt").rename(tmp_path / "b.txt")  # same bytes, other path
    assert tag() != first


def test_content_tag_changes_with_file_modes(tmp_path: Path) -> None:
    """pulumi-docker's context digest covers each file's mode (provider.go hashPath): a mode change (a chmod, a
    clone under another umask) rebuilds and pushes, so it must get a new tag too."""
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    (tmp_path / "a.txt").write_text("one")
    (tmp_path / "a.txt").chmod(0o644)
    first = content_tag(tmp_path, platform="linux/amd64")
    (tmp_path / "a.txt").chmod(0o664)
    assert content_tag(tmp_path, platform="linux/amd64") != first
    (tmp_path / "a.txt").chmod(0o644)
    assert content_tag(tmp_path, platform="linux/amd64") == first


def test_mixed_architectures_and_bad_scaling_are_config_errors(variant: Callable[..., Plan]) -> None:
    from tools.render import RenderError

    with pytest.raises(RenderError) as err:
        variant("dev", nodeInstanceTypes=["m6i.large", "m7g.large"], nodeMinSize=3, nodeMaxSize=2)
    assert "webstack:nodeInstanceTypes" in str(err.value)
    assert "webstack:nodeMinSize/nodeDesiredSize/nodeMaxSize" in str(err.value)
    with pytest.raises(RenderError) as err:
        variant("dev", publicAccessCidrs=None)
    assert "webstack:publicAccessCidrs" in str(err.value)


def test_viewer_principals_get_read_only_access_entries(prod: Plan, variant: Callable[..., Plan]) -> None:
    """CI's preview role (docs/ci.md): AmazonEKSAdminViewPolicy, Secrets included (Helm's release records), no
    write; the admins' entries keep their keys (no replacement of an existing entry)."""
    preview = "arn:aws:iam::123456789012:role/webstack-ci-preview"
    plan = variant("prod", viewerPrincipalArns=[preview])
    entries = plan.one(EKS)["inputs"]["accessEntries"]
    admins = prod.one(EKS)["inputs"]["accessEntries"]
    assert {k: v for k, v in entries.items() if k in admins} == admins
    (viewer,) = [v for k, v in entries.items() if k not in admins]
    assert viewer == {"principalArn": preview, "accessPolicies": {"cluster-view": {
        "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy",
        "accessScope": {"type": "cluster"}}}}
    assert [k for k in entries if k not in admins][0].startswith("viewer-")
