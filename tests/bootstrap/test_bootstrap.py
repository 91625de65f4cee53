"""The bootstrap program (bootstrap/): rendered under mocks from the tests' own stack file; its roles trust exactly
the OIDC subjects the workflows' credentialed jobs get, the preview role only reads, the state bucket is private,
versioned, encrypted and TLS-only. Nothing here is deployed: only a real `make bootstrap` and a GitHub run can show
that AWS accepts the documents and that GitHub's tokens carry these subjects."""

from __future__ import annotations

import functools
import json
import shutil
import warnings
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from ci_bootstrap import policies, workflows
from ci_bootstrap.config import BootstrapConfigError, load

from tests.support import rendered
from tests.support.iam_lint import unexpected_findings
from tests.support.workflows import WORKFLOWS, token_subjects
from tools.render import ROOT, TEST_STACKS, Plan, render
from tools.render.artifacts import iam_documents

REPOSITORY = "acme-corp/webstack"  # tests/stacks/bootstrap/Pulumi.ci.yaml
OIDC = policies.OIDC_HOST


@pytest.fixture(scope="module")
def plan() -> Plan:
    return render("ci", root=ROOT / "bootstrap", stacks=TEST_STACKS / "bootstrap")


def trusted(plan: Plan) -> dict[str, list[str]]:
    """Role name -> the `sub` values its trust policy accepts (StringEquals only: anything else fails here)."""
    out = {}
    for role in plan.of_type("aws:iam/role:Role"):
        (statement,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity" and statement["Effect"] == "Allow"
        assert statement["Principal"] == {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{OIDC}"}
        assert set(statement["Condition"]) == {"StringEquals"}, "no StringLike: every subject exact"
        condition = statement["Condition"]["StringEquals"]
        assert condition[f"{OIDC}:aud"] == "sts.amazonaws.com"
        subjects = condition[f"{OIDC}:sub"]
        out[role["inputs"]["name"]] = [subjects] if isinstance(subjects, str) else subjects
    return out


def trust_problems(expected: dict[str, set[str]], trust: dict[str, list[str]]) -> list[str]:
    """Every credentialed job's subject is trusted by exactly one role; no role trusts anything else."""
    problems = []
    for job, subjects in expected.items():
        if not subjects:
            problems.append(f"{job}: requests a token but no exact subject follows from the workflow")
        for subject in sorted(subjects):
            roles = [r for r, subs in trust.items() if subject in subs]
            if len(roles) != 1:
                problems.append(f"{job}: {subject} is trusted by {len(roles)} roles {roles}, not exactly one")
    wanted = set().union(*expected.values()) if expected else set()
    for role, subs in trust.items():
        problems += [f"{role} trusts {s}, which no job gets" for s in subs if s not in wanted]
        problems += [f"{role} trusts the wildcard subject {s}" for s in subs if "*" in s or "?" in s]
    return problems


def test_every_credentialed_job_is_trusted_by_exactly_one_role(plan: Plan) -> None:
    expected = token_subjects(REPOSITORY)
    assert set(expected) == {"preview.yml:preview", "deploy.yml:dev", "deploy.yml:prod", "bump.yml:resolve"}
    assert expected["deploy.yml:prod"] == {f"repo:{REPOSITORY}:environment:production"}
    assert expected["preview.yml:preview"] == {f"repo:{REPOSITORY}:pull_request"}
    trust = trusted(plan)
    assert trust_problems(expected, trust) == []
    # the weekly `make bump` (environment `versions`) reads only, with a role of its own
    assert trust == {"webstack-ci-preview": [f"repo:{REPOSITORY}:pull_request"],
                     "webstack-ci-versions": [f"repo:{REPOSITORY}:environment:versions"],
                     "webstack-ci-deploy-development": [f"repo:{REPOSITORY}:environment:development"],
                     "webstack-ci-deploy-production": [f"repo:{REPOSITORY}:environment:production"]}


def test_every_role_trusts_exactly_one_subject(plan: Plan) -> None:
    """One role per job identity: a role trusting two subjects gives each job the other's rights."""
    trust = trusted(plan)
    assert len(trust) == 4
    assert {role: len(subjects) for role, subjects in trust.items() if len(subjects) != 1} == {}


def renamed_workflows(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, folder)
    deploy = folder / "deploy.yml"
    text = deploy.read_text()
    assert f"environment: {old}" in text
    deploy.write_text(text.replace(f"environment: {old}", f"environment: {new}"))
    return folder


def test_a_renamed_environment_fails_until_the_bootstrap_follows(plan: Plan, tmp_path: Path) -> None:
    """The trust the bootstrap rendered from today's workflows no longer covers a job whose environment changed:
    the job's new subject has no role, and the old role trusts a subject no job gets."""
    folder = renamed_workflows(tmp_path, "production", "prod-eu")
    problems = trust_problems(token_subjects(REPOSITORY, folder), trusted(plan))
    assert problems == [
        f"deploy.yml:prod: repo:{REPOSITORY}:environment:prod-eu is trusted by 0 roles [], not exactly one",
        f"webstack-ci-deploy-production trusts repo:{REPOSITORY}:environment:production, which no job gets"]
    # the bootstrap's own reading of the edited workflows follows: a role for the new environment
    roles = workflows.roles(workflows.job_identities(folder))
    assert sorted(roles) == ["development", "preview", "prod-eu", "versions"]


def test_the_bootstrap_reads_the_subjects_the_independent_derivation_finds() -> None:
    mine = {f"{i.workflow}:{i.job}": {i.subject(REPOSITORY)} for i in workflows.job_identities()}
    assert mine == token_subjects(REPOSITORY)


def test_each_role_variable_gets_the_role_that_trusts_its_jobs(plan: Plan) -> None:
    variables = plan.outputs["repository_variables"]
    arns = plan.outputs["role_arns"]
    assert variables == {"AWS_PREVIEW_ROLE_ARN": arns["preview"], "AWS_VERSIONS_ROLE_ARN": arns["versions"],
                         "AWS_ROLE_ARN": arns["development"],
                         "AWS_PROD_ROLE_ARN": arns["production"],
                         "PULUMI_BACKEND_URL": "s3://webstack-ci-state-123456789012-eu-west-1?region=eu-west-1"}
    by_arn = {role["state"]["arn"]: role["inputs"]["name"] for role in plan.of_type("aws:iam/role:Role")}
    trust = trusted(plan)
    for ident in workflows.job_identities():
        assert ident.subject(REPOSITORY) in trust[by_arn[variables[ident.role_variable]]], ident


@pytest.mark.parametrize(("edit", "message"), [
    ("environment: production", "environment: ${{ inputs.target }}"),
    ("    environment: development\n", "\n"),
])
def test_a_job_whose_subject_is_not_exact_is_refused(tmp_path: Path, edit: str, message: str) -> None:
    folder = tmp_path / "wf"
    shutil.copytree(WORKFLOWS, folder)
    (folder / "deploy.yml").write_text((folder / "deploy.yml").read_text().replace(edit, message))
    with pytest.raises(workflows.WorkflowError) as err:
        workflows.job_identities(folder)
    assert "deploy.yml: job" in str(err.value)


def test_two_roles_behind_one_repository_variable_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "wf"
    shutil.copytree(WORKFLOWS, folder)
    preview = folder / "preview.yml"
    preview.write_text(preview.read_text().replace("vars.AWS_PREVIEW_ROLE_ARN", "vars.AWS_ROLE_ARN"))
    with pytest.raises(workflows.WorkflowError, match=r"vars.AWS_ROLE_ARN is the role of jobs needing different"):
        workflows.job_identities(folder)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("on:\n  pull_request:", "on:\n  pull_request_target:", "pull_request_target"),
    # the preview role reads the state of the stacks the job names: a computed one is unknown
    ("stack-name: dev", "stack-name: ${{ inputs.stack }}", "without a literal stack-name"),
])
def test_an_edited_preview_job_whose_identity_is_not_exact_is_refused(tmp_path: Path, old: str, new: str,
                                                                      message: str) -> None:
    folder = tmp_path / "wf"
    shutil.copytree(WORKFLOWS, folder)
    preview = folder / "preview.yml"
    assert old in preview.read_text()
    preview.write_text(preview.read_text().replace(old, new))
    with pytest.raises(workflows.WorkflowError, match=message):
        workflows.job_identities(folder)


# --- what the roles may do -------------------------------------------------------------------------------------
@functools.cache
def access_levels() -> dict[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from parliament import iam_definition
    return {f"{s['prefix']}:{p['privilege']}".lower(): p["access_level"]
            for s in iam_definition for p in s["privileges"]}


@functools.cache
def _by_service() -> dict[str, list[str]]:
    """parliament's actions by service prefix: a pattern whose prefix has no wildcard matches only its service's
    actions (the ':' is literal), so it is matched against those alone, not all ~15,000."""
    services: dict[str, list[str]] = {}
    for action in access_levels():
        services.setdefault(action.partition(":")[0], []).append(action)
    return services


@functools.cache
def _matches(pattern: str) -> frozenset[str]:
    prefix, colon, _ = pattern.partition(":")
    literal = colon and not any(c in prefix for c in "*?[")
    candidates = _by_service().get(prefix, []) if literal else list(access_levels())
    return frozenset(a for a in candidates if fnmatchcase(a, pattern))


def expanded(actions: list[str]) -> set[str]:
    out: set[str] = set()
    for action in actions:
        hits = _matches(action.lower())
        assert hits, f"{action} matches no action in parliament's IAM data"
        out |= hits
    return out


def allowed_actions(doc: dict[str, Any]) -> list[str]:
    return [a for s in doc["Statement"] if s["Effect"] == "Allow"
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]


def test_the_preview_role_has_no_write_action(plan: Plan) -> None:
    doc = iam_documents(plan)["ci-preview-policy-policy"]
    levels = access_levels()
    actions = expanded(allowed_actions(doc))
    assert len(actions) > 100  # the wildcards expanded (ec2:Describe* alone is over 150)
    writes = sorted(a for a in actions if levels[a] not in ("List", "Read"))
    assert writes == []
    assert not any("NotAction" in s or "NotResource" in s for s in doc["Statement"])


def test_the_write_check_catches_a_write_action() -> None:
    levels = access_levels()
    actions = expanded(["ecr:Batch*", "s3:GetObject"])
    writes = {a for a in actions if levels[a] not in ("List", "Read")}
    assert "ecr:batchdeleteimage" in writes and "ecr:batchgetimage" not in writes and "s3:getobject" not in writes


def test_the_preview_key_grant_is_decrypt_through_s3_of_the_state_bucket_only(plan: Plan) -> None:
    key_policy = json.loads(plan.one("aws:kms/key:Key")["inputs"]["policy"])
    preview = [s for s in key_policy["Statement"] if s["Sid"] == "PreviewReadsStateThroughS3"]
    assert preview == [{
        "Sid": "PreviewReadsStateThroughS3", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:role/webstack-ci-preview"},
        "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {
            "kms:ViaService": "s3.eu-west-1.amazonaws.com",
            "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::webstack-ci-state-123456789012-eu-west-1"}}}]


@pytest.mark.parametrize("name", ["ci-preview", "ci-versions", "ci-development", "ci-production"])
def test_parliament_accepts_the_role_documents(plan: Plan, name: str) -> None:
    docs = iam_documents(plan)
    problems = [p for suffix in ("policy-policy", "trust") for p in unexpected_findings(
        f"bootstrap-{name}-{suffix}", docs[f"{name}-{suffix}"])]
    assert problems == []


def test_deploy_roles_can_never_change_the_ci_identities(plan: Plan) -> None:
    doc = iam_documents(plan)["ci-production-policy-policy"]
    (deny,) = [s for s in doc["Statement"] if s["Effect"] == "Deny"]
    assert deny["Action"] == "iam:*"
    assert set(deny["Resource"]) == {
        f"arn:aws:iam::123456789012:oidc-provider/{OIDC}",
        *(f"arn:aws:iam::123456789012:role/webstack-ci-{r}"
          for r in ("preview", "versions", "deploy-development", "deploy-production"))}
    actions = expanded(allowed_actions(doc))
    assert not [a for a in actions if a.startswith("iam:") and any(
        k in a for k in ("user", "group", "accesskey", "loginprofile"))]


def test_deploy_roles_cover_every_service_the_stack_manages(dev: Plan, prod: Plan, fargate: Plan, spot: Plan,
                                                           ec2: Plan) -> None:
    """Each pulumi-aws module any example stack declares (or calls a data source of) is mapped to its IAM
    services, and the deploy policy grants them: a new kind of resource fails here until the roles follow."""
    modules = {t.split(":")[1].split("/")[0] for p in (dev, prod, fargate, spot, ec2)
               for t in [r["type"] for r in p.resources] + [i["token"] for i in p.invokes] if t.startswith("aws:")}
    modules -= {"index"}  # getCallerIdentity, getPartition, getRegion, getAvailabilityZones (ec2)
    assert modules - set(policies.MANAGED_SERVICES) == set()
    granted = {a.split(":")[0] for a in policies.DEPLOY_SERVICE_ACTIONS + policies.DEPLOY_IAM_ACTIONS}
    assert {s for m in modules for s in policies.MANAGED_SERVICES[m]} - granted == set()
    # pulumi-eks's children are not rendered (one registration): its cluster, OIDC provider and node group
    # need these, which the list names explicitly.
    assert {"eks:*", "iam:CreateOpenIDConnectProvider", "iam:CreateServiceLinkedRole"} <= set(
        policies.DEPLOY_SERVICE_ACTIONS + policies.DEPLOY_IAM_ACTIONS)


def test_the_versions_role_may_do_exactly_what_bump_needs(plan: Plan) -> None:
    from tools.bump import READ_ONLY_POLICY

    assert iam_documents(plan)["ci-versions-policy-policy"] == READ_ONLY_POLICY


def test_no_role_reads_parameters_beyond_the_public_ami_ones(plan: Plan) -> None:
    """ssm:GetParameter(s) on `*` would read every SecureString of the account (PR code runs with the preview
    role); the program resolves no parameter at deploy time, the versions role only AWS's public AMI ones."""
    docs = iam_documents(plan)
    for name in ("ci-preview-policy-policy", "ci-development-policy-policy", "ci-production-policy-policy"):
        assert [a for a in expanded(allowed_actions(docs[name])) if a.startswith("ssm:")] == [], name
    (ssm,) = [s for s in docs["ci-versions-policy-policy"]["Statement"] if "ssm:GetParameters" in s["Action"]]
    assert ssm["Resource"] == ["arn:aws:ssm:*:*:parameter/aws/service/eks/optimized-ami/*",
                               "arn:aws:ssm:*:*:parameter/aws/service/ecs/optimized-ami/*"]


def test_the_preview_role_reads_only_the_previewed_stacks_state(plan: Plan) -> None:
    """preview.yml previews `dev`: never prod's state (its outputs and encrypted secrets)."""
    bucket = "arn:aws:s3:::webstack-ci-state-123456789012-eu-west-1"
    (read,) = [s for s in iam_documents(plan)["ci-preview-policy-policy"]["Statement"] if s.get("Sid") == "ReadState"]
    assert read["Action"] == "s3:GetObject"
    assert read["Resource"] == [f"{bucket}/.pulumi/meta.yaml", f"{bucket}/.pulumi/stacks/webstack/dev.json*",
                                f"{bucket}/.pulumi/journal/webstack/dev/*"]


def test_deploy_roles_pass_roles_only_to_the_stacks_services(plan: Plan) -> None:
    for name in ("ci-development-policy-policy", "ci-production-policy-policy"):
        statements = iam_documents(plan)[name]["Statement"]
        passing = [s for s in statements if s["Effect"] == "Allow" and "iam:passrole" in expanded(
            [s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
        assert [s["Sid"] for s in passing] == ["PassRolesToTheStacksServices"], name
        assert passing[0]["Condition"] == {"StringEquals": {"iam:PassedToService": [
            "eks.amazonaws.com", "ec2.amazonaws.com", "ecs-tasks.amazonaws.com", "scheduler.amazonaws.com",
            "vpc-flow-logs.amazonaws.com", "pods.eks.amazonaws.com", "ecs.amazonaws.com",
            "eks-fargate-pods.amazonaws.com"]}}
        # terraform-provider-aws's resourceRoleUpdate calls UpdateRoleDescription when a description changes
        assert "iam:updateroledescription" in expanded(allowed_actions(iam_documents(plan)[name]))


def test_deploy_roles_may_pass_every_role_the_stacks_make(dev: Plan, prod: Plan, fargate: Plan, spot: Plan,
                                                         ec2: Plan) -> None:
    """Each service a rendered role trusts is one the deploy roles may pass roles to (iam:PassedToService): a new
    kind of role fails here until the condition follows. pulumi-eks's cluster role (one registration, not
    rendered) trusts eks.amazonaws.com, which also receives the node role of managed node groups."""
    trusted_services = {"eks.amazonaws.com"}
    # and the stacks' other shapes: Karpenter's roles, ECS blue/green's infrastructure role (trusts ecs.amazonaws.com)
    # and the app's Fargate profile's pod execution role (trusts eks-fargate-pods.amazonaws.com)
    more = (rendered("karpenter"), rendered("ecs", ecsDeploymentStrategy="blue-green", ecsBlueGreenBakeMinutes=7),
            rendered("eks-fargate"))
    for p in (dev, prod, fargate, spot, ec2, *more):
        for role in p.of_type("aws:iam/role:Role"):
            for statement in json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]:
                service = statement.get("Principal", {}).get("Service", [])
                trusted_services |= {service} if isinstance(service, str) else set(service)
    assert trusted_services == set(policies.PASSED_TO_SERVICES)


def test_deploy_roles_can_never_administer_the_state_key(plan: Plan) -> None:
    key_policy = json.loads(plan.one("aws:kms/key:Key")["inputs"]["policy"])
    (deny,) = [s for s in key_policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Principal"] == {"AWS": ["arn:aws:iam::123456789012:role/webstack-ci-deploy-development",
                                         "arn:aws:iam::123456789012:role/webstack-ci-deploy-production"]}
    assert {"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:CreateGrant"} <= set(
        deny["Action"])
    assert not {"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"} & set(deny["Action"])  # state stays writable


def test_every_role_allows_a_four_hour_session(plan: Plan) -> None:
    """A Kubernetes upgrade or a first certificate validation can outlast an hour in one `pulumi up`."""
    assert {r["inputs"]["name"]: r["inputs"]["maxSessionDuration"] for r in plan.of_type("aws:iam/role:Role")} == {
        name: 14400 for name in ("webstack-ci-preview", "webstack-ci-versions", "webstack-ci-deploy-development",
                                 "webstack-ci-deploy-production")}


# --- the state backend -------------------------------------------------------------------------------------------
def test_the_state_bucket_is_versioned_encrypted_private_and_tls_only(plan: Plan) -> None:
    bucket = plan.one("aws:s3/bucket:Bucket")
    assert bucket["inputs"]["bucket"] == "webstack-ci-state-123456789012-eu-west-1"
    assert bucket["options"]["protect"] is True and bucket["options"]["retainOnDelete"] is True
    key = plan.one("aws:kms/key:Key")
    assert key["inputs"]["enableKeyRotation"] is True and key["options"]["protect"] is True
    versioning = plan.one("aws:s3/bucketVersioning:BucketVersioning")["inputs"]
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    (rule,) = plan.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[
        "inputs"]["rules"]
    assert rule["bucketKeyEnabled"] is True
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms",
                                                          "kmsMasterKeyId": key["state"]["arn"]}
    block = plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")["inputs"]
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                          "restrictPublicBuckets"))
    ownership = plan.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")["inputs"]
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    (deny,) = json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy")["inputs"]["policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert plan.outputs["state_backend_url"] == "s3://webstack-ci-state-123456789012-eu-west-1?region=eu-west-1"


def test_pulumi_cloud_needs_no_bucket() -> None:
    plan = render("ci", {"webstack-bootstrap:stateBackend": "cloud", "webstack-bootstrap:environments": ["production"],
                         "webstack-bootstrap:preview": "false"},
                  root=ROOT / "bootstrap", stacks=TEST_STACKS / "bootstrap")
    assert not plan.of_type("aws:s3/bucket:Bucket") and not plan.of_type("aws:kms/key:Key")
    assert plan.outputs["repository_variables"] == {
        "PULUMI_BACKEND_URL": "", "AWS_PROD_ROLE_ARN": "arn:aws:iam::123456789012:role/webstack-ci-deploy-production"}
    statements = iam_documents(plan)["ci-production-policy-policy"]["Statement"]
    assert not [s for s in statements if "s3:" in json.dumps(s["Action"])]


def test_bad_bootstrap_config_is_reported_all_at_once() -> None:
    with pytest.raises(BootstrapConfigError) as err:
        load({"repository": "not a repo", "stateBackend": "dynamo", "environments": ["staging", "staging"],
              "preview": "maybe", "githubOidcProviderArn": "arn:aws:iam::1:oidc-provider/example.com",
              "rolePrefix": "x" * 41}, ["development", "production"], account="123456789012", region="eu-west-1")
    text = str(err.value)
    assert "(6 problem(s))" in text
    for key in ("repository", "stateBackend", "environments", "preview", "githubOidcProviderArn", "rolePrefix"):
        assert f"webstack-bootstrap:{key}" in text, key
    assert "unknown: ['staging', 'staging']" in text and "allowed: s3, cloud" in text


@pytest.mark.parametrize(("prefix", "problems"), [
    ("ci.webstack", ["the state key's alias 'alias/ci.webstack-state-123456789012-eu-west-1'"]),
    ("ci_webstack", ["the state bucket's name 'ci_webstack-state-123456789012-eu-west-1'"]),
    ("ci-" + "x" * 36, ["the state bucket's name 'ci-xxx"]),
    ("-ci", ["the state bucket's name '-ci-state"]),
    ("xn--ci", ["starting xn--"]),
])
def test_a_role_prefix_that_cannot_name_the_bucket_or_its_key_alias_is_refused(prefix: str,
                                                                               problems: list[str]) -> None:
    raw = {"repository": REPOSITORY, "rolePrefix": prefix}
    with pytest.raises(BootstrapConfigError) as err:
        load(raw, ["development"], account="123456789012", region="eu-west-1")
    assert f"({len(problems)} problem(s))" in str(err.value)
    assert all(p in str(err.value) for p in problems), str(err.value)
    assert "webstack-bootstrap:rolePrefix" in str(err.value)
    # with Pulumi Cloud there is no bucket to name
    assert load({**raw, "stateBackend": "cloud"}, ["development"], account="123456789012", region="eu-west-1")
    assert load({**raw, "rolePrefix": "ci-webstack"}, ["development"], account="123456789012", region="eu-west-1")
