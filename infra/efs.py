"""An encrypted EFS file system reachable over NFS from one security group: what the ECS app's volume
(infra/ecs/efs.py) and the EKS EFS CSI driver (infra/eks/efs_csi.py) both stand on."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import pulumi
import pulumi_aws as aws

from . import iam
from .tags import named

NFS_PORT = 2049


class NfsFileSystem(NamedTuple):
    file_system: aws.efs.FileSystem
    security_group: aws.ec2.SecurityGroup
    mount_targets: list[aws.efs.MountTarget]


def nfs_file_system(owner: pulumi.Resource, name: str, *, policy: Callable[[str], dict[str, object]],
                    vpc_id: pulumi.Input[str], subnet_ids: Sequence[pulumi.Input[str]],
                    client_security_group_id: pulumi.Input[str], client: str, client_rule: str,
                    transition_to_ia: str | None, protect: bool, tags: Mapping[str, str]) -> NfsFileSystem:
    """The file system (encrypted at rest with the AWS-managed key, backed up, `policy(fs arn)` as its resource
    policy), a security group admitting NFS from `client_security_group_id` only, and a mount target per subnet,
    all children of `owner`."""
    tags, child = dict(tags), pulumi.ResourceOptions(parent=owner)
    fs = aws.efs.FileSystem(
        f"{name}-fs", encrypted=True, performance_mode="generalPurpose", throughput_mode="elastic",
        lifecycle_policies=[{"transition_to_ia": transition_to_ia}] if transition_to_ia else None,
        tags=named(tags, f"{name}-fs"), opts=pulumi.ResourceOptions(parent=owner, protect=protect))
    aws.efs.BackupPolicy(f"{name}-backup", file_system_id=fs.id, backup_policy={"status": "ENABLED"}, opts=child)
    aws.efs.FileSystemPolicy(f"{name}-policy", file_system_id=fs.id, policy=iam.json_output(policy, fs.arn),
                             opts=child)
    # No inline rules and no egress: NFS replies need none (security groups are stateful).
    sg = aws.ec2.SecurityGroup(f"{name}-sg", vpc_id=vpc_id, description=f"EFS {name}: NFS from {client} only",
                               tags=named(tags, f"{name}-efs"), opts=child)
    aws.vpc.SecurityGroupIngressRule(
        f"{name}-{client_rule}", security_group_id=sg.id, referenced_security_group_id=client_security_group_id,
        ip_protocol="tcp", from_port=NFS_PORT, to_port=NFS_PORT, description=f"NFS from {client}",
        tags=named(tags, f"{name}-{client_rule}"), opts=child)
    # One mount target per AZ: a replacement (another subnet of the same AZ) must delete the old one first.
    mounts = [aws.efs.MountTarget(f"{name}-mount-{i}", file_system_id=fs.id, subnet_id=subnet,
                                  security_groups=[sg.id],
                                  opts=pulumi.ResourceOptions(parent=owner, delete_before_replace=True))
              for i, subnet in enumerate(subnet_ids)]
    return NfsFileSystem(fs, sg, mounts)
