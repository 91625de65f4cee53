"""EFS for ECS tasks: an encrypted, backed-up file system reachable only from the task security group, mounted
through an access point that pins the app's POSIX user, with TLS and IAM authorisation on the task volume."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .. import iam
from ..efs import nfs_file_system
from ..tags import named

TYPE = "webstack:ecs:AppFileSystem"
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

        fs, sg, self.mount_targets = nfs_file_system(
            self, name, policy=iam.efs_file_system_policy, vpc_id=args.vpc_id, subnet_ids=args.subnet_ids,
            client_security_group_id=args.task_security_group_id, client="the app tasks",
            client_rule="nfs-from-tasks", transition_to_ia=args.transition_to_ia, protect=args.protect,
            tags=args.tags)

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
