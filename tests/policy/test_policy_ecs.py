"""The ECS policies of the pack (policy/ecs.py, policy/ecs_roles.py), on crafted resources shaped like the inputs
pulumi-aws registers: compliant ones pass every policy, and each violation is reported by its own policy only.
Same harness as tests/policy/test_policy.py (tests/support/pack.py). The renders themselves, broken one setting at
a time, are in tests/policy/test_mutations.py."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import parliament
import pytest
from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policy import aws, common, ecs, ecs_roles
from tests.support.pack import BY_NAME, RESOURCE_POLICIES, STACK_POLICIES, check_plan, check_resource, check_stack
from tests.support.plan_edits import add_resource, inputs, setp
from tools.render import Plan

ACCOUNT = "123456789012"
ARN = f"arn:aws:{{}}:us-east-1:{ACCOUNT}:"
TAGS = {"project": "webstack", "stack": "dev", "managed-by": "pulumi"}
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/"
LOG_GROUP_NAME = "/ecs/webstack-dev/webapp"
LOG_GROUP_ARN = ARN.format("logs") + f"log-group:{LOG_GROUP_NAME}"
REPO_ARN = ARN.format("ecr") + "repository/webapp"
PARAMETER_ARN = ARN.format("ssm") + "parameter/webstack/dev/db-password"
KEY_ARN = ARN.format("kms") + "key/1234abcd-12ab-34cd-56ef-1234567890ab"
CERT = ARN.format("acm") + "certificate/0f0e0d0c-0b0a-0908-0706-050403020100"
DIGEST = "@sha256:" + "c" * 64
HARDENED, IMAGES, NO_PUBLIC_IP = "ecs-containers-hardened", "ecs-images-pinned-by-digest", "ecs-no-public-ip"
BREAKER, LOGS, LISTENER = "ecs-deployment-circuit-breaker", "ecs-task-logs-to-managed-group", "lb-listener-tls-only"
EXEC, TASK_ROLE = "ecs-execution-role-least-privilege", "ecs-task-role-least-privilege"
STACK_LOGS, REACH = "ecs-logs-to-stack-log-group", "ecs-tasks-reachable-only-from-load-balancer"


def urn(rtype: str, name: str) -> str:
    return f"urn:pulumi:dev::webstack::test${rtype}::{name}"


def ROLE(name: str) -> str:  # noqa: N802 - reads like a reference in the stacks below
    return urn(common.IAM_ROLE, name)


# --- compliant resources ------------------------------------------------------------------------------------
def container(name: str, **changes: Any) -> dict[str, Any]:
    """A hardened container: numeric non-root user, read-only root, ALL capabilities dropped, a health check,
    awslogs to the stack's group, its image by digest. `changes` set keys (None removes one)."""
    c: dict[str, Any] = {
        "name": name, "image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/webapp{DIGEST}",
        "essential": True, "user": "101:101", "readonlyRootFilesystem": True,
        "linuxParameters": {"capabilities": {"add": [], "drop": ["ALL"]}},
        "healthCheck": {"command": ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]},
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": LOG_GROUP_NAME, "awslogs-region": "us-east-1", "awslogs-stream-prefix": name}},
    }
    c.update(changes)
    return {k: val for k, val in c.items() if val is not None}


def app_container(**changes: Any) -> dict[str, Any]:
    return container("webapp", secrets=[{"name": "DB_PASSWORD", "valueFrom": PARAMETER_ARN}], **changes)


def migrate_container(**changes: Any) -> dict[str, Any]:
    """A one-shot container (essential false, the init-container analogue: no health check needed)."""
    return container("migrate", essential=False, user="101", healthCheck=None, **changes)


def task_definition(*containers: dict[str, Any], **changes: Any) -> tuple[str, dict[str, Any]]:
    containers = containers or (app_container(), migrate_container())
    props = {"family": "webstack-dev-webapp", "cpu": "256", "memory": "512", "networkMode": "awsvpc",
             "requiresCompatibilities": ["FARGATE"], "containerDefinitions": json.dumps(list(containers)),
             "executionRoleArn": ROLE_ARN + "execution", "taskRoleArn": ROLE_ARN + "task", "tags": TAGS}
    props.update(changes)
    return ecs.ECS_TASK_DEFINITION, {k: val for k, val in props.items() if val is not None}


def on_ec2(*containers: dict[str, Any], **changes: Any) -> tuple[str, dict[str, Any]]:
    """An EC2-only task definition: every container sets no-new-privileges (Fargate would refuse it)."""
    containers = containers or (app_container(), migrate_container())
    safe = [{"dockerSecurityOptions": ["no-new-privileges"], **c} for c in containers]
    return task_definition(*safe, requiresCompatibilities=["EC2"], **changes)


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


def blue_green(alarms: dict[str, Any] | None = None, strategy: str = "BLUE_GREEN") -> tuple[str, dict[str, Any]]:
    """A blue/green (or linear, canary) service whose deployment alarms roll it back, without circuit breaker."""
    return service(deploymentCircuitBreaker=None, deploymentConfiguration={"strategy": strategy,
                                                                           "bakeTimeInMinutes": "10"},
                   alarms=alarms if alarms is not None else {"alarmNames": ["webapp-5xx"], "enable": True,
                                                             "rollback": True})


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


def with_logs(index: int, edit: Callable[[dict[str, Any]], Any], *extra: dict[str, Any]
              ) -> tuple[str, dict[str, Any]]:
    """The task definition (plus `extra` containers), `edit(logConfiguration)` applied to container `index`."""
    containers = [app_container(), migrate_container(), *extra]
    edit(containers[index]["logConfiguration"])
    return task_definition(*containers)


def log_router(**changes: Any) -> dict[str, Any]:
    """A FireLens log router: hardened like any container, its own logs to the stack's group with awslogs."""
    return container("log-router", **{"image": f"public.ecr.aws/aws-observability/aws-for-fluent-bit{DIGEST}",
                                      "firelensConfiguration": {"type": "fluentbit"}, **changes})


FIRELENS_TO_CLOUDWATCH = {"Name": "cloudwatch_logs", "region": "eu-west-1", "log_group_name": LOG_GROUP_NAME,
                          "log_stream_prefix": "migrate/", "auto_create_group": "false"}


def firelens(options: dict[str, Any] | None = None) -> Callable[[dict[str, Any]], None]:
    """FireLens to CloudWatch Logs (the stack's group), `options` changing it (None drops an option)."""
    merged = {k: v for k, v in {**FIRELENS_TO_CLOUDWATCH, **(options or {})}.items() if v is not None}
    return lambda lc: lc.update(logDriver="awsfirelens", options=merged)


COMPLIANT: list[tuple[str, Callable[[], tuple[str, dict[str, Any]]]]] = [
    ("task-definition", task_definition),
    ("task-definition-uid-with-named-group", lambda: edit_container(0, user="101:nginx")),
    ("task-definition-firelens-logs", lambda: with_logs(1, firelens(), log_router())),
    # FireLens needs its router to run as root (infra/ecs/sidecars.py): uid 0, said explicitly, is allowed there only
    ("task-definition-firelens-router-as-root", lambda: with_logs(1, firelens(), log_router(user="0"))),
    ("task-definition-net-bind-service-added-back",
     lambda: edit_container(0, linuxParameters={"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}})),
    ("ec2-task-definition-no-new-privileges", on_ec2),
    ("ec2-task-definition-memory-per-container",
     lambda: on_ec2(app_container(memory=256), migrate_container(memory=128), memory=None)),
    ("service", service),
    ("service-code-deploy-without-breaker",
     lambda: service(deploymentController={"type": "CODE_DEPLOY"}, deploymentCircuitBreaker=None)),
    ("service-blue-green-alarms-roll-back", blue_green),
    ("service-canary-alarm-names-unknown-at-preview",
     lambda: blue_green({"alarmNames": [UNKNOWN_STRING_VALUE], "enable": True, "rollback": True}, "CANARY")),
    ("service-linear-with-circuit-breaker",
     lambda: service(deploymentConfiguration={"strategy": "LINEAR"})),
    ("service-bridge-mode-no-network-configuration", lambda: service(networkConfiguration=None)),
    ("schedule", schedule),
    ("schedule-public-ip-unset", lambda: schedule(None)),
    ("run-task-schedule", run_task_schedule),
    ("run-task-schedule-input-unknown-at-preview", lambda: run_task_schedule(request=UNKNOWN_STRING_VALUE)),
    ("event-target", event_target),
    ("https-listener", listener),
    ("https-listener-fips-tls13-only", lambda: listener(sslPolicy="ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04")),
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


def caps(drop: list[str], add: list[str] | None = None) -> dict[str, Any]:
    return {"capabilities": {"drop": drop, "add": add or []}}


def sidecar(**changes: Any) -> dict[str, Any]:
    """A collector sidecar, hardened unless `changes` say otherwise."""
    return container("collector", **{"image": f"public.ecr.aws/aws-observability/aws-otel-collector{DIGEST}",
                                      **changes})


VIOLATIONS = [
    Case(HARDENED, "no-user", lambda: edit_container(0, user=None), "container 'webapp': no user"),
    Case(HARDENED, "uid-0", lambda: edit_container(0, user="0:101"), "user '0:101' is root"),
    Case(HARDENED, "root-by-name", lambda: edit_container(1, user="root"), "container 'migrate': user 'root' is root"),
    Case(HARDENED, "named-user", lambda: edit_container(0, user="nginx"), "user 'nginx' is a name, not a numeric uid"),
    Case(HARDENED, "writable-root", lambda: edit_container(0, readonlyRootFilesystem=False),
         "readonlyRootFilesystem is not true"),
    Case(HARDENED, "camel-case-typo", lambda: edit_container(0, readonlyRootFilesystem=None,
                                                             readOnlyRootFilesystem=True),
         "readonlyRootFilesystem is not true"),
    Case(HARDENED, "privileged", lambda: on_ec2(app_container(privileged=True)), "privileged is true"),
    Case(HARDENED, "capabilities-kept", lambda: edit_container(0, linuxParameters=None),
         "capabilities.drop does not include ALL"),
    Case(HARDENED, "only-net-raw-dropped", lambda: edit_container(1, linuxParameters=caps(["NET_RAW"])),
         "container 'migrate': linuxParameters.capabilities.drop does not include ALL"),
    Case(HARDENED, "sys-admin-added-back", lambda: edit_container(0, linuxParameters=caps(["ALL"], ["CAP_SYS_ADMIN"])),
         "capabilities.add has SYS_ADMIN: only NET_BIND_SERVICE may be added back"),
    Case(HARDENED, "all-added-back", lambda: edit_container(0, linuxParameters=caps(["ALL"], ["ALL"])),
         "capabilities.add has ALL"),
    Case(HARDENED, "ec2-without-no-new-privileges",
         lambda: task_definition(app_container(), requiresCompatibilities=["EC2"]),
         "container 'webapp': dockerSecurityOptions lacks no-new-privileges"),
    Case(HARDENED, "compatibility-unset-defaults-to-ec2",
         lambda: task_definition(app_container(), requiresCompatibilities=None), "lacks no-new-privileges"),
    Case(HARDENED, "ec2-sidecar-without-no-new-privileges",
         lambda: task_definition(app_container(dockerSecurityOptions=["no-new-privileges"]), sidecar(),
                                 requiresCompatibilities=["EC2"]),
         "container 'collector': dockerSecurityOptions lacks no-new-privileges"),
    Case(HARDENED, "no-health-check", lambda: edit_container(0, healthCheck=None), "no healthCheck"),
    Case(HARDENED, "essential-sidecar-without-health-check",
         lambda: task_definition(app_container(), sidecar(healthCheck={"interval": 30})),
         "container 'collector': no healthCheck"),
    Case(HARDENED, "sidecar-as-root", lambda: task_definition(app_container(), sidecar(user="0")),
         "container 'collector': user '0' is root"),
    Case(HARDENED, "host-network", lambda: on_ec2(networkMode="host"), "networkMode is host"),
    Case(HARDENED, "host-ipc", lambda: on_ec2(ipcMode="host"), "ipcMode is host"),
    Case(HARDENED, "no-task-cpu", lambda: on_ec2(cpu=None), "the task sets no cpu"),
    Case(HARDENED, "soft-memory-only",
         lambda: on_ec2(app_container(memoryReservation=256), migrate_container(memory=128), memory=None),
         "no memory limit"),
    Case(HARDENED, "not-json", lambda: (ecs.ECS_TASK_DEFINITION, {**task_definition()[1], "containerDefinitions": "["}),
         "not a JSON list"),
    Case(HARDENED, "bare-container",
         lambda: task_definition(container("webapp", user=None, readonlyRootFilesystem=None)),
         "container 'webapp': no user (the image's USER decides, root unless it says otherwise); "
         "readonlyRootFilesystem is not true"),
    Case(HARDENED, "firelens-router-as-root-writable",
         lambda: with_logs(1, firelens(), log_router(user="0", readonlyRootFilesystem=False)),
         "container 'log-router': readonlyRootFilesystem is not true"),
    Case(HARDENED, "firelens-router-root-by-name", lambda: with_logs(1, firelens(), log_router(user="root")),
         "container 'log-router': user 'root' is root"),
    Case(HARDENED, "firelens-router-user-left-to-the-image", lambda: with_logs(1, firelens(), log_router(user=None)),
         "container 'log-router': no user"),
    Case(HARDENED, "root-app-beside-a-router",
         lambda: task_definition(app_container(user="0"), migrate_container(), log_router(user="0")),
         "container 'webapp': user '0' is root"),
    Case(HARDENED, "no-containers", lambda: (ecs.ECS_TASK_DEFINITION, {**task_definition()[1],
                                                                     "containerDefinitions": "[]"}),
         "containerDefinitions is empty"),
    Case(IMAGES, "tag", lambda: edit_container(0, image=f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/webapp:1.2.3"),
         "webapp:1.2.3' is not pinned by digest"),
    Case(IMAGES, "sidecar-short-digest",
         lambda: task_definition(app_container(), sidecar(image="otel/opentelemetry-collector@sha256:abc")),
         "container 'collector' image 'otel/opentelemetry-collector@sha256:abc' is not pinned by digest"),
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
    Case(BREAKER, "rolling-with-alarms-only",  # alarms alone do not stop tasks that never become healthy
         lambda: blue_green(strategy="ROLLING"), "deploymentCircuitBreaker.enable and .rollback not true"),
    Case(BREAKER, "blue-green-without-alarms", lambda: blue_green({}), "BLUE_GREEN deployment with no rollback"),
    Case(BREAKER, "blue-green-alarms-without-rollback",
         lambda: blue_green({"alarmNames": ["webapp-5xx"], "enable": True, "rollback": False}),
         "BLUE_GREEN deployment with no rollback"),
    Case(BREAKER, "linear-alarms-naming-none",
         lambda: blue_green({"alarmNames": [], "enable": True, "rollback": True}, "LINEAR"),
         "LINEAR deployment with no rollback"),
    Case(LOGS, "no-log-configuration", lambda: edit_container(1, logConfiguration=None),
         "container 'migrate' has no logConfiguration"),
    Case(LOGS, "agent-creates-group", lambda: with_logs(0, lambda lc: lc["options"].update(
        {"awslogs-create-group": "true"})), "awslogs-create-group creates a log group outside the stack"),
    Case(LOGS, "awslogs-without-group", lambda: with_logs(0, lambda lc: lc["options"].pop("awslogs-group")),
         "awslogs without awslogs-group"),
    Case(LOGS, "logs-stay-on-the-instance", lambda: with_logs(0, lambda lc: lc.update(logDriver="json-file")),
         "logDriver 'json-file' does not ship to a CloudWatch log group"),
    Case(LOGS, "firelens-without-router", lambda: with_logs(1, firelens()),
         "container 'migrate': awsfirelens without a log router"),
    Case(LOGS, "firelens-creates-group", lambda: with_logs(1, firelens({"auto_create_group": "true"}), log_router()),
         "auto_create_group creates a log group outside the stack"),
    Case(LOGS, "firelens-to-http", lambda: with_logs(1, firelens({"Name": "http", "Host": "logs.example.net",
                                                                  "log_group_name": None}), log_router()),
         "awsfirelens output Name 'http' with log_group_name None"),
    Case(LOGS, "firelens-to-kinesis-naming-the-group", lambda: with_logs(1, firelens({"Name": "kinesis_firehose"}),
                                                                         log_router()),
         "awsfirelens output Name 'kinesis_firehose'"),
    Case(LOGS, "firelens-to-cloudwatch-without-group", lambda: with_logs(1, firelens({"log_group_name": None}),
                                                                         log_router()),
         "output Name 'cloudwatch_logs' with log_group_name None"),
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
    Case(LISTENER, "https-tls13-family-accepting-tls10",
         lambda: listener(sslPolicy="ELBSecurityPolicy-TLS13-1-0-2021-06"),
         "sslPolicy is 'ELBSecurityPolicy-TLS13-1-0-2021-06': it must be a current TLS policy"),
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


# --- the roles and the log groups (stack policies) --------------------------------------------------------
def statement(actions: list[str] | str, resources: list[str] | str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def execution_document(*extra: dict[str, Any]) -> dict[str, Any]:
    """The execution role's scoped permissions (what the ECS core's execution role grants)."""
    return {"Version": "2012-10-17", "Statement": [
        statement("ecr:GetAuthorizationToken", "*", Sid="EcrLogin"),
        statement(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"], REPO_ARN,
                  Sid="PullAppImage"),
        statement(["logs:CreateLogStream", "logs:PutLogEvents"], f"{LOG_GROUP_ARN}:*", Sid="WriteLogs"),
        statement("ssm:GetParameters", PARAMETER_ARN, Sid="ReadParameters"),
        statement("kms:Decrypt", KEY_ARN, Sid="DecryptSecrets"),
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


EXEC_CHANNELS = {"Version": "2012-10-17", "Statement": [statement(
    ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
     "ssmmessages:OpenDataChannel"], "*")]}


def ecs_stack(execution_policy: dict[str, Any] | None = None, task_policy: dict[str, Any] | None = None
              ) -> list[Res]:
    """A task definition, the ECR repository and log group of the stack, its execution role with a RolePolicy,
    and a task role with ECS Exec on '*' (its channels have no resource-level permission)."""
    _, td = task_definition()
    repo = {"name": "webapp", "imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True},
            "tags": TAGS}
    return [
        Res(aws.ECR_REPOSITORY, "repo", repo, {}),
        Res(aws.LOG_GROUP, "logs", {"name": LOG_GROUP_NAME, "retentionInDays": 30, "tags": TAGS}, {}),
        Res(common.IAM_ROLE, "execution", {"assumeRolePolicy": trust(), "tags": TAGS, "arn": ROLE_ARN + "execution",
                                           "name": "execution-1a2b3c4", "id": "execution-1a2b3c4"}, {}),
        Res(common.IAM_ROLE, "task", {"assumeRolePolicy": trust(), "tags": TAGS, "arn": ROLE_ARN + "task",
                                      "name": "task-5d6e7f8", "id": "task-5d6e7f8"}, {}),
        Res(common.IAM_ROLE_POLICY, "execution", {"role": "execution-1a2b3c4",
                                                  "policy": json.dumps(execution_policy or execution_document())},
            {"role": [ROLE("execution")]}),
        Res(common.IAM_ROLE_POLICY, "task-exec", {"role": "task-5d6e7f8",
                                                  "policy": json.dumps(task_policy or EXEC_CHANNELS)},
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


def attach_managed(role: str, arn: str = MANAGED_EXEC) -> Callable[[list[Res]], None]:
    def edit(stack: list[Res]) -> None:
        stack.append(Res(common.IAM_ROLE_POLICY_ATTACHMENT, f"{role}-managed",
                         {"role": find(stack, common.IAM_ROLE, role).props["id"], "policyArn": arn},
                         {"role": [ROLE(role)]}))
    return edit


def attach_stack_policy(stack: list[Res]) -> None:
    doc = {"Version": "2012-10-17", "Statement": [statement("secretsmanager:*", ARN.format("secretsmanager") + "*")]}
    stack.append(Res(common.IAM_MANAGED_POLICY, "execution-extra",
                     {"policy": json.dumps(doc), "tags": TAGS, "arn": f"arn:aws:iam::{ACCOUNT}:policy/extra"}, {}))
    stack.append(Res(common.IAM_ROLE_POLICY_ATTACHMENT, "execution-extra",
                     {"role": "execution-1a2b3c4", "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/extra"},
                     {"role": [ROLE("execution")], "policyArn": [urn(common.IAM_MANAGED_POLICY, "execution-extra")]}))


def inline_not_action(stack: list[Res]) -> None:
    find(stack, common.IAM_ROLE, "execution").props["inlinePolicies"] = [{"name": "broad", "policy": json.dumps(
        # route53 left out too: route53-changes-scoped (which reads inline policies) would rightly object as well
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "route53:*"],
                                                 "Resource": "*"}]})}]


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


def containers_unknown(stack: list[Res]) -> None:
    """A first preview: the container definitions (image digest) are unknown, the documents known."""
    find(stack, ecs.ECS_TASK_DEFINITION, "webapp").props["containerDefinitions"] = UNKNOWN_STRING_VALUE


def external_role(prop: str, name: str) -> Callable[[list[Res]], None]:
    def edit(stack: list[Res]) -> None:
        td = find(stack, ecs.ECS_TASK_DEFINITION, "webapp")
        td.props[prop] = ROLE_ARN + name
        td.deps.pop(prop)
    return edit


def task_role_is_execution_role(stack: list[Res]) -> None:
    td = find(stack, ecs.ECS_TASK_DEFINITION, "webapp")
    td.props["taskRoleArn"], td.deps["taskRoleArn"] = td.props["executionRoleArn"], [ROLE("execution")]


def log_elsewhere(stack: list[Res]) -> None:
    td = find(stack, ecs.ECS_TASK_DEFINITION, "webapp")
    containers = json.loads(td.props["containerDefinitions"])
    containers[1]["logConfiguration"]["options"]["awslogs-group"] = "/ecs/shared"
    td.props["containerDefinitions"] = json.dumps(containers)


def secret_by_name(stack: list[Res]) -> None:
    """A secret named by parameter name (same region), not ARN: its ARN is still the one the role may read."""
    td = find(stack, ecs.ECS_TASK_DEFINITION, "webapp")
    containers = json.loads(td.props["containerDefinitions"])
    containers[0]["secrets"] = [{"name": "DB_PASSWORD", "valueFrom": "/webstack/dev/db-password"},
                                {"name": "API_TOKEN", "valueFrom": ARN.format("secretsmanager")
                                 + "secret:webapp/api-token:token::"}]
    td.props["containerDefinitions"] = json.dumps(containers)


TOKEN = ARN.format("secretsmanager") + "secret:webapp/api-token"
WILDCARD_ECR = execution_document(statement("ecr:*", REPO_ARN))
LOGS_ON_STAR = execution_document(statement(["logs:CreateLogStream", "logs:PutLogEvents"], "*"))
STACK_VIOLATIONS: list[tuple[str, str, Callable[[], list[Res]], str, str]] = [
    # (policy, id, stack, expected message part, name of the resource it is reported on)
    (EXEC, "wildcard-action", lambda: ecs_stack(WILDCARD_ECR), "grants wildcard action(s) ecr:*", "execution"),
    (EXEC, "resource-star", lambda: ecs_stack(LOGS_ON_STAR),
     "grants logs:CreateLogStream, logs:PutLogEvents on Resource '*'", "execution"),
    (EXEC, "aws-managed-policy", lambda: edited_stack(attach_managed("execution")), f"{MANAGED_EXEC!r} attached",
     "execution-managed"),
    (EXEC, "stack-managed-policy", lambda: edited_stack(attach_stack_policy),
     "policy 'execution-extra': statement #0 grants wildcard action(s) secretsmanager:*", "execution-extra"),
    (EXEC, "inline-not-action", lambda: edited_stack(inline_not_action),
     "inline policy #0: statement #0 uses NotAction", "execution"),
    (EXEC, "matched-by-outputs", lambda: edited_stack(without_dependencies, WILDCARD_ECR),
     "wildcard action(s) ecr:*", "execution"),
    (EXEC, "matched-at-preview", lambda: edited_stack(preview, LOGS_ON_STAR), "on Resource '*'", "execution"),
    (EXEC, "matched-by-role-name", lambda: edited_stack(inputs_and_id_only, WILDCARD_ECR),
     "wildcard action(s) ecr:*", "execution"),
    (EXEC, "external-role", lambda: edited_stack(external_role("executionRoleArn", "ecsTaskExecutionRole")),
     "execution role arn:aws:iam::123456789012:role/ecsTaskExecutionRole is not declared in this stack", "webapp"),
    (EXEC, "another-repository", lambda: ecs_stack(execution_document(statement(
        "ecr:BatchGetImage", REPO_ARN.replace("/webapp", "/base")))),
     f"grants ecr:BatchGetImage on {REPO_ARN.replace('/webapp', '/base')}, outside an ECR repository of this stack",
     "execution"),
    (EXEC, "every-repository-of-the-account", lambda: ecs_stack(execution_document(statement(
        "ecr:BatchGetImage", REPO_ARN.replace("/webapp", "/*")))), "outside an ECR repository", "execution"),
    (EXEC, "another-log-group", lambda: ecs_stack(execution_document(statement(
        "logs:PutLogEvents", ARN.format("logs") + "log-group:/ecs/shared:*"))),
     "outside the log groups the task's containers log to", "execution"),
    (EXEC, "a-secret-not-listed", lambda: ecs_stack(execution_document(statement(
        "secretsmanager:GetSecretValue", TOKEN + "-AbCdEf"))), "outside the secrets the task's containers list",
     "execution"),
    (EXEC, "every-parameter-of-the-path", lambda: ecs_stack(execution_document(statement(
        "ssm:GetParameters", PARAMETER_ARN.replace("db-password", "*")))), "outside the secrets", "execution"),
    (EXEC, "decrypt-with-any-key", lambda: ecs_stack(execution_document(statement("kms:Decrypt", "*"))),
     "grants kms:Decrypt on Resource '*'", "execution"),
    (EXEC, "decrypt-by-alias", lambda: ecs_stack(execution_document(statement(
        "kms:Decrypt", ARN.format("kms") + "alias/app"))), "outside a named KMS key", "execution"),
    (EXEC, "an-action-the-agent-never-uses", lambda: ecs_stack(execution_document(statement(
        "iam:PassRole", ROLE_ARN + "task"))), "grants iam:PassRole, which the ECS agent never uses", "execution"),
    (TASK_ROLE, "an-action-no-feature-needs", lambda: ecs_stack(task_policy={"Version": "2012-10-17", "Statement": [
        statement("s3:GetObject", "arn:aws:s3:::assets/*")]}),
     "grants s3:GetObject, which no feature of the stack needs (task role features: ADOT collector, ECS Exec, EFS, "
     "sidecars' logs and metrics)", "task-exec"),
    (TASK_ROLE, "sidecar-logs-to-a-group-outside-the-stack", lambda: ecs_stack(task_policy={
        "Version": "2012-10-17", "Statement": [statement(["logs:CreateLogStream", "logs:PutLogEvents"],
                                                         ARN.format("logs") + "log-group:/other/app:*")]}),
     "on arn:aws:logs:us-east-1:123456789012:log-group:/other/app:*, outside a log group of this stack", "task-exec"),
    (EXEC, "an-environment-file-the-task-does-not-list", lambda: ecs_stack(execution_document(
        statement("s3:GetObject", "arn:aws:s3:::config/other.env"),
        statement("s3:GetBucketLocation", "arn:aws:s3:::config"))),
     "grants s3:GetObject on arn:aws:s3:::config/other.env, outside the environment files the task's containers list",
     "execution"),
    (TASK_ROLE, "efs-mount-on-star", lambda: ecs_stack(task_policy={"Version": "2012-10-17", "Statement": [
        statement("elasticfilesystem:ClientMount", "*")]}),
     "grants elasticfilesystem:ClientMount on Resource '*'", "task-exec"),
    (TASK_ROLE, "efs-mount-of-a-file-system-outside-the-stack",
     lambda: ecs_stack(task_policy={"Version": "2012-10-17", "Statement": [statement(
         "elasticfilesystem:ClientMount", ARN.format("elasticfilesystem") + "file-system/fs-0123")]}),
     "outside an EFS file system of this stack", "task-exec"),
    (TASK_ROLE, "aws-managed-policy", lambda: edited_stack(attach_managed(
        "task", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")), "task role 'task' has policy", "task-managed"),
    (TASK_ROLE, "also-the-execution-role", lambda: edited_stack(task_role_is_execution_role),
     "task role 'execution' is also an execution role", "execution"),
    (TASK_ROLE, "external-role", lambda: edited_stack(external_role("taskRoleArn", "shared-app-role")),
     "task role arn:aws:iam::123456789012:role/shared-app-role is not declared in this stack", "webapp"),
    (STACK_LOGS, "log-group-outside-the-stack", lambda: edited_stack(log_elsewhere),
     "container 'migrate': logs go to '/ecs/shared', which is not a log group of this stack", "webapp"),
]


@pytest.mark.parametrize(("policy", "build", "expect", "on"), [c[0:1] + c[2:] for c in STACK_VIOLATIONS],
                         ids=[f"{c[0]}:{c[1]}" for c in STACK_VIOLATIONS])
def test_stack_policy_violations(policy: str, build: Callable[[], list[Res]], expect: str, on: str) -> None:
    stack = build()
    reported = check_stack(BY_NAME[policy], policy_resources(stack))
    assert any(expect in m for m, _ in reported), reported
    assert {u for _, u in reported} <= {r.urn for r in stack if r.name == on}
    # nothing else in the pack objects to these resources
    others = [(p.name, m) for p in STACK_POLICIES if p.name != policy
              for m, _ in check_stack(p, policy_resources(stack))]
    others += [(p.name, m) for p in RESOURCE_POLICIES for r in stack
               for m in check_resource(p, r.rtype, r.props, r.urn, r.name)]
    if "aws-managed-policy" in on or on.endswith("-managed"):
        # the AWS managed policy is also outside the pack's allow-list: that policy says so too, and only it
        others = [(name, m) for name, m in others if name != "aws-managed-policies-allow-listed"]
    assert others == []


SCOPED = execution_document(statement("secretsmanager:GetSecretValue", [TOKEN, TOKEN + "-??????"]))
ENV_FILE = "arn:aws:s3:::config/webapp.env"


def with_environment_files_and_sidecars() -> list[Res]:
    """The execution role reads exactly the environment files the task lists (and their bucket's location); the task
    role sends traces and writes the sidecars' logs into the stack's log group (infra/iam.py)."""
    stack = ecs_stack(
        execution_document(statement("s3:GetObject", [ENV_FILE]),
                           statement("s3:GetBucketLocation", ["arn:aws:s3:::config"])),
        {"Version": "2012-10-17", "Statement": [
            statement("xray:PutTraceSegments", "*"),
            statement(["logs:CreateLogStream", "logs:PutLogEvents"], LOG_GROUP_ARN + ":*")]})
    td = find(stack, ecs.ECS_TASK_DEFINITION, "webapp")
    containers = json.loads(td.props["containerDefinitions"])
    containers[0]["environmentFiles"] = [{"value": ENV_FILE, "type": "s3"}]
    td.props["containerDefinitions"] = json.dumps(containers)
    return stack


@pytest.mark.parametrize("build", [ecs_stack, lambda: edited_stack(without_dependencies),
                                   lambda: edited_stack(preview), lambda: edited_stack(inputs_and_id_only),
                                   lambda: edited_stack(documents_unknown, WILDCARD_ECR),
                                   lambda: edited_stack(containers_unknown),
                                   lambda: edited_stack(secret_by_name, SCOPED), with_environment_files_and_sidecars],
                         ids=["dependencies", "outputs", "preview", "role-name", "documents-unknown-at-preview",
                              "containers-unknown-at-preview", "secrets-by-name-and-json-key",
                              "environment-files-and-sidecars"])
def test_scoped_roles_pass(build: Callable[[], list[Res]]) -> None:
    """Including the task role's ECS Exec statement on '*' (no resource-level permission for its channels)."""
    resources = policy_resources(build())
    assert [(p.name, m) for p in STACK_POLICIES for m, _ in check_stack(p, resources)] == []


@pytest.mark.parametrize(("action", "scope"), [
    *ecs_roles.EXECUTION_ROLE_ACTIONS.items(), *((a, s) for a, (_, s) in ecs_roles.TASK_ROLE_ACTIONS.items())])
def test_star_is_allowed_exactly_where_iam_has_no_resource_level_permission(action: str, scope: Any) -> None:
    """parliament's IAM data (the AWS service authorization reference): an action whose every entry has no
    resource type accepts only '*' (Scope.ANY); one with a resource type must be granted on named ARNs."""
    prefix, name = action.split(":")
    entries = [p for service in parliament.iam_definition if service["prefix"] == prefix
               for p in service["privileges"] if p["privilege"].lower() == name]
    assert entries, f"{action} is not an IAM action"
    resource_level = any(r["resource_type"] for p in entries for r in p["resource_types"])
    assert resource_level == (scope is not ecs_roles.Scope.ANY)


# --- who reaches the tasks (stack policy, on the Fargate render) --------------------------------------------
def edited_render(plan: Plan, *edits: Callable[[Plan], Any]) -> Plan:
    mutated = copy.deepcopy(plan)
    for edit in edits:
        edit(mutated)
    return mutated


def ids_unknown(plan: Plan) -> None:
    """A first preview: no security group id is known; the property dependencies say which group is which."""
    for r in plan.resources:
        if r["type"] == aws.SECURITY_GROUP:
            r["id"] = UNKNOWN_STRING_VALUE
    for rtype, keys in ((aws.SECURITY_GROUP_INGRESS_RULE, ("securityGroupId", "referencedSecurityGroupId")),
                        ("aws:lb/loadBalancer:LoadBalancer", ("securityGroups",))):
        for r in plan.of_type(rtype):
            for key in keys:
                if key in r["inputs"]:
                    value = r["inputs"][key]
                    r["inputs"][key] = [UNKNOWN_STRING_VALUE for _ in value] if isinstance(value, list) \
                        else UNKNOWN_STRING_VALUE
    network = inputs(plan, ecs.ECS_SERVICE)["networkConfiguration"]
    network["securityGroups"] = [UNKNOWN_STRING_VALUE for _ in network["securityGroups"]]


def rule_from_vpc(plan: Plan) -> None:
    """The tasks' group also admits the VPC's CIDR on the container port (a SecurityGroupRule)."""
    tasks = plan.one(aws.SECURITY_GROUP, "web-tasks")
    add_resource(plan, aws.SECURITY_GROUP_RULE, "tasks-from-vpc", {
        "type": "ingress", "securityGroupId": tasks["id"], "protocol": "tcp", "fromPort": 8080, "toPort": 8080,
        "cidrBlocks": ["10.0.0.0/16"]}, {"securityGroupId": [tasks["urn"]]})


def inline_admin_port(plan: Plan) -> None:
    """The tasks' group declares an inline rule from the ALB's group on another port (a debug endpoint)."""
    alb = plan.one(aws.SECURITY_GROUP, "web-alb")
    tasks = plan.one(aws.SECURITY_GROUP, "web-tasks")
    tasks["inputs"]["ingress"] = [{"protocol": "tcp", "fromPort": 9090, "toPort": 9090,
                                   "securityGroups": [alb["id"]]}]
    tasks["propertyDependencies"]["ingress"] = [alb["urn"]]


def undeclared_group(plan: Plan) -> None:
    inputs(plan, ecs.ECS_SERVICE)["networkConfiguration"]["securityGroups"].append("sg-0shared")


def no_load_balancer(plan: Plan) -> None:
    """A worker service (no load balancer) sharing the app's group: nobody may reach it."""
    svc = inputs(plan, ecs.ECS_SERVICE)
    svc.pop("loadBalancers")


REACH_CASES: list[tuple[str, list[Callable[[Plan], Any]], str]] = [
    ("vpc-cidr-by-security-group-rule", [rule_from_vpc], "admits 10.0.0.0/16 on tcp 8080"),
    ("vpc-cidr-at-preview", [rule_from_vpc, ids_unknown], "admits 10.0.0.0/16 on tcp 8080"),
    ("inline-rule-on-another-port", [inline_admin_port], "admits the load balancer on tcp 9090"),
    ("security-group-outside-the-stack", [undeclared_group], "security group sg-0shared, which this stack does "
                                                             "not declare"),
    ("service-without-load-balancer", [no_load_balancer], "container port(s) (none (no load balancer))"),
]


@pytest.mark.parametrize(("edits", "expect"), [c[1:] for c in REACH_CASES], ids=[c[0] for c in REACH_CASES])
def test_tasks_reachable_only_from_the_load_balancer(fargate: Plan, edits: list[Callable[[Plan], Any]],
                                                     expect: str) -> None:
    found = check_plan(BY_NAME[REACH], edited_render(fargate, *edits))
    assert any(expect in message for _, message in found), found


def test_tasks_reachable_at_preview(fargate: Plan) -> None:
    """At a first preview every group id is unknown: the property dependencies still tell the load balancer's
    group from another, so the render passes and nothing unknown is reported as undeclared."""
    assert check_plan(BY_NAME[REACH], edited_render(fargate, ids_unknown)) == []


RULES = "lb-http-listener-rules-never-serve"
RULE_TYPE = "aws:lb/listenerRule:ListenerRule"


def attach_rule(edit: Callable[[dict[str, Any]], Any]) -> Callable[[Plan], None]:
    return lambda plan: edit(plan.one(RULE_TYPE, "web-attach-tg"))


def on_https_listener(rule: dict[str, Any], plan: Plan) -> None:
    https = plan.one("aws:lb/listener:Listener", "web-https")
    rule["inputs"]["listenerArn"] = https["id"]
    rule["propertyDependencies"]["listenerArn"] = [https["urn"]]


LISTENER_RULE_CASES: list[tuple[str, list[Callable[[Plan], Any]], str | None]] = [
    ("the-attaching-rule", [], None),
    # without dependencies, by the listener's id (its ARN, under the engine; the render's fake ids differ)
    ("matched-by-arn-only", [attach_rule(lambda r: r["propertyDependencies"].pop("listenerArn")), lambda plan: setp(
        plan.one("aws:lb/listener:Listener", "web-http"), "id", inputs(plan, RULE_TYPE)["listenerArn"])], None),
    ("forward-matched-by-arn-only", [attach_rule(lambda r: (
        r["propertyDependencies"].pop("listenerArn"), setp(r["inputs"], "conditions", []))), lambda plan: setp(
        plan.one("aws:lb/listener:Listener", "web-http"), "id", inputs(plan, RULE_TYPE)["listenerArn"])],
     "of HTTP listener 'web-http'"),
    ("every-path", [attach_rule(lambda r: setp(r["inputs"], "conditions", [{"pathPattern": {"values": ["/*"]}}]))],
     "has action(s) forward on requests it can match"),
    ("source-ip-plus-a-path", [attach_rule(lambda r: r["inputs"]["conditions"].__setitem__(0, {"sourceIp": {
        "values": ["10.0.0.0/8"]}}))], "has action(s) forward"),
    ("test-net-and-a-path-still-never-matches", [attach_rule(lambda r: r["inputs"]["conditions"].append(
        {"pathPattern": {"values": ["/*"]}}))], None),
    ("another-test-net", [attach_rule(lambda r: setp(r["inputs"], "conditions", [{"sourceIp": {
        "values": ["198.51.100.7/32", "2001:db8::1/128"]}}]))], None),
    ("fixed-response-on-http", [attach_rule(lambda r: setp(r["inputs"], "conditions", [{"hostHeader": {
        "values": ["*.example.com"]}}])), attach_rule(lambda r: setp(r["inputs"], "actions", [{
            "type": "fixed-response", "fixedResponse": {"contentType": "text/plain", "statusCode": "200"}}]))],
     "has action(s) fixed-response"),
    ("redirect-to-https-on-every-path", [attach_rule(lambda r: (
        setp(r["inputs"], "conditions", [{"pathPattern": {"values": ["/*"]}}]),
        setp(r["inputs"], "actions", [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443",
                                                                         "statusCode": "HTTP_301"}}])))], None),
    ("forward-on-the-https-listener", [lambda plan: (
        on_https_listener(plan.one(RULE_TYPE, "web-attach-tg"), plan),
        setp(inputs(plan, RULE_TYPE, "web-attach-tg"), "conditions", [{"pathPattern": {"values": ["/*"]}}]))], None),
]


@pytest.mark.parametrize(("edits", "expect"), [c[1:] for c in LISTENER_RULE_CASES],
                         ids=[c[0] for c in LISTENER_RULE_CASES])
def test_http_listener_rules_never_serve(fargate: Plan, edits: list[Callable[[Plan], Any]], expect: str | None
                                         ) -> None:
    found = check_plan(BY_NAME[RULES], edited_render(fargate, *edits))
    if expect is None:
        assert found == []
    else:
        assert any(expect in message for _, message in found), found


# --- the pack ---------------------------------------------------------------------------------------------
def test_every_ecs_policy_has_violation_cases() -> None:
    covered = {c.policy for c in VIOLATIONS} | {c[0] for c in STACK_VIOLATIONS} | {REACH, RULES}
    assert covered == ecs.ECS_POLICY_NAMES | ecs_roles.ROLE_POLICY_NAMES
    assert set(BY_NAME) >= covered  # registered in POLICIES, which the pack's __main__ builds from


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
    for name in (HARDENED, IMAGES, LOGS):
        with pytest.raises(UnknownValueError):
            check_resource(BY_NAME[name], rtype, td)
    rtype, svc = service(networkConfiguration={"subnets": [UNKNOWN_STRING_VALUE], "assignPublicIp": False})
    assert check_resource(BY_NAME[NO_PUBLIC_IP], rtype, svc) == []
