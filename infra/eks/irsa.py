"""IRSA: an IAM role that exactly one Kubernetes service account of this cluster can assume."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import pulumi
import pulumi_aws as aws

from .. import iam

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


class IrsaRole(NamedTuple):
    role: aws.iam.Role
    policy: aws.iam.Policy
    attachment: aws.iam.RolePolicyAttachment

    @property
    def arn(self) -> pulumi.Output[str]:
        return self.role.arn

    @property
    def ready(self) -> list[pulumi.Resource]:
        """What a pod using the role must wait for: the role AND its permissions (else AccessDenied at start-up),
        and what must outlive it on `pulumi destroy`."""
        return [self.role, self.attachment]


def irsa_role(
    name: str,
    *,
    oidc_provider_arn: pulumi.Input[str],
    oidc_issuer: pulumi.Input[str],
    namespace: str,
    service_account: str,
    policy: pulumi.Input[str],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> IrsaRole:
    """Role trusted by the cluster's OIDC provider for `system:serviceaccount:<namespace>:<service_account>`
    (audience sts.amazonaws.com), with `policy` (a JSON document) attached as a managed policy."""
    opts = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-irsa",
        description=f"IRSA role of {namespace}/{service_account}",
        assume_role_policy=iam.json_output(
            lambda arn, issuer: iam.irsa_trust_policy(arn, issuer, namespace, service_account),
            oidc_provider_arn, oidc_issuer),
        max_session_duration=3600,
        tags=dict(tags),
        opts=opts,
    )
    managed = aws.iam.Policy(f"{name}-irsa", description=f"Permissions of {namespace}/{service_account}",
                             policy=policy, tags=dict(tags), opts=opts)
    attachment = aws.iam.RolePolicyAttachment(f"{name}-irsa", role=role.name, policy_arn=managed.arn, opts=opts)
    return IrsaRole(role=role, policy=managed, attachment=attachment)
