"""The one way an in-cluster controller gets an AWS identity: `workload_identity(...)`, for every add-on that calls
AWS (LB controller, ExternalDNS, Cluster Autoscaler, the CSI drivers; Karpenter likewise).

`webstack:workloadIdentity` picks the mechanism for all of them:
- `pod-identity`: a role trusted by `pods.eks.amazonaws.com` for exactly this cluster, namespace and service account
  (session-tag conditions), and an EKS Pod Identity association binding the service account to it. Nothing on the
  service account; the EKS Pod Identity webhook gives new pods credentials through the agent add-on.
- `irsa`: a role trusted by the cluster's OIDC provider for `system:serviceaccount:<ns>:<sa>`, named on the service
  account (`eks.amazonaws.com/role-arn`, or the managed add-on's serviceAccountRoleArn).

The permissions are the same resource in both modes (an IAM policy, aliased from its IRSA-era name, and/or AWS
managed policies): switching modes never replaces them. What a switch replaces, and in which order
(docs/operations.md, "Switching workloadIdentity"):
1. the new mode's role, attachments, association (and the wait for it to propagate) are created;
2. the controller's release or add-on is updated after them (`ready`): its service account loses or gains the role
   annotation, and the pod annotation `webstack/aws-identity` changes, so its pods roll and start with the new
   credentials (the Helm release waits for the rollout);
3. the old mode's role and attachments are deleted at the end of `pulumi up` (Pulumi deletes what left the program
   after every create and update), after the old pods are gone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import pulumi
import pulumi_aws as aws
import pulumi_command as command

from .. import iam

POD_IDENTITY, IRSA = "pod-identity", "irsa"
MODES = (POD_IDENTITY, IRSA)
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
# On the pod template: its value changes with the mode, so a switch rolls the controller's pods (the webhooks that
# inject credentials act on pod creation only).
IDENTITY_POD_ANNOTATION = "webstack/aws-identity"
# EKS Pod Identity associations "are eventually consistent, and may take several seconds to be effective after the
# initial API call returns" (EKS API Reference, CreatePodIdentityAssociation). A pod created before the webhook sees
# the association starts without credentials and keeps none until restarted: controllers wait this long first.
ASSOCIATION_SETTLE_SECONDS = 15


class IdentityAnnotations(NamedTuple):
    """What a controller's chart values carry for its identity."""

    service_account: dict[str, pulumi.Input[str]]
    """The IRSA role annotation, or nothing (Pod Identity needs none)."""
    pod: dict[str, str]
    """The mode, on the pod template: a switch changes it, so the pods roll and get the new credentials."""


def identity_annotations(mode: str, role_arn: pulumi.Input[str]) -> IdentityAnnotations:
    return IdentityAnnotations(service_account={IRSA_ANNOTATION: role_arn} if mode == IRSA else {},
                               pod={IDENTITY_POD_ANNOTATION: mode})


@dataclass(frozen=True, kw_only=True)
class IdentityContext:
    """What every identity of one cluster shares: the mode and the cluster it trusts."""

    mode: str
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    pod_identity_agent: pulumi.Resource | None
    """The eks-pod-identity-agent add-on: every association is created after it (and deleted before it); the
    controllers' pods also wait for it through the Kubernetes provider. Required for pod-identity."""
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"IdentityContext.mode={self.mode!r}: one of {', '.join(MODES)}")
        if self.mode == POD_IDENTITY and self.pod_identity_agent is None:
            raise ValueError("IdentityContext.pod_identity_agent is None: pod-identity needs the agent add-on")


@dataclass(frozen=True)
class WorkloadIdentity:
    """One controller's identity: its role and what makes it usable."""

    mode: str
    role: aws.iam.Role
    attachments: Sequence[aws.iam.RolePolicyAttachment]
    policy: aws.iam.Policy | None
    association: aws.eks.PodIdentityAssociation | None
    settled: command.local.Command | None

    @property
    def arn(self) -> pulumi.Output[str]:
        return self.role.arn

    @property
    def ready(self) -> list[pulumi.Resource]:
        """What the controller's pods must wait for (else they start without credentials, or AccessDenied), and
        what must outlive them on `pulumi destroy`: the role, its permissions, and in pod-identity mode the
        association and its propagation wait."""
        extra = [r for r in (self.association, self.settled) if r is not None]
        return [self.role, *self.attachments, *extra]

    @property
    def annotations(self) -> IdentityAnnotations:
        """For the controller's chart values: its service account's and its pods' annotations."""
        return identity_annotations(self.mode, self.role.arn)

    @property
    def addon_role_arn(self) -> pulumi.Output[str] | None:
        """For a managed EKS add-on's serviceAccountRoleArn: the IRSA role, or None (its association does it)."""
        return self.role.arn if self.mode == IRSA else None


def cluster_arn(partition: str, region: str, oidc_provider_arn: pulumi.Input[str],
                cluster_name: pulumi.Input[str]) -> pulumi.Output[str]:
    """The EKS cluster's ARN, in the account of its OIDC provider (arn:<partition>:iam::<account>:oidc-provider/...)."""
    return pulumi.Output.all(oidc_provider_arn, cluster_name).apply(
        lambda v: f"arn:{partition}:eks:{region}:{v[0].split(':')[4]}:cluster/{v[1]}")


def workload_identity(name: str, ctx: IdentityContext, *, namespace: str, service_account: str,
                      policy: pulumi.Input[str] | None = None, managed_policy_arns: Sequence[str] = (),
                      parent: pulumi.Resource) -> WorkloadIdentity:
    """The identity of `<namespace>/<service_account>`: `policy` (a JSON document, as a managed policy of its own)
    and/or AWS managed policies (full ARNs), on a role of `ctx.mode`. Resources are named `<name>-<mode suffix>`;
    the policy `<name>` (aliased from `<name>-irsa`, its name before pod-identity existed)."""
    if policy is None and not managed_policy_arns:
        raise ValueError(f"workload_identity({name!r}): give a policy document or managed policy ARNs")
    opts = pulumi.ResourceOptions(parent=parent)
    tags = dict(ctx.tags)
    managed = None
    if policy is not None:
        managed = aws.iam.Policy(
            name, description=f"Permissions of {namespace}/{service_account}", policy=policy, tags=tags,
            opts=pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(name=f"{name}-irsa")]))
    suffix = "irsa" if ctx.mode == IRSA else "pod-identity"
    kind = "IRSA" if ctx.mode == IRSA else "Pod Identity"  # the IRSA text is the one deployed roles have
    role = aws.iam.Role(f"{name}-{suffix}", description=f"{kind} role of {namespace}/{service_account}",
                        assume_role_policy=_trust(ctx, namespace, service_account), max_session_duration=3600,
                        tags=tags, opts=opts)
    arns: list[pulumi.Input[str]] = [*([managed.arn] if managed else []), *managed_policy_arns]
    # The first attachment keeps the name it always had (`<name>-<suffix>`); AWS managed ones are named after theirs.
    attachments = [aws.iam.RolePolicyAttachment(
        f"{name}-{suffix}" if i == 0 else f"{name}-{suffix}-{str(arn).rsplit('/', 1)[-1]}",
        role=role.name, policy_arn=arn, opts=opts) for i, arn in enumerate(arns)]
    association = settled = None
    if ctx.mode == POD_IDENTITY:
        association = aws.eks.PodIdentityAssociation(
            name, cluster_name=ctx.cluster_name, namespace=namespace, service_account=service_account,
            role_arn=role.arn, tags=tags,
            # One association per service account: a replacement (another namespace, service account or
            # cluster) must delete the old one first. The role itself changes in place.
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[*attachments, ctx.pod_identity_agent],
                                      delete_before_replace=True))
        settled = command.local.Command(
            f"{name}-pod-identity-settle", create=f"sleep {ASSOCIATION_SETTLE_SECONDS}",
            triggers=[association.id], opts=pulumi.ResourceOptions(parent=parent, depends_on=[association]))
    return WorkloadIdentity(ctx.mode, role, attachments, managed, association, settled)


def _trust(ctx: IdentityContext, namespace: str, service_account: str) -> pulumi.Output[str]:
    if ctx.mode == IRSA:
        return iam.json_output(lambda arn, issuer: iam.irsa_trust_policy(arn, issuer, namespace, service_account),
                               ctx.oidc_provider_arn, ctx.oidc_issuer)
    return iam.json_output(lambda arn: iam.pod_identity_trust_policy(arn, namespace, service_account),
                           ctx.cluster_arn)
