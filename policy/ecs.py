"""The ECS runtime: task definitions (non-root, read-only, logging to the stack's log group), services and the
schedules that start tasks (no public IP, circuit breaker), load balancer listeners (TLS only), and the tasks'
execution role (least privilege), tested in tests/policy/test_policy_ecs.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from .common import (
    IAM_MANAGED_POLICY,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT,
    TLS13_POLICY_PREFIX,
    Area,
    Props,
    as_list,
    as_map,
    dependencies,
    dig,
    json_doc,
    known,
    known_prop,
    set_or_unknown,
    statements,
)

RUNTIME = Area("ECS")

ECS_TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE = "aws:ecs/service:Service"
SCHEDULE = "aws:scheduler/schedule:Schedule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
LB_LISTENER_TYPES = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
ROOT_USERS = frozenset({"0", "root"})
# The one action of an execution role with no resource-level permissions (ECR login tokens are account-wide).
STAR_RESOURCE_ACTIONS = frozenset({"ecr:getauthorizationtoken"})
# (what, urn to report on, how to read the document) of one policy document of an execution role.
Document = tuple[str, str, Callable[[], Any]]


# --- task definitions, services, listeners --------------------------------------------------------------
def _container_definitions(args: ResourceValidationArgs) -> list[Props] | None:
    """The containers of a task definition (`containerDefinitions` is a JSON string); None if it is not JSON."""
    raw = args.props.get("containerDefinitions")
    try:
        containers = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if not isinstance(containers, Sequence) or isinstance(containers, str):
        return None
    return [as_map(c) for c in containers]


@RUNTIME.resource("ecs-task-non-root-read-only", "ECS task definitions run every container as a named non-root "
                                                 "user with a read-only root filesystem.")
def ecs_task_non_root_read_only(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every container of a task definition names a non-root `user` and has a read-only root filesystem."""
    if args.resource_type != ECS_TASK_DEFINITION:
        return
    containers = _container_definitions(args)
    if containers is None:
        report_violation("containerDefinitions is not a JSON list, so its containers cannot be checked")
        return
    if not containers:
        report_violation("containerDefinitions is empty")
    for i, c in enumerate(containers):
        name = c.get("name") or f"containerDefinitions[{i}]"
        problems = []
        user = str(c.get("user") or "")
        if not user:
            problems.append("no user (the image's USER decides, root unless it says otherwise)")
        elif user.split(":", 1)[0] in ROOT_USERS:
            problems.append(f"user {user!r} is root")
        if c.get("readonlyRootFilesystem") is not True:
            problems.append("readonlyRootFilesystem is not true")
        if problems:
            report_violation(f"container {name!r}: {'; '.join(problems)}")


def _public_ip_requested(network: Any) -> bool:
    value = as_map(network).get("assignPublicIp")
    return value is True or str(value).upper() in ("TRUE", "ENABLED")


def _run_task_network(target: Any) -> Props:
    """A schedule on Scheduler's universal target for ECS RunTask (arn:<partition>:scheduler:::aws-sdk:ecs:runTask)
    carries the whole request in its `input`, members in PascalCase: its awsvpc configuration as
    {"assignPublicIp": ...}; {} for another target or while the input is unknown (preview)."""
    ok, arn = known(lambda: as_map(target).get("arn"))
    ok_input, raw = known(lambda: as_map(target).get("input"))
    if not (ok and ok_input) or not str(arn).endswith(":scheduler:::aws-sdk:ecs:runTask"):
        return {}
    vpc = dig(json_doc(raw) or {}, "NetworkConfiguration", "AwsvpcConfiguration")
    return {"assignPublicIp": as_map(vpc).get("AssignPublicIp")}


@RUNTIME.resource("ecs-no-public-ip", "ECS services, schedules and event rules never assign tasks a public IP.")
def ecs_no_public_ip(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """ECS services and the schedules/rules that start tasks never give tasks a public IP."""
    t, props = args.resource_type, args.props
    if t == ECS_SERVICE:
        where, network = "networkConfiguration", props.get("networkConfiguration")
    elif t == SCHEDULE and dig(props, "target", "ecsParameters") is not None:
        where = "target.ecsParameters.networkConfiguration"
        network = dig(props, "target", "ecsParameters", "networkConfiguration")
    elif t == SCHEDULE:
        where, network = "target.input (ECS RunTask) NetworkConfiguration.AwsvpcConfiguration", _run_task_network(
            props.get("target"))
    elif t == EVENT_TARGET:
        where, network = "ecsTarget.networkConfiguration", dig(props, "ecsTarget", "networkConfiguration")
    else:
        return
    if _public_ip_requested(network):
        report_violation(f"{where}.assignPublicIp is true: tasks run in private subnets and reach the internet "
                         "through NAT, never with a public address")


@RUNTIME.resource("ecs-deployment-circuit-breaker", "ECS services (ECS deployment controller) have the deployment "
                                                    "circuit breaker on with rollback.")
def ecs_deployment_circuit_breaker(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """ECS-controlled services roll back a deployment whose tasks do not become healthy."""
    if args.resource_type != ECS_SERVICE:
        return
    controller = str(dig(args.props, "deploymentController", "type") or "ECS")
    if controller != "ECS":
        return  # CODE_DEPLOY and EXTERNAL deployments have no circuit breaker: they roll back on their own terms
    breaker = as_map(args.props.get("deploymentCircuitBreaker"))
    missing = [k for k in ("enable", "rollback") if breaker.get(k) is not True]
    if missing:
        report_violation(f"deploymentCircuitBreaker.{' and .'.join(missing)} not true: a deployment whose tasks "
                         "never become healthy must stop and roll back")


@RUNTIME.resource("ecs-task-logs-to-managed-group", "ECS containers have a log configuration; awslogs names its "
                                                    "group and never creates one (it would never expire).")
def ecs_task_logs_to_managed_group(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Containers log (awslogs to a named group, or FireLens) and never let the agent create a log group, which
    would be outside the stack and never expire."""
    if args.resource_type != ECS_TASK_DEFINITION:
        return
    for i, c in enumerate(_container_definitions(args) or []):
        name = c.get("name") or f"containerDefinitions[{i}]"
        logs = as_map(c.get("logConfiguration"))
        driver, options = logs.get("logDriver"), as_map(logs.get("options"))
        if not driver:
            report_violation(f"container {name!r} has no logConfiguration: its output would be lost")
        elif driver == "awslogs":
            if not options.get("awslogs-group"):
                report_violation(f"container {name!r}: awslogs without awslogs-group")
            if str(options.get("awslogs-create-group")).lower() == "true":
                report_violation(f"container {name!r}: awslogs-create-group creates a log group outside the stack, "
                                 "with no retention; log to the stack's log group")


@RUNTIME.resource("lb-listener-tls-only", "Load balancer listeners are HTTPS/TLS with a certificate and a TLS 1.3 "
                                          "policy, or HTTP listeners that only redirect to HTTPS.")
def lb_listener_tls_only(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Load balancer listeners terminate TLS (certificate, TLS 1.3 policy), or are HTTP listeners whose every
    default action redirects to HTTPS."""
    if args.resource_type not in LB_LISTENER_TYPES:
        return
    props = args.props
    protocol = str(props.get("protocol") or "HTTP").upper()  # an ALB listener defaults to HTTP
    if protocol in ("HTTPS", "TLS"):
        if not set_or_unknown(lambda: props.get("certificateArn")):
            report_violation(f"{protocol} listener without certificateArn")
        ssl_policy = str(props.get("sslPolicy") or "")
        if not ssl_policy.startswith(TLS13_POLICY_PREFIX):
            report_violation(f"sslPolicy is {ssl_policy or None!r}: it must be a {TLS13_POLICY_PREFIX}* policy "
                             "(the default allows TLS 1.0)")
        return
    if protocol == "HTTP":
        actions = [as_map(a) for a in as_list(props.get("defaultActions"))]
        forwards = [str(a.get("type")) for a in actions
                    if a.get("type") != "redirect" or str(dig(a, "redirect", "protocol")).upper() != "HTTPS"]
        if not actions or forwards:
            report_violation(f"HTTP listener on port {props.get('port')!r} does not only redirect to HTTPS "
                             f"(default actions: {', '.join(forwards) or 'none'})")
        return
    report_violation(f"listener protocol {protocol}: listeners must be HTTPS/TLS, or HTTP redirecting to HTTPS")



# --- the execution role (stack policy: a role's permissions are spread over several resources) -------------
def _depends(r: Any, prop: str, urns: set[str]) -> bool:
    return any(d.urn in urns for d in dependencies(r, prop))


def _statement_problems(doc: Props | None) -> list[str]:
    if doc is None:
        return ["the document is not a JSON object"]
    problems = []
    for i, st in enumerate(statements(doc)):
        if st.get("Effect") != "Allow":
            continue
        sid = st.get("Sid") or f"#{i}"
        if "NotAction" in st or "NotResource" in st:
            problems.append(f"statement {sid} uses NotAction/NotResource")
            continue
        actions = [str(a) for a in as_list(st.get("Action"))]
        wild = [a for a in actions if "*" in a or "?" in a]
        if wild:
            problems.append(f"statement {sid} grants wildcard action(s) {', '.join(wild)}")
        if "*" in [str(r) for r in as_list(st.get("Resource"))]:
            beyond = [a for a in actions if a.lower() not in STAR_RESOURCE_ACTIONS]
            if beyond:
                problems.append(f"statement {sid} grants {', '.join(beyond)} on Resource '*' (only "
                                "ecr:GetAuthorizationToken has no resource-level permission)")
    return problems


def _execution_roles(resources: Sequence[Any], report_violation: ReportViolation) -> list[Any]:
    """The roles the task definitions name in `executionRoleArn`: by property dependency (works at preview), by
    the role's `arn` output or by the role name ending the ARN (a role's id is its name). A role the stack does
    not declare is a violation (its permissions cannot be checked)."""
    roles = [r for r in resources if r.resource_type == IAM_ROLE]
    execution: dict[str, Any] = {}
    for td in resources:
        if td.resource_type != ECS_TASK_DEFINITION:
            continue
        arn = known_prop(td, "executionRoleArn")
        deps = {d.urn for d in dependencies(td, "executionRoleArn")}
        role_name = str(arn).rsplit("/", 1)[-1] if arn else None  # arn:aws:iam::<account>:role[/path]/<name>
        matched = [r for r in roles if r.urn in deps or (arn and known_prop(r, "arn") == arn)
                   or (role_name and role_name in (known_prop(r, "name"), known_prop(r, "id")))]
        if arn and not matched:
            report_violation(f"task definition {td.name!r}: execution role {arn} is not declared in this stack, so "
                             "its permissions cannot be checked", td.urn)
        for r in matched:
            execution[r.urn] = r
    return list(execution.values())


def _role_documents(role: Any, resources: Sequence[Any], report_violation: ReportViolation) -> list[Document]:
    """Every policy document of `role`: inline, RolePolicy, and managed Policies of the stack attached to it (by
    the role or a RolePolicyAttachment, linked by property dependency or by the role's name or id). An attached
    policy the stack does not declare (AWS managed or external) is a violation: it cannot be checked."""
    names = {v for v in (known_prop(role, "name"), known_prop(role, "id")) if isinstance(v, str) and v}
    found: list[Document] = [(f"inline policy #{i}", role.urn, lambda inline=inline: as_map(inline).get("policy"))
                             for i, inline in enumerate(as_list(known_prop(role, "inlinePolicies")))]
    attached: list[tuple[Any, Callable[[], Any]]] = [
        (role, lambda a=a: a) for a in as_list(known_prop(role, "managedPolicyArns"))]
    for r in resources:
        linked = _depends(r, "role", {role.urn}) or known_prop(r, "role") in names
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
            report_violation(f"execution role {role.name!r} has policy {policy_arn!r} attached, which is not "
                             "declared in this stack: write a scoped policy instead", via.urn)
    return found


@RUNTIME.stack("ecs-execution-role-least-privilege", "ECS execution roles grant no wildcard actions and no "
               "Resource '*' except ecr:GetAuthorizationToken, and carry no policy the stack does not declare.")
def ecs_execution_role_least_privilege(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every permission of a task definition's execution role is named (no wildcard actions) and scoped (no
    Resource '*' except ecr:GetAuthorizationToken), wherever it is attached: inline on the role, a RolePolicy,
    a managed Policy of the stack attached to it. AWS managed or external policies cannot be checked and are
    refused (AmazonECSTaskExecutionRolePolicy grants ECR and logs on '*')."""
    for role in _execution_roles(args.resources, report_violation):
        for what, urn, read in _role_documents(role, args.resources, report_violation):
            doc_known, raw = known(read)
            if not doc_known:
                continue  # unknown at preview: judged on `pulumi up`, when it is known
            for problem in _statement_problems(json_doc(raw)):
                report_violation(f"execution role {role.name!r}, {what}: {problem}", urn)


ECS_POLICY_NAMES = RUNTIME.names
