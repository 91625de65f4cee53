"""AppFargateProfile: the app's pods on EKS Fargate (webstack:appOnFargate).

A Fargate profile selecting the app's namespace and the pod label FARGATE_LABEL, in the private subnets only
(Fargate accepts no others: "only private subnets with no direct route to an Internet Gateway are accepted", EKS
User Guide, "Define which Pods use AWS Fargate when launched"), with its pod execution role: trusted by
eks-fargate-pods.amazonaws.com for this cluster's profiles only, with the AWS managed policy
AmazonEKSFargatePodExecutionRolePolicy (ECR image pulls). No access entry is declared: "It's unnecessary to create
an access entry for an IAM role that's used for a managed node group or a Fargate profile. EKS will create access
entries (if enabled)" (EKS User Guide, "Create access entries"; the cluster uses authentication mode API), and a
second entry for the same principal would be refused (one access entry per IAM principal).

Over time:
- Pods match a profile when they are scheduled ("Pods must match a Fargate profile at the time that they're
  scheduled", "AWS Fargate considerations"): the app's Namespace, so its Deployment, is created after the profile
  and deleted before it (WebAppArgs.capacity); `pulumi destroy` deletes the app's pods before the profile.
- The label: the pod template carries it only while the app is on Fargate. Switching appOnFargate on creates the
  profile, then the template gains the label and the Deployment rolls (maxSurge 1, maxUnavailable 0) onto Fargate.
  Switching off removes the label first (the Deployment rolls back onto the nodes: the new pods match no profile)
  and deletes the profile at the end of `pulumi up`, once no pod uses it. A namespace-only selector would keep
  the new pods on Fargate until the profile is deleted, which stops every pod it runs at once ("Any Pods that are
  running using a Fargate profile are stopped and put into a pending state when the profile is deleted").
- "Fargate profiles can't be changed": every argument but tags forces a replacement (terraform-provider-aws
  internal/service/eks/fargate_profile.go: cluster_name, fargate_profile_name, pod_execution_role_arn, selector,
  subnet_ids are ForceNew). The name is left to Pulumi's auto-naming (pulumi-aws: AutoName("fargateProfileName")),
  so a replacement creates the new profile before deleting the old one: no name collision, and the pods the old
  one stops are rescheduled at once onto the new one (they match it) instead of waiting Pending while a
  delete-first replacement creates it (minutes). EKS serialises profile operations per cluster ("If any Fargate
  profiles in a cluster are in the DELETING status, you must wait..."): create-then-delete never overlaps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .. import iam

TYPE = "webstack:eks:AppFargateProfile"
# The pod label the profile selects, put on the app's pod template while appOnFargate is on (infra/eks/workload.py).
FARGATE_LABEL = ("webstack/compute", "fargate")


@dataclass(frozen=True, kw_only=True)
class AppFargateProfileArgs:
    cluster_name: pulumi.Input[str]
    """The cluster's name as an output of it (the profile waits for the whole cluster)."""
    cluster_arn: pulumi.Input[str]
    """arn:<partition>:eks:<region>:<account>:cluster/<name>: the pod execution role's trust follows it."""
    namespace: str
    private_subnet_ids: Sequence[pulumi.Input[str]]
    egress_ready: Sequence[pulumi.Resource]
    """The private subnets' default routes: Fargate pods pull their image through them (created before the
    profile, deleted after it)."""
    partition: str
    tags: Mapping[str, str]

    def __post_init__(self) -> None:
        if not self.private_subnet_ids:
            raise ValueError("AppFargateProfileArgs.private_subnet_ids is empty: Fargate pods run in private subnets")
        if not self.namespace:
            raise ValueError("AppFargateProfileArgs.namespace is empty: every Fargate selector names a namespace")


def pod_execution_trust(cluster_arn: str) -> iam.Document:
    """The trust for the cluster of this ARN (arn:<partition>:eks:<region>:<account>:cluster/<name>)."""
    _, partition, _, region, account, resource = cluster_arn.split(":", 5)
    return iam.fargate_pod_execution_trust_policy(partition, region, account, resource.removeprefix("cluster/"))


def selectors(namespace: str) -> list[dict[str, object]]:
    key, value = FARGATE_LABEL
    return [{"namespace": namespace, "labels": {key: value}}]


class AppFargateProfile(pulumi.ComponentResource):
    profile: aws.eks.FargateProfile
    pod_execution_role: aws.iam.Role

    def __init__(self, name: str, args: AppFargateProfileArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        child, tags = pulumi.ResourceOptions(parent=self), dict(args.tags)
        self.pod_execution_role = aws.iam.Role(
            f"{name}-pod-execution", description="Fargate pod execution role of the app's Fargate profile",
            assume_role_policy=iam.json_output(pod_execution_trust, args.cluster_arn), tags=tags, opts=child)
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-pod-execution", role=self.pod_execution_role.name,
            policy_arn=f"arn:{args.partition}:iam::aws:policy/{iam.FARGATE_POD_EXECUTION_POLICY}", opts=child)
        self.profile = aws.eks.FargateProfile(
            name, cluster_name=args.cluster_name, pod_execution_role_arn=self.pod_execution_role.arn,
            subnet_ids=list(args.private_subnet_ids), selectors=selectors(args.namespace), tags=tags,
            # The role's policy is attached before pods can pull their image with it, and detached after the
            # profile (so its pods) is gone. No fargate_profile_name: auto-named, create-before-delete.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment, *args.egress_ready]))
        self.register_outputs({"profile": self.profile.arn, "pod_execution_role": self.pod_execution_role.arn})
