"""Cluster keys: the EKS control plane, its access, logs and the managed node group."""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from infra.instances import MAC_FAMILY, instance_architecture, is_instance_type

from .core import between, each, length, matches, one_of, rule, setting, unique, when_set
from .network import LOG_RETENTION_DAYS

if TYPE_CHECKING:
    from .stack import StackConfig

# EKS versions in standard or extended support as of 2026-11 (1.31 leaves extended support on 2026-11-26);
# the default, 1.35, is in standard support until 2027-03.
SUPPORTED_KUBERNETES_VERSIONS = ("1.32", "1.33", "1.34", "1.35", "1.36")
DEFAULT_KUBERNETES_VERSION = "1.35"
CLUSTER_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
REQUIRED_CLUSTER_LOG_TYPES = ("api", "audit", "authenticator")
EBS_CSI_ADDON, EFS_CSI_ADDON = "aws-ebs-csi-driver", "aws-efs-csi-driver"
# Every managed add-on the stack may install (the lock's known names); required_eks_addons says which a config uses.
EKS_ADDONS = ("vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", EBS_CSI_ADDON, EFS_CSI_ADDON)
# The node provisioners under which the stack installs the EBS CSI add-on (EKS Auto Mode has its own EBS provisioner).
EBS_CSI_PROVISIONERS = ("managed-nodegroup", "karpenter")
# EKS CreateCluster name: 1-100 characters, this pattern (botocore eks model).
CLUSTER_NAME = r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}"
# EKS CreateNodegroup: a node group name is at most 63 characters; ours is "<cluster>-nodes-<unique suffix>".
# The node group is named by a prefix (replaced create-before-delete); the AWS provider appends a 26-character unique
# suffix and accepts a prefix of at most 63 - 26 (terraform-provider-aws eks/node_group.go, UniqueIDSuffixLength).
NODE_GROUP_SUFFIX = "-nodes-"
NODE_GROUP_NAME_MAX = 63 - 26
# EKS service quotas (https://docs.aws.amazon.com/eks/latest/userguide/service-quotas.html): 40 public endpoint
# CIDR ranges per cluster; 450 nodes per managed node group. CreateNodegroup takes 0-20 instanceTypes.
PUBLIC_CIDRS_MAX = 40
NODES_MAX = 450
IAM_PRINCIPAL_ARN = r"arn:(aws|aws-[a-z-]+):iam::[0-9]{12}:(role|user)/([\x21-\x7e]{0,510}/)?[A-Za-z0-9+=,.@_-]{1,64}"
# Kubernetes label key: optional DNS-subdomain prefix (<= 253) and '/', then a name of <= 63; value <= 63
# (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set).
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_LABEL_KEY = re.compile(rf"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?{_LABEL_NAME}", re.ASCII)
_LABEL_VALUE = re.compile(_LABEL_NAME, re.ASCII)
# Kubelet may set node labels under kubernetes.io / k8s.io only with these prefixes (NodeRestriction admission).
_KUBELET_PREFIXES = ("kubelet.kubernetes.io/", "node.kubernetes.io/")
ADDON_VERSION = r"v[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}-eksbuild\.[0-9]{1,4}"
# How nodes are provisioned (docs/nodes.md).
PROVISIONERS = ("managed-nodegroup", "karpenter", "auto-mode")
# Karpenter's NodePool requirement karpenter.sh/capacity-type (karpenter.sh/v1).
KARPENTER_CAPACITY_TYPES = ("spot", "on-demand")
KARPENTER_CPU_MAX = 100_000
# The NodePool CRD's patterns (karpenter.sh_nodepools.yaml at v1.14.1): spec.disruption.budgets[].nodes and
# spec.disruption.consolidateAfter.
DISRUPTION_BUDGET = r"((100|[0-9]{1,2})%|[0-9]{1,5})"
KARPENTER_DURATION = r"(([0-9]{1,5}(s|m|h)){1,3}|Never)"
KARPENTER_KEYS = ("karpenterCapacityTypes", "karpenterCpuLimit", "karpenterDisruptionBudget",
                  "karpenterConsolidateAfter")
AUTO_MODE_KEYS = ("autoModeCpuLimit",)
# Keys of the managed node group and the managed add-ons, which auto-mode does not create (EKS Auto Mode runs the
# nodes, the VPC CNI, kube-proxy, CoreDNS and the Pod Identity agent itself). nodeInstanceTypes still names the
# image's (and the NodePool's) architecture; nodeDiskSizeGb sizes the NodeClass's ephemeral storage.
NOT_UNDER_AUTO_MODE = ("nodeCapacityType", "nodeMinSize", "nodeDesiredSize", "nodeMaxSize", "nodeMaxUnavailable",
                       "nodeLabels", "addonVersions")
# Chosen bound on the union of publicAccessCidrs: one /8 worth of addresses (16,777,216). An allow-list is for
# the machines that run `pulumi up`; anything larger is the internet in all but name (0.0.0.0/1 + 128.0.0.0/1).
PUBLIC_ADDRESSES_MAX = 2**24
# EKS: a public access CIDR "cannot include reserved addresses"
# (https://docs.aws.amazon.com/eks/latest/userguide/config-cluster-endpoint.html; IANA special-purpose registry).
# The documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) are reserved too but allowed here on
# purpose: the example and test stacks use them as placeholders, and `make up` refuses them before deploying.
_NOT_PUBLIC = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4"))


@functools.lru_cache(maxsize=1024)  # a pure function of the text, asked on every load
def public_cidr(text: str) -> str | None:
    # IPv4 only: "You can't add IPv6 CIDR blocks to IPv4 clusters" (botocore eks, VpcConfigRequest).
    try:
        net = ipaddress.IPv4Network(text, strict=True)
    except ValueError:
        return "must be an IPv4 CIDR with no host bits set, e.g. 203.0.113.0/24"
    if net.prefixlen < 8:
        return "must not be open to the whole internet (prefix shorter than /8); list your runners' CIDRs"
    if any(net.overlaps(n) for n in _NOT_PUBLIC):
        return "must be public addresses (not private, shared, loopback, link-local, multicast or reserved)"
    return None


def label_pair(pair: tuple[str, str]) -> str | None:
    key, value = pair
    # EKS CreateNodegroup labels: keys and values 1-63 characters (botocore eks model, labelKey/labelValue).
    if not 1 <= len(key) <= 63 or not _LABEL_KEY.fullmatch(key):
        return "keys must be Kubernetes label keys ([prefix/]name), at most 63 characters (EKS)"
    prefix = key.rpartition("/")[0]
    if (prefix.endswith(("kubernetes.io", "k8s.io"))) and not key.startswith(_KUBELET_PREFIXES):
        return "keys under kubernetes.io/k8s.io are reserved (only kubelet.kubernetes.io/, node.kubernetes.io/)"
    if not _LABEL_VALUE.fullmatch(value):
        return "values must be 1-63 letters, digits, '-', '_' or '.', starting and ending alphanumeric"
    return None


def instance_type_check(name: str) -> str | None:
    if not is_instance_type(name):
        return "must be an EC2 instance type such as m6i.large (botocore EC2 model, InstanceType)"
    if MAC_FAMILY.fullmatch(name.partition(".")[0]):
        return "Mac instances run only on Dedicated Hosts, not in EKS managed node groups"
    return None


def one_architecture(types: tuple[str, ...]) -> str | None:
    archs: dict[str, list[str]] = {}
    for t in types:
        archs.setdefault(instance_architecture(t), []).append(t)
    if len(archs) > 1:
        return f"all types must share one CPU architecture (the image is built for one), got {archs}"
    return None


def addon_pair(pair: tuple[str, str]) -> str | None:
    name, version = pair
    if name not in EKS_ADDONS:
        return f"add-on must be one of {', '.join(EKS_ADDONS)}"
    return matches(ADDON_VERSION, "v1.2.3-eksbuild.1", "a version")(version)


@functools.lru_cache(maxsize=256)  # a pure function of the CIDRs, asked on every load
def covered_addresses(cidrs: tuple[str, ...]) -> int:
    nets = ipaddress.collapse_addresses(ipaddress.IPv4Network(c) for c in cidrs)
    return sum(n.num_addresses for n in nets)


@dataclass(frozen=True, kw_only=True)
class ClusterConfig:
    name: str = setting("clusterName", "", "EKS cluster name (default: <project>-<stack>); at most 30 characters.",
                        when_set(length(1, NODE_GROUP_NAME_MAX - len(NODE_GROUP_SUFFIX)),
                                 matches(CLUSTER_NAME, "webstack-dev",
                                         "letters, digits, '-' or '_', starting alphanumeric,")))
    kubernetes_version: str = setting(
        "kubernetesVersion", DEFAULT_KUBERNETES_VERSION,
        "EKS Kubernetes version (the minor); the stack's lock must be resolved for it (make bump).",
        one_of(*SUPPORTED_KUBERNETES_VERSIONS))
    endpoint_public_access: bool = setting(
        "endpointPublicAccess", True,
        "Expose the API server publicly (only to publicAccessCidrs); false for runners inside the VPC.")
    public_access_cidrs: tuple[str, ...] = setting(
        "publicAccessCidrs", (), "CIDRs allowed to reach the public API endpoint (required when it is on).",
        length(0, PUBLIC_CIDRS_MAX), each(public_cidr), unique())
    admin_principal_arns: tuple[str, ...] = setting(
        "adminPrincipalArns", (),
        "IAM role/user ARNs given cluster-admin through EKS access entries, each once, e.g. an IAM Identity Center "
        "role arn:aws:iam::<account>:role/aws-reserved/sso.amazonaws.com/<region>/AWSReservedSSO_<PermissionSet>_<id>."
        " Never the identity that creates the cluster: EKS makes it admin already.",
        each(matches(IAM_PRINCIPAL_ARN, "arn:aws:iam::123456789012:role/admins", "an IAM role or user ARN")),
        # IAM names are unique regardless of case, and EKS allows one access entry per principal.
        unique(str.lower, " (IAM compares role and user names regardless of case; one access entry each)"))
    viewer_principal_arns: tuple[str, ...] = setting(
        "viewerPrincipalArns", (),
        "IAM role/user ARNs given read-only cluster access (EKS access policy AmazonEKSAdminViewPolicy: get, list, "
        "watch on every resource, Secrets included, as Helm's release records need), each once, e.g. CI's preview "
        "role from `make bootstrap` (docs/ci.md).",
        each(matches(IAM_PRINCIPAL_ARN, "arn:aws:iam::123456789012:role/webstack-ci-preview",
                     "an IAM role or user ARN")),
        unique(str.lower, " (IAM compares role and user names regardless of case; one access entry each)"))
    log_types: tuple[str, ...] = setting(
        "clusterLogTypes", REQUIRED_CLUSTER_LOG_TYPES,
        "Control plane log types (api, audit and authenticator are always on).", each(one_of(*CLUSTER_LOG_TYPES)))
    log_retention_days: int = setting("clusterLogRetentionDays", 90,
                                      "Retention of the control plane log group, in days.", one_of(*LOG_RETENTION_DAYS))
    node_instance_types: tuple[str, ...] = setting(
        "nodeInstanceTypes", ("m6i.large",),
        "Node instance types; all of one CPU architecture. Under nodeProvisioner 'auto-mode' only that architecture "
        "is used: Auto Mode's NodePool picks any c, m or r type newer than generation 4 (infra/eks/automode.py).",
        length(1, 20), each(instance_type_check), unique(), one_architecture)
    node_capacity_type: str = setting("nodeCapacityType", "ON_DEMAND", "'ON_DEMAND' or 'SPOT'.",
                                      one_of("ON_DEMAND", "SPOT"))
    node_min_size: int = setting("nodeMinSize", 2, "Node group minimum size (at least 1).", between(1, NODES_MAX))
    node_desired_size: int = setting("nodeDesiredSize", 3, "Node group desired size.", between(1, NODES_MAX))
    node_max_size: int = setting("nodeMaxSize", 6, "Node group maximum size.", between(1, NODES_MAX))
    node_disk_size_gb: int = setting("nodeDiskSizeGb", 50, "Encrypted gp3 root volume size (GiB).",
                                     between(20, 16384))
    node_max_unavailable: int = setting("nodeMaxUnavailable", 1, "Nodes replaced at once during a node group update.",
                                        between(1, 100))
    node_labels: tuple[tuple[str, str], ...] = setting("nodeLabels", (), "Kubernetes labels put on every node.",
                                                       each(label_pair))
    addon_versions: tuple[tuple[str, str], ...] = setting(
        "addonVersions", (), "Pins EKS add-on versions by name; the others are the stack's lock's (make bump).",
        each(addon_pair))
    node_provisioner: str = setting(
        "nodeProvisioner", "managed-nodegroup",
        "How nodes are provisioned (docs/nodes.md): 'managed-nodegroup' (the node group and the Cluster Autoscaler), "
        "'karpenter' (the node group becomes a small system group; Karpenter launches the rest) or 'auto-mode' (EKS "
        "Auto Mode: AWS runs the nodes of the stack's NodePool, load balancing and block storage; no node group).",
        one_of(*PROVISIONERS))
    karpenter_capacity_types: tuple[str, ...] = setting(
        "karpenterCapacityTypes", ("on-demand",),
        "karpenter: capacity types Karpenter may launch ('spot', 'on-demand'; with both it prefers Spot).",
        length(1, 2), each(one_of(*KARPENTER_CAPACITY_TYPES)), unique())
    karpenter_cpu_limit: int = setting(
        "karpenterCpuLimit", 32, "karpenter: the most vCPUs all Karpenter nodes together may have (NodePool limit).",
        between(2, KARPENTER_CPU_MAX))
    karpenter_disruption_budget: str = setting(
        "karpenterDisruptionBudget", "10%",
        "karpenter: the most nodes Karpenter may disrupt at once (consolidation, drift), a count or a percentage.",
        matches(DISRUPTION_BUDGET, "10% or 1", "a node count or a percentage"))
    karpenter_consolidate_after: str = setting(
        "karpenterConsolidateAfter", "1m",
        "karpenter: how long a node stays empty or underused before Karpenter consolidates it ('Never' to stop).",
        matches(KARPENTER_DURATION, "1m, 30s, 1h30m or Never", "a duration"))
    auto_mode_cpu_limit: int = setting(
        "autoModeCpuLimit", 32, "auto-mode: the most vCPUs all nodes of the stack's Auto Mode NodePool may have.",
        between(2, KARPENTER_CPU_MAX))

    @property
    def node_architecture(self) -> str:
        return instance_architecture(self.node_instance_types[0])

    @property
    def node_group_name_prefix(self) -> str:
        return f"{self.name}{NODE_GROUP_SUFFIX}"


def required_eks_addons(cfg: StackConfig) -> tuple[str, ...]:
    """The managed add-ons this config installs, in EKS_ADDONS order: the lock must pin each of them and `make bump`
    resolves exactly these. The EBS CSI driver under EBS_CSI_PROVISIONERS, the EFS CSI driver with efsCsiEnabled."""
    wanted = {EBS_CSI_ADDON: cfg.cluster.node_provisioner in EBS_CSI_PROVISIONERS,
              EFS_CSI_ADDON: cfg.addons.efs_csi_enabled}
    return tuple(a for a in EKS_ADDONS if wanted.get(a, True))


@rule("addonVersions", "nodeProvisioner", "efsCsiEnabled")
def _pins_installed_addons(cfg: StackConfig) -> str | None:
    """A pin of an add-on this config does not install would do nothing (nothing silently off)."""
    unused = [n for n, _ in cfg.cluster.addon_versions if n not in required_eks_addons(cfg)]
    if not unused:
        return None
    return (f"pins {', '.join(unused)}, which this config does not install ({EBS_CSI_ADDON} only under nodeProvisioner "
            f"{' or '.join(EBS_CSI_PROVISIONERS)}, {EFS_CSI_ADDON} only with efsCsiEnabled): remove the pin")


@rule("clusterName")
def _cluster_and_node_group_names(cfg: StackConfig) -> str | None:
    """The resolved name (default <project>-<stack>) must suit EKS and leave room for the node group's."""
    if not re.fullmatch(CLUSTER_NAME, cfg.cluster.name, re.ASCII):
        return "must be 1-100 letters, digits, '-' or '_', starting alphanumeric (set clusterName)"
    if len(cfg.cluster.node_group_name_prefix) > NODE_GROUP_NAME_MAX:
        return (f"must be at most {NODE_GROUP_NAME_MAX - len(NODE_GROUP_SUFFIX)} characters: the node group name "
                f"prefix '{cfg.cluster.node_group_name_prefix}' must be at most {NODE_GROUP_NAME_MAX} "
                "(set a shorter clusterName)")
    return None


@rule("publicAccessCidrs", "endpointPublicAccess")
def _public_endpoint_allow_list(cfg: StackConfig) -> str | None:
    if cfg.runtime == "ecs":
        return None  # no Kubernetes API to reach
    public, cidrs = cfg.cluster.endpoint_public_access, cfg.cluster.public_access_cidrs
    if public and not cidrs:
        return ("empty while endpointPublicAccess is true: list the CIDRs of the machines running `pulumi up`, "
                "or set endpointPublicAccess to false and run from inside the VPC")
    if not public and cidrs:
        return "only allowed when endpointPublicAccess is true"
    return None


@rule("publicAccessCidrs")
def _not_the_internet_in_pieces(cfg: StackConfig) -> str | None:
    total = covered_addresses(cfg.cluster.public_access_cidrs)
    if total > PUBLIC_ADDRESSES_MAX:
        return (f"together cover {total} addresses, more than one /8 ({PUBLIC_ADDRESSES_MAX}): "
                "the API server must not be open to the whole internet")
    return None


@rule("adminPrincipalArns", "aws:region")
def _admins_in_partition(cfg: StackConfig) -> str | None:
    other = [a for a in cfg.cluster.admin_principal_arns if a.split(":")[1] != cfg.partition]
    return f"ARNs must be in the stack's partition ({cfg.partition}); not {', '.join(other)}" if other else None


@rule("viewerPrincipalArns", "aws:region")
def _viewers_in_partition(cfg: StackConfig) -> str | None:
    other = [a for a in cfg.cluster.viewer_principal_arns if a.split(":")[1] != cfg.partition]
    return f"ARNs must be in the stack's partition ({cfg.partition}); not {', '.join(other)}" if other else None


@rule("viewerPrincipalArns", "adminPrincipalArns")
def _viewers_are_not_admins(cfg: StackConfig) -> str | None:
    """EKS holds one access entry per principal: a principal is admin or viewer, not both."""
    admins = {a.lower() for a in cfg.cluster.admin_principal_arns}
    both = [a for a in cfg.cluster.viewer_principal_arns if a.lower() in admins]
    return f"also in adminPrincipalArns (one access entry per principal; admin already reads): {', '.join(both)}" \
        if both else None


@rule("nodeMinSize", "nodeDesiredSize", "nodeMaxSize")
def _node_sizes_ordered(cfg: StackConfig) -> str | None:
    c = cfg.cluster
    return None if c.node_min_size <= c.node_desired_size <= c.node_max_size else "must satisfy min <= desired <= max"


@functools.cache
def _cluster_fields() -> dict[str, Any]:
    return {f.metadata["setting"].key: f for f in fields(ClusterConfig) if "setting" in f.metadata}


def _changed(cfg: StackConfig, keys: tuple[str, ...]) -> list[str]:
    """Those of `keys` (cluster keys) whose value is not their default."""
    by_key = _cluster_fields()
    return [k for k in keys if getattr(cfg.cluster, by_key[k].name) != by_key[k].default]


def _only_under(provisioner: str, key: str, why: str) -> None:
    """Refuse `key` set to anything but its default while nodeProvisioner is not `provisioner` (it would do
    nothing: nothing silently off)."""

    @rule("nodeProvisioner", key)
    def check(cfg: StackConfig) -> str | None:
        if cfg.cluster.node_provisioner == provisioner or not _changed(cfg, (key,)):
            return None
        return f"{key} {why}: remove it, or set nodeProvisioner to '{provisioner}'"


for _key in KARPENTER_KEYS:
    _only_under("karpenter", _key, "configures Karpenter, which only nodeProvisioner 'karpenter' installs")

for _key in AUTO_MODE_KEYS:
    _only_under("auto-mode", _key, "configures the EKS Auto Mode NodePool, which only nodeProvisioner 'auto-mode' "
                "declares")


def _no_node_group_key(key: str) -> None:
    @rule("nodeProvisioner", key)
    def check(cfg: StackConfig) -> str | None:
        if cfg.cluster.node_provisioner != "auto-mode" or not _changed(cfg, (key,)):
            return None
        return (f"{key} configures the managed node group or its EKS add-ons, which nodeProvisioner 'auto-mode' does "
                "not create (EKS Auto Mode runs the nodes, networking and DNS itself): remove it, or choose "
                "'managed-nodegroup' or 'karpenter'")


for _key in NOT_UNDER_AUTO_MODE:
    _no_node_group_key(_key)


@rule("nodeProvisioner", "efsCsiEnabled")
def _no_efs_under_auto_mode(cfg: StackConfig) -> str | None:
    """The EFS CSI add-on, file system and classes are not built for Auto Mode clusters: refused, not left out."""
    if cfg.runtime != "eks" or cfg.cluster.node_provisioner != "auto-mode" or not cfg.addons.efs_csi_enabled:
        return None
    return ("efsCsiEnabled with nodeProvisioner 'auto-mode' is not built (Auto Mode's block storage is EBS only): "
            "remove efsCsiEnabled, or choose 'managed-nodegroup' or 'karpenter'")


@rule("nodeProvisioner", "appOnFargate")
def _auto_mode_runs_the_app_itself(cfg: StackConfig) -> str | None:
    """The app on a Fargate profile of an Auto Mode cluster is not built (nor tested): refused, not half-supported."""
    if cfg.runtime != "eks" or cfg.cluster.node_provisioner != "auto-mode" or not cfg.app.on_fargate:
        return None
    return ("appOnFargate with nodeProvisioner 'auto-mode' is not built (Auto Mode runs the app on its NodePool): "
            "remove appOnFargate, or choose 'managed-nodegroup' or 'karpenter'")
