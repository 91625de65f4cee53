"""EKS Auto Mode's in-cluster objects (nodeProvisioner auto-mode): the stack's own NodeClass and NodePool (nodes in
the private subnets only, of the image's architecture), Auto Mode's ALB IngressClass with its IngressClassParams,
the default gp3 StorageClass on Auto Mode's block storage, and the network policy switch. The cluster side
(pulumi-eks `autoMode`, the node role and its access entry) is in infra/eks/cluster.py.

Why no built-in node pool: both built-in pools use the `default` NodeClass, which places nodes in the subnets the
cluster was created with (AWS EKS user guide, automode-get-started-cli: "you must specify the VPC subnets where the
nodes will be deployed"), here the public subnets too; and `general-purpose` launches amd64 only
(set-builtin-node-pools). Our NodeClass names the private subnets by id; our NodePool takes either architecture.

The destroy rule: the app's pods, ExternalDNS and metrics-server run on this NodePool's nodes, so every other
in-cluster object is deleted before it (they depend on `capacity`); the Ingress (Auto Mode deletes its ALB) goes
before the IngressClass and its parameters. Deleting the NodePool makes Auto Mode drain and terminate its nodes; the
NodeClass goes after it, and the node role, its policies and its access entry after the NodeClass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .ebs_csi import storage_class
from .storage_class import AUTO_MODE_EBS_PROVISIONER, gp3_class_spec

TYPE = "webstack:automode:AutoMode"
GROUP = "eks.amazonaws.com"
NODE_CLASS = "webstack"
NODE_POOL = "webstack"
# The LB controller's chart makes IngressClass `alb`; Auto Mode's has another name, so both can exist during the
# update that moves a stack to Auto Mode (an IngressClass's controller is immutable).
INGRESS_CLASS = "eks-auto-alb"
# https://docs.aws.amazon.com/eks/latest/userguide/auto-configure-alb.html
ALB_CONTROLLER = "eks.amazonaws.com/alb"
# Auto Mode's well-known labels (create-node-pool.adoc, "EKS Auto Mode Supported"): as the Karpenter NodePool, the
# c, m and r families of the 5th generation or newer (also what the built-in pools use).
INSTANCE_CATEGORIES = ("c", "m", "r")
OLDEST_GENERATION_EXCLUDED = "4"
# Auto Mode nodes live at most 21 days; a shorter expireAfter replaces them sooner (AWS docs, auto-upgrade).
# 14 days, the value of the built-in pools, leaves a week for a pod disruption budget to let the node go.
EXPIRE_AFTER = "336h"
TERMINATION_GRACE_PERIOD = "30m"
CONSOLIDATE_AFTER = "1m"
DISRUPTION_BUDGET = "10%"
DELETE_TIMEOUT = "45m"
# Auto Mode enforces NetworkPolicies (the app has one) only once this ConfigMap asks it to (auto-net-pol.adoc).
NETWORK_POLICY_CONFIG = {"name": "amazon-vpc-cni", "namespace": "kube-system"}


@dataclass(frozen=True, kw_only=True)
class AutoModeArgs:
    node_role_name: pulumi.Input[str]
    """The Auto Mode node role (infra/eks/cluster.py), with its access entry: the NodeClass's nodes use it."""
    node_ready: Sequence[pulumi.Resource]
    """The role's policy attachments and access entry: created before and deleted after the NodeClass."""
    private_subnet_ids: Sequence[pulumi.Input[str]]
    cluster_security_group_id: pulumi.Input[str]
    architecture: str
    """amd64 | arm64: the image's."""
    cpu_limit: int
    disk_size_gb: int
    app_namespace: str
    """The one namespace allowed to use the IngressClass."""
    certificate_arn: pulumi.Input[str]
    reclaim_policy: str
    """The gp3 StorageClass's reclaimPolicy (Retain | Delete)."""
    provider: k8s.Provider
    storage_class_aliases: Sequence[pulumi.Input[str]] = ()
    """The URNs the `gp3` class had under another provisioner (EbsCsi's, infra/eks/ebs_csi.py `class_urn`): a stack
    switched to Auto Mode then replaces that class, deleting first, instead of creating a second `gp3` (which the
    API server refuses: the name exists) and deleting the old one at the end."""


def node_class_spec(*, node_role_name: pulumi.Input[str], private_subnet_ids: Sequence[pulumi.Input[str]],
                    cluster_security_group_id: pulumi.Input[str], disk_size_gb: int) -> dict[str, Any]:
    """The NodeClass (eks.amazonaws.com/v1): the private subnets and the cluster's security group by id, the node
    role, ephemeral storage of nodeDiskSizeGb. Auto Mode encrypts the ephemeral volume always (with the account's
    aws/ebs key unless a key is named); nodes get no public address in a private subnet. No `tags`: custom tags need
    more permissions on the cluster role (AWS docs, auto-learn-iam "tag propagation"), not granted here."""
    return {
        "role": node_role_name,
        "subnetSelectorTerms": [{"id": subnet} for subnet in private_subnet_ids],
        "securityGroupSelectorTerms": [{"id": cluster_security_group_id}],
        "ephemeralStorage": {"size": f"{disk_size_gb}Gi"},
    }


def node_pool_spec(*, architecture: str, cpu_limit: int) -> dict[str, Any]:
    """The NodePool (karpenter.sh/v1, Auto Mode's): this stack's NodeClass, the image's architecture, on-demand,
    c/m/r of generation 5+, at most `cpu_limit` vCPUs, consolidated when empty or underused."""
    requirements = [
        {"key": "kubernetes.io/arch", "operator": "In", "values": [architecture]},
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
        {"key": "eks.amazonaws.com/instance-category", "operator": "In", "values": list(INSTANCE_CATEGORIES)},
        {"key": "eks.amazonaws.com/instance-generation", "operator": "Gt", "values": [OLDEST_GENERATION_EXCLUDED]},
    ]
    return {
        "template": {"spec": {
            "nodeClassRef": {"group": GROUP, "kind": "NodeClass", "name": NODE_CLASS},
            "requirements": requirements,
            "expireAfter": EXPIRE_AFTER,
            "terminationGracePeriod": TERMINATION_GRACE_PERIOD,
        }},
        "limits": {"cpu": str(cpu_limit)},
        "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": CONSOLIDATE_AFTER,
                       "budgets": [{"nodes": DISRUPTION_BUDGET}]},
    }


def ingress_class_params_spec(*, app_namespace: str, certificate_arn: pulumi.Input[str]) -> dict[str, Any]:
    """IngressClassParams (eks.amazonaws.com/v1, field names from the IngressClassParams reference of
    auto-configure-alb): an internet-facing ALB with the app's certificate, for the app's namespace only. No
    `group`: the one Ingress gets its own ALB (Auto Mode reads no group.name annotation)."""
    return {
        "scheme": "internet-facing",
        "certificateARNs": [certificate_arn],
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": app_namespace}},
    }


def ingress_class_spec() -> dict[str, Any]:
    return {"controller": ALB_CONTROLLER,
            "parameters": {"apiGroup": GROUP, "kind": "IngressClassParams", "name": INGRESS_CLASS}}


class AutoMode(pulumi.ComponentResource):
    capacity: list[pulumi.Resource]
    """The NodePool and the NodeClass: every other in-cluster object depends on them (deleted first)."""
    ingress_controllers: list[pulumi.Resource]
    """The IngressClass and its parameters: the Ingress is created after and deleted before them."""
    storage_class: k8s.storage.v1.StorageClass

    def __init__(self, name: str, args: AutoModeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        nodeclass = k8s.apiextensions.CustomResource(
            f"{name}-nodeclass", api_version=f"{GROUP}/v1", kind="NodeClass", metadata={"name": NODE_CLASS},
            spec=node_class_spec(node_role_name=args.node_role_name, private_subnet_ids=args.private_subnet_ids,
                                 cluster_security_group_id=args.cluster_security_group_id,
                                 disk_size_gb=args.disk_size_gb),
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(
                depends_on=list(args.node_ready), custom_timeouts=pulumi.CustomTimeouts(delete=DELETE_TIMEOUT))))
        # Deleted first: Auto Mode drains and terminates its nodes, which the NodeClass's deletion waits for.
        nodepool = k8s.apiextensions.CustomResource(
            f"{name}-nodepool", api_version="karpenter.sh/v1", kind="NodePool", metadata={"name": NODE_POOL},
            spec=node_pool_spec(architecture=args.architecture, cpu_limit=args.cpu_limit),
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(
                depends_on=[nodeclass], custom_timeouts=pulumi.CustomTimeouts(delete=DELETE_TIMEOUT))))
        params = k8s.apiextensions.CustomResource(
            f"{name}-ingress-class-params", api_version=f"{GROUP}/v1", kind="IngressClassParams",
            metadata={"name": INGRESS_CLASS},
            spec=ingress_class_params_spec(app_namespace=args.app_namespace, certificate_arn=args.certificate_arn),
            opts=k8s_opts)
        ingress_class = k8s.networking.v1.IngressClass(
            f"{name}-ingress-class", metadata={"name": INGRESS_CLASS}, spec=ingress_class_spec(),
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[params])))
        # A server-side apply patch: it creates the ConfigMap, or takes over the one key on a cluster that moved
        # from the VPC CNI add-on (kept with preserve=True: its ConfigMap stays) without an "already exists".
        policies = k8s.core.v1.ConfigMapPatch(
            f"{name}-network-policy", metadata={**NETWORK_POLICY_CONFIG,
                                                "annotations": {"pulumi.com/patchForce": "true"}},
            data={"enable-network-policy-controller": "true"}, opts=k8s_opts)
        self.storage_class = self._storage_class(name, args, k8s_opts)
        self.capacity = [nodepool, nodeclass]
        self.ingress_controllers = [ingress_class, params, policies]
        self.register_outputs({})

    @staticmethod
    def _storage_class(name: str, args: AutoModeArgs, k8s_opts: pulumi.ResourceOptions) -> k8s.storage.v1.StorageClass:
        """The cluster's default class, encrypted gp3 through Auto Mode's block storage (provisioner
        ebs.csi.eks.amazonaws.com: no EBS CSI add-on); infra/eks/storage_class.py has the spec and why its other
        immutable fields replace it, deleting first (built as EbsCsi's class: its name is fixed)."""
        spec = gp3_class_spec(provisioner=AUTO_MODE_EBS_PROVISIONER, reclaim_policy=args.reclaim_policy)
        return storage_class(f"{name}-gp3", spec, pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(
            aliases=list(args.storage_class_aliases))))


def auto_mode_node_policies(partition: str) -> Mapping[str, str]:
    """The node role's AWS-managed policies, those pulumi-eks 4.4 gives the role it creates (`createNodeRole`,
    nodejs/eks/cluster/cluster.ts): name -> ARN."""
    return {p: f"arn:{partition}:iam::aws:policy/{p}"
            for p in ("AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly")}
