"""EFS for ECS tasks: an encrypted, backed-up file system reachable only from the task security group, mounted
through an access point that pins the app's POSIX user, with TLS and IAM authorisation on the task volume."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .. import iam
from ..tags import named

TYPE = "webstack:ecs:AppFileSystem"
NFS_PORT = 2049
# Owner rwx, group rx: the app (uid/gid of the access point) writes, nobody else on the file system.
ROOT_DIRECTORY_PERMISSIONS = "0750"
# The EFS API's pattern for an access point path, less "/" itself (the app gets a directory of its own).
_ROOT_DIRECTORY = re.compile(r"^(/(?!\.)[^$#<>;`|&?{}^*/\n]+){1,4}$")
TRANSITIONS_TO_IA = frozenset({"AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS", "AFTER_60_DAYS",
                               "AFTER_90_DAYS", "AFTER_180_DAYS", "AFTER_270_DAYS", "AFTER_365_DAYS"})


@dataclass(frozen=True, kw_only=True)
class AppFileSystemArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]  # the private subnets: one mount target each (one per AZ)
    task_security_group_id: pulumi.Input[str]  # NFS 2049 admitted only from this group
    posix_uid: int  # the app's uid/gid (101 for the nginx image)
    posix_gid: int
    root_directory: str  # e.g. "/webapp"
    tags: Mapping[str, str]
    transition_to_ia: str | None = None  # e.g. "AFTER_30_DAYS"; None keeps every file in Standard
    # The file system holds the app's data: a replacement (e.g. another KMS key) or a destroy deletes it.
    # protect=True makes both stop until someone unprotects it on purpose (prod).
    protect: bool = False

    def __post_init__(self) -> None:
        problems = []
        if not self.subnet_ids:
            problems.append("subnet_ids is empty: tasks need a mount target in their AZ")
        for field in ("posix_uid", "posix_gid"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 4294967295:
                problems.append(f"{field}={value!r}: a POSIX id is an integer 0..4294967295")
        if self.posix_uid == 0:
            problems.append("posix_uid=0: the access point would make every client root on the file system")
        root = self.root_directory
        if not _ROOT_DIRECTORY.match(root) or len(root) > 100:
            problems.append(f"root_directory={root!r}: an absolute path below / of 1 to 4 levels, none starting "
                            "with a dot, without $#<>;`|&?{}^* (at most 100 characters)")
        if self.transition_to_ia is not None and self.transition_to_ia not in TRANSITIONS_TO_IA:
            allowed = ", ".join(sorted(TRANSITIONS_TO_IA))
            problems.append(f"transition_to_ia={self.transition_to_ia!r}: one of {allowed}")
        if problems:
            raise ValueError("AppFileSystemArgs: " + "; ".join(problems))


class AppFileSystem(pulumi.ComponentResource):
    file_system_id: pulumi.Output[str]
    file_system_arn: pulumi.Output[str]
    access_point_id: pulumi.Output[str]
    access_point_arn: pulumi.Output[str]
    mount_targets: list[aws.efs.MountTarget]  # the service depends on these: deleted after the service
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: AppFileSystemArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        fs = aws.efs.FileSystem(
            f"{name}-fs",
            encrypted=True,  # at rest, with the AWS-managed key (aws/elasticfilesystem)
            performance_mode="generalPurpose",
            throughput_mode="elastic",
            lifecycle_policies=[{"transition_to_ia": args.transition_to_ia}] if args.transition_to_ia else None,
            tags=named(tags, f"{name}-fs"),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.efs.BackupPolicy(f"{name}-backup", file_system_id=fs.id, backup_policy={"status": "ENABLED"},
                             opts=child)
        aws.efs.FileSystemPolicy(
            f"{name}-policy", file_system_id=fs.id,
            policy=iam.json_output(iam.efs_file_system_policy, fs.arn), opts=child)

        sg = self._mount_targets(name, args, fs)

        ap = aws.efs.AccessPoint(
            f"{name}-ap",
            file_system_id=fs.id,
            # every NFS operation through the access point runs as the app's user, whatever the client claims
            posix_user={"uid": args.posix_uid, "gid": args.posix_gid},
            # EFS creates the directory, owned by the app, on first mount: Fargate cannot chown it
            root_directory={"path": args.root_directory, "creation_info": {
                "owner_uid": args.posix_uid, "owner_gid": args.posix_gid,
                "permissions": ROOT_DIRECTORY_PERMISSIONS}},
            tags=named(tags, f"{name}-ap"),
            opts=child,
        )

        self.file_system_id = fs.id
        self.file_system_arn = fs.arn
        self.access_point_id = ap.id
        self.access_point_arn = ap.arn
        self.security_group_id = sg.id
        self.register_outputs({
            "file_system_id": fs.id, "file_system_arn": fs.arn, "access_point_id": ap.id,
            "access_point_arn": ap.arn, "security_group_id": sg.id,
            "mount_target_ids": [m.id for m in self.mount_targets],
        })

    def _mount_targets(self, name: str, args: AppFileSystemArgs, fs: aws.efs.FileSystem) -> aws.ec2.SecurityGroup:
        """A mount target per private subnet, in a security group admitting NFS from the app tasks only."""
        tags, child = dict(args.tags), pulumi.ResourceOptions(parent=self)
        # No inline rules and no egress: NFS replies need none (security groups are stateful).
        sg = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, description=f"EFS {name}: NFS from the app tasks only",
            tags=named(tags, f"{name}-efs"), opts=child)
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-nfs-from-tasks", security_group_id=sg.id,
            referenced_security_group_id=args.task_security_group_id,
            ip_protocol="tcp", from_port=NFS_PORT, to_port=NFS_PORT,
            description="NFS from the app tasks", tags=named(tags, f"{name}-nfs-from-tasks"), opts=child)
        self.mount_targets = [
            aws.efs.MountTarget(f"{name}-mount-{i}", file_system_id=fs.id, subnet_id=subnet_id,
                                security_groups=[sg.id], opts=child)
            for i, subnet_id in enumerate(args.subnet_ids)
        ]
        return sg

    def volume(self, name: str) -> aws.ecs.TaskDefinitionVolumeArgs:
        """The task definition volume: TLS in transit and IAM authorisation (required by the file system policy),
        through the access point (which sets the root directory, so none is given here)."""
        return aws.ecs.TaskDefinitionVolumeArgs(
            name=name,
            efs_volume_configuration=aws.ecs.TaskDefinitionVolumeEfsVolumeConfigurationArgs(
                file_system_id=self.file_system_id,
                transit_encryption="ENABLED",
                authorization_config=aws.ecs.TaskDefinitionVolumeEfsVolumeConfigurationAuthorizationConfigArgs(
                    access_point_id=self.access_point_id, iam="ENABLED"),
            ),
        )

    def client_policy(self, writable: bool = True) -> pulumi.Output[str]:
        """The task role's policy document (JSON): ClientMount (and ClientWrite) on this file system through
        its access point only."""
        return iam.json_output(lambda fs, ap: iam.efs_client_policy(fs, ap, writable),
                               self.file_system_arn, self.access_point_arn)
