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


def alb_controller_policy(chart_version: str) -> Document:
    """The IAM policy AWS publishes for this controller version, kept verbatim in infra/data/."""
    return json.loads((DATA / f"aws-load-balancer-controller-{chart_version}-iam-policy.json").read_text())


# --- ECS -------------------------------------------------------------------------------------------------
def ecs_tasks_trust_policy(partition: str, region: str, account_id: str) -> Document:
    """ecs-tasks.amazonaws.com may assume the role only for tasks of this account and region (confused deputy)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:ecs:{region}:{account_id}:*"},
                "StringEquals": {"aws:SourceAccount": account_id},
            },
        }],
    }


def ecs_execution_policy(repository_arn: str, log_group_arn: str, secret_arns: list[str],
                         kms_key_arn: str | None) -> Document:
    """What the ECS agent needs to start the task: pull this repository's image, write to this log group, read
    exactly the configured secrets (and decrypt them with the configured key only). The ECR token call has no
    resource-level permissions, so it is the one `*`."""
    statements: list[Document] = [
        {"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "PullAppImage", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
         "Resource": repository_arn},
        {"Sid": "WriteAppLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group_arn}:*"},
    ]
    ssm = sorted(a for a in secret_arns if ":ssm:" in a)
    secrets_manager = sorted(a for a in secret_arns if ":secretsmanager:" in a)
    if ssm:
        statements.append({"Sid": "ReadParameters", "Effect": "Allow", "Action": "ssm:GetParameters",
                           "Resource": ssm})
    if secrets_manager:
        statements.append({"Sid": "ReadSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                           "Resource": secrets_manager})
    if kms_key_arn and secret_arns:
        statements.append({"Sid": "DecryptSecrets", "Effect": "Allow", "Action": "kms:Decrypt",
                           "Resource": kms_key_arn})
    return {"Version": "2012-10-17", "Statement": statements}


def ecs_exec_policy() -> Document:
    """ECS Exec: the task's SSM agent opens its channels (these actions have no resource-level permissions)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "EcsExecChannels", "Effect": "Allow",
            "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                       "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
            "Resource": "*",
        }],
    }
