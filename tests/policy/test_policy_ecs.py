"""The ECS policies of the pack (policy/ecs.py), on crafted resources shaped like the inputs
pulumi-aws registers: compliant ones pass every policy, and each violation is reported by its own policy only.
Same harness as tests/policy/test_policy.py (tests/support/pack.py)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policy import aws, common, ecs
from tests.support.pack import BY_NAME, RESOURCE_POLICIES, STACK_POLICIES, check_resource, check_stack

ACCOUNT = "123456789012"
ARN = f"arn:aws:{{}}:us-east-1:{ACCOUNT}:"
TAGS = {"project": "webstack", "stack": "dev", "managed-by": "pulumi"}
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/"
LOG_GROUP_ARN = ARN.format("logs") + "log-group:/ecs/webstack-dev/webapp"
REPO_ARN = ARN.format("ecr") + "repository/webapp"
CERT = ARN.format("acm") + "certificate/0f0e0d0c-0b0a-0908-0706-050403020100"


def urn(rtype: str, name: str) -> str:
    return f"urn:pulumi:dev::webstack::test${rtype}::{name}"


def ROLE(name: str) -> str:  # noqa: N802 - reads like a reference in the stacks below
    return urn(common.IAM_ROLE, name)


# --- compliant resources ------------------------------------------------------------------------------------
def container(name: str, **changes: Any) -> dict[str, Any]:
    c: dict[str, Any] = {
        "name": name, "image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/webapp@sha256:{'c' * 64}",
        "essential": True, "user": "101:101", "readonlyRootFilesystem": True,
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/webstack-dev/webapp", "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": name}},
    }
    c.update(changes)
    return {k: val for k, val in c.items() if val is not None}


def task_definition(*containers: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    containers = containers or (container("webapp"), container("migrate", essential=False, user="101"))
    return ecs.ECS_TASK_DEFINITION, {
        "family": "webstack-dev-webapp", "cpu": "256", "memory": "512", "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"], "containerDefinitions": json.dumps(list(containers), sort_keys=True),
        "executionRoleArn": ROLE_ARN + "execution", "taskRoleArn": ROLE_ARN + "task", "tags": TAGS}


def service(**changes: Any) -> tuple[str, dict[str, Any]]:
    props: dict[str, Any] = {
        "name": "webapp", "cluster": ARN.format("ecs") + "cluster/webstack-dev",
        "taskDefinition": ARN.format("ecs") + "task-definition/webstack-dev-webapp:1", "desiredCount": 2,
        "capacityProviderStrategies": [{"capacityProvider": "FARGATE", "weight": 1, "base": 1}],
        "networkConfiguration": {"subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"],
                                 "assignPublicIp": False},
        "deploymentCircuitBreaker": {"enable": True, "rollback": True}, "tags": TAGS}
    props.update(changes)
    return ecs.ECS_SERVICE, {k: val for k, val in props.items() if val is not None}


def schedule(assign_public_ip: Any = False) -> tuple[str, dict[str, Any]]:
    return ecs.SCHEDULE, {
        "scheduleExpression": "cron(0 3 * * ? *)", "flexibleTimeWindow": {"mode": "OFF"},
        "target": {"arn": ARN.format("ecs") + "cluster/webstack-dev", "roleArn": ROLE_ARN + "scheduler",
                   "ecsParameters": {"taskDefinitionArn": ARN.format("ecs") + "task-definition/webstack-dev-webapp:1",
                                     "networkConfiguration": {"subnets": ["subnet-1"],
                                                              "assignPublicIp": assign_public_ip}}}}


def run_task_schedule(assign_public_ip: Any = "DISABLED", request: Any = None) -> tuple[str, dict[str, Any]]:
    """A schedule on Scheduler's universal target for ECS RunTask: the request in `input`, PascalCase."""
    body = {"Cluster": ARN.format("ecs") + "cluster/webstack-dev",
            "TaskDefinition": ARN.format("ecs") + "task-definition/webstack-dev-webapp:1",
            "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": ["subnet-1"],
                                                             "AssignPublicIp": assign_public_ip}}}
    return ecs.SCHEDULE, {
        "scheduleExpression": "cron(0 3 * * ? *)", "flexibleTimeWindow": {"mode": "OFF"},
        "target": {"arn": "arn:aws:scheduler:::aws-sdk:ecs:runTask", "roleArn": ROLE_ARN + "scheduler",
                   "input": json.dumps(body) if request is None else request}}


def event_target(assign_public_ip: Any = False) -> tuple[str, dict[str, Any]]:
    return ecs.EVENT_TARGET, {
        "rule": "nightly", "arn": ARN.format("ecs") + "cluster/webstack-dev", "roleArn": ROLE_ARN + "events",
        "ecsTarget": {"taskDefinitionArn": ARN.format("ecs") + "task-definition/webstack-dev-webapp:1",
                      "networkConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": assign_public_ip}}}


def redirect(protocol: str = "HTTPS") -> dict[str, Any]:
    return {"type": "redirect", "redirect": {"protocol": protocol, "port": "443", "statusCode": "HTTP_301"}}


def listener(protocol: str | None = "HTTPS", rtype: str = "aws:lb/listener:Listener",
             **changes: Any) -> tuple[str, dict[str, Any]]:
    lb = ARN.format("elasticloadbalancing") + "loadbalancer/app/webstack-dev/0123456789abcdef"
    if protocol in ("HTTPS", "TLS"):
        props: dict[str, Any] = {
            "loadBalancerArn": lb, "port": 443, "protocol": protocol, "certificateArn": CERT,
            "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "defaultActions": [{"type": "forward", "targetGroupArn": ARN.format("elasticloadbalancing") + "tg/1"}],
            "tags": TAGS}
    else:
        props = {"loadBalancerArn": lb, "port": 80, "protocol": protocol, "defaultActions": [redirect()],
                 "tags": TAGS}
    props.update(changes)
    return rtype, {k: val for k, val in props.items() if val is not None}


def edit_container(index: int, **changes: Any) -> tuple[str, dict[str, Any]]:
    rtype, props = task_definition()
    containers = json.loads(props["containerDefinitions"])
    containers[index].update(changes)
    containers[index] = {k: val for k, val in containers[index].items() if val is not None}
    props["containerDefinitions"] = json.dumps(containers)
    return rtype, props


def with_logs(index: int, edit: Callable[[dict[str, Any]], Any]) -> tuple[str, dict[str, Any]]:
    rtype, props = task_definition()
    containers = json.loads(props["containerDefinitions"])
    edit(containers[index]["logConfiguration"])
    props["containerDefinitions"] = json.dumps(containers)
    return rtype, props


COMPLIANT: list[tuple[str, Callable[[], tuple[str, dict[str, Any]]]]] = [
    ("task-definition", task_definition),
    ("task-definition-named-user", lambda: edit_container(0, user="nginx")),
    ("task-definition-firelens-logs", lambda: with_logs(1, lambda lc: lc.update(logDriver="awsfirelens", options={}))),
    ("service", service),
    ("service-code-deploy-without-breaker",
     lambda: service(deploymentController={"type": "CODE_DEPLOY"}, deploymentCircuitBreaker=None)),
    ("service-bridge-mode-no-network-configuration", lambda: service(networkConfiguration=None)),
    ("schedule", schedule),
    ("schedule-public-ip-unset", lambda: schedule(None)),
    ("run-task-schedule", run_task_schedule),
    ("run-task-schedule-input-unknown-at-preview", lambda: run_task_schedule(request=UNKNOWN_STRING_VALUE)),
    ("event-target", event_target),
    ("https-listener", listener),
    ("http-redirect-listener", lambda: listener("HTTP")),
    ("http-redirect-listener-alb-alias-type", lambda: listener("HTTP", rtype="aws:alb/listener:Listener")),
    ("nlb-tls-listener", lambda: listener("TLS")),
    ("https-listener-certificate-unknown-at-preview", lambda: listener(certificateArn=UNKNOWN_STRING_VALUE)),
]


@pytest.mark.parametrize("build", [c[1] for c in COMPLIANT], ids=[c[0] for c in COMPLIANT])
def test_compliant_resources_pass_every_policy(build: Callable[[], tuple[str, dict[str, Any]]]) -> None:
    rtype, props = build()
    found = [(p.name, m) for p in RESOURCE_POLICIES for m in check_resource(p, rtype, props, urn(rtype, "ok"), "ok")]
    assert found == []


# --- resource policy violations ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    policy: str
    id: str
    build: Callable[[], tuple[str, dict[str, Any]]]
    expect: str


NON_ROOT, NO_PUBLIC_IP, BREAKER = "ecs-task-non-root-read-only", "ecs-no-public-ip", "ecs-deployment-circuit-breaker"
LOGS, LISTENER = "ecs-task-logs-to-managed-group", "lb-listener-tls-only"

VIOLATIONS = [
    Case(NON_ROOT, "no-user", lambda: edit_container(0, user=None), "container 'webapp': no user"),
    Case(NON_ROOT, "uid-0", lambda: edit_container(0, user="0:101"), "user '0:101' is root"),
    Case(NON_ROOT, "root-by-name", lambda: edit_container(1, user="root"), "container 'migrate': user 'root' is root"),
    Case(NON_ROOT, "writable-root", lambda: edit_container(0, readonlyRootFilesystem=False),
         "readonlyRootFilesystem is not true"),
    Case(NON_ROOT, "camel-case-typo", lambda: edit_container(0, readonlyRootFilesystem=None,
                                                             readOnlyRootFilesystem=True),
         "readonlyRootFilesystem is not true"),
    Case(NON_ROOT, "not-json", lambda: (ecs.ECS_TASK_DEFINITION, {**task_definition()[1], "containerDefinitions": "["}),
         "not a JSON list"),
    Case(NON_ROOT, "bare-container",
         lambda: task_definition(container("webapp", user=None, readonlyRootFilesystem=None)),
         "container 'webapp': no user (the image's USER decides, root unless it says otherwise); "
         "readonlyRootFilesystem is not true"),
    Case(NON_ROOT, "no-containers", lambda: (ecs.ECS_TASK_DEFINITION, {**task_definition()[1],
                                                                     "containerDefinitions": "[]"}),
         "containerDefinitions is empty"),
    Case(NO_PUBLIC_IP, "service", lambda: service(networkConfiguration={"subnets": ["subnet-1"],
                                                                       "assignPublicIp": True}),
         "networkConfiguration.assignPublicIp is true"),
    Case(NO_PUBLIC_IP, "schedule", lambda: schedule(True), "target.ecsParameters.networkConfiguration.assignPublicIp"),
    Case(NO_PUBLIC_IP, "event-target", lambda: event_target(True), "ecsTarget.networkConfiguration.assignPublicIp"),
    Case(NO_PUBLIC_IP, "schedule-api-spelling", lambda: schedule("ENABLED"), "assignPublicIp is true"),
    Case(NO_PUBLIC_IP, "run-task-schedule", lambda: run_task_schedule("ENABLED"),
         "target.input (ECS RunTask) NetworkConfiguration.AwsvpcConfiguration.assignPublicIp is true"),
    Case(BREAKER, "missing", lambda: service(deploymentCircuitBreaker=None),
         "deploymentCircuitBreaker.enable and .rollback not true"),
    Case(BREAKER, "no-rollback", lambda: service(deploymentCircuitBreaker={"enable": True, "rollback": False}),
         "deploymentCircuitBreaker.rollback not true"),
    Case(BREAKER, "explicit-ecs-controller-disabled",
         lambda: service(deploymentController={"type": "ECS"}, deploymentCircuitBreaker={"enable": False,
                                                                                         "rollback": True}),
         "deploymentCircuitBreaker.enable not true"),
    Case(LOGS, "no-log-configuration", lambda: edit_container(1, logConfiguration=None),
         "container 'migrate' has no logConfiguration"),
    Case(LOGS, "agent-creates-group", lambda: with_logs(0, lambda lc: lc["options"].update(
        {"awslogs-create-group": "true"})), "awslogs-create-group creates a log group outside the stack"),
    Case(LOGS, "awslogs-without-group", lambda: with_logs(0, lambda lc: lc["options"].pop("awslogs-group")),
         "awslogs without awslogs-group"),
    Case(LISTENER, "http-forward", lambda: listener("HTTP", defaultActions=[
        {"type": "forward", "targetGroupArn": "arn:tg"}]), "HTTP listener on port 80 does not only redirect"),
    Case(LISTENER, "default-protocol-forward", lambda: listener(None, defaultActions=[
        {"type": "forward", "targetGroupArn": "arn:tg"}]), "(default actions: forward)"),
    Case(LISTENER, "http-redirect-keeps-protocol", lambda: listener("HTTP", defaultActions=[redirect("#{protocol}")]),
         "(default actions: redirect)"),
    Case(LISTENER, "http-redirect-and-fixed-response", lambda: listener("HTTP", defaultActions=[
        redirect(), {"type": "fixed-response", "fixedResponse": {"contentType": "text/plain", "statusCode": "404"}}]),
         "(default actions: fixed-response)"),
    Case(LISTENER, "http-no-actions", lambda: listener("HTTP", defaultActions=[]), "(default actions: none)"),
    Case(LISTENER, "https-default-ssl-policy", lambda: listener(sslPolicy=None), "sslPolicy is None"),
    Case(LISTENER, "https-tls12-policy", lambda: listener(sslPolicy="ELBSecurityPolicy-2016-08"),
         "sslPolicy is 'ELBSecurityPolicy-2016-08'"),
    Case(LISTENER, "https-no-certificate", lambda: listener(certificateArn=None), "HTTPS listener without certificate"),
    Case(LISTENER, "tcp", lambda: listener("TCP", rtype="aws:alb/listener:Listener"), "listener protocol TCP"),
]


@pytest.mark.parametrize("case", VIOLATIONS, ids=lambda c: f"{c.policy}:{c.id}")
def test_policy_reports_violation(case: Case) -> None:
    rtype, props = case.build()
    found = check_resource(BY_NAME[case.policy], rtype, props, urn(rtype, "bad"), "bad")
    assert any(case.expect in m for m in found), found
    others = [(p.name, m) for p in RESOURCE_POLICIES if p.name != case.policy
              for m in check_resource(p, rtype, props, urn(rtype, "bad"), "bad")]
    assert others == []


# --- the execution role (stack policy) --------------------------------------------------------------------
EXEC = "ecs-execution-role-least-privilege"


def statement(actions: list[str] | str, resources: list[str] | str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def execution_document(*extra: dict[str, Any]) -> dict[str, Any]:
    """The execution role's scoped permissions (what the ECS core's execution role grants)."""
    return {"Version": "2012-10-17", "Statement": [
        statement("ecr:GetAuthorizationToken", "*", Sid="EcrLogin"),
        statement(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"], REPO_ARN,
                  Sid="PullAppImage"),
        statement(["logs:CreateLogStream", "logs:PutLogEvents"], f"{LOG_GROUP_ARN}:*", Sid="WriteLogs"),
        statement("ssm:GetParameters", ARN.format("ssm") + "parameter/webstack/dev/*", Sid="ReadParameters"),
        *extra]}


@dataclass
class Res:
    rtype: str
    name: str
    props: dict[str, Any]
    deps: dict[str, list[str]]  # property -> URNs of the resources it depends on

    @property
    def urn(self) -> str:
        return urn(self.rtype, self.name)


def trust() -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}]})


def ecs_stack(execution_policy: dict[str, Any] | None = None) -> list[Res]:
    """A task definition, its execution role with a RolePolicy, and a task role with ECS Exec on '*' (allowed:
    the policy is about the execution role)."""
    exec_ssm = {"Version": "2012-10-17", "Statement": [statement(
        ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
         "ssmmessages:OpenDataChannel"], "*")]}
    _, td = task_definition()
    return [
        Res(common.IAM_ROLE, "execution", {"assumeRolePolicy": trust(), "tags": TAGS, "arn": ROLE_ARN + "execution",
                                      "name": "execution-1a2b3c4", "id": "execution-1a2b3c4"}, {}),
        Res(common.IAM_ROLE, "task", {"assumeRolePolicy": trust(), "tags": TAGS, "arn": ROLE_ARN + "task",
                                 "name": "task-5d6e7f8", "id": "task-5d6e7f8"}, {}),
        Res(common.IAM_ROLE_POLICY, "execution", {"role": "execution-1a2b3c4",
                                             "policy": json.dumps(execution_policy or execution_document())},
            {"role": [ROLE("execution")]}),
        Res(common.IAM_ROLE_POLICY, "task-exec", {"role": "task-5d6e7f8", "policy": json.dumps(exec_ssm)},
            {"role": [ROLE("task")]}),
        Res(ecs.ECS_TASK_DEFINITION, "webapp", td,
            {"executionRoleArn": [ROLE("execution")], "taskRoleArn": [ROLE("task")]}),
    ]


def policy_resources(stack: list[Res]) -> list[PolicyResource]:
    built = {r.urn: PolicyResource(r.rtype, unknown_checking_proxy(copy.deepcopy(r.props)), r.urn, r.name,
                                   opts=None, provider=None, parent=None, dependencies=[],  # type: ignore[arg-type]
                                   property_dependencies={}) for r in stack}
    for r in stack:
        built[r.urn].property_dependencies = {prop: [built[u] for u in urns] for prop, urns in r.deps.items()}
    return list(built.values())


def edited_stack(edit: Callable[[list[Res]], Any], policy: dict[str, Any] | None = None) -> list[Res]:
    stack = ecs_stack(policy)
    edit(stack)
    return stack


def find(stack: list[Res], rtype: str, name: str) -> Res:
    return next(r for r in stack if r.rtype == rtype and r.name == name)


MANAGED_EXEC = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def attach_managed(stack: list[Res]) -> None:
    stack.append(Res(common.IAM_ROLE_POLICY_ATTACHMENT, "execution-managed",
                     {"role": "execution-1a2b3c4", "policyArn": MANAGED_EXEC}, {"role": [ROLE("execution")]}))


def attach_stack_policy(stack: list[Res]) -> None:
    doc = {"Version": "2012-10-17", "Statement": [statement("secretsmanager:*", ARN.format("secretsmanager") + "*")]}
    stack.append(Res(common.IAM_MANAGED_POLICY, "execution-extra",
                     {"policy": json.dumps(doc), "tags": TAGS, "arn": f"arn:aws:iam::{ACCOUNT}:policy/extra"}, {}))
    stack.append(Res(common.IAM_ROLE_POLICY_ATTACHMENT, "execution-extra",
                     {"role": "execution-1a2b3c4", "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/extra"},
                     {"role": [ROLE("execution")], "policyArn": [urn(common.IAM_MANAGED_POLICY, "execution-extra")]}))


def inline_not_action(stack: list[Res]) -> None:
    find(stack, common.IAM_ROLE, "execution").props["inlinePolicies"] = [{"name": "broad", "policy": json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]})}]


def without_dependencies(stack: list[Res]) -> None:
    """After `pulumi up` outputs are known: the role is matched by ARN and its policy by the role's name."""
    for r in stack:
        r.deps = {}


def inputs_and_id_only(stack: list[Res]) -> None:
    """No dependencies and no `arn` output (what an offline harness may give): the role is matched by the name
    that ends the execution role ARN, which is the role's id."""
    without_dependencies(stack)
    role = find(stack, common.IAM_ROLE, "execution")
    del role.props["arn"], role.props["name"]
    find(stack, ecs.ECS_TASK_DEFINITION, "webapp").props["executionRoleArn"] = ROLE_ARN + role.props["id"]


def preview(stack: list[Res]) -> None:
    """A first preview: the role ARN and name are unknown, the property dependencies are there."""
    role = find(stack, common.IAM_ROLE, "execution")
    role.props.update(arn=UNKNOWN_STRING_VALUE, name=UNKNOWN_STRING_VALUE, id=UNKNOWN_STRING_VALUE)
    find(stack, ecs.ECS_TASK_DEFINITION, "webapp").props["executionRoleArn"] = UNKNOWN_STRING_VALUE
    find(stack, common.IAM_ROLE_POLICY, "execution").props["role"] = UNKNOWN_STRING_VALUE


def documents_unknown(stack: list[Res]) -> None:
    """A first preview: every document and attached policy ARN is computed from resources not created yet."""
    preview(stack)
    attach_stack_policy(stack)
    find(stack, common.IAM_ROLE_POLICY, "execution").props["policy"] = UNKNOWN_STRING_VALUE
    find(stack, common.IAM_MANAGED_POLICY, "execution-extra").props["policy"] = UNKNOWN_STRING_VALUE
    find(stack, common.IAM_ROLE_POLICY_ATTACHMENT, "execution-extra").props["policyArn"] = UNKNOWN_STRING_VALUE
    find(stack, common.IAM_ROLE, "execution").props["inlinePolicies"] = [{"name": "x", "policy": UNKNOWN_STRING_VALUE}]


def external_role(stack: list[Res]) -> None:
    td = find(stack, ecs.ECS_TASK_DEFINITION, "webapp")
    td.props["executionRoleArn"] = ROLE_ARN + "ecsTaskExecutionRole"
    td.deps = {}


WILDCARD_ECR = execution_document(statement("ecr:*", REPO_ARN))
LOGS_ON_STAR = execution_document(statement(["logs:CreateLogStream", "logs:PutLogEvents"], "*"))
STACK_VIOLATIONS: list[tuple[str, Callable[[], list[Res]], str, str]] = [
    # (id, stack, expected message part, name of the resource it is reported on)
    ("wildcard-action", lambda: ecs_stack(WILDCARD_ECR), "grants wildcard action(s) ecr:*", "execution"),
    ("resource-star", lambda: ecs_stack(LOGS_ON_STAR),
     "grants logs:CreateLogStream, logs:PutLogEvents on Resource '*'", "execution"),
    ("aws-managed-policy", lambda: edited_stack(attach_managed), f"{MANAGED_EXEC!r} attached", "execution-managed"),
    ("stack-managed-policy", lambda: edited_stack(attach_stack_policy),
     "policy 'execution-extra': statement #0 grants wildcard action(s) secretsmanager:*", "execution-extra"),
    ("inline-not-action", lambda: edited_stack(inline_not_action), "inline policy #0: statement #0 uses NotAction",
     "execution"),
    ("matched-by-outputs", lambda: edited_stack(without_dependencies, WILDCARD_ECR), "wildcard action(s) ecr:*",
     "execution"),
    ("matched-at-preview", lambda: edited_stack(preview, LOGS_ON_STAR), "on Resource '*'", "execution"),
    ("matched-by-role-name", lambda: edited_stack(inputs_and_id_only, WILDCARD_ECR), "wildcard action(s) ecr:*",
     "execution"),
    ("external-role", lambda: edited_stack(external_role), "ecsTaskExecutionRole is not declared in this stack",
     "webapp"),
]


@pytest.mark.parametrize(("build", "expect", "on"), [c[1:] for c in STACK_VIOLATIONS],
                         ids=[c[0] for c in STACK_VIOLATIONS])
def test_execution_role_violations(build: Callable[[], list[Res]], expect: str, on: str) -> None:
    stack = build()
    reported = check_stack(BY_NAME[EXEC], policy_resources(stack))
    assert any(expect in m for m, _ in reported), reported
    assert {u for _, u in reported} <= {r.urn for r in stack if r.name == on}
    # nothing else in the pack objects to these resources
    others = [(p.name, m) for p in STACK_POLICIES if p.name != EXEC for m, _ in check_stack(p, policy_resources(stack))]
    others += [(p.name, m) for p in RESOURCE_POLICIES for r in stack
               for m in check_resource(p, r.rtype, r.props, r.urn, r.name)]
    assert others == []


@pytest.mark.parametrize("build", [ecs_stack, lambda: edited_stack(without_dependencies),
                                   lambda: edited_stack(preview), lambda: edited_stack(inputs_and_id_only),
                                   lambda: edited_stack(documents_unknown, WILDCARD_ECR)],
                         ids=["dependencies", "outputs", "preview", "role-name", "documents-unknown-at-preview"])
def test_scoped_execution_role_passes(build: Callable[[], list[Res]]) -> None:
    """Including the task role's ECS Exec statement on '*': the policy judges execution roles only."""
    assert check_stack(BY_NAME[EXEC], policy_resources(build())) == []


# --- the pack ---------------------------------------------------------------------------------------------
def test_every_ecs_policy_has_violation_cases() -> None:
    assert {c.policy for c in VIOLATIONS} | {EXEC} == ecs.ECS_POLICY_NAMES
    assert set(BY_NAME) >= ecs.ECS_POLICY_NAMES  # registered in POLICIES, which the pack's __main__ builds from


def test_log_retention_is_the_existing_policy() -> None:
    """'log retention set on every log group' is the pack's log-group-retention policy, not a second one."""
    found = check_resource(BY_NAME["log-group-retention"], aws.LOG_GROUP, {"name": "/ecs/webstack-dev/webapp",
                                                                         "tags": TAGS})
    assert found and "retentionInDays is None" in found[0]


def test_preview_unknowns() -> None:
    """At a first preview the container definitions (they hold the image digest) are unknown: the task definition
    policies cannot run and say so (the SDK's UnknownValueError, reported by pulumi-policy as an advisory), then
    run on `pulumi up`. An unknown certificate still counts as set."""
    rtype, td = task_definition()
    td["containerDefinitions"] = UNKNOWN_STRING_VALUE
    for name in (NON_ROOT, LOGS):
        with pytest.raises(UnknownValueError):
            check_resource(BY_NAME[name], rtype, td)
    rtype, svc = service(networkConfiguration={"subnets": [UNKNOWN_STRING_VALUE], "assignPublicIp": False})
    assert check_resource(BY_NAME[NO_PUBLIC_IP], rtype, svc) == []
