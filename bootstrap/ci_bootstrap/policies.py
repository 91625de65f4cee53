"""Every IAM and KMS document of the bootstrap, as data (the webstack program keeps its own in infra/iam.py).

What the roles may do follows from what the webstack stack manages: `MANAGED_SERVICES` maps each pulumi-aws
module the stack's renders declare to the IAM service prefixes it calls (a test renders every example stack and
fails when a module is missing here). The preview role reads (the access levels List and Read of AWS's
service authorization reference, checked against parliament's copy); the deploy roles manage those services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OIDC_HOST = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"  # what aws-actions/configure-aws-credentials asks GitHub for
DNS_SUFFIX = {"aws-cn": "amazonaws.com.cn"}  # service endpoints outside China (GovCloud too) end amazonaws.com

# pulumi-aws module -> the IAM service prefixes its resources (and pulumi-eks's children) call.
MANAGED_SERVICES: dict[str, tuple[str, ...]] = {
    "acm": ("acm",),
    "appautoscaling": ("application-autoscaling", "cloudwatch"),  # target tracking creates CloudWatch alarms
    "autoscaling": ("autoscaling",),
    "cloudwatch": ("logs", "cloudwatch"),  # log groups and their resource policies; alarms and the dashboard
    "ec2": ("ec2",),
    "ecr": ("ecr",),
    "ecs": ("ecs",),
    "efs": ("elasticfilesystem",),
    "eks": ("eks",),
    "iam": ("iam",),
    "kms": ("kms",),
    "lb": ("elasticloadbalancing",),
    "route53": ("route53",),
    "scheduler": ("scheduler",),
    "sns": ("sns",),  # the alarm topic, its policy and e-mail subscriptions
    "vpc": ("ec2",),
    "wafv2": ("wafv2",),  # the web ACL, its logging and (ECS) its association with the ALB
}

# Read-only actions over the managed services: enough for `pulumi preview`'s data sources and for
# `pulumi preview --refresh` (which reads every resource). Every expansion is List or Read (tested).
PREVIEW_READ_ACTIONS = (
    "acm:DescribeCertificate", "acm:GetCertificate", "acm:ListCertificates", "acm:ListTagsForCertificate",
    "application-autoscaling:Describe*", "application-autoscaling:ListTagsForResource",
    "autoscaling:Describe*",
    "cloudwatch:DescribeAlarms", "cloudwatch:GetDashboard", "cloudwatch:ListTagsForResource",
    "ec2:Describe*",
    "ecr:DescribeImages", "ecr:DescribeRepositories", "ecr:GetAuthorizationToken", "ecr:GetLifecyclePolicy",
    "ecr:GetRepositoryPolicy", "ecr:ListImages", "ecr:ListTagsForResource",
    "ecs:Describe*", "ecs:List*",
    "eks:Describe*", "eks:List*",
    "elasticfilesystem:Describe*",
    "elasticloadbalancing:Describe*",
    "iam:GetInstanceProfile", "iam:GetOpenIDConnectProvider", "iam:GetPolicy", "iam:GetPolicyVersion",
    "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
    "iam:ListPolicyVersions", "iam:ListRolePolicies", "iam:ListRoleTags",
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListResourceTags",
    "logs:DescribeLogGroups", "logs:DescribeResourcePolicies", "logs:ListTagsForResource",
    "route53:GetHostedZone", "route53:ListHostedZones", "route53:ListHostedZonesByName",
    "route53:ListResourceRecordSets", "route53:ListTagsForResource", "route53:GetChange",
    "scheduler:GetSchedule", "scheduler:ListSchedules",
    "sns:GetSubscriptionAttributes", "sns:GetTopicAttributes", "sns:ListTagsForResource",
    "wafv2:GetLoggingConfiguration", "wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:ListTagsForResource",
)

# What a deploy creates, updates and deletes. IAM is listed action by action (roles, policies, instance profiles,
# OIDC providers: never users, groups or access keys); the rest is whole services the stack manages.
DEPLOY_SERVICE_ACTIONS = (
    "acm:*", "application-autoscaling:*", "autoscaling:*", "ec2:*", "ecr:*", "ecs:*", "eks:*",
    "elasticfilesystem:*", "elasticloadbalancing:*", "kms:*", "logs:*", "route53:*", "scheduler:*", "sns:*",
    "wafv2:*",
    "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms",
    "cloudwatch:GetDashboard", "cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards",
    "cloudwatch:ListTagsForResource", "cloudwatch:TagResource", "cloudwatch:UntagResource",
)
DEPLOY_IAM_ACTIONS = (
    # UpdateRoleDescription: terraform-provider-aws's resourceRoleUpdate calls it when a description changes.
    "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags",
    "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies",
    "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions",
    "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:TagPolicy", "iam:UntagPolicy",
    "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:GetInstanceProfile",
    "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile",
    "iam:UntagInstanceProfile",
    "iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:GetOpenIDConnectProvider",
    "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider",
    "iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider",
    "iam:RemoveClientIDFromOpenIDConnectProvider",
    "iam:CreateServiceLinkedRole",
)


def trust_policy(provider_arn: str, subjects: list[str]) -> dict[str, Any]:
    """Only GitHub's tokens for exactly these subjects and AWS's audience: StringEquals, never StringLike."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "GitHubActionsJobs",
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{OIDC_HOST}:aud": AUDIENCE,
                                       f"{OIDC_HOST}:sub": sorted(subjects)}},
    }]}


# What the versions role may do: exactly tools/bump.py's READ_ONLY_POLICY (a test compares them): the add-on
# versions EKS lists and AWS's public AMI parameters, which have no account in their ARN
# (arn:<partition>:ssm:<region>::parameter/aws/service/...); an account cannot create names under /aws/; and the
# static versions of the AWS managed WAF rule groups (an action with no resource type: `*` only).
VERSIONS_ACTIONS = ("eks:DescribeAddonVersions",)
VERSIONS_WAF_ACTION = "wafv2:ListAvailableManagedRuleGroupVersions"
VERSIONS_PARAMETER_ACTIONS = ("ssm:GetParameters", "ssm:GetParameter")
VERSIONS_PARAMETER_PATHS = ("parameter/aws/service/eks/optimized-ami/*", "parameter/aws/service/ecs/optimized-ami/*")

# The services the stack's resources hand a role to (iam:PassRole): the EKS cluster and node roles and add-on
# service-account roles (eks), instance profiles of launch templates (ec2), ECS task and execution roles
# (ecs-tasks), the scale-in schedules' role (scheduler), the VPC flow log's role (vpc-flow-logs), the controllers'
# EKS Pod Identity roles (pods.eks; which of eks/pods.eks CreatePodIdentityAssociation names is not verified: both
# are allowed), ECS blue/green's infrastructure role for load balancers (ecs: CreateService/UpdateService name it in
# loadBalancers[].advancedConfiguration.roleArn), the app's Fargate pod execution role (CreateFargateProfile's
# podExecutionRoleArn; the role trusts eks-fargate-pods.amazonaws.com, and which of eks/eks-fargate-pods the
# iam:PassedToService check names is not documented (EKS User Guide "Amazon EKS Pod execution IAM role" asks for
# PassRole, no service): both are allowed, eks.amazonaws.com already is for the cluster and node roles).
PASSED_TO_SERVICES = ("eks.amazonaws.com", "ec2.amazonaws.com", "ecs-tasks.amazonaws.com",
                      "scheduler.amazonaws.com", "vpc-flow-logs.amazonaws.com", "pods.eks.amazonaws.com",
                      "ecs.amazonaws.com", "eks-fargate-pods.amazonaws.com")
# What a deploy must never do to the state key: it would lose or lock away every stack's state.
KMS_KEY_ADMIN_ACTIONS = (
    "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:CreateGrant", "kms:RevokeGrant",
    "kms:RetireGrant", "kms:DisableKeyRotation", "kms:UpdateKeyDescription", "kms:UpdateAlias", "kms:DeleteAlias",
    "kms:TagResource", "kms:UntagResource", "kms:UpdatePrimaryRegion", "kms:ReplicateKey",
    "kms:DeleteImportedKeyMaterial", "kms:ImportKeyMaterial",
)


@dataclass(frozen=True, kw_only=True)
class StateScope:
    """Which objects of the state bucket a role reads: the DIY backend keeps `.pulumi/meta.yaml` (the layout
    version), each stack at `.pulumi/stacks/<project>/<stack>.json[.gz|.zst]` and, during an update, its journal
    under `.pulumi/journal/<project>/<stack>/` (pulumi/pulumi pkg/backend/diy/store.go)."""

    project: str
    stacks: tuple[str, ...]


def state_object_arns(bucket_arn: str, scope: StateScope) -> list[str]:
    return [f"{bucket_arn}/.pulumi/meta.yaml",
            *(f"{bucket_arn}/.pulumi/stacks/{scope.project}/{stack}.json*" for stack in scope.stacks),
            *(f"{bucket_arn}/.pulumi/journal/{scope.project}/{stack}/*" for stack in scope.stacks)]


def state_read_statements(bucket_arn: str | None, scope: StateScope) -> list[dict[str, Any]]:
    """ListBucket (the backend lists `.pulumi/stacks/`) and GetObject of the scope's stacks only: a preview of
    dev never reads prod's state (its outputs, its encrypted secrets)."""
    if bucket_arn is None:
        return []  # Pulumi Cloud keeps the state
    return [{"Sid": "ListState", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
            {"Sid": "ReadState", "Effect": "Allow", "Action": "s3:GetObject",
             "Resource": state_object_arns(bucket_arn, scope)}]


def preview_policy(bucket_arn: str | None, scope: StateScope) -> dict[str, Any]:
    """`pulumi preview` reads the state of the stacks it previews (the DIY backend takes no lock for a preview)
    and the cloud. No SSM: the program resolves no parameter at deploy time (the AMIs are in the version locks),
    and ssm:GetParameter on `*` would read every SecureString of the account."""
    return {"Version": "2012-10-17", "Statement": [
        *state_read_statements(bucket_arn, scope),
        {"Sid": "ReadManagedServices", "Effect": "Allow", "Action": list(PREVIEW_READ_ACTIONS), "Resource": "*"},
    ]}


def versions_policy(partition: str) -> dict[str, Any]:
    """The weekly `make bump` (bump.yml, environment `versions`): tools/bump.py's READ_ONLY_POLICY."""
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": VERSIONS_ACTIONS[0], "Resource": "*"},
        {"Effect": "Allow", "Action": list(VERSIONS_PARAMETER_ACTIONS),
         "Resource": [f"arn:{partition}:ssm:*:*:{path}" for path in VERSIONS_PARAMETER_PATHS]},
        {"Effect": "Allow", "Action": VERSIONS_WAF_ACTION, "Resource": "*"}]}


def deploy_policy(bucket_arn: str | None, protected_arns: list[str]) -> dict[str, Any]:
    """`pulumi up`: the managed services, the state (objects and the DIY backend's lock files under .pulumi/),
    and never the CI identities themselves (a deploy must not widen its own trust or policy), the state key's
    administration (denied in the key's own policy, `key_policy`), or a role handed to a service the stack does
    not pass roles to."""
    state = [] if bucket_arn is None else [
        {"Sid": "ListState", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
        {"Sid": "WriteState", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": f"{bucket_arn}/*"}]
    return {"Version": "2012-10-17", "Statement": [
        *state,
        {"Sid": "ManageStackServices", "Effect": "Allow", "Action": list(DEPLOY_SERVICE_ACTIONS), "Resource": "*"},
        {"Sid": "ManageStackIam", "Effect": "Allow", "Action": list(DEPLOY_IAM_ACTIONS), "Resource": "*"},
        {"Sid": "PassRolesToTheStacksServices", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
         "Condition": {"StringEquals": {"iam:PassedToService": list(PASSED_TO_SERVICES)}}},
        {"Sid": "NeverTheCiIdentities", "Effect": "Deny", "Action": "iam:*", "Resource": sorted(protected_arns)},
    ]}


def bucket_policy(bucket_arn: str) -> dict[str, Any]:
    """TLS only: every request over plain HTTP is refused, whoever sends it."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]}


def key_policy(partition: str, account: str, region: str, bucket_arn: str,
               preview_role_arn: str | None, deploy_role_arns: list[str] | None = None) -> dict[str, Any]:
    """The state key: the account administers it through IAM (the deploy roles' `kms:*` comes from there); the
    preview role may only decrypt, only through S3, only objects of the state bucket. That grant lives here, in
    the key's resource policy, so the preview role's own policy keeps no action AWS classes as Write."""
    statements: list[dict[str, Any]] = [{
        "Sid": "AccountAdministersThroughIam", "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"}, "Action": "kms:*", "Resource": "*",
    }]
    if preview_role_arn is not None:
        via_s3 = f"s3.{region}.{DNS_SUFFIX.get(partition, 'amazonaws.com')}"
        statements.append({
            "Sid": "PreviewReadsStateThroughS3", "Effect": "Allow", "Principal": {"AWS": preview_role_arn},
            "Action": "kms:Decrypt", "Resource": "*",
            # With S3 Bucket Keys on, the encryption context S3 sends is the bucket's ARN (S3 user guide,
            # "Changes to note before enabling an S3 Bucket Key").
            "Condition": {"StringEquals": {"kms:ViaService": via_s3,
                                           "kms:EncryptionContext:aws:s3:arn": bucket_arn}},
        })
    if deploy_role_arns:
        # The deploy roles' kms:* (for the stack's own keys) must not reach this key's administration: an
        # explicit deny here wins over the account's IAM grant above (KMS key policy evaluation).
        statements.append({
            "Sid": "DeployRolesNeverAdministerTheStateKey", "Effect": "Deny",
            "Principal": {"AWS": sorted(deploy_role_arns)}, "Action": list(KMS_KEY_ADMIN_ACTIONS), "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}
