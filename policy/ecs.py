"""The ECS runtime: task definitions (every container hardened as the Kubernetes policies harden a pod's, images by
digest, logs to a log group of the stack), services and the schedules that start tasks (no public IP, a failed
deployment rolls back, tasks reachable only from the load balancer), load balancer listeners (TLS only). The roles
tasks run with are judged in policy/ecs_roles.py.

Every task definition check reads every container of `containerDefinitions` (a JSON string): sidecars (a log
router, a collector) get the same guarantees as the app. At a first preview the definitions are unknown (they hold
the image digest): the resource policies then raise the SDK's UnknownValueError (pulumi-policy reports "can't run
during preview" and they run on `pulumi up`), the stack policies skip the task definition.

Tested on crafted resources in tests/policy/test_policy_ecs.py, on the renders in tests/policy/test_mutations.py.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from .aws import LOG_GROUP, SECURITY_GROUP, SECURITY_GROUP_INGRESS_RULE, SECURITY_GROUP_RULE, TCP
from .common import (
    ADDABLE_CAPABILITIES,
    DIGEST,
    TLS_POLICIES,
    Area,
    Props,
    as_int,
    as_list,
    as_map,
    dependencies,
    depends_on,
    dig,
    json_doc,
    known,
    known_items,
    known_prop,
    set_or_unknown,
)

RUNTIME = Area("ECS")

ECS_TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE = "aws:ecs/service:Service"
SCHEDULE = "aws:scheduler/schedule:Schedule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
LB_LISTENER_TYPES = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LB_LISTENER_RULE_TYPES = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
# Documentation-only networks (RFC 5737 TEST-NET-1/2/3, RFC 3849), never routed on the internet: a source-ip
# condition on these alone never matches a request (infra/ecs/loadbalancer.py UNROUTABLE_SOURCE).
TEST_NETS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
                                                     "2001:db8::/32"))
LOAD_BALANCER_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
NO_NEW_PRIVILEGES = "no-new-privileges"
# Task-level namespaces a task could share with its EC2 instance (Kubernetes: hostNetwork, hostPID, hostIPC).
HOST_NAMESPACES = ("networkMode", "pidMode", "ipcMode")
# Deployment strategies that roll back on CloudWatch alarms as well as on the circuit breaker ("Both methods only
# support rolling update deployment and blue/green deployment types", AWS ECS developer guide, "deployment
# failure detection"); ROLLING keeps requiring the circuit breaker.
ALARM_ROLLBACK_STRATEGIES = frozenset({"BLUE_GREEN", "LINEAR", "CANARY"})
UID = re.compile(r"[0-9]+")
# A FireLens log router has to run as root: it creates the socket the app's log driver writes to, in a root-owned
# directory the ECS agent mounts (aws/containers-roadmap#2122). It is the one container allowed uid 0, and only when
# it says so (user "0"); every other guarantee still applies to it.
FIRELENS_TYPES = frozenset({"fluentbit", "fluentd"})
# The Fluent Bit outputs that write to CloudWatch Logs: cloudwatch_logs (the core plugin) and cloudwatch (the older
# Go plugin of aws-for-fluent-bit), both taking log_group_name
# (https://docs.fluentbit.io/manual/pipeline/outputs/cloudwatch, aws/amazon-cloudwatch-logs-for-fluent-bit).
# Any other (http, s3, kinesis, es...) ships the app's logs out of the stack's log group.
FIRELENS_CLOUDWATCH_OUTPUTS = frozenset({"cloudwatch_logs", "cloudwatch"})


# --- reading task definitions (also used by policy/ecs_roles.py) -------------------------------------------
def container_definitions(props: Props) -> list[Props] | None:
    """The containers of a task definition's props (`containerDefinitions` is a JSON string); None if it is not
    JSON. Reading an unknown value raises UnknownValueError."""
    raw = props.get("containerDefinitions")
    try:
        containers = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if not isinstance(containers, Sequence) or isinstance(containers, str):
        return None
    return [as_map(c) for c in containers]


def known_containers(r: Any) -> list[Props] | None:
    """The containers of stack resource `r` (a task definition), None while unknown (a first preview)."""
    ok, containers = known(lambda: container_definitions(r.props))
    return containers if ok else None


def named(containers: list[Props]) -> Iterator[tuple[str, Props]]:
    for i, c in enumerate(containers):
        yield str(c.get("name") or f"containerDefinitions[{i}]"), c


def container_log_groups(c: Props) -> list[str]:
    """The CloudWatch log groups a container's logs go to: awslogs' group, or a FireLens CloudWatch output's."""
    logs = as_map(c.get("logConfiguration"))
    options = as_map(logs.get("options"))
    if logs.get("logDriver") == "awslogs" and options.get("awslogs-group"):
        return [str(options["awslogs-group"])]
    if logs.get("logDriver") == "awsfirelens" and options.get("log_group_name"):
        return [str(options["log_group_name"])]
    return []


def listed_secrets(containers: list[Props]) -> set[str]:
    """Every secret the containers name (`valueFrom` of `secrets` and of the log driver's `secretOptions`, the
    private registry credentials): what the execution role reads for them."""
    found: set[str] = set()
    for c in containers:
        for secret in [*as_list(c.get("secrets")), *as_list(dig(c, "logConfiguration", "secretOptions"))]:
            if as_map(secret).get("valueFrom"):
                found.add(str(as_map(secret)["valueFrom"]))
        if dig(c, "repositoryCredentials", "credentialsParameter"):
            found.add(str(dig(c, "repositoryCredentials", "credentialsParameter")))
    return found


# --- task definitions -----------------------------------------------------------------------------------
def _runs_on_fargate(props: Props) -> bool:
    """A task definition Fargate may run (RegisterTaskDefinition defaults requiresCompatibilities to EC2)."""
    return "FARGATE" in [str(c) for c in as_list(props.get("requiresCompatibilities"))]


def _positive(value: Any) -> bool:
    try:
        return float(str(value)) > 0
    except ValueError:
        return False


def _task_problems(props: Props, containers: list[Props]) -> list[str]:
    """Task-level: no namespace shared with the instance; cpu bounded (container `cpu` on EC2 is only a share);
    memory bounded by the task, or by every container's hard `memory` (`memoryReservation` is a soft limit)."""
    problems = [f"{mode} is host: a task must not share its instance's namespaces" for mode in HOST_NAMESPACES
                if props.get(mode) == "host"]
    if not _positive(props.get("cpu")):
        problems.append("the task sets no cpu: its containers' CPU is unbounded")
    if not _positive(props.get("memory")) and not all(_positive(c.get("memory")) for c in containers):
        problems.append("no memory limit: set the task memory, or every container's memory")
    return problems


def _user_problem(user: Any, log_router: bool = False) -> str | None:
    text = str(user or "")
    if not text:
        return "no user (the image's USER decides, root unless it says otherwise)"
    uid = text.split(":", 1)[0]
    if log_router and uid == "0":
        return None
    if uid == "root" or (UID.fullmatch(uid) and int(uid) == 0):
        return f"user {text!r} is root"
    if not UID.fullmatch(uid):  # as Kubernetes' runAsNonRoot refuses an image whose USER is a name
        return f"user {text!r} is a name, not a numeric uid: it cannot be checked to be non-root"
    return None


def _capability_problems(c: Props) -> list[str]:
    caps = as_map(dig(c, "linuxParameters", "capabilities"))
    drop = [str(x).upper().removeprefix("CAP_") for x in as_list(caps.get("drop"))]
    add = [str(x).upper().removeprefix("CAP_") for x in as_list(caps.get("add"))]
    problems = [] if "ALL" in drop else ["linuxParameters.capabilities.drop does not include ALL"]
    extra = [x for x in add if x not in ADDABLE_CAPABILITIES]
    if extra:
        problems.append(f"linuxParameters.capabilities.add has {', '.join(extra)}: only "
                        f"{', '.join(sorted(ADDABLE_CAPABILITIES))} may be added back")
    return problems


def _container_problems(c: Props, fargate: bool) -> list[str]:
    router = str(dig(c, "firelensConfiguration", "type")) in FIRELENS_TYPES
    problems = [p for p in [_user_problem(c.get("user"), router)] if p]
    if c.get("privileged") is True:
        problems.append("privileged is true")
    if c.get("readonlyRootFilesystem") is not True:
        problems.append("readonlyRootFilesystem is not true")
    problems += _capability_problems(c)
    # Docker's no-new-privileges (setuid binaries gain nothing) is the ECS analogue of allowPrivilegeEscalation:
    # false. Fargate refuses dockerSecurityOptions, so it is required where ECS offers it: tasks EC2 runs.
    if not fargate and NO_NEW_PRIVILEGES not in [str(o) for o in as_list(c.get("dockerSecurityOptions"))]:
        problems.append(f"dockerSecurityOptions lacks {NO_NEW_PRIVILEGES} (an EC2 task can and must set it)")
    # Essential containers are the long-running ones (a non-essential one is the init-container analogue).
    if c.get("essential") is not False and not as_list(dig(c, "healthCheck", "command")):
        problems.append("no healthCheck (every essential container needs one)")
    return problems


@RUNTIME.resource("ecs-containers-hardened", "ECS task definitions share no namespace with the instance and bound "
                  "cpu and memory; every container runs as a numeric non-root uid (a FireLens log router: uid 0, "
                  "which FireLens requires), unprivileged, with a read-only "
                  "root filesystem, ALL capabilities dropped (only NET_BIND_SERVICE added back), no-new-privileges "
                  "where ECS offers it (EC2), and a health check if essential.")
def ecs_containers_hardened(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every guarantee containers-hardened gives a Kubernetes pod, for every container of a task definition."""
    if args.resource_type != ECS_TASK_DEFINITION:
        return
    containers = container_definitions(args.props)
    if containers is None:
        report_violation("containerDefinitions is not a JSON list, so its containers cannot be checked")
        return
    if not containers:
        report_violation("containerDefinitions is empty")
    for problem in _task_problems(args.props, containers):
        report_violation(problem)
    fargate = _runs_on_fargate(args.props)
    for name, c in named(containers):
        problems = _container_problems(c, fargate)
        if problems:
            report_violation(f"container {name!r}: {'; '.join(problems)}")


@RUNTIME.resource("ecs-images-pinned-by-digest", "ECS container images are referenced by digest (@sha256:).")
def ecs_images_pinned_by_digest(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != ECS_TASK_DEFINITION:
        return
    for name, c in named(container_definitions(args.props) or []):
        image = str(c.get("image") or "")
        if not DIGEST.search(image):
            report_violation(f"container {name!r} image {image!r} is not pinned by digest (repo@sha256:<64 hex>): "
                             "a tag can be moved, a digest cannot")


@RUNTIME.resource("ecs-task-logs-to-managed-group", "ECS containers log with awslogs to a named group, or with "
                  "awsfirelens through a log router of the task to a CloudWatch Logs output (cloudwatch_logs) "
                  "naming its group, and never create a log group (it would never expire).")
def ecs_task_logs_to_managed_group(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Containers ship their logs to CloudWatch (awslogs to a named group, or FireLens through a log router
    container of the same task) and never let the agent create a log group, which would be outside the stack and
    never expire. Which group: ecs-logs-to-stack-log-group."""
    if args.resource_type != ECS_TASK_DEFINITION:
        return
    containers = container_definitions(args.props) or []
    routers = [c for c in containers if c.get("firelensConfiguration")]
    for name, c in named(containers):
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
        elif driver == "awsfirelens":
            if not routers:
                report_violation(f"container {name!r}: awsfirelens without a log router container "
                                 "(firelensConfiguration) in the task")
            if str(options.get("auto_create_group")).lower() == "true":
                report_violation(f"container {name!r}: auto_create_group creates a log group outside the stack, "
                                 "with no retention; log to the stack's log group")
            output = str(options.get("Name") or "")
            if output not in FIRELENS_CLOUDWATCH_OUTPUTS or not options.get("log_group_name"):
                report_violation(f"container {name!r}: awsfirelens output Name {output or None!r} with log_group_name "
                                 f"{options.get('log_group_name')!r}: FireLens must ship to CloudWatch Logs (Name "
                                 f"{' or '.join(sorted(FIRELENS_CLOUDWATCH_OUTPUTS))}) in a named log group of the "
                                 "stack, not to another destination")
        else:
            report_violation(f"container {name!r}: logDriver {driver!r} does not ship to a CloudWatch log group "
                             "(use awslogs, or awsfirelens through a log router)")


def _stack_log_groups(resources: Sequence[Any]) -> set[str] | None:
    """The names of the stack's log groups; None while one is unknown (an autonamed group at preview)."""
    names: set[str] = set()
    for r in resources:
        if r.resource_type == LOG_GROUP:
            name = known_prop(r, "name") or known_prop(r, "id")
            if not name:
                return None
            names.add(str(name))
    return names


@RUNTIME.stack("ecs-logs-to-stack-log-group", "ECS containers log to a CloudWatch log group declared in the same "
               "stack (whose retention log-group-retention enforces), never to one the stack does not manage.")
def ecs_logs_to_stack_log_group(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    task_definitions = [r for r in args.resources if r.resource_type == ECS_TASK_DEFINITION]
    groups = _stack_log_groups(args.resources) if task_definitions else None
    if groups is None:
        return
    for td in task_definitions:
        for name, c in named(known_containers(td) or []):
            for group in container_log_groups(c):
                if group not in groups:
                    report_violation(f"task definition {td.name!r}, container {name!r}: logs go to {group!r}, which "
                                     "is not a log group of this stack (nothing sets its retention)", td.urn)


# --- services, schedules, listeners ---------------------------------------------------------------------
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


def _alarms_roll_back(props: Props) -> bool:
    alarms = as_map(props.get("alarms"))
    return (alarms.get("enable") is True and alarms.get("rollback") is True
            and set_or_unknown(lambda: as_list(alarms.get("alarmNames"))))


@RUNTIME.resource("ecs-deployment-circuit-breaker", "ECS services (ECS deployment controller) roll back a failed "
                  "deployment: the circuit breaker with rollback, or for a blue/green, linear or canary strategy "
                  "CloudWatch alarms with rollback.")
def ecs_deployment_circuit_breaker(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """ECS-controlled services roll back a deployment whose tasks do not become healthy: rolling deployments with
    the circuit breaker; BLUE_GREEN, LINEAR and CANARY ones with the circuit breaker or deployment alarms."""
    if args.resource_type != ECS_SERVICE:
        return
    controller = str(dig(args.props, "deploymentController", "type") or "ECS")
    if controller != "ECS":
        return  # CODE_DEPLOY and EXTERNAL deployments have no circuit breaker: they roll back on their own terms
    breaker = as_map(args.props.get("deploymentCircuitBreaker"))
    missing = [k for k in ("enable", "rollback") if breaker.get(k) is not True]
    if not missing:
        return
    strategy = str(dig(args.props, "deploymentConfiguration", "strategy") or "ROLLING").upper()
    if strategy not in ALARM_ROLLBACK_STRATEGIES:
        report_violation(f"deploymentCircuitBreaker.{' and .'.join(missing)} not true: a deployment whose tasks "
                         "never become healthy must stop and roll back")
    elif not _alarms_roll_back(args.props):
        report_violation(f"{strategy} deployment with no rollback: set alarms (enable, rollback, alarmNames) or "
                         "deploymentCircuitBreaker (enable, rollback)")


@RUNTIME.resource("lb-listener-tls-only", "Load balancer listeners are HTTPS/TLS with a certificate and a current "
                  "TLS policy (the list the sslPolicy key allows), or HTTP listeners that only redirect to HTTPS.")
def lb_listener_tls_only(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Load balancer listeners terminate TLS (certificate, current policy), or are HTTP listeners whose every
    default action redirects to HTTPS."""
    if args.resource_type not in LB_LISTENER_TYPES:
        return
    props = args.props
    protocol = str(props.get("protocol") or "HTTP").upper()  # an ALB listener defaults to HTTP
    if protocol in ("HTTPS", "TLS"):
        if not set_or_unknown(lambda: props.get("certificateArn")):
            report_violation(f"{protocol} listener without certificateArn")
        ssl_policy = props.get("sslPolicy")
        if ssl_policy not in TLS_POLICIES:
            default = " (without one, ELBSecurityPolicy-2016-08 accepts TLS 1.0)" if ssl_policy is None else ""
            report_violation(f"sslPolicy is {ssl_policy!r}{default}: it must be a current TLS policy, one of "
                             f"{', '.join(TLS_POLICIES)}")
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


def _in_test_net(cidr: Any) -> bool:
    try:
        network = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return False
    return any(network.version == t.version and network.subnet_of(t) for t in TEST_NETS)


def _never_matches(conditions: list[Any]) -> bool:
    """Whether a rule's conditions (ANDed) include a source-ip condition on documentation networks only (its values
    are ORed, so every one must be)."""
    for condition in conditions:
        values = [str(v) for v in as_list(dig(condition, "sourceIp", "values"))]
        if values and all(_in_test_net(v) for v in values):
            return True
    return False


def _redirects_to_https(action: Any) -> bool:
    return as_map(action).get("type") == "redirect" and str(dig(action, "redirect", "protocol")).upper() == "HTTPS"


@RUNTIME.stack("lb-http-listener-rules-never-serve", "Listener rules of an HTTP listener only redirect to HTTPS, "
               "or never match a request (a source-ip condition on documentation networks only, as the rule that "
               "attaches the target group).")
def lb_http_listener_rules_never_serve(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """lb-listener-tls-only judges a listener's default actions; a rule of the HTTP listener forwarding requests
    it matches would serve the app in clear text all the same. A rule belongs to a listener by property dependency
    of its listenerArn (known at a first preview) or by the listener's arn (its id)."""
    listeners = [r for r in args.resources if r.resource_type in LB_LISTENER_TYPES]
    for rule in args.resources:
        if rule.resource_type not in LB_LISTENER_RULE_TYPES:
            continue
        arn = known_prop(rule, "listenerArn")
        matched = [lst for lst in listeners if depends_on(rule, "listenerArn", {lst.urn})
                   or (arn and arn in (known_prop(lst, "arn"), known_prop(lst, "id")))]  # a listener's id is its ARN
        http = [lst for lst in matched if str(known_prop(lst, "protocol") or "HTTP").upper() == "HTTP"]
        if not http:
            continue
        actions = [as_map(a) for a in known_items(lambda rule=rule: rule.props.get("actions"))]
        serving = [str(a.get("type")) for a in actions if not _redirects_to_https(a)]
        if serving and not _never_matches(known_items(lambda rule=rule: rule.props.get("conditions"))):
            report_violation(f"listener rule {rule.name!r} of HTTP listener {http[0].name!r} has action(s) "
                             f"{', '.join(serving)} on requests it can match: plain HTTP must only redirect to HTTPS "
                             "(or the rule must never match: a source-ip condition on TEST-NET addresses only)",
                             rule.urn)


# --- who reaches the tasks (stack policy: services, security groups and rules are separate resources) --------
class Ingress(NamedTuple):
    """One ingress rule of a security group, whichever resource declares it."""

    declared_by: Any  # the stack resource (the group itself for an inline rule)
    groups: list[Any]  # the stack's security groups it admits traffic from
    others: list[str]  # every other source: CIDRs, prefix lists, self, groups the stack does not declare
    protocol: str
    ports: tuple[Any, Any]


def _groups_named(r: Any, prop: str, read_ids: Callable[[], Any], groups: Sequence[Any]
                  ) -> tuple[list[Any], list[str]]:
    """The stack's security groups property `prop` of `r` names (by dependency, or by the ids `read_ids` reads),
    and the known ids of groups the stack does not declare."""
    deps = {d.urn for d in dependencies(r, prop)}
    by_id = {known_prop(g, "id"): g for g in groups if known_prop(g, "id")}
    found = {g.urn: g for g in groups if g.urn in deps}
    undeclared: list[str] = []
    for sid in known_items(read_ids):  # unknown at a first preview: the dependencies say which groups
        if sid in by_id:
            found[by_id[sid].urn] = by_id[sid]
        elif isinstance(sid, str):
            undeclared.append(sid)
    return list(found.values()), undeclared


def _sources(r: Any, rule: Props, source: str, keys: tuple[str, ...], groups: Sequence[Any],
             dependency: str | None = None) -> tuple[list[Any], list[str]]:
    """Whom a rule admits: the stack's groups its `source` property names (`r`'s property `dependency` depends on
    them: the rule's own `source`, or a group's `ingress` for its inline rules), and every other source (CIDRs,
    prefix lists, self, groups the stack does not declare)."""
    found, undeclared = _groups_named(r, dependency or source, lambda: rule.get(source), groups)
    others = [*undeclared, *(str(c) for k in keys for c in known_items(lambda k=k: rule.get(k)))]
    return found, others + (["self"] if rule.get("self") else [])


def _ingress_rules(group: Any, resources: Sequence[Any], groups: Sequence[Any]) -> Iterator[Ingress]:
    """Every ingress rule of `group`: inline ones, SecurityGroupRule (type ingress), SecurityGroupIngressRule."""
    for inline in known_items(lambda: group.props.get("ingress")):
        rule = as_map(inline)
        found, others = _sources(group, rule, "securityGroups", ("cidrBlocks", "ipv6CidrBlocks", "prefixListIds"),
                                 groups, dependency="ingress")
        yield Ingress(group, found, others, str(rule.get("protocol")), (rule.get("fromPort"), rule.get("toPort")))
    group_id = known_prop(group, "id")
    for r in resources:
        if r.resource_type not in (SECURITY_GROUP_RULE, SECURITY_GROUP_INGRESS_RULE):
            continue
        if r.resource_type == SECURITY_GROUP_RULE and known_prop(r, "type") != "ingress":
            continue
        if not (depends_on(r, "securityGroupId", {group.urn}) or (group_id and known_prop(r, "securityGroupId")
                                                                  == group_id)):
            continue
        if r.resource_type == SECURITY_GROUP_INGRESS_RULE:
            found, others = _sources(r, r.props, "referencedSecurityGroupId", ("cidrIpv4", "cidrIpv6",
                                                                               "prefixListId"), groups)
            protocol = known_prop(r, "ipProtocol")
        else:
            found, others = _sources(r, r.props, "sourceSecurityGroupId", ("cidrBlocks", "ipv6CidrBlocks",
                                                                           "prefixListIds"), groups)
            protocol = known_prop(r, "protocol")
        yield Ingress(r, found, others, str(protocol), (known_prop(r, "fromPort"), known_prop(r, "toPort")))


def _ingress_problem(rule: Ingress, lb_groups: set[str], ports: set[int]) -> str | None:
    sources = [*(g.name for g in rule.groups if g.urn not in lb_groups), *rule.others]
    low, high = (as_int(p) for p in rule.ports)
    on_port = rule.protocol.lower() in TCP and low == high and low in ports
    if not sources and rule.groups and on_port:
        return None
    what = ", ".join(sources) or "the load balancer"
    if rule.protocol == "-1":
        where = "every protocol and port"
    else:
        where = f"{rule.protocol} {low}" if low == high else f"{rule.protocol} {low}-{high}"
    allowed = ", ".join(str(p) for p in sorted(ports)) or "none (no load balancer)"
    return (f"admits {what} on {where}: only the load balancer's security group may reach the tasks, on their "
            f"container port(s) ({allowed})")


@RUNTIME.stack("ecs-tasks-reachable-only-from-load-balancer", "The security groups of ECS services admit ingress "
               "only from a load balancer's security group of the stack, on the container ports the service "
               "registers with it.")
def ecs_tasks_reachable_only_from_load_balancer(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """No CIDR (not even the VPC's), prefix list or other group reaches the tasks: only the load balancer, on the
    container port(s) of the service's `loadBalancers`. A service without a load balancer admits nothing."""
    resources = args.resources
    services = [r for r in resources if r.resource_type == ECS_SERVICE]
    if not services:
        return
    groups = [r for r in resources if r.resource_type == SECURITY_GROUP]
    lb_groups: set[str] = set()
    for lb in resources:
        if lb.resource_type in LOAD_BALANCER_TYPES:
            lb_groups |= {g.urn for g in _groups_named(lb, "securityGroups",
                                                       lambda lb=lb: lb.props.get("securityGroups"), groups)[0]}
    for svc in services:
        ports = {as_int(dig(lb, "containerPort")) for lb in known_items(lambda svc=svc: svc.props.get("loadBalancers"))}
        task_groups, undeclared = _groups_named(
            svc, "networkConfiguration", lambda svc=svc: dig(svc.props, "networkConfiguration", "securityGroups"),
            groups)
        for sid in undeclared:
            report_violation(f"service {svc.name!r} runs its tasks in security group {sid}, which this stack does "
                             "not declare: who reaches them cannot be checked", svc.urn)
        for group in task_groups:
            for rule in _ingress_rules(group, resources, groups):
                problem = _ingress_problem(rule, lb_groups, ports)
                if problem:
                    report_violation(f"service {svc.name!r}: security group {group.name!r} {problem}",
                                     rule.declared_by.urn)


ECS_POLICY_NAMES = RUNTIME.names
