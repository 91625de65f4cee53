"""Ec2Capacity: optional EC2 capacity for the ECS cluster: launch template (ECS-optimized AL2023, IMDSv2, encrypted
gp3), instance role and profile, an Auto Scaling group in the private subnets and a capacity provider with managed
scaling, managed termination protection and managed draining."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import iam
from ..tags import named

TYPE = "webstack:ecs:Ec2Capacity"
# The AMI is the stack's lock's: `make bump` reads AWS's "recommended" ECS-optimized AL2023 parameter
# (tools/bump.py); read here on every run it would change the launch template, hence refresh every instance, on
# an unrelated deploy whenever AWS publishes a new AMI.
AMI_ID = re.compile(r"ami-[0-9a-f]{8,17}")
ECS_INSTANCE_POLICY = "arn:{partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"


# A capacity provider is tied to its Auto Scaling group for life: ECS refuses a second provider on the same group
# ("The specified Auto Scaling group ARN is already being used by another capacity provider") and may keep a
# deleted provider's name taken (containers-roadmap #632); a provider whose group is replaced is replaced with it
# (the group ARN forces it), and Pulumi creates the new one before deleting the old (terraform-provider-aws #14393,
# #11358: a fixed name then fails with "The specified capacity provider already exists"). So the name follows the
# group: the cluster's name and a digest of the group's ARN, new for every new group.
PROVIDER_SUFFIX = "-ec2-"
PROVIDER_DIGEST_LENGTH = 8


def provider_name(cluster_name: str, auto_scaling_group_arn: str) -> str:
    """The EC2 capacity provider's name for the group `auto_scaling_group_arn`: <cluster>-ec2-<8 hex digits>."""
    digest = hashlib.sha256(auto_scaling_group_arn.encode()).hexdigest()[:PROVIDER_DIGEST_LENGTH]
    return f"{cluster_name}{PROVIDER_SUFFIX}{digest}"


def user_data(cluster_name: str) -> str:
    """/etc/ecs/ecs.config: join this cluster; awsvpc tasks cannot reach the instance metadata service."""
    return "\n".join([
        "#!/bin/bash",
        "cat >> /etc/ecs/ecs.config <<'CONFIG'",
        f"ECS_CLUSTER={cluster_name}",
        "ECS_AWSVPC_BLOCK_IMDS=true",
        "ECS_ENABLE_TASK_IAM_ROLE=true",
        "ECS_CONTAINER_STOP_TIMEOUT=2m",
        "CONFIG",
        "",
    ])


def launch_template_spec(cluster_name: str, instance_type: str, disk_size_gb: int,
                         tags: Mapping[str, str]) -> dict[str, Any]:
    """The container instances' launch template, less the AMI, profile and security group: joins the cluster,
    IMDSv2 only with one hop (containers on the bridge network cannot reach the instance credentials), encrypted
    gp3 root volume, detailed monitoring."""
    return {
        "instance_type": instance_type,
        "user_data": base64.b64encode(user_data(cluster_name).encode()).decode(),
        "metadata_options": {"http_endpoint": "enabled", "http_tokens": "required",
                             "http_put_response_hop_limit": 1, "instance_metadata_tags": "disabled"},
        "block_device_mappings": [{"device_name": "/dev/xvda", "ebs": {
            "volume_size": disk_size_gb, "volume_type": "gp3", "encrypted": "true",
            "delete_on_termination": "true"}}],
        "monitoring": {"enabled": True},
        "update_default_version": True,
        "tag_specifications": [{"resource_type": t, "tags": named(dict(tags), f"{cluster_name}-ecs")}
                               for t in ("instance", "volume")],
        "tags": dict(tags),
    }


@dataclass(frozen=True, kw_only=True)
class Ec2CapacityArgs:
    cluster_name: str
    cluster: pulumi.Resource
    """The cluster the instances join: created before the group, deleted after it."""
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """The private subnets."""
    egress_ready: Sequence[pulumi.Resource]
    """The private subnets' default routes through NAT: an instance booting without them cannot reach the ECS
    endpoint, never registers, and managed scaling waits for it (the EKS node group waits the same way)."""
    instance_type: str
    architecture: str  # amd64 | arm64: the image's, hence the AMI's
    ami_id: str
    """The ECS-optimized AL2023 AMI for `architecture` in the stack's region: a new one (a commit of the lock)
    makes a new launch template version, which the instance refresh rolls out."""
    min_size: int
    max_size: int
    disk_size_gb: int
    target_capacity_percent: int
    partition: str
    provider_name: str | None = None
    """The capacity provider's name as deployed before names followed the group (`<cluster>-ec2`); None: derived
    from the group (`provider_name`)."""
    tags: Mapping[str, str]

    def __post_init__(self) -> None:
        if not AMI_ID.fullmatch(self.ami_id):
            raise ValueError(f"Ec2CapacityArgs.ami_id={self.ami_id!r}: an AMI id such as ami-0123456789abcdef0")


class Ec2Capacity(pulumi.ComponentResource):
    capacity_provider_name: pulumi.Output[str]
    auto_scaling_group_arn: pulumi.Output[str]
    instance_role_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: Ec2CapacityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        role, profile, sg = self._instance_identity(name, args)
        template = aws.ec2.LaunchTemplate(
            f"{name}-lt", image_id=args.ami_id, iam_instance_profile={"arn": profile.arn},
            vpc_security_group_ids=[sg.id],
            **launch_template_spec(args.cluster_name, args.instance_type, args.disk_size_gb, tags), opts=child)
        group = self._auto_scaling_group(name, args, template)
        provider = aws.ecs.CapacityProvider(
            f"{name}-provider",
            name=args.provider_name or group.arn.apply(lambda arn: provider_name(args.cluster_name, arn)),
            auto_scaling_group_provider={
                "auto_scaling_group_arn": group.arn,
                "managed_termination_protection": "ENABLED",
                "managed_draining": "ENABLED",
                "managed_scaling": {"status": "ENABLED", "target_capacity": args.target_capacity_percent,
                                    "minimum_scaling_step_size": 1, "maximum_scaling_step_size": 2,
                                    "instance_warmup_period": 300},
            },
            tags=tags, opts=child)

        self.capacity_provider_name = provider.name
        self.auto_scaling_group_arn = group.arn
        self.instance_role_arn = role.arn
        self.security_group_id = sg.id
        self.register_outputs({"capacity_provider_name": self.capacity_provider_name,
                               "auto_scaling_group_arn": self.auto_scaling_group_arn})

    def _instance_identity(self, name: str, args: Ec2CapacityArgs) -> tuple[aws.iam.Role, aws.iam.InstanceProfile,
                                                                            aws.ec2.SecurityGroup]:
        """The instances' role (the ECS agent's permissions), its profile, and their security group."""
        tags, child = dict(args.tags), pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(f"{name}-instance",
                            assume_role_policy=iam.to_json(iam.service_trust_policy("ec2.amazonaws.com")),
                            tags=tags, opts=child)
        aws.iam.RolePolicyAttachment(f"{name}-instance-ecs", role=role.name,
                                     policy_arn=ECS_INSTANCE_POLICY.format(partition=args.partition), opts=child)
        profile = aws.iam.InstanceProfile(f"{name}-instance", role=role.name, tags=tags, opts=child)
        # Tasks run in awsvpc mode with their own ENIs and security group: the instances take no inbound traffic.
        sg = aws.ec2.SecurityGroup(f"{name}-instances", vpc_id=args.vpc_id,
                                   description="ECS container instances: no inbound, outbound to AWS APIs",
                                   tags=named(tags, f"{name}-instances"), opts=child)
        aws.vpc.SecurityGroupEgressRule(f"{name}-instances-https", security_group_id=sg.id, ip_protocol="tcp",
                                        from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0",
                                        description="ECS agent, ECR, CloudWatch Logs, SSM", tags=tags, opts=child)
        return role, profile, sg

    def _auto_scaling_group(self, name: str, args: Ec2CapacityArgs,
                            template: aws.ec2.LaunchTemplate) -> aws.autoscaling.Group:
        tags = dict(args.tags)
        return aws.autoscaling.Group(
            f"{name}-asg",
            vpc_zone_identifiers=list(args.subnet_ids),
            min_size=args.min_size, max_size=args.max_size,
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            # Managed termination protection needs it: ECS decides which instances may be scaled in.
            protect_from_scale_in=True,
            # Scale-in protected instances would hold a plain delete forever; the service is gone by then.
            force_delete=True,
            health_check_type="EC2",
            # A new launch template version (a newer ECS-optimized AMI in the lock, another instance type) replaces the
            # instances: ECS drains each one (managed draining) while a new one is already up (max 200 %).
            instance_refresh={"strategy": "Rolling", "preferences": {
                "min_healthy_percentage": 100, "max_healthy_percentage": 200, "skip_matching": True,
                "scale_in_protected_instances": "Refresh", "instance_warmup": "120"}},
            tags=[{"key": k, "value": v, "propagate_at_launch": True}
                  for k, v in {**tags, "AmazonECSManaged": "true", "Name": f"{args.cluster_name}-ecs"}.items()],
            # The capacity provider's managed scaling owns the desired capacity.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCapacity"],
                                        depends_on=[args.cluster, *args.egress_ready]))
