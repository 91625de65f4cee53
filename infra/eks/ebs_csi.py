"""EbsCsi: block volumes for the cluster's pods. The `aws-ebs-csi-driver` managed EKS add-on (its version in the
stack's lock, like the other add-ons), its AWS identity through `workload_identity` (AWS's managed policy
AmazonEBSCSIDriverPolicy) and the default StorageClass `gp3` (infra/eks/storage_class.py: encrypted,
WaitForFirstConsumer, expandable, reclaim policy from webstack:storageReclaimPolicy).

Installed under nodeProvisioner managed-nodegroup and karpenter only: EKS Auto Mode has its own EBS provisioner
(ebs.csi.eks.amazonaws.com) and declares the same class with `gp3_class_spec(provisioner=...)`.

Identity: the add-on's own `podIdentityAssociations` field is not used. The association is the module's separate
aws.eks.PodIdentityAssociation (one mechanism for every controller, created and switched in the order
infra/eks/identity.py documents); an IRSA role goes to the add-on's serviceAccountRoleArn. The add-on's service
account is `ebs-csi-controller-sa` in kube-system (EKS User Guide, "Use Kubernetes volume storage with Amazon EBS").
terraform-provider-aws eks/addon.go (the stored copy read for this change): the read fills pod_identity_association
from DescribeAddon's podIdentityAssociations, which lists the associations the add-on owns (not a separate one), and
an update sends that field only when it changed; serviceAccountRoleArn is sent when it changed, so switching to Pod
Identity clears it ("").

Deletion order (`pulumi destroy`, asserted in tests/eks/test_storage.py): the StorageClass before the add-on, the
add-on before the nodes its controller runs on (the node group, Karpenter's NodePool) and before its identity.
Volumes the driver created for claims are not Pulumi resources: with reclaim policy Retain they outlive the stack
(docs/nodes.md, "Storage"; `make down` lists them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .identity import IdentityContext, workload_identity
from .storage_class import EBS_CSI_PROVISIONER, IMMUTABLE_FIELDS, RECLAIM_POLICIES, gp3_class_spec

TYPE = "webstack:eks:EbsCsi"
ADDON = "aws-ebs-csi-driver"
NAMESPACE, SERVICE_ACCOUNT = "kube-system", "ebs-csi-controller-sa"
# AWS's managed policy for the driver (EKS User Guide; its document is AWS's to keep current with the driver).
MANAGED_POLICY = "service-role/AmazonEBSCSIDriverPolicy"


@dataclass(frozen=True, kw_only=True)
class EbsCsiArgs:
    addon_version: str
    reclaim_policy: str
    """Retain | Delete, the gp3 class's (webstack:storageReclaimPolicy)."""
    cluster_name: pulumi.Input[str]
    identity: IdentityContext
    nodes: Sequence[pulumi.Resource]
    """Where the driver's controller runs (the node group, Karpenter's capacity): the add-on is created after them
    (EKS waits for the add-on to be ACTIVE, which needs its pods scheduled) and deleted before them."""
    provider: k8s.Provider
    partition: str
    tags: Mapping[str, str]
    volume_tags: Mapping[str, str]
    """Tags for every volume the gp3 class makes (the stack's project and stack: `make down` finds them)."""

    def __post_init__(self) -> None:
        if self.reclaim_policy not in RECLAIM_POLICIES:
            raise ValueError(f"EbsCsiArgs.reclaim_policy={self.reclaim_policy!r}: one of {', '.join(RECLAIM_POLICIES)}")
        if not self.nodes:
            raise ValueError("EbsCsiArgs.nodes is empty: the add-on's controller needs nodes to run on")


class EbsCsi(pulumi.ComponentResource):
    addon: aws.eks.Addon
    storage_class: k8s.storage.v1.StorageClass

    def __init__(self, name: str, args: EbsCsiArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self.addon = csi_addon(name, ADDON, SERVICE_ACCOUNT, MANAGED_POLICY, args, parent=self)
        self.storage_class = storage_class(
            name, gp3_class_spec(provisioner=EBS_CSI_PROVISIONER, reclaim_policy=args.reclaim_policy,
                                 volume_tags=args.volume_tags),
            pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[self.addon]))
        self.register_outputs({"addon": self.addon.arn, "storage_class": self.storage_class.metadata.name})


class CsiDriverFields(Protocol):
    """What a CSI driver's add-on needs from its component's Args (EbsCsiArgs, EfsCsiArgs)."""

    addon_version: str
    cluster_name: pulumi.Input[str]
    identity: IdentityContext
    nodes: Sequence[pulumi.Resource]
    partition: str
    tags: Mapping[str, str]


def csi_addon(name: str, addon: str, service_account: str, managed_policy: str, args: CsiDriverFields, *,
              parent: pulumi.Resource) -> aws.eks.Addon:
    """A CSI driver's managed add-on and its controller's identity (`kube-system/<service_account>`, the AWS
    managed policy `managed_policy`): created after the nodes and the identity it needs, deleted before them."""
    identity = workload_identity(
        name, args.identity, namespace=NAMESPACE, service_account=service_account,
        managed_policy_arns=[f"arn:{args.partition}:iam::aws:policy/{managed_policy}"], parent=parent)
    return aws.eks.Addon(
        name, cluster_name=args.cluster_name, addon_name=addon, addon_version=args.addon_version,
        resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE",
        service_account_role_arn=identity.addon_role_arn,
        # Deleting the add-on removes the driver (nothing unmanaged keeps running); its classes go first.
        preserve=False, tags=dict(args.tags),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*args.nodes, *identity.ready]))


def class_urn(name: str) -> pulumi.Output[str]:
    """The URN of the gp3 class of the EbsCsi component `name` (its class has the component's name): what Auto
    Mode's class claims as an alias, so switching a stack to Auto Mode replaces the class (the provisioner is
    immutable), deleting first, under its fixed name. Pulumi matches an alias by URN whatever its parent or type
    (Alias docs: "the previous URN of the resource"), and the old component is then deleted with nothing in it."""
    return pulumi.create_urn(name, "kubernetes:storage.k8s.io/v1:StorageClass", parent=pulumi.create_urn(name, TYPE))


def storage_class(name: str, spec: Mapping[str, Any], opts: pulumi.ResourceOptions
                  ) -> k8s.storage.v1.StorageClass:
    """A StorageClass from a spec of infra/eks/storage_class.py. Every immutable field replaces it, deleting first
    (its name is fixed: claims name it)."""
    return k8s.storage.v1.StorageClass(
        name, metadata=spec["metadata"], provisioner=spec["provisioner"], parameters=spec["parameters"],
        reclaim_policy=spec["reclaimPolicy"], volume_binding_mode=spec["volumeBindingMode"],
        allow_volume_expansion=spec["allowVolumeExpansion"], mount_options=spec.get("mountOptions"),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            replace_on_changes=list(IMMUTABLE_FIELDS), delete_before_replace=True)))
