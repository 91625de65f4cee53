"""The bootstrap program: what CI needs in an AWS account, once, derived from .github/workflows/*.yml.

`make bootstrap` deploys it (an administrator's credentials, its own local state by default); `make plan
PROJECT=bootstrap STACK=<stack>` renders it offline. The outputs are the repository variables to set
(docs/ci.md). A separate project so the webstack program stays deployable on its own: CI's identities and the
state bucket outlive any webstack stack, are created by a different person with different rights, and must not
be replaced or destroyed by a `pulumi up`/`destroy` of the app.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
from ci_bootstrap import config, policies, workflows
from ci_bootstrap.identity import GithubCi, GithubCiArgs, RoleSpec
from ci_bootstrap.state import StateBackend, StateBackendArgs

PROJECT = "webstack"  # the webstack program's Pulumi.yaml name: its stacks' state keys (policies.StateScope)

identities = workflows.job_identities()
by_role = workflows.roles(identities)
read_only = (workflows.PREVIEW, *workflows.READ_ONLY_ENVIRONMENTS)
known = [r for r in by_role if r not in read_only]
identity = aws.get_caller_identity()
partition = aws.get_partition().partition
region = aws.get_region().region
raw = pulumi.Config(config.NAMESPACE)
cfg = config.load({k: raw.get(k) for k in ("repository", "stateBackend", "environments", "preview",
                                           "githubOidcProviderArn", "rolePrefix")}, known,
                  account=identity.account_id, region=region)
# `preview: false` (an account holding only production) makes neither read-only role: the pull-request previews
# and the weekly bump read the account that holds the preview role.
wanted = [r for r in by_role if (r in read_only and cfg.preview)
          or (r not in read_only and (cfg.environments is None or r in cfg.environments))]
role_names = {r: f"{cfg.role_prefix}-{r if r in read_only else 'deploy-' + r}" for r in wanted}
too_long = [n for n in role_names.values() if len(n) > 64]
if too_long:
    raise config.BootstrapConfigError(f"{config.NAMESPACE}:rolePrefix: role names over IAM's 64 characters: "
                                      f"{too_long} (set a shorter rolePrefix)")

tags = {"project": "webstack-bootstrap", "managed-by": "pulumi", "repository": cfg.repository}
bucket_name = config.state_bucket_name(cfg.role_prefix, identity.account_id, region)
bucket_arn = f"arn:{partition}:s3:::{bucket_name}" if cfg.state_backend == "s3" else None


def spec(role: str) -> RoleSpec:
    jobs = by_role[role]
    subjects = sorted({i.subject(cfg.repository) for i in jobs})
    if role == workflows.PREVIEW:
        return RoleSpec(role_name=role_names[role], subjects=subjects, kind="preview",
                        description="pulumi preview of pull requests (read-only)",
                        state_scope=policies.StateScope(project=PROJECT,
                                                        stacks=tuple(sorted({s for i in jobs for s in i.stacks}))))
    if role in workflows.READ_ONLY_ENVIRONMENTS:
        return RoleSpec(role_name=role_names[role], subjects=subjects, kind="versions",
                        description=f"make bump of the GitHub environment {role} (read-only)")
    return RoleSpec(role_name=role_names[role], subjects=subjects, kind="deploy",
                    description=f"pulumi up of the GitHub environment {role}")


ci = GithubCi("ci", GithubCiArgs(
    partition=partition, account=identity.account_id, existing_provider_arn=cfg.oidc_provider_arn,
    roles={r: spec(r) for r in wanted}, bucket_arn=bucket_arn, tags=tags))

backend_url: pulumi.Input[str] = ""  # Pulumi Cloud: PULUMI_BACKEND_URL stays empty (docs/ci.md)
if cfg.state_backend == "s3":
    state = StateBackend("state", StateBackendArgs(
        bucket_name=bucket_name, partition=partition, account=identity.account_id, region=region,
        preview_role_arn=ci.roles[workflows.PREVIEW].arn if workflows.PREVIEW in ci.roles else None,
        deploy_role_arns=[role.arn for r, role in ci.roles.items() if r not in read_only], tags=tags))
    backend_url = state.url

# Each credentialed job reads its role from a repository variable: name each variable's value.
variables: dict[str, pulumi.Input[str]] = {"PULUMI_BACKEND_URL": backend_url}
for ident in identities:
    if ident.role in ci.roles and ident.role_variable:
        variables[ident.role_variable] = ci.roles[ident.role].arn
pulumi.export("repository_variables", variables)
pulumi.export("role_arns", {r: role.arn for r, role in ci.roles.items()})
pulumi.export("trusted_subjects", {r: sorted({i.subject(cfg.repository) for i in by_role[r]}) for r in wanted})
pulumi.export("oidc_provider_arn", ci.provider_arn)
pulumi.export("state_backend_url", backend_url)
