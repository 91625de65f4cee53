"""Day 2 (issue 10): what happens after the first `pulumi up`: upgrades, architecture and size changes, scaling,
access, create path and teardown order, asserted on renders of a base and a changed config.

Numbered tests follow the issue's findings. Distinct renders added here: kubernetesVersion bump, instance type
change, and an extra admin (the arm64 render is shared with test_cluster_image); for the labelled diff of each
documented operation (issue 17), a version bump from the lock and the runtime switch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import pytest
import yaml
from parliament import analyze_policy_string

from tests.support import committed_lock
from tests.support.day2 import diff_actions, what_up_does
from tools.render import ROOT, Plan, RenderError

EKS = "eks:index:Cluster"
MNG = "eks:index:ManagedNodeGroup"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
ADDON = "aws:eks/addon:Addon"
RELEASE = "kubernetes:helm.sh/v3:Release"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
SERVICE = "kubernetes:core/v1:Service"
IMAGE = "docker:index/image:Image"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
IRSA = "eks.amazonaws.com/role-arn"
HOSTNAME = "external-dns.alpha.kubernetes.io/hostname"
CHARTS = ROOT / "tests" / "data" / "charts"
STACKS = ["dev", "prod"]
# The arm64 variant test_cluster_image renders too (same overrides: one shared render).
# What `make bump` writes for a cluster moved to 1.36 (test values of the right form).
LOCK_1_36 = {"kubernetesVersion": "1.36",
             "eksAddons": {"aws-ebs-csi-driver": "v1.59.0-eksbuild.1",
                           "coredns": "v1.13.1-eksbuild.1", "eks-pod-identity-agent": "v1.3.10-eksbuild.2",
                           "kube-proxy": "v1.36.1-eksbuild.1", "vpc-cni": "v1.20.6-eksbuild.1"},
             "eksNodeReleaseVersions": {"amd64": "1.36.3-20261023", "arm64": "1.36.3-20261023"}}
ARM64 = {"nodeInstanceTypes": ["m7g.large", "c7g.large"], "nodeCapacityType": "SPOT", "nodeLabels": {"tier": "web"}}


def release(plan: Plan, chart: str) -> dict[str, Any]:
    [found] = [r for r in plan.of_type(RELEASE) if r["inputs"]["chart"] == chart]
    return found


def addon(plan: Plan, name: str) -> dict[str, Any]:
    [found] = [a for a in plan.of_type(ADDON) if a["inputs"]["addonName"] == name]
    return found


def irsa_arn(values: dict[str, Any]) -> str | None:
    """The IRSA role a chart's service account is annotated with, wherever the chart keeps it."""
    for path in (("serviceAccount",), ("rbac", "serviceAccount")):
        node: Any = values
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and IRSA in (node.get("annotations") or {}):
            return node["annotations"][IRSA]
    return None


def role_and_attachments(plan: Plan, arn: str) -> list[dict[str, Any]]:
    [role] = [r for r in plan.of_type("aws:iam/role:Role") if r["state"].get("arn") == arn]
    attachments = [a for a in plan.of_type(ATTACHMENT) if a["inputs"]["role"] == role["state"]["name"]]
    assert attachments, f"role {role['name']} has no policy attached"
    return [role, *attachments]


def service_account(release_: dict[str, Any]) -> tuple[str, str]:
    values = release_["inputs"]["values"]
    sa = values.get("serviceAccount") or values["rbac"]["serviceAccount"]
    return release_["inputs"]["namespace"], sa["name"]


def identity_needs(plan: Plan, release_: dict[str, Any]) -> list[dict[str, Any]]:
    """What a controller's pods need to call AWS: its IRSA role and attachments, or (pod-identity) the association
    of its service account, the wait for that association to propagate, its role and attachments."""
    arn = irsa_arn(release_["inputs"]["values"])
    if arn is not None:
        return role_and_attachments(plan, arn)
    ns_sa = service_account(release_)
    associations = [a for a in plan.of_type(ASSOCIATION)
                    if (a["inputs"]["namespace"], a["inputs"]["serviceAccount"]) == ns_sa]
    assert len(associations) == 1, f"{release_['name']}: no IRSA annotation and {len(associations)} associations"
    [association] = associations
    settles = [c for c in plan.of_type("command:local:Command") if association["urn"] in c["dependencies"]]
    assert len(settles) == 1, f"{release_['name']}: no wait for its association to propagate"
    return [association, *settles, *role_and_attachments(plan, association["inputs"]["roleArn"])]


# --- the destroy-safety rule -------------------------------------------------------------------------------------

def controller_dependents(plan: Plan) -> Iterator[tuple[dict[str, Any], str]]:
    """Every object whose deletion needs an in-cluster controller, with that controller's chart: an ALB Ingress or
    LoadBalancer Service needs the LB controller; a DNS name ExternalDNS publishes needs ExternalDNS."""
    dns_sources = set(release(plan, "external-dns")["inputs"]["values"].get("sources") or [])
    for r in plan.resources:
        if not r["type"].startswith("kubernetes:") or r["type"].startswith("kubernetes:helm.sh/"):
            continue
        obj = r["inputs"]
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        spec = obj.get("spec") or {}
        if r["type"] == INGRESS and spec.get("ingressClassName") == "alb":
            yield r, "aws-load-balancer-controller"
        if r["type"] == SERVICE and spec.get("type") == "LoadBalancer":
            yield r, "aws-load-balancer-controller"
        named = HOSTNAME in annotations or (r["type"] == INGRESS and "ingress" in dns_sources
                                            and any(rule.get("host") for rule in spec.get("rules") or []))
        if named or (r["type"] == SERVICE and HOSTNAME in annotations):
            yield r, "external-dns"


def what_the_controller_needs_while_deleting(plan: Plan, chart: str) -> list[dict[str, Any]]:
    ctl = release(plan, chart)
    needs = [ctl, *(addon(plan, a) for a in ("coredns", "kube-proxy", "vpc-cni")), plan.one(MNG)]
    needs += [r for r in plan.of_type("aws:ec2/route:Route") if r["inputs"].get("natGatewayId")]
    return needs + identity_needs(plan, ctl)


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smh])", duration))


@pytest.mark.parametrize("stack", STACKS)
def test_finding_2_and_7_every_controller_dependent_object_is_deleted_before_its_controller_and_its_needs(
        request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    checked = set()
    for obj, chart in controller_dependents(plan):
        for need in what_the_controller_needs_while_deleting(plan, chart):
            assert plan.depends_on(obj["urn"], need["urn"]), f"{obj['name']} is not deleted before {need['name']}"
        checked.add((obj["name"], chart))
    assert {("webapp-ingress", "aws-load-balancer-controller"), ("webapp-ingress", "external-dns")} <= checked


@pytest.mark.parametrize("stack", STACKS)
def test_finding_7_external_dns_syncs_owned_records_and_gets_time_to_delete_them(
        request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    dns = release(plan, "external-dns")
    values = dns["inputs"]["values"]
    assert values["policy"] == "sync" and values["registry"] == "txt"
    assert values["txtOwnerId"] == f"webstack-{stack}.{ {'dev': 'us-east-1', 'prod': 'eu-west-1'}[stack]}"
    interval = _seconds(values["interval"])
    for obj, chart in controller_dependents(plan):
        if chart != "external-dns":
            continue
        # a delete-time wait sits between the object and ExternalDNS, at least two sync intervals long
        waits = [r for r in plan.resources if r["type"] == "command:local:Command"
                 and plan.depends_on(obj["urn"], r["urn"]) and plan.depends_on(r["urn"], dns["urn"])]
        assert waits, obj["name"]
        for wait in waits:
            assert "create" not in wait["inputs"]  # nothing to do, and nothing to wait for, on create
            seconds = int(re.fullmatch(r"sleep (\d+)", wait["inputs"]["delete"]).group(1))
            assert seconds >= 2 * interval


def test_finding_2_the_rule_catches_an_ingress_that_does_not_wait_for_coredns(dev: Plan) -> None:
    """The generic rule is not vacuous: drop the provider's dependency on coredns and it fails."""
    broken = Plan(stack="broken", resources=json.loads(json.dumps(dev.resources)), invokes=[], outputs={})
    provider = broken.one("pulumi:providers:kubernetes")
    provider["dependencies"] = [d for d in provider["dependencies"] if not d.endswith("::cluster-coredns")]
    broken = Plan(stack="broken", resources=broken.resources, invokes=[], outputs={})
    ingress = broken.one(INGRESS)["urn"]
    assert not broken.depends_on(ingress, addon(broken, "coredns")["urn"])


@pytest.mark.parametrize("stack", STACKS)
def test_finding_2_coredns_is_up_before_the_controller_and_no_service_webhook_can_reject_kube_dns(
        request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    ctl = release(plan, "aws-load-balancer-controller")
    assert plan.depends_on(ctl["urn"], addon(plan, "coredns")["urn"])
    assert ctl["inputs"]["values"]["enableServiceMutatorWebhook"] is False
    defaults = _chart_defaults("aws-load-balancer-controller-3.5.0-values.yaml")
    assert defaults["enableServiceMutatorWebhook"] is True  # the chart's key, on by default
    assert not _unknown_keys(ctl["inputs"]["values"], defaults)
    # the cluster's add-on objects can go without taking the software with them (as pulumi-eks does for its own);
    # the storage drivers' do take theirs (preserve false: tests/eks/test_storage.py)
    cluster_addons = [a for a in plan.of_type(ADDON) if a["urn"].split("::")[-1].startswith("cluster-")]
    assert len(cluster_addons) == 4 and all(a["inputs"]["preserve"] is True for a in cluster_addons)


# --- findings 3-6, 9-11 ------------------------------------------------------------------------------------------

def test_finding_3_architecture_switch_pushes_a_new_tag(dev: Plan, variant: Callable[..., Plan]) -> None:
    arm = variant("dev", **ARM64)
    base_image, arm_image = dev.one(IMAGE)["inputs"], arm.one(IMAGE)["inputs"]
    assert (base_image["build"]["platform"], arm_image["build"]["platform"]) == ("linux/amd64", "linux/arm64")
    assert base_image["imageName"] != arm_image["imageName"]  # ECR tags are immutable: never the same tag
    assert base_image["imageName"].rsplit(":", 1)[0] == arm_image["imageName"].rsplit(":", 1)[0]
    assert arm.one(MNG)["inputs"]["amiType"] == "AL2023_ARM_64_STANDARD"
    # old and new nodes coexist during the switch: pods only land on nodes of the image's architecture
    pod = lambda p: p.one("kubernetes:apps/v1:Deployment")["inputs"]["spec"]["template"]["spec"]  # noqa: E731
    assert pod(dev)["nodeSelector"] == {"kubernetes.io/arch": "amd64"}
    assert pod(arm)["nodeSelector"] == {"kubernetes.io/arch": "arm64"}


def test_finding_4_kubernetes_version_bump_reaches_control_plane_nodes_and_addons(
        dev: Plan, variant: Callable[..., Plan]) -> None:
    # The upgrade is one commit: the config's minor and the lock `make bump` rewrote for it (add-ons, node AMI).
    bumped = variant("dev", kubernetesVersion="1.36", lock=LOCK_1_36)
    for plan, version in ((dev, "1.35"), (bumped, "1.36")):
        assert plan.one(EKS)["inputs"]["version"] == version
        assert plan.one(MNG)["inputs"]["version"] == version  # pulumi-eks leaves it unset with a launch template
        assert plan.one(MNG)["inputs"]["releaseVersion"].startswith(f"{version}.")  # the minor's node AMI release
        addons = {a["inputs"]["addonName"]: a["inputs"]["addonVersion"] for a in plan.of_type(ADDON)}
        assert addons == (LOCK_1_36["eksAddons"] if version == "1.36" else committed_lock("dev")["eksAddons"])
        tag = release(plan, "cluster-autoscaler")["inputs"]["values"]["image"]["tag"]
        assert tag.startswith(f"v{version}.")  # the autoscaler's minor follows the cluster's
    # the node group is updated after the control plane (it depends on it)
    assert bumped.one(EKS)["urn"] in bumped.one(MNG)["inputs"]["cluster"]


def test_finding_4_a_kubernetes_upgrade_without_its_lock_fails_before_any_resource(
        variant: Callable[..., Plan]) -> None:
    with pytest.raises(RenderError) as err:
        variant("dev", kubernetesVersion="1.36")
    text = str(err.value)
    assert "kubernetesVersion = '1.35': the add-on versions and node AMI releases were resolved for Kubernetes 1.35, "\
           "but webstack:kubernetesVersion = '1.36'" in text
    assert "make bump STACK=dev STACKS=tests/stacks" in text
    assert err.value.registered == []  # like a config error: nothing declared


def test_finding_4_every_supported_version_has_a_matching_autoscaler_image() -> None:
    from infra.config import SUPPORTED_KUBERNETES_VERSIONS
    from infra.eks.autoscaler import IMAGE_TAGS

    assert set(IMAGE_TAGS) == set(SUPPORTED_KUBERNETES_VERSIONS)
    assert all(re.fullmatch(rf"v{re.escape(v)}\.\d+", t) for v, t in IMAGE_TAGS.items())


def test_instance_type_change_rolls_the_launch_template_and_leaves_the_cluster(
        dev: Plan, variant: Callable[..., Plan]) -> None:
    bigger = variant("dev", nodeInstanceTypes=["t3.large"])
    assert bigger.one(EKS)["inputs"] == dev.one(EKS)["inputs"]  # no cluster update, let alone a replacement
    assert (dev.one(LT)["inputs"]["instanceType"], bigger.one(LT)["inputs"]["instanceType"]) == (
        "t3.medium", "t3.large")
    # The node group's own inputs are unchanged: the change reaches it only as a new launch template version
    # (an in-place rolling update); instanceTypes, a replace-only field, stays unset.
    assert bigger.one(MNG)["inputs"] == dev.one(MNG)["inputs"]
    assert "instanceTypes" not in bigger.one(MNG)["inputs"]
    assert bigger.one(MNG)["inputs"]["launchTemplate"]["id"] == bigger.one(LT)["id"]


@pytest.mark.parametrize("stack", STACKS)
def test_finding_5_vpc_cni_enforces_network_policies(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    assert plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    values = json.loads(addon(plan, "vpc-cni")["inputs"]["configurationValues"])
    assert values == {"enableNetworkPolicy": "true"}


@cache
def _chart_defaults(name: str) -> dict[str, Any]:
    return yaml.safe_load((CHARTS / name).read_text())


def _unknown_keys(values: Any, defaults: Any, path: str = "") -> list[str]:
    """Keys set in `values` that the chart's default values.yaml does not have (free-form maps excepted)."""
    if not isinstance(values, dict) or not isinstance(defaults, dict) or not defaults:
        return []
    out = []
    for key, value in values.items():
        if key not in defaults:
            out.append(f"{path}{key}")
        elif path + key not in {"extraArgs", "resources"}:  # maps of free-form arguments
            out += _unknown_keys(value, defaults[key], f"{path}{key}.")
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_finding_6_cluster_autoscaler_scales_this_clusters_node_group(request: pytest.FixtureRequest,
                                                                       stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    ca = release(plan, "cluster-autoscaler")
    i = ca["inputs"]
    assert (i["version"], i["repositoryOpts"]["repo"], i["namespace"]) == (
        "9.59.0", "https://kubernetes.github.io/autoscaler", "kube-system")
    v = i["values"]
    cluster = f"webstack-{stack}"
    region = {"dev": "us-east-1", "prod": "eu-west-1"}[stack]
    assert v["cloudProvider"] == "aws" and v["awsRegion"] == region
    assert v["autoDiscovery"] == {"clusterName": cluster}
    defaults = _chart_defaults("cluster-autoscaler-9.59.0-values.yaml")
    # auto-discovery by the tags EKS puts on managed node group ASGs (the chart's defaults, not overridden)
    assert defaults["autoDiscovery"]["tags"] == ["k8s.io/cluster-autoscaler/enabled",
                                                 "k8s.io/cluster-autoscaler/{{ .Values.autoDiscovery.clusterName }}"]
    assert not _unknown_keys(v, defaults)
    assert plan.one(MNG)["inputs"]["ignoreScalingChanges"] is True
    # its IAM: scaling actions only on ASGs tagged for this cluster, in this account and region
    policy = json.loads(next(p for p in plan.of_type("aws:iam/policy:Policy")
                             if p["name"] == "platform-cluster-autoscaler")["inputs"]["policy"])
    scaling = [s for s in policy["Statement"] if "autoscaling:SetDesiredCapacity" in s["Action"]]
    assert len(scaling) == 1
    assert scaling[0]["Condition"]["StringEquals"][f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}"] == "owned"
    assert scaling[0]["Resource"].startswith(f"arn:aws:autoscaling:{region}:123456789012:autoScalingGroup:")
    star = [s for s in policy["Statement"] if s["Resource"] == "*"]
    assert all(a.split(":")[1].startswith(("Describe", "GetInstanceTypes")) for s in star for a in s["Action"])
    assert not analyze_policy_string(json.dumps(policy)).findings  # parliament: nothing to report
    # the release waits for the nodes (through the provider) and is deleted before them
    assert plan.depends_on(ca["urn"], plan.one(MNG)["urn"])


def test_finding_6_the_values_check_catches_a_misspelt_key() -> None:
    defaults = _chart_defaults("cluster-autoscaler-9.59.0-values.yaml")
    assert _unknown_keys({"autoDiscovery": {"clustername": "x"}, "awsRegion": "x"}, defaults) == [
        "autoDiscovery.clustername"]


def test_finding_9_access_entries_keep_their_keys_when_an_operator_is_added(
        prod: Plan, variant: Callable[..., Plan]) -> None:
    first = "arn:aws:iam::123456789012:role/platform-admins"
    sso = ("arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
           "AWSReservedSSO_Admin_0123456789abcdef")
    more = variant("prod", adminPrincipalArns=[sso, first])
    before = {v["principalArn"]: k for k, v in prod.one(EKS)["inputs"]["accessEntries"].items()}
    after = {v["principalArn"]: k for k, v in more.one(EKS)["inputs"]["accessEntries"].items()}
    assert set(after) == {first, sso}
    assert after[first] == before[first]  # the existing operator's entry is not replaced


def test_finding_9_access_entries_keyed_by_position_move_to_their_new_keys() -> None:
    """Stacks deployed with `admin-<i>` keys keep their entries: each new name aliases its old one."""
    from types import SimpleNamespace

    import pulumi

    from infra.eks.cluster import access_entry_key, keep_access_entries

    arns = ["arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/b"]
    transform = keep_access_entries("cluster-eks", arns)
    key = access_entry_key(arns[1])
    for typ, name, old in (("aws:eks/accessEntry:AccessEntry", f"cluster-eks-{key}", "cluster-eks-admin-1"),
                           ("aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
                            f"cluster-eks-{key}-cluster-admin", "cluster-eks-admin-1-cluster-admin")):
        result = transform(SimpleNamespace(type_=typ, name=name, props={"p": 1}, opts=pulumi.ResourceOptions()))
        assert result is not None and result.props == {"p": 1}
        assert [a.name for a in result.opts.aliases] == [old]
    assert transform(SimpleNamespace(type_="aws:eks/accessEntry:AccessEntry", name="cluster-eks-other",
                                     props={}, opts=pulumi.ResourceOptions())) is None
    assert transform(SimpleNamespace(type_="aws:iam/role:Role", name=f"cluster-eks-{key}", props={},
                                     opts=pulumi.ResourceOptions())) is None


def test_finding_9_an_admin_listed_twice_is_a_config_error(variant: Callable[..., Plan]) -> None:
    arn = "arn:aws:iam::123456789012:role/platform-admins"
    with pytest.raises(RenderError) as err:
        # IAM role names are unique regardless of case: the same role spelt twice
        variant("prod", adminPrincipalArns=[arn, arn.replace("platform-admins", "Platform-Admins")])
    assert "webstack:adminPrincipalArns" in str(err.value) and "listed twice" in str(err.value)


@pytest.mark.parametrize("stack", STACKS)
def test_finding_10_every_release_waits_for_its_role_and_its_policy_attachment(request: pytest.FixtureRequest,
                                                                                stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    with_roles = 0
    for r in plan.of_type(RELEASE):
        if r["inputs"]["chart"] == "metrics-server":  # calls no AWS API
            continue
        with_roles += 1
        for need in identity_needs(plan, r):
            assert need["urn"] in r["dependencies"], f"{r['name']} does not wait for {need['type']} {need['name']}"
    assert with_roles == 3  # LB controller, ExternalDNS, Cluster Autoscaler


# --- finding 11: the create path ---------------------------------------------------------------------------------

# Typical create durations (minutes) from the issue; everything else counts as instant.
DURATIONS = {EKS: 12.0, MNG: 4.0, ADDON: 1.0, RELEASE: 1.5, INGRESS: 3.0}


def longest_create_chain(plan: Plan) -> tuple[float, list[dict[str, Any]]]:
    """The chain of creates the engine must run one after another that takes longest; among equally long chains
    the one with the most Helm releases, so a false serialisation cannot hide behind a tie."""
    memo: dict[str, tuple[float, int, list[str]]] = {}

    def best(urn: str) -> tuple[float, int, list[str]]:
        if urn not in memo:
            r = plan.get(urn)
            own = DURATIONS.get(r["type"], 0.0)
            deps = [best(d) for d in plan.edges(urn) if d in plan._by_urn]
            prev = max(deps, key=lambda t: (t[0], t[1]), default=(0.0, 0, []))
            memo[urn] = (prev[0] + own, prev[1] + (r["type"] == RELEASE), [*prev[2], urn])
        return memo[urn]

    total, _, chain = max((best(r["urn"]) for r in plan.resources), key=lambda t: (t[0], t[1]))
    return total, [plan.get(u) for u in chain]


@pytest.mark.parametrize("stack", STACKS)
def test_finding_11_the_longest_create_chain_holds_exactly_one_helm_release(request: pytest.FixtureRequest,
                                                                             stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    total, chain = longest_create_chain(plan)
    releases = [r["name"] for r in chain if r["type"] == RELEASE]
    assert len(releases) == 1, [r["name"] for r in chain if r["type"] in DURATIONS]
    kinds = [r["type"] for r in chain if r["type"] in DURATIONS]
    # control plane, the add-ons nodes need, nodes, coredns, one release, the Ingress (and its ALB)
    assert kinds == [EKS, ADDON, MNG, ADDON, RELEASE, INGRESS]
    assert total == 22.5


@pytest.mark.parametrize("stack", STACKS)
def test_finding_6_nodes_running_pods_with_scratch_volumes_can_scale_down(request: pytest.FixtureRequest,
                                                                           stack: str) -> None:
    """cluster-autoscaler's `--skip-nodes-with-local-storage` defaults to true (config/flags/flags.go): a node running
    a pod with an emptyDir is never removed unless the flag is off or the pod names its volumes safe to evict. The
    app's /tmp (and metrics-server's) are scratch space: they must not pin nodes above nodeMinSize."""
    plan: Plan = request.getfixturevalue(stack)
    args = release(plan, "cluster-autoscaler")["inputs"]["values"]["extraArgs"]
    pods = [d["inputs"]["spec"]["template"] for d in plan.of_type("kubernetes:apps/v1:Deployment")]
    scratch = [p for p in pods if any("emptyDir" in v for v in p["spec"].get("volumes") or [])]
    assert scratch  # the app's /tmp
    for pod in scratch:
        safe = ((pod.get("metadata") or {}).get("annotations") or {}).get(
            "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes", "")
        volumes = {v["name"] for v in pod["spec"]["volumes"] if "emptyDir" in v}
        assert args.get("skip-nodes-with-local-storage") is False or volumes <= set(safe.split(","))


# The AWS provider appends a 26-character unique suffix to `node_group_name_prefix` and refuses a longer
# prefix than 63 - 26 (terraform-provider-aws internal/service/eks/node_group.go:
# StringLenBetween(0, 63-id.UniqueIDSuffixLength)).
NODE_GROUP_NAME_PREFIX_MAX = 63 - 26


def test_the_longest_accepted_cluster_name_leaves_a_node_group_prefix_aws_accepts(dev: Plan) -> None:
    from infra.config import ConfigError, load_config
    from tools.render import TEST_STACKS, stack_config

    config = stack_config("limits", stacks=TEST_STACKS / "config")
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("webstack:")}

    def load(name: str) -> Any:
        return load_config({**raw, "clusterName": name}, project="webstack", stack="limits",
                           region=config["aws:region"]).cluster

    longest = load(raw["clusterName"])
    assert len(longest.node_group_name_prefix) <= NODE_GROUP_NAME_PREFIX_MAX
    with pytest.raises(ConfigError):  # one character more is refused before anything is declared
        load(raw["clusterName"] + "c")
    # the program passes the prefix the config checked
    assert dev.one(MNG)["inputs"]["nodeGroupNamePrefix"] == "webstack-dev-nodes-"


# --- each documented Day-2 operation as `make diff` labels it (issue 17): exactly what is updated, replaced ----------

def outcome(**found: set[str]) -> dict[str, set[str]]:
    """`what_up_does`'s shape: the labels not given are empty."""
    labels = ("update", "replace", "replace, delete first", "state only", "moved", "added", "removed", "blocking")
    return {label: found.get(label.replace(", ", "_").replace(" ", "_"), set()) for label in labels}


def test_day2_kubernetes_upgrade_updates_the_control_plane_addons_nodes_in_place(
        dev: Plan, variant: Callable[..., Plan]) -> None:
    bumped = variant("dev", kubernetesVersion="1.36", lock=LOCK_1_36)  # the render of finding 4
    assert what_up_does(dev, bumped) == outcome(update={
        "Cluster/cluster-eks", "ManagedNodeGroup/cluster-nodes", "Addon/cluster-coredns", "Addon/cluster-kube-proxy",
        "Addon/cluster-vpc-cni", "Addon/cluster-eks-pod-identity-agent", "Release/cluster-autoscaler"})


def test_day2_architecture_switch_replaces_the_node_group_create_first(dev: Plan, variant: Callable[..., Plan]) -> None:
    arm = variant("dev", **ARM64)  # the render of finding 3
    assert what_up_does(dev, arm) == outcome(
        update={"Image/app-image", "Deployment/webapp-deployment", "LaunchTemplate/cluster-nodes"},
        # amiType, capacityType, instanceTypes force it; its name is a prefix: created before the old one goes.
        # The scaling command runs again for the new group (its triggers are the group's forcing inputs).
        replace={"ManagedNodeGroup/cluster-nodes", "Command/cluster-node-scaling"})
    assert diff_actions(dev, arm)["ManagedNodeGroup/cluster-nodes"].reasons == (
        "amiType", "capacityType", "instanceTypes")


def test_day2_one_instance_type_for_another_is_a_launch_template_update(
        dev: Plan, variant: Callable[..., Plan]) -> None:
    bigger = variant("dev", nodeInstanceTypes=["t3.large"])  # the render of the instance type test above
    # The node group stays (a new launch template version, rolled in place). The scaling command's triggers include
    # the joined instance types, so it runs again: harmless, it sends the same min and max with the live desired size.
    assert what_up_does(dev, bigger) == outcome(update={"LaunchTemplate/cluster-nodes"},
                                                replace={"Command/cluster-node-scaling"})


def test_day2_adding_an_operator_updates_only_the_clusters_access_entries(
        prod: Plan, variant: Callable[..., Plan]) -> None:
    sso = ("arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
           "AWSReservedSSO_Admin_0123456789abcdef")
    more = variant("prod", adminPrincipalArns=[sso, "arn:aws:iam::123456789012:role/platform-admins"])  # finding 9
    assert what_up_does(prod, more) == outcome(update={"Cluster/cluster-eks"})


def test_day2_a_version_bump_from_the_lock_updates_what_runs_that_version(
        dev: Plan, variant: Callable[..., Plan]) -> None:
    """The weekly `make bump` pull request: a newer vpc-cni build and node AMI release for the same minor."""
    bumped = variant("dev", lock={"eksAddons": {"vpc-cni": "v1.20.6-eksbuild.1"},
                                  "eksNodeReleaseVersions": {"amd64": "1.35.4-20261120"}})
    assert what_up_does(dev, bumped) == outcome(update={"Addon/cluster-vpc-cni", "ManagedNodeGroup/cluster-nodes"})


def test_day2_runtime_switch_to_ecs_deletes_the_cluster_and_keeps_network_dns_and_registry(
        dev: Plan, variant: Callable[..., Plan]) -> None:
    """Step 2 of docs/operations.md's switch from EKS to ECS: runtime ecs, the record taken over, the EKS keys and
    lock entries gone (what `make bump` writes for ECS: the Fargate platform version)."""
    eks_keys = ("publicAccessCidrs", "nodeInstanceTypes", "nodeMinSize", "nodeDesiredSize", "nodeMaxSize",
                "nodeDiskSizeGb", "hpaMaxReplicas", "workloadIdentity")
    ecs = variant("dev", runtime="ecs", ecsTakeOverHostnameRecord=True, **dict.fromkeys(eks_keys),
                  lock={"kubernetesVersion": None, "eksAddons": None, "eksNodeReleaseVersions": None, "charts": None,
                        "fargatePlatformVersion": "1.4.0"})
    found = what_up_does(dev, ecs)
    # the alarms and the dashboard follow the app to the ECS load balancer and target group (new dimensions)
    assert found["update"] == {"Dashboard/alarms-dashboard", "MetricAlarm/alarms-five-xx-rate",
                               "MetricAlarm/alarms-latency-p99", "MetricAlarm/alarms-no-healthy-targets"}
    assert found["replace"] == found["replace, delete first"] == found["moved"] == set()
    kinds = lambda keys: {k.split("/")[0] for k in keys}  # noqa: E731
    assert {"Cluster", "ManagedNodeGroup", "Release", "Ingress", "Deployment", "Namespace"} <= kinds(found["removed"])
    assert {"Cluster", "Service", "TaskDefinition", "LoadBalancer", "TargetGroup", "Record"} <= kinds(found["added"])
    # the VPC, its subnets, the zone, the certificate and the repository stay as they are
    untouched = {"Vpc", "Subnet", "Zone", "Certificate", "CertificateValidation", "Repository", "NatGateway"}
    assert not untouched & kinds(set().union(*found.values()))
    # what `make diff` blocks on until acknowledged: the EKS cluster, its KMS key and log group, namespaces, add-ons
    assert found["blocking"] == {
        "Cluster/cluster-eks", "Key/cluster-secrets", "LogGroup/cluster-control-plane", "Namespace/webapp-ns",
        "Namespace/platform-external-dns", "Addon/cluster-coredns", "Addon/cluster-kube-proxy",
        "Addon/cluster-vpc-cni", "Addon/cluster-eks-pod-identity-agent", "Addon/ebs-csi"}
