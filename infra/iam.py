"""Every IAM document of the stack, built as data (dicts) and serialised in one place.

The functions take plain strings so they can be unit-tested and analysed (parliament) directly;
components call them inside `Output.apply`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi

DATA = Path(__file__).resolve().parent / "data"
Document = dict[str, Any]


def to_json(doc: Document) -> str:
    return json.dumps(doc, indent=2, sort_keys=True)


def json_output(build: Any, *args: Any) -> pulumi.Output[str]:
    """`build(*resolved args)` serialised, as an Output (args may be Outputs)."""
    return pulumi.Output.all(*args).apply(lambda resolved: to_json(build(*resolved)))


def service_trust_policy(service: str) -> Document:
    """Trust policy letting one AWS service principal assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def irsa_trust_policy(oidc_provider_arn: str, issuer: str, namespace: str, service_account: str) -> Document:
    """IRSA: only `system:serviceaccount:<ns>:<sa>` of this cluster, with the STS audience, may assume the role."""
    issuer = issuer.removeprefix("https://")
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                f"{issuer}:aud": "sts.amazonaws.com",
            }},
        }],
    }


def flow_logs_policy(log_group_arn: str) -> Document:
    """What the VPC flow logs service needs to write into its one log group."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        }],
    }


def external_dns_policy(zone_arn: str) -> Document:
    """ExternalDNS may change records only in this stack's zone; listing is account-wide by API design."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ChangeOwnZoneOnly", "Effect": "Allow", "Action": "route53:ChangeResourceRecordSets",
             "Resource": zone_arn},
            {"Sid": "ReadOwnZone", "Effect": "Allow",
             "Action": ["route53:ListResourceRecordSets", "route53:ListTagsForResource"], "Resource": zone_arn},
            {"Sid": "ListZones", "Effect": "Allow", "Action": "route53:ListHostedZones", "Resource": "*"},
        ],
    }


def alb_controller_policy(chart_version: str, partition: str = "aws") -> Document:
    """The IAM policy AWS publishes for this controller version, kept verbatim in infra/data/, with its
    `arn:aws:` resources moved to `partition` (AWS's China and GovCloud variants differ exactly so)."""
    doc = json.loads((DATA / f"aws-load-balancer-controller-{chart_version}-iam-policy.json").read_text())
    for statement in doc["Statement"]:
        resources = statement.get("Resource")
        if isinstance(resources, list):
            statement["Resource"] = [in_partition(r, partition) for r in resources]
        elif isinstance(resources, str):
            statement["Resource"] = in_partition(resources, partition)
    return doc


def in_partition(arn: str, partition: str) -> str:
    """`arn:aws:...` rewritten to `arn:<partition>:...`; anything else ("*") unchanged."""
    return f"arn:{partition}:{arn.removeprefix('arn:aws:')}" if arn.startswith("arn:aws:") else arn


def cluster_autoscaler_policy(oidc_provider_arn: str, region: str, cluster_name: str) -> Document:
    """Cluster Autoscaler (kubernetes/autoscaler cloudprovider/aws README, "Full ... Features Policy"), with the
    two scaling actions limited to Auto Scaling groups that carry this cluster's auto-discovery tag, which EKS
    puts on the groups of its managed node groups (`k8s.io/cluster-autoscaler/<cluster>` = owned)."""
    # arn:<partition>:iam::<account>:oidc-provider/...: the cluster's own account and partition.
    _, partition, _, _, account, _ = oidc_provider_arn.split(":", 5)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ScaleOwnNodeGroupsOnly", "Effect": "Allow",
             "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
             "Resource": f"arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/*",
             "Condition": {"StringEquals": {
                 f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned",
                 "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true"}}},
            {"Sid": "DescribeOwnNodeGroups", "Effect": "Allow", "Action": "eks:DescribeNodegroup",
             "Resource": f"arn:{partition}:eks:{region}:{account}:nodegroup/{cluster_name}/*/*"},
            # Describe/List calls have no resource-level permissions.
            {"Sid": "Discover", "Effect": "Allow", "Resource": "*", "Action": [
                "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements"]},
        ],
    }
