"""EfsCsi (webstack:efsCsiEnabled): shared file storage for the cluster's pods, Fargate pods included.

- the `aws-efs-csi-driver` managed EKS add-on (version in the stack's lock), its identity through
  `workload_identity` (AWS's managed policy AmazonEFSCSIDriverPolicy; service account `efs-csi-controller-sa` in
  kube-system, EKS User Guide "Use elastic file system storage with Amazon EFS"); as for EBS, the association is
  the module's own resource, not the add-on's podIdentityAssociations field;
- an EFS file system hardened like the ECS one: encrypted at rest (the AWS managed key), backed up, a resource
  policy refusing every request without TLS and allowing mounts (never root) only through a mount target;
- a mount target in every private subnet (one per AZ), in a security group admitting NFS (2049/tcp) from the EKS
  cluster security group only: the managed node group's and Karpenter's nodes are in it (infra/eks/cluster.py) and
  EKS gives it to Fargate pods;
- the StorageClass `efs` (dynamic provisioning: an access point per claim, TLS mount option; EC2 nodes only);
- an access point of the stack and its PersistentVolume `efs-shared` (static provisioning, storageClassName
  `efs-static`, Retain): what Fargate pods can mount, as "Fargate pods support static provisioning only" (EKS User
  Guide, Amazon EFS CSI driver considerations: dynamic provisioning is not supported on Fargate).

Deletion order (asserted in tests/eks/test_storage.py): the StorageClass and PersistentVolume before the add-on and
the mount targets; the add-on before the nodes; each mount target before its security group and subnet (it names
them), the file system after its mount targets and access point (they name it). AWS refuses to delete a file system
that still has mount targets; the provider waits for each mount target to be deleted (terraform-provider-aws
efs/mount_target.go waits until the target is gone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .. import iam
from ..efs import nfs_file_system
from ..tags import named
from .ebs_csi import csi_addon, storage_class
from .identity import IdentityContext
from .storage_class import EFS_CSI_PROVISIONER, RECLAIM_POLICIES, efs_class_spec

TYPE = "webstack:eks:EfsCsi"
ADDON = "aws-efs-csi-driver"
SERVICE_ACCOUNT = "efs-csi-controller-sa"  # in kube-system
MANAGED_POLICY = "service-role/AmazonEFSCSIDriverPolicy"
SHARED_VOLUME, STATIC_CLASS = "efs-shared", "efs-static"
# Owner rwx, group rx: the app's user writes its directory, nobody else on the file system.
SHARED_DIRECTORY_PERMISSIONS = "0750"


@dataclass(frozen=True, kw_only=True)
class EfsCsiArgs:
    addon_version: str
    reclaim_policy: str
    """Retain | Delete: the `efs` class's (what happens to a claim's access point and directory)."""
    cluster_name: pulumi.Input[str]
    identity: IdentityContext
    nodes: Sequence[pulumi.Resource]
    """Where the driver's controller runs: the add-on is created after and deleted before them."""
    provider: k8s.Provider
    vpc_id: pulumi.Input[str]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    cluster_security_group_id: pulumi.Input[str]
    shared_posix_id: int
    """uid and gid of the shared access point (the app's user)."""
    shared_directory: str
    protect: bool
    """webstack:deletionProtection: `pulumi destroy` (or turning EFS off) stops at the file system."""
    partition: str
    tags: Mapping[str, str]

    def __post_init__(self) -> None:
        problems = []
        if self.reclaim_policy not in RECLAIM_POLICIES:
            problems.append(f"reclaim_policy={self.reclaim_policy!r}: one of {', '.join(RECLAIM_POLICIES)}")
        if not self.private_subnet_ids:
            problems.append("private_subnet_ids is empty: pods need a mount target in their AZ")
        if not 0 < self.shared_posix_id <= 4294967295:
            problems.append(f"shared_posix_id={self.shared_posix_id}: 1 to 4294967295 (not root)")
        if not self.nodes:
            problems.append("nodes is empty: the add-on's controller needs nodes to run on")
        if problems:
            raise ValueError("EfsCsiArgs: " + "; ".join(problems))


class EfsCsi(pulumi.ComponentResource):
    addon: aws.eks.Addon
    file_system: aws.efs.FileSystem
    security_group: aws.ec2.SecurityGroup
    mount_targets: list[aws.efs.MountTarget]
    access_point: aws.efs.AccessPoint
    storage_class: k8s.storage.v1.StorageClass
    shared_volume: k8s.core.v1.PersistentVolume

    def __init__(self, name: str, args: EfsCsiArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self._file_system(name, args)
        self.addon = csi_addon(name, ADDON, SERVICE_ACCOUNT, MANAGED_POLICY, args, parent=self)
        # Mountable only once the driver runs and a mount target answers in every AZ.
        reachable: list[pulumi.Resource] = [self.addon, *self.mount_targets]
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=reachable)
        self.storage_class = storage_class(
            name, efs_class_spec(file_system_id=self.file_system.id, reclaim_policy=args.reclaim_policy), k8s_opts)
        self.access_point = aws.efs.AccessPoint(
            f"{name}-shared", file_system_id=self.file_system.id,
            # Every NFS operation through it runs as the app's user, whatever the client claims.
            posix_user={"uid": args.shared_posix_id, "gid": args.shared_posix_id},
            root_directory={"path": args.shared_directory, "creation_info": {
                "owner_uid": args.shared_posix_id, "owner_gid": args.shared_posix_id,
                "permissions": SHARED_DIRECTORY_PERMISSIONS}},
            tags=named(dict(args.tags), f"{name}-shared"), opts=pulumi.ResourceOptions(parent=self))
        self.shared_volume = k8s.core.v1.PersistentVolume(
            f"{name}-shared", metadata={"name": SHARED_VOLUME, "labels": {"app.kubernetes.io/managed-by": "pulumi"}},
            spec=shared_volume_spec(pulumi.Output.concat(self.file_system.id, "::", self.access_point.id)),
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.access_point])))
        self.register_outputs({"addon": self.addon.arn, "file_system_id": self.file_system.id,
                               "access_point_id": self.access_point.id})

    def _file_system(self, name: str, args: EfsCsiArgs) -> None:
        self.file_system, self.security_group, self.mount_targets = nfs_file_system(
            self, name, policy=iam.efs_csi_file_system_policy, vpc_id=args.vpc_id,
            subnet_ids=args.private_subnet_ids, client_security_group_id=args.cluster_security_group_id,
            client="the EKS cluster security group (nodes and Fargate pods)", client_rule="nfs",
            transition_to_ia=None, protect=args.protect, tags=args.tags)

def shared_volume_spec(volume_handle: pulumi.Input[str]) -> dict[str, object]:
    """The static volume on the stack's access point (`<fs id>::<access point id>`): never deleted with a claim
    (Retain), TLS in transit (the file system policy requires it): the driver mounts every access point handle with
    `tls` and encryptInTransit defaults to true (pkg/driver/node.go; the `tls` mount option is deprecated there).
    No volumeAttributes: a PersistentVolume's source (spec.csi) is immutable, so adding them would replace this
    bound volume on deployed stacks (its deletion waits for the claim to go). A claim binds to it by
    storageClassName `efs-static` (no such StorageClass object: static only)."""
    return {"capacity": {"storage": "5Gi"},  # required by the API; EFS ignores it
            "volumeMode": "Filesystem", "accessModes": ["ReadWriteMany"],
            "persistentVolumeReclaimPolicy": "Retain", "storageClassName": STATIC_CLASS,
            "csi": {"driver": EFS_CSI_PROVISIONER, "volumeHandle": volume_handle}}
