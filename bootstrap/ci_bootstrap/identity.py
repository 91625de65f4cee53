"""GitHub Actions' identities in the account: the OIDC provider and one role per job identity of the workflows
(`workflows.job_identities`): a read-only preview role trusted only for this repository's pull requests, and one
deploy role per environment trusted only for `environment:<name>` of this repository."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from . import policies

TYPE = "webstack-bootstrap:identity:GithubCi"
# 4 h, what a Kubernetes version upgrade (control plane, then each node group's rolling replacement) or a first
# certificate validation can take in one `pulumi up`; the workflows' `role-duration-seconds` ask for it and IAM
# refuses a session longer than the role's maximum (12 h at most).
MAX_SESSION_SECONDS = 4 * 3600


@dataclass(frozen=True, kw_only=True)
class RoleSpec:
    role_name: str
    subjects: Sequence[str]
    """Exact `sub` claims the role trusts (one: a role per job identity)."""
    kind: str
    """`preview` (read-only, the stacks in `state_scope`), `versions` (tools/bump.py's reads) or `deploy`."""
    description: str
    state_scope: policies.StateScope | None = None


@dataclass(frozen=True, kw_only=True)
class GithubCiArgs:
    partition: str
    account: str
    existing_provider_arn: str | None
    """The account's GitHub provider if it has one already (IAM allows one per URL)."""
    roles: Mapping[str, RoleSpec]
    """Role key (`preview` or an environment) -> its spec."""
    bucket_arn: str | None
    tags: dict[str, str]


def provider_arn(partition: str, account: str) -> str:
    return f"arn:{partition}:iam::{account}:oidc-provider/{policies.OIDC_HOST}"


def policy_document(spec: RoleSpec, partition: str, bucket_arn: str | None, protected: list[str]) -> dict[str, Any]:
    if spec.kind == "preview":
        assert spec.state_scope is not None, "the preview role reads the state of the stacks it previews"
        return policies.preview_policy(bucket_arn, spec.state_scope)
    if spec.kind == "versions":
        return policies.versions_policy(partition)
    return policies.deploy_policy(bucket_arn, protected)


class GithubCi(pulumi.ComponentResource):
    def __init__(self, name: str, args: GithubCiArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.existing_provider_arn:
            provider: pulumi.Output[str] = pulumi.Output.from_input(args.existing_provider_arn)
        else:
            # No thumbprint: IAM validates GitHub's certificate against its own trusted CAs for this host.
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-github", url=f"https://{policies.OIDC_HOST}", client_id_lists=[policies.AUDIENCE],
                tags=args.tags, opts=child).arn
        protected = [provider_arn(args.partition, args.account)] + [
            f"arn:{args.partition}:iam::{args.account}:role/{spec.role_name}" for spec in args.roles.values()]
        self.roles: dict[str, aws.iam.Role] = {}
        for key, spec in args.roles.items():
            role = aws.iam.Role(
                f"{name}-{key}", name=spec.role_name, max_session_duration=MAX_SESSION_SECONDS, tags=args.tags,
                description=spec.description,
                assume_role_policy=provider.apply(
                    lambda arn, s=spec: json.dumps(policies.trust_policy(arn, list(s.subjects)))),
                opts=child)
            document = policy_document(spec, args.partition, args.bucket_arn, protected)
            aws.iam.RolePolicy(f"{name}-{key}-policy", role=role.id, policy=json.dumps(document), opts=child)
            self.roles[key] = role
        self.provider_arn = provider
        self.register_outputs({"provider_arn": provider, **{k: r.arn for k, r in self.roles.items()}})
