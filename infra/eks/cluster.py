"""Cluster: EKS (pulumi-eks) with KMS secrets encryption, IRSA, access entries, control plane logs,
a private managed node group behind a hardened launch template, managed add-ons, and the
Kubernetes provider every in-cluster object must use."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from .. import iam
from ..config import ClusterConfig
from ..tags import named

TYPE = "webstack:cluster:Cluster"
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")
# Prefixed with `arn:<partition>:` of the stack's region.
CLUSTER_ADMIN_POLICY = "eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
AMI_TYPES = {"amd64": "AL2023_x86_64_STANDARD", "arm64": "AL2023_ARM_64_STANDARD"}
# Add-ons the nodes need before they can become Ready, and the one that needs Ready nodes.
ADDONS_BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
ADDONS_AFTER_NODES = ("coredns",)
# The VPC CNI enforces NetworkPolicies only when asked to (off by default).
ADDON_CONFIGURATION = {"vpc-cni": {"enableNetworkPolicy": "true"}}
NODE_GROUP_TYPE = "aws:eks/nodeGroup:NodeGroup"


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


@dataclass(frozen=True, kw_only=True)
class ClusterArgs:
    config: ClusterConfig
    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    egress_ready: Sequence[pulumi.Resource]
    """Resources (the private default routes through NAT) that must exist before nodes boot."""
    partition: str
    """The region's ARN partition (aws, aws-cn, aws-us-gov): AWS-managed policy ARNs live in it."""
    tags: Mapping[str, str]


class Cluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_provider_url: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    node_security_group_id: pulumi.Output[str]
    node_group: eks.ManagedNodeGroup
    provider: k8s.Provider

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        cfg, tags = args.config, dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)

        key = aws.kms.Key(f"{name}-secrets", description=f"EKS secrets envelope encryption for {cfg.name}",
                          enable_key_rotation=True, deletion_window_in_days=30, tags=tags, opts=child)
        aws.kms.Alias(f"{name}-secrets", name=f"alias/{cfg.name}-eks-secrets", target_key_id=key.key_id, opts=child)
        # EKS would create this group with no expiry; create it first so the retention applies.
        log_group = aws.cloudwatch.LogGroup(f"{name}-control-plane", name=f"/aws/eks/{cfg.name}/cluster",
                                            retention_in_days=cfg.log_retention_days, tags=tags, opts=child)

        # The identity running the first `pulumi up` is admin already (an access entry EKS owns, outside the state):
        # listing it here too fails (one entry per principal). These are the other operators.
        access_entries = {
            access_entry_key(arn): eks.AccessEntryArgs(
                principal_arn=arn,
                access_policies={"cluster-admin": eks.AccessPolicyAssociationArgs(
                    policy_arn=f"arn:{args.partition}:{CLUSTER_ADMIN_POLICY}",
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"))},
            )
            for arn in cfg.admin_principal_arns
        }
        cluster = eks.Cluster(
            f"{name}-eks",
            name=cfg.name,
            version=cfg.kubernetes_version,
            vpc_id=args.vpc_id,
            public_subnet_ids=list(args.public_subnet_ids),
            private_subnet_ids=list(args.private_subnet_ids),
            skip_default_node_group=True,
            # pulumi-eks's own node/cluster SGs serve self-managed nodes; managed nodes use the EKS cluster SG.
            skip_default_security_groups=True,
            node_associate_public_ip_address=False,
            authentication_mode=eks.AuthenticationMode.API,
            access_entries=access_entries,
            create_oidc_provider=True,
            enabled_cluster_log_types=list(cfg.log_types),
            encryption_config_key_arn=key.arn,
            endpoint_private_access=True,
            endpoint_public_access=cfg.endpoint_public_access,
            public_access_cidrs=list(cfg.public_access_cidrs) if cfg.endpoint_public_access else None,
            # The add-ons are managed below, versioned per config, so EKS installs no unmanaged copies.
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=True,
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=False),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group],
                                        transforms=[inherit_common_tags(tags),
                                                    keep_access_entries(f"{name}-eks", cfg.admin_principal_arns)]),
        )
        # Read from a cluster output, so whatever uses the name waits for the whole cluster component.
        self.cluster_name = cluster.oidc_provider_arn.apply(lambda _: cfg.name)

        node_role = aws.iam.Role(f"{name}-node", assume_role_policy=iam.to_json(
            iam.service_trust_policy("ec2.amazonaws.com")), tags=tags, opts=child)
        attachments = [
            aws.iam.RolePolicyAttachment(f"{name}-node-{policy}", role=node_role.name,
                                         policy_arn=f"arn:{args.partition}:iam::aws:policy/{policy}", opts=child)
            for policy in NODE_POLICIES
        ]
        # One instance type lives in the launch template: changing it makes a new template version, which EKS rolls
        # out in place (a node group's instanceTypes cannot change without replacing the group).
        single_type = cfg.node_instance_types[0] if len(cfg.node_instance_types) == 1 else None
        launch_template = aws.ec2.LaunchTemplate(
            f"{name}-nodes",
            description=f"Managed nodes of {cfg.name}: IMDSv2 only, encrypted gp3 root volume",
            instance_type=single_type,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required",
                # 1 hop: pods (one hop further) cannot reach the node's instance credentials.
                http_put_response_hop_limit=1, instance_metadata_tags="disabled"),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=cfg.node_disk_size_gb, volume_type="gp3", encrypted="true",
                    delete_on_termination="true"))],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind,
                                                           tags=named(tags, f"{cfg.name}-node"))
                for kind in ("instance", "volume", "network-interface")
            ],
            update_default_version=True,
            tags=tags,
            opts=child,
        )

        versions = dict(cfg.addon_versions)

        def addon(addon_name: str, depends_on: Sequence[pulumi.Resource]) -> aws.eks.Addon:
            version = versions.get(addon_name) or aws.eks.get_addon_version_output(
                addon_name=addon_name, kubernetes_version=cfg.kubernetes_version, most_recent=True,
                opts=pulumi.InvokeOutputOptions(parent=self)).version
            configuration = ADDON_CONFIGURATION.get(addon_name)
            return aws.eks.Addon(
                f"{name}-{addon_name}", cluster_name=self.cluster_name, addon_name=addon_name,
                addon_version=version, resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                configuration_values=json.dumps(configuration, sort_keys=True) if configuration else None,
                # Deleting the add-on object leaves its software running (as pulumi-eks does for its own):
                # networking and DNS never vanish under a cluster that is still in use.
                preserve=True, tags=tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster, *depends_on]))

        base_addons = [addon(a, []) for a in ADDONS_BEFORE_NODES]
        arch = cfg.node_architecture
        self.node_group = eks.ManagedNodeGroup(
            f"{name}-nodes",
            cluster=cluster,
            # A prefix, not a fixed name: changes EKS cannot apply in place (AMI type on an architecture switch,
            # several instance types) replace the group create-before-delete, which a fixed name would forbid.
            node_group_name_prefix=cfg.node_group_name_prefix,
            # Without this pulumi-eks leaves `version` unset when a launch template is given: nodes would never
            # follow a control plane upgrade.
            version=cfg.kubernetes_version,
            node_role_arn=node_role.arn,
            subnet_ids=list(args.private_subnet_ids),
            instance_types=None if single_type else list(cfg.node_instance_types),
            capacity_type=cfg.node_capacity_type,
            ami_type=AMI_TYPES[arch],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=cfg.node_min_size, desired_size=cfg.node_desired_size, max_size=cfg.node_max_size),
            # The Cluster Autoscaler owns the desired size once running; `pulumi up` must not reset it.
            ignore_scaling_changes=True,
            labels=dict(cfg.node_labels),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=launch_template.id, version=launch_template.latest_version.apply(str)),
            tags=tags,
            # Nodes in private subnets cannot join without egress through NAT, nor run pods without the CNI.
            opts=pulumi.ResourceOptions(parent=self,
                                        depends_on=[*args.egress_ready, *attachments, *base_addons],
                                        transforms=[node_group_update_config(cfg.node_max_unavailable),
                                                    inherit_common_tags(tags)]),
        )
        after_nodes = [addon(a, [self.node_group]) for a in ADDONS_AFTER_NODES]

        # Everything in the cluster uses this provider, so it is created after, and deleted before, the nodes,
        # their NAT egress and every add-on: in-cluster controllers still have DNS, networking and nodes while
        # they clean up (an Ingress's ALB) on `pulumi destroy`.
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=pulumi.Output.secret(cluster.kubeconfig_json), enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.node_group, *base_addons, *after_nodes]))

        self.endpoint = cluster.core.apply(lambda core: core.endpoint)
        self.kubeconfig = pulumi.Output.secret(cluster.kubeconfig_json)
        self.oidc_provider_arn = cluster.oidc_provider_arn
        self.oidc_provider_url = cluster.oidc_provider_url
        self.oidc_issuer = cluster.oidc_issuer
        self.node_role_arn = node_role.arn
        self.node_security_group_id = cluster.node_security_group_id
        self.register_outputs({
            "cluster_name": self.cluster_name, "endpoint": self.endpoint, "kubeconfig": self.kubeconfig,
            "oidc_provider_arn": self.oidc_provider_arn, "oidc_provider_url": self.oidc_provider_url,
            "node_role_arn": self.node_role_arn, "node_security_group_id": self.node_security_group_id,
        })
