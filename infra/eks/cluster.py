"""Cluster: EKS (pulumi-eks) with KMS secrets encryption, IRSA, access entries, control plane logs,
a private managed node group behind a hardened launch template, managed add-ons, and the
Kubernetes provider every in-cluster object must use."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_command as command
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from .. import iam
from ..tags import named
from .automode import auto_mode_node_policies
from .scaling import NodeScalingArgs, node_scaling, scaling_config_ignored

TYPE = "webstack:cluster:Cluster"
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")
# Prefixed with `arn:<partition>:` of the stack's region.
CLUSTER_ADMIN_POLICY = "eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
# Read everything, Secrets included: what `pulumi preview` needs (Helm keeps its release records in Secrets).
CLUSTER_VIEW_POLICY = "eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
AMI_TYPES = {"amd64": "AL2023_x86_64_STANDARD", "arm64": "AL2023_ARM_64_STANDARD"}
# Add-ons the nodes need before they can become Ready, and the one that needs Ready nodes.
ADDONS_BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
ADDONS_AFTER_NODES = ("coredns",)
# The VPC CNI enforces NetworkPolicies only when asked to (off by default).
ADDON_CONFIGURATION = {"vpc-cni": {"enableNetworkPolicy": "true"}}
NODE_GROUP_TYPE = "aws:eks/nodeGroup:NodeGroup"
# What an EKS Auto Mode node role's access entry grants (AWS docs, create-node-class: "The Node IAM Role requires
# the AmazonEKSAutoNodePolicy EKS Access Policy"); entry type EC2 is Auto Mode's (botocore eks CreateAccessEntry).
AUTO_NODE_ACCESS_POLICY = "eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy"


def access_entry_key(principal_arn: str) -> str:
    """A key that stays with its principal: adding or removing another admin never replaces this entry."""
    return "admin-" + hashlib.sha256(principal_arn.lower().encode()).hexdigest()[:10]


ACCESS_TYPES = frozenset({"aws:eks/accessEntry:AccessEntry",
                          "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"})


def keep_access_entries(component: str, principal_arns: Sequence[str]) -> pulumi.ResourceTransform:
    """Moves the state of access entries keyed by list position (`admin-<i>`, before keys followed the ARN) to
    their new names. Without the alias the first update would create a second entry for the same principal
    before deleting the old one, which EKS refuses. Exact while the list is unchanged in that update.

    pulumi-eks names an entry `<component>-<key>` and its policy association `<component>-<key>-<policy>`."""
    renames = {f"{component}-{access_entry_key(arn)}": f"{component}-admin-{i}"
               for i, arn in enumerate(principal_arns)}

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ not in ACCESS_TYPES:
            return None
        for new, old in renames.items():
            if args.name == new or args.name.startswith(new + "-"):
                alias = pulumi.Alias(name=old + args.name[len(new):])
                return pulumi.ResourceTransformResult(
                    props=args.props, opts=pulumi.ResourceOptions.merge(args.opts,
                                                                        pulumi.ResourceOptions(aliases=[alias])))
        return None

    return transform


def node_group_update_config(max_unavailable: int) -> pulumi.ResourceTransform:
    """Sets `updateConfig.maxUnavailable` on the node group pulumi-eks creates.

    pulumi-eks 4.4 ManagedNodeGroup does not expose update_config; a transform reaches the
    aws:eks/nodeGroup:NodeGroup it declares inside the component.
    """

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ != NODE_GROUP_TYPE:
            return None
        props = {**args.props, "updateConfig": {"maxUnavailable": max_unavailable}}
        return pulumi.ResourceTransformResult(props=props, opts=args.opts)

    return transform


# AWS resources pulumi-eks declares inside its components that accept tags.
TAGGABLE_CHILDREN = frozenset({
    "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:eks/addon:Addon",
    "aws:eks/accessEntry:AccessEntry", "aws:iam/role:Role", "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:iam/instanceProfile:InstanceProfile", "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/launchTemplate:LaunchTemplate",
})


def inherit_common_tags(tags: Mapping[str, str]) -> pulumi.ResourceTransform:
    """Adds the common tags to the taggable resources pulumi-eks creates, some of which (the OIDC provider)
    it tags with nothing; the `tags` argument of its components does not reach them all."""
    common = dict(tags)

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ not in TAGGABLE_CHILDREN:
            return None
        existing = args.props.get("tags") or {}
        if isinstance(existing, Mapping):
            merged: pulumi.Input[Mapping[str, str]] = {**existing, **common}
        else:  # not yet known: merge once it is
            merged = pulumi.Output.from_input(existing).apply(lambda t: {**(t or {}), **common})
        return pulumi.ResourceTransformResult(props={**args.props, "tags": merged}, opts=args.opts)

    return transform


def single_instance_type(instance_types: Sequence[str]) -> str | None:
    """The one instance type, which then lives in the launch template (None for several, set on the group):
    changing it makes a new template version, which EKS rolls out in place (a node group's instanceTypes cannot
    change without replacing the group)."""
    return instance_types[0] if len(instance_types) == 1 else None


@dataclass(frozen=True, kw_only=True)
class NodeGroupSpec:
    """The managed node group (plain values; the cluster supplies itself, the node role and the subnets)."""

    name_prefix: str
    instance_types: Sequence[str]
    """All of one CPU architecture."""
    architecture: str  # amd64 | arm64
    capacity_type: str  # ON_DEMAND | SPOT
    disk_size_gb: int
    min_size: int
    desired_size: int
    max_size: int
    max_unavailable: int
    labels: Mapping[str, str]
    release_version: str
    """The EKS AL2023 AMI release the nodes run (the stack's lock): a newer one rolls the nodes in place
    (UpdateNodegroupVersion); left unset, EKS would pick the newest at creation and never move it."""


def launch_template_spec(cluster_name: str, nodes: NodeGroupSpec, tags: Mapping[str, str]) -> dict[str, Any]:
    """The nodes' launch template: IMDSv2 only with one hop (pods, one hop further, cannot reach the node's
    instance credentials), an encrypted gp3 root volume, the node's Name on instances, volumes and ENIs."""
    return {
        "description": f"Managed nodes of {cluster_name}: IMDSv2 only, encrypted gp3 root volume",
        "instance_type": single_instance_type(nodes.instance_types),
        "metadata_options": {"http_endpoint": "enabled", "http_tokens": "required",
                             "http_put_response_hop_limit": 1, "instance_metadata_tags": "disabled"},
        "block_device_mappings": [{"device_name": "/dev/xvda", "ebs": {
            "volume_size": nodes.disk_size_gb, "volume_type": "gp3", "encrypted": "true",
            "delete_on_termination": "true"}}],
        "tag_specifications": [{"resource_type": kind, "tags": named(dict(tags), f"{cluster_name}-node")}
                               for kind in ("instance", "volume", "network-interface")],
        "update_default_version": True,
        "tags": dict(tags),
    }


def auto_mode_options() -> eks.AutoModeOptionsArgs:
    """EKS Auto Mode through pulumi-eks 4.4 (nodejs/eks/cluster/cluster.ts @7bf0c1b): with `enabled` it sets
    computeConfig, storageConfig.blockStorage and kubernetesNetworkConfig.elasticLoadBalancing all enabled (EKS
    refuses them apart), bootstrapSelfManagedAddons false (this stack's value already; an ignoreChanges there), and
    adds AmazonEKSComputePolicy, AmazonEKSBlockStoragePolicy, AmazonEKSLoadBalancingPolicy and
    AmazonEKSNetworkingPolicy to the cluster role it creates, whose trust always allows sts:TagSession. No built-in
    node pool (`nodePools: []`, AWS's way to disable both) and so no node role in computeConfig: the stack's
    NodePool uses its own NodeClass and role (infra/eks/automode.py). pulumi-eks creates no add-on here: this stack
    turns its coredns and kube-proxy options off and keeps useDefaultVpcCni (pulumi-eks #1726's coredns add-on)."""
    return eks.AutoModeOptionsArgs(enabled=True, create_node_role=False,
                                   compute_config=aws.eks.ClusterComputeConfigArgs(enabled=True, node_pools=[]))


def access_entries(principal_arns: Sequence[str], partition: str,
                   viewer_arns: Sequence[str] = ()) -> dict[str, eks.AccessEntryArgs]:
    """Cluster-admin access entries, then read-only ones (`viewer-<hash>`), keyed so each stays with its
    principal."""
    def entry(arn: str, name: str, policy: str) -> eks.AccessEntryArgs:
        return eks.AccessEntryArgs(
            principal_arn=arn,
            access_policies={name: eks.AccessPolicyAssociationArgs(
                policy_arn=f"arn:{partition}:{policy}",
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"))})

    admins = {access_entry_key(arn): entry(arn, "cluster-admin", CLUSTER_ADMIN_POLICY) for arn in principal_arns}
    viewers = {"viewer-" + access_entry_key(arn).removeprefix("admin-"): entry(arn, "cluster-view",
                                                                             CLUSTER_VIEW_POLICY)
               for arn in viewer_arns}
    return {**admins, **viewers}


@dataclass(frozen=True, kw_only=True)
class ClusterArgs:
    name: str
    kubernetes_version: str
    endpoint_public_access: bool
    public_access_cidrs: Sequence[str]
    """Who may reach the public endpoint (only used while it is on)."""
    admin_principal_arns: Sequence[str]
    """Operators given cluster-admin (never the identity creating the cluster: EKS makes it admin already)."""
    viewer_principal_arns: Sequence[str]
    """Read-only principals (CI's preview role): AmazonEKSAdminViewPolicy."""
    log_types: Sequence[str]
    log_retention_days: int
    eks_addon_versions: Mapping[str, str]
    """The version of every managed add-on (the stack's lock, config pins applied): nothing is resolved at deploy
    time, so a new add-on version reaches a cluster only through a commit."""
    nodes: NodeGroupSpec
    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    egress_ready: Sequence[pulumi.Resource]
    """Resources (the private default routes through NAT) that must exist before nodes boot."""
    partition: str
    """The region's ARN partition (aws, aws-cn, aws-us-gov): AWS-managed policy ARNs live in it."""
    region: str
    deletion_protection: bool
    """EKS refuses DeleteCluster while on (pulumi-eks 4.1+ `deletionProtection`, an in-place UpdateClusterConfig):
    tearing down on purpose turns it off with `make up` first (docs/operations.md)."""
    tags: Mapping[str, str]
    auto_mode: bool = False
    """nodeProvisioner auto-mode: EKS Auto Mode (compute, block storage, load balancing) and no node group, no
    managed add-on (Auto Mode runs the CNI, kube-proxy, CoreDNS and the Pod Identity agent itself)."""

    def __post_init__(self) -> None:
        if self.auto_mode:
            return
        missing = [a for a in (*ADDONS_BEFORE_NODES, *ADDONS_AFTER_NODES) if not self.eks_addon_versions.get(a)]
        if missing:
            raise ValueError(f"ClusterArgs.eks_addon_versions: no version for {', '.join(missing)} (every managed "
                             "add-on is pinned; the stack's lock has them)")


class Cluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_provider_url: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    node_security_group_id: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    """The security group EKS made for the cluster: the node group's nodes (no security group of their own) and
    Karpenter's are in it."""
    node_group: eks.ManagedNodeGroup | None
    """None under auto-mode."""
    node_scaling: command.local.Command | None
    """Applies nodeMinSize/nodeMaxSize to the live node group (infra/eks/scaling.py)."""
    node_role_name: pulumi.Output[str]
    node_ready: list[pulumi.Resource]
    """Auto-mode: the node role's policy attachments and access entry (the NodeClass needs them)."""
    provider: k8s.Provider

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        cluster = self._eks_cluster(name, args)
        # Read from a cluster output, so whatever uses the name waits for the whole cluster component.
        self.cluster_name = cluster.oidc_provider_arn.apply(lambda _: args.name)
        if args.auto_mode:
            ready = self._auto_mode_nodes(name, args, cluster)
        else:
            ready = self._node_group_and_addons(name, args, cluster)

        # Everything in the cluster uses this provider, so it is created after, and deleted before, the nodes,
        # their NAT egress and every add-on: in-cluster controllers still have DNS, networking and nodes while
        # they clean up (an Ingress's ALB) on `pulumi destroy`.
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=pulumi.Output.secret(cluster.kubeconfig_json), enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=ready))

        self.endpoint = cluster.core.apply(lambda core: core.endpoint)
        self.kubeconfig = pulumi.Output.secret(cluster.kubeconfig_json)
        self.oidc_provider_arn = cluster.oidc_provider_arn
        self.oidc_provider_url = cluster.oidc_provider_url
        self.oidc_issuer = cluster.oidc_issuer
        self.node_security_group_id = cluster.node_security_group_id
        self.cluster_security_group_id = cluster.cluster_security_group_id
        self.register_outputs({
            "cluster_name": self.cluster_name, "endpoint": self.endpoint, "kubeconfig": self.kubeconfig,
            "oidc_provider_arn": self.oidc_provider_arn, "oidc_provider_url": self.oidc_provider_url,
            "node_role_arn": self.node_role_arn, "node_security_group_id": self.node_security_group_id,
        })

    def _auto_mode_nodes(self, name: str, args: ClusterArgs, cluster: eks.Cluster) -> list[pulumi.Resource]:
        """The role of Auto Mode's nodes (the stack's NodeClass names it) with pulumi-eks's two policies and an
        access entry of type EC2 with AmazonEKSAutoNodePolicy. Its own role, not the node group's: EKS made an
        EC2_LINUX entry for that one, and a principal has one entry. pulumi-eks's `createNodeRole` is not used: it
        puts the role into computeConfig.nodeRoleArn, which only the built-in node pools use (infra/eks/automode.py
        says why there are none). Returns what the Kubernetes provider waits for: the cluster and the NAT routes."""
        tags, child = dict(args.tags), pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(f"{name}-auto-node", assume_role_policy=iam.to_json(
            iam.service_trust_policy("ec2.amazonaws.com")), tags=tags, opts=child)
        attachments = [aws.iam.RolePolicyAttachment(f"{name}-auto-node-{policy}", role=role.name, policy_arn=arn,
                                                    opts=child)
                       for policy, arn in auto_mode_node_policies(args.partition).items()]
        entry = aws.eks.AccessEntry(f"{name}-auto-node", cluster_name=self.cluster_name, principal_arn=role.arn,
                                    type="EC2", tags=tags, opts=child)
        association = aws.eks.AccessPolicyAssociation(
            f"{name}-auto-node", cluster_name=self.cluster_name, principal_arn=role.arn,
            policy_arn=f"arn:{args.partition}:{AUTO_NODE_ACCESS_POLICY}",
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]))
        self.node_group, self.node_scaling = None, None
        # Auto Mode runs the Pod Identity agent: associations need only the cluster.
        self.pod_identity_agent = cluster
        self.node_role_arn, self.node_role_name = role.arn, role.name
        self.node_ready = [*attachments, entry, association]
        return [cluster, *args.egress_ready]

    def _node_group_and_addons(self, name: str, args: ClusterArgs, cluster: eks.Cluster) -> list[pulumi.Resource]:
        """The node role, launch template, managed add-ons and the managed node group (and its scaling bounds);
        returns what the in-cluster objects need: the node group and every add-on."""
        tags, child = dict(args.tags), pulumi.ResourceOptions(parent=self)
        node_role = aws.iam.Role(f"{name}-node", assume_role_policy=iam.to_json(
            iam.service_trust_policy("ec2.amazonaws.com")), tags=tags, opts=child)
        attachments = [
            aws.iam.RolePolicyAttachment(f"{name}-node-{policy}", role=node_role.name,
                                         policy_arn=f"arn:{args.partition}:iam::aws:policy/{policy}", opts=child)
            for policy in NODE_POLICIES
        ]
        launch_template = aws.ec2.LaunchTemplate(f"{name}-nodes", **launch_template_spec(args.name, args.nodes, tags),
                                                 opts=child)

        base_addons = [self._addon(name, a, args, cluster, []) for a in ADDONS_BEFORE_NODES]
        # EKS Pod Identity associations give credentials through this agent (a DaemonSet): they depend on it.
        self.pod_identity_agent = base_addons[ADDONS_BEFORE_NODES.index("eks-pod-identity-agent")]
        self.node_group = self._node_group(name, args, cluster, node_role, launch_template,
                                           after=[*args.egress_ready, *attachments, *base_addons])
        after_nodes = [self._addon(name, a, args, cluster, [self.node_group]) for a in ADDONS_AFTER_NODES]
        self.node_scaling = node_scaling(f"{name}-node-scaling", NodeScalingArgs(
            cluster_name=self.cluster_name, region=args.region, name_prefix=args.nodes.name_prefix,
            min_size=args.nodes.min_size, max_size=args.nodes.max_size,
            replacing_inputs=[AMI_TYPES[args.nodes.architecture], args.nodes.capacity_type, args.name,
                              ",".join(args.nodes.instance_types), launch_template.id, args.nodes.name_prefix,
                              node_role.arn, *args.private_subnet_ids]),
            pulumi.ResourceOptions(parent=self, depends_on=[self.node_group]))
        self.node_role_arn, self.node_role_name, self.node_ready = node_role.arn, node_role.name, []
        return [self.node_group, *base_addons, *after_nodes]

    def _eks_cluster(self, name: str, args: ClusterArgs) -> eks.Cluster:
        """The control plane: secrets encrypted with its own KMS key, logs kept as long as asked, API access
        entries only, IRSA, no default node group nor unmanaged add-ons."""
        tags, child = dict(args.tags), pulumi.ResourceOptions(parent=self)
        key = aws.kms.Key(f"{name}-secrets", description=f"EKS secrets envelope encryption for {args.name}",
                          enable_key_rotation=True, deletion_window_in_days=30, tags=tags, opts=child)
        aws.kms.Alias(f"{name}-secrets", name=f"alias/{args.name}-eks-secrets", target_key_id=key.key_id, opts=child)
        # EKS would create this group with no expiry; create it first so the retention applies.
        log_group = aws.cloudwatch.LogGroup(f"{name}-control-plane", name=f"/aws/eks/{args.name}/cluster",
                                            retention_in_days=args.log_retention_days, tags=tags, opts=child)
        return eks.Cluster(
            f"{name}-eks",
            name=args.name,
            version=args.kubernetes_version,
            vpc_id=args.vpc_id,
            public_subnet_ids=list(args.public_subnet_ids),
            private_subnet_ids=list(args.private_subnet_ids),
            skip_default_node_group=True,
            # pulumi-eks's own node/cluster SGs serve self-managed nodes; managed nodes use the EKS cluster SG.
            skip_default_security_groups=True,
            node_associate_public_ip_address=False,
            authentication_mode=eks.AuthenticationMode.API,
            # The identity running the first `pulumi up` is admin already (an access entry EKS owns, outside the
            # state): listing it here too fails (one entry per principal). These are the other operators.
            access_entries=access_entries(args.admin_principal_arns, args.partition, args.viewer_principal_arns),
            create_oidc_provider=True,
            enabled_cluster_log_types=list(args.log_types),
            encryption_config_key_arn=key.arn,
            endpoint_private_access=True,
            endpoint_public_access=args.endpoint_public_access,
            public_access_cidrs=list(args.public_access_cidrs) if args.endpoint_public_access else None,
            # The add-ons are managed below, versioned per config, so EKS installs no unmanaged copies.
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=True,
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=False),
            auto_mode=auto_mode_options() if args.auto_mode else None,
            deletion_protection=args.deletion_protection,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group],
                                        transforms=[inherit_common_tags(tags),
                                                    keep_access_entries(f"{name}-eks", args.admin_principal_arns)]),
        )

    def _addon(self, name: str, addon_name: str, args: ClusterArgs, cluster: eks.Cluster,
               depends_on: Sequence[pulumi.Resource]) -> aws.eks.Addon:
        configuration = ADDON_CONFIGURATION.get(addon_name)
        return aws.eks.Addon(
            f"{name}-{addon_name}", cluster_name=self.cluster_name, addon_name=addon_name,
            addon_version=args.eks_addon_versions[addon_name], resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            configuration_values=json.dumps(configuration, sort_keys=True) if configuration else None,
            # Deleting the add-on object leaves its software running (as pulumi-eks does for its own):
            # networking and DNS never vanish under a cluster that is still in use.
            preserve=True, tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster, *depends_on]))

    def _node_group(self, name: str, args: ClusterArgs, cluster: eks.Cluster, node_role: aws.iam.Role,
                    launch_template: aws.ec2.LaunchTemplate,
                    after: Sequence[pulumi.Resource]) -> eks.ManagedNodeGroup:
        nodes, tags = args.nodes, dict(args.tags)
        single_type = single_instance_type(nodes.instance_types)
        return eks.ManagedNodeGroup(
            f"{name}-nodes",
            cluster=cluster,
            # A prefix, not a fixed name: changes EKS cannot apply in place (AMI type on an architecture switch,
            # several instance types) replace the group create-before-delete, which a fixed name would forbid.
            node_group_name_prefix=nodes.name_prefix,
            # Without this pulumi-eks leaves `version` unset when a launch template is given: nodes would never
            # follow a control plane upgrade.
            version=args.kubernetes_version,
            release_version=nodes.release_version,
            node_role_arn=node_role.arn,
            subnet_ids=list(args.private_subnet_ids),
            instance_types=None if single_type else list(nodes.instance_types),
            capacity_type=nodes.capacity_type,
            ami_type=AMI_TYPES[nodes.architecture],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=nodes.min_size, desired_size=nodes.desired_size, max_size=nodes.max_size),
            # The Cluster Autoscaler owns the desired size once running; `pulumi up` must not reset it. The whole
            # scalingConfig is ignored after creation: node_scaling applies min and max (infra/eks/scaling.py).
            ignore_scaling_changes=True,
            labels=dict(nodes.labels),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=launch_template.id, version=launch_template.latest_version.apply(str)),
            tags=tags,
            # Nodes in private subnets cannot join without egress through NAT, nor run pods without the CNI.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after),
                                        transforms=[node_group_update_config(nodes.max_unavailable),
                                                    inherit_common_tags(tags), scaling_config_ignored()]),
        )
