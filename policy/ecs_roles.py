"""The roles ECS tasks run with, least privilege. The execution role is the ECS agent's: pull the stack's image,
write to the task's log group, read the secrets the task lists. The task role is the app's: only what a feature
of the stack needs. Stack policies: a role's permissions are spread over several resources (inline policies,
RolePolicy, managed Policies attached to it), and their scope names other resources of the stack.

What each role may be granted is data, `EXECUTION_ROLE_ACTIONS` and `TASK_ROLE_ACTIONS`: an action and the scope
its resources must stay in. `Scope.ANY` marks the actions with no resource-level permissions (`*` is their only
resource); tests/policy/test_policy_ecs.py checks every entry against parliament's IAM data, so an action that
accepts a resource ARN is never allowed on `*`. A feature that needs a new permission adds its line here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from .aws import LOG_GROUP
from .common import (
    IAM_MANAGED_POLICY,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT,
    Area,
    Props,
    as_list,
    as_map,
    dependencies,
    depends_on,
    json_doc,
    known,
    known_prop,
    statements,
)
from .ecs import ECS_TASK_DEFINITION, container_log_groups, known_containers, listed_secrets

ROLES = Area("ECS: execution and task roles")

ECR_REPOSITORY = "aws:ecr/repository:Repository"
EFS_FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
WILDCARD = re.compile(r"[*?]")
LOG_GROUP_ARN = re.compile(r"^arn:[^:]+:logs:[^:]*:[^:]*:log-group:(?P<name>[^:]+)(?::\*|:log-stream:.*)?$")
KMS_KEY_ARN = re.compile(r"^arn:[^:]+:kms:[^:]+:[0-9]{12}:key/[^*?]+$")


class Scope(StrEnum):
    """Where an allowed action's resources must stay."""

    ANY = "no resource-level permission"  # '*' is the action's only resource
    REPOSITORY = "an ECR repository of this stack"
    LOG_GROUP = "the log groups the task's containers log to"
    SECRET = "the secrets the task's containers list"
    KEY = "a named KMS key"
    FILE_SYSTEM = "an EFS file system of this stack"
    ENV_FILE = "the environment files the task's containers list"
    ENV_FILE_BUCKET = "the buckets of the environment files the task's containers list"
    STACK_LOG_GROUP = "a log group of this stack"


# What the ECS agent does with an execution role (AWS ECS developer guide, "task execution IAM role"): pull from
# ECR, write awslogs streams, read the task's secrets (and decrypt them with a customer key). Lower case.
EXECUTION_ROLE_ACTIONS: Mapping[str, Scope] = {
    "ecr:getauthorizationtoken": Scope.ANY,
    "ecr:batchchecklayeravailability": Scope.REPOSITORY,
    "ecr:batchgetimage": Scope.REPOSITORY,
    "ecr:getdownloadurlforlayer": Scope.REPOSITORY,
    "logs:createlogstream": Scope.LOG_GROUP,
    "logs:putlogevents": Scope.LOG_GROUP,
    "ssm:getparameters": Scope.SECRET,
    "secretsmanager:getsecretvalue": Scope.SECRET,
    "kms:decrypt": Scope.KEY,
    # environment files (developer guide, "Specifying environment variables", required IAM permissions)
    "s3:getobject": Scope.ENV_FILE,
    "s3:getbucketlocation": Scope.ENV_FILE_BUCKET,
}
# The app's own calls, by the feature of the stack that makes them (the static site makes none). Lower case.
TASK_ROLE_ACTIONS: Mapping[str, tuple[str, Scope]] = {
    "ssmmessages:createcontrolchannel": ("ECS Exec", Scope.ANY),
    "ssmmessages:createdatachannel": ("ECS Exec", Scope.ANY),
    "ssmmessages:opencontrolchannel": ("ECS Exec", Scope.ANY),
    "ssmmessages:opendatachannel": ("ECS Exec", Scope.ANY),
    "elasticfilesystem:clientmount": ("EFS", Scope.FILE_SYSTEM),
    "elasticfilesystem:clientwrite": ("EFS", Scope.FILE_SYSTEM),
    # the sidecars (infra/ecs/sidecars.py): the ADOT collector's X-Ray exporter and EMF metrics, the FireLens router
    # writing the app's logs
    "xray:puttracesegments": ("ADOT collector", Scope.ANY),
    "logs:createlogstream": ("sidecars' logs and metrics", Scope.STACK_LOG_GROUP),
    "logs:putlogevents": ("sidecars' logs and metrics", Scope.STACK_LOG_GROUP),
}
# (what, urn to report on, how to read the document) of one policy document of a role.
Document = tuple[str, str, Callable[[], Any]]


@dataclass(frozen=True)
class Scopes:
    """What a role's resources may be, from the stack and the task definitions that name the role. None: unknown
    (a first preview), not judged."""

    repositories: frozenset[str]  # names of the stack's ECR repositories
    repository_arns: frozenset[str]
    log_groups: frozenset[str] | None
    secrets: frozenset[str] | None
    file_systems: frozenset[str]  # ids
    file_system_arns: frozenset[str]
    env_files: frozenset[str] | None = None  # S3 object ARNs
    stack_log_groups: frozenset[str] | None = None  # names


# --- which roles, which documents -------------------------------------------------------------------------
def _roles(resources: Sequence[Any], prop: str, kind: str, report_violation: ReportViolation | None
           ) -> dict[str, tuple[Any, list[Any]]]:
    """role URN -> (role, the task definitions naming it in `prop`: executionRoleArn or taskRoleArn), matched by
    property dependency (works at preview), by the role's `arn` output or by the role name ending the ARN (a
    role's id is its name). A role the stack does not declare is reported (its permissions cannot be checked)."""
    roles = [r for r in resources if r.resource_type == IAM_ROLE]
    found: dict[str, tuple[Any, list[Any]]] = {}
    for td in resources:
        if td.resource_type != ECS_TASK_DEFINITION:
            continue
        arn = known_prop(td, prop)
        deps = {d.urn for d in dependencies(td, prop)}
        role_name = str(arn).rsplit("/", 1)[-1] if arn else None  # arn:aws:iam::<account>:role[/path]/<name>
        matched = [r for r in roles if r.urn in deps or (arn and known_prop(r, "arn") == arn)
                   or (role_name and role_name in (known_prop(r, "name"), known_prop(r, "id")))]
        if arn and not matched and report_violation:
            report_violation(f"task definition {td.name!r}: {kind} role {arn} is not declared in this stack, so "
                             "its permissions cannot be checked", td.urn)
        for r in matched:
            found.setdefault(r.urn, (r, []))[1].append(td)
    return found


def _role_documents(role: Any, kind: str, resources: Sequence[Any], report_violation: ReportViolation
                    ) -> list[Document]:
    """Every policy document of `role`: inline, RolePolicy, and managed Policies of the stack attached to it (by
    the role or a RolePolicyAttachment, linked by property dependency or by the role's name or id). An attached
    policy the stack does not declare (AWS managed or external) is a violation: it cannot be checked."""
    names = {v for v in (known_prop(role, "name"), known_prop(role, "id")) if isinstance(v, str) and v}
    found: list[Document] = [(f"inline policy #{i}", role.urn, lambda inline=inline: as_map(inline).get("policy"))
                             for i, inline in enumerate(as_list(known_prop(role, "inlinePolicies")))]
    attached: list[tuple[Any, Callable[[], Any]]] = [
        (role, lambda a=a: a) for a in as_list(known_prop(role, "managedPolicyArns"))]
    for r in resources:
        linked = depends_on(r, "role", {role.urn}) or known_prop(r, "role") in names
        if r.resource_type == IAM_ROLE_POLICY and linked:
            found.append((f"role policy {r.name!r}", r.urn, lambda r=r: r.props.get("policy")))
        elif r.resource_type == IAM_ROLE_POLICY_ATTACHMENT and linked:
            attached.append((r, lambda r=r: r.props.get("policyArn")))
    policies = {r.urn: r for r in resources if r.resource_type == IAM_MANAGED_POLICY}
    for via, read_arn in attached:
        deps = [d.urn for d in dependencies(via, "policyArn")]
        arn_known, policy_arn = known(read_arn)
        managed = [policies[u] for u in deps if u in policies] or [
            p for p in policies.values() if arn_known and policy_arn and known_prop(p, "arn") == policy_arn]
        if managed:
            found += [(f"policy {p.name!r}", p.urn, lambda p=p: p.props.get("policy")) for p in managed]
        elif arn_known:
            report_violation(f"{kind} role {role.name!r} has policy {policy_arn!r} attached, which is not "
                             "declared in this stack: write a scoped policy instead", via.urn)
    return found


def _scopes(task_definitions: list[Any], resources: Sequence[Any]) -> Scopes:
    repositories = [r for r in resources if r.resource_type == ECR_REPOSITORY]
    file_systems = [r for r in resources if r.resource_type == EFS_FILE_SYSTEM]
    containers = [known_containers(td) for td in task_definitions]
    every = None if any(c is None for c in containers) else [c for cs in containers for c in cs or []]
    return Scopes(
        repositories=frozenset(str(n) for r in repositories if (n := known_prop(r, "name"))),
        repository_arns=frozenset(str(a) for r in repositories if (a := known_prop(r, "arn"))),
        log_groups=None if every is None else frozenset(g for c in every for g in container_log_groups(c)),
        secrets=None if every is None else frozenset(listed_secrets(every)),
        file_systems=frozenset(str(i) for r in file_systems if (i := known_prop(r, "id"))),
        file_system_arns=frozenset(str(a) for r in file_systems if (a := known_prop(r, "arn"))),
        env_files=None if every is None else frozenset(
            str(as_map(f).get("value")) for c in every for f in as_list(c.get("environmentFiles"))),
        stack_log_groups=_stack_log_group_names(resources))


def _stack_log_group_names(resources: Sequence[Any]) -> frozenset[str] | None:
    names = [known_prop(r, "name") or known_prop(r, "id") for r in resources if r.resource_type == LOG_GROUP]
    return None if not all(names) else frozenset(str(n) for n in names)


# --- judging a document -----------------------------------------------------------------------------------
def _secret_matches(resource: str, value_from: str) -> bool:
    """Whether an IAM resource is the secret a container's `valueFrom` names: an SSM parameter (ARN, or a name
    in the task's region), or a Secrets Manager secret (ARN, possibly with :json-key:version-stage:version-id,
    or a partial ARN without the random suffix, which policies match with -??????)."""
    if value_from.startswith("arn:") and ":secretsmanager:" in value_from:
        secret = ":".join(value_from.split(":")[:7])
        return resource in (secret, f"{secret}-??????")
    if value_from.startswith("arn:"):
        return resource == value_from
    return resource.startswith("arn:") and resource.endswith(":parameter" + ("" if value_from.startswith("/")
                                                                             else "/") + value_from)


def _in_scope(resource: str, scope: Scope, scopes: Scopes) -> bool:
    if scope is Scope.ANY:
        return True
    if scope is Scope.SECRET:
        return scopes.secrets is None or any(_secret_matches(resource, s) for s in scopes.secrets)
    if WILDCARD.search(resource.removesuffix(":*") if scope in (Scope.LOG_GROUP, Scope.STACK_LOG_GROUP)
                       else resource):
        return False
    if scope is Scope.REPOSITORY:
        return resource in scopes.repository_arns or any(resource.endswith(f":repository/{n}")
                                                         for n in scopes.repositories)
    if scope in (Scope.LOG_GROUP, Scope.STACK_LOG_GROUP):
        groups = scopes.log_groups if scope is Scope.LOG_GROUP else scopes.stack_log_groups
        match = LOG_GROUP_ARN.match(resource)
        return groups is None or bool(match and match["name"] in groups)
    if scope is Scope.ENV_FILE:
        return scopes.env_files is None or resource in scopes.env_files
    if scope is Scope.ENV_FILE_BUCKET:
        return scopes.env_files is None or resource in {f.split("/", 1)[0] for f in scopes.env_files}
    if scope is Scope.KEY:
        return bool(KMS_KEY_ARN.match(resource))
    return resource in scopes.file_system_arns or any(resource.endswith(f":file-system/{i}")
                                                      for i in scopes.file_systems)


def _statement_problems(st: Props, sid: str, allowed: Mapping[str, Scope], scopes: Scopes, never: str
                        ) -> list[str]:
    if "NotAction" in st or "NotResource" in st:
        return [f"statement {sid} uses NotAction/NotResource"]
    actions = [str(a) for a in as_list(st.get("Action"))]
    resources = [str(r) for r in as_list(st.get("Resource"))]
    problems = []
    wild = [a for a in actions if WILDCARD.search(a)]
    if wild:
        problems.append(f"statement {sid} grants wildcard action(s) {', '.join(wild)}")
    unneeded = [a for a in actions if a not in wild and a.lower() not in allowed]
    if unneeded:
        problems.append(f"statement {sid} grants {', '.join(unneeded)}, which {never}")
    by_scope: dict[Scope, list[str]] = {}
    for a in actions:
        if allowed.get(a.lower(), Scope.ANY) is not Scope.ANY:
            by_scope.setdefault(allowed[a.lower()], []).append(a)
    scoped = [a for group in by_scope.values() for a in group]
    if "*" in resources and scoped:
        problems.append(f"statement {sid} grants {', '.join(scoped)} on Resource '*' (these actions accept "
                        "resource ARNs: name them)")
    for scope, granted in by_scope.items():
        outside = [r for r in resources if r != "*" and not _in_scope(r, scope, scopes)]
        if outside:
            problems.append(f"statement {sid} grants {', '.join(granted)} on {', '.join(outside)}, outside "
                            f"{scope.value}")
    return problems


def _document_problems(doc: Props | None, allowed: Mapping[str, Scope], scopes: Scopes, never: str) -> list[str]:
    if doc is None:
        return ["the document is not a JSON object"]
    return [problem for i, st in enumerate(statements(doc)) if st.get("Effect") == "Allow"
            for problem in _statement_problems(st, str(st.get("Sid") or f"#{i}"), allowed, scopes, never)]


def _judge(role: Any, kind: str, task_definitions: list[Any], allowed: Mapping[str, Scope], never: str,
           args: StackValidationArgs, report_violation: ReportViolation) -> None:
    scopes = _scopes(task_definitions, args.resources)
    for what, urn, read in _role_documents(role, kind, args.resources, report_violation):
        doc_known, raw = known(read)
        if not doc_known:
            continue  # unknown at preview: judged on `pulumi up`, when it is known
        for problem in _document_problems(json_doc(raw), allowed, scopes, never):
            report_violation(f"{kind} role {role.name!r}, {what}: {problem}", urn)


@ROLES.stack("ecs-execution-role-least-privilege", "ECS execution roles grant only what the ECS agent does: pull "
             "from the stack's ECR repositories, write to the task's log groups, read the secrets and environment "
             "files the task lists "
             "(ecr:GetAuthorizationToken the only Resource '*'), and carry no policy the stack does not declare.")
def ecs_execution_role_least_privilege(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every permission of a task definition's execution role, wherever it is attached (inline on the role, a
    RolePolicy, a managed Policy of the stack attached to it), is one the agent uses, on a resource of its scope.
    AWS managed or external policies cannot be checked and are refused (AmazonECSTaskExecutionRolePolicy grants
    ECR and logs on '*')."""
    never = "the ECS agent never uses"
    for role, task_definitions in _roles(args.resources, "executionRoleArn", "execution", report_violation).values():
        _judge(role, "execution", task_definitions, EXECUTION_ROLE_ACTIONS, never, args, report_violation)


@ROLES.stack("ecs-task-role-least-privilege", "ECS task roles grant only what a feature of the stack needs (ECS "
             "Exec's channels, EFS mounts of the stack's file systems, the sidecars' X-Ray traces and writes to the "
             "stack's log groups), on named resources, are never an "
             "execution role too, and carry no policy the stack does not declare.")
def ecs_task_role_least_privilege(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """The app's role holds what the stack's features need (`TASK_ROLE_ACTIONS`), and never the ECS agent's
    permissions: a role that is also an execution role would give the app the image pull and every secret."""
    features = sorted({feature for feature, _ in TASK_ROLE_ACTIONS.values()})
    allowed = {action: scope for action, (_, scope) in TASK_ROLE_ACTIONS.items()}
    never = f"no feature of the stack needs (task role features: {', '.join(features)})"
    execution = _roles(args.resources, "executionRoleArn", "execution", None)
    for urn, (role, task_definitions) in _roles(args.resources, "taskRoleArn", "task", report_violation).items():
        if urn in execution:
            report_violation(f"task role {role.name!r} is also an execution role: the app would hold the ECS agent's "
                             "permissions (image pull, every secret); give the task a role of its own", role.urn)
            continue
        _judge(role, "task", task_definitions, allowed, never, args, report_violation)


ROLE_POLICY_NAMES = ROLES.names
