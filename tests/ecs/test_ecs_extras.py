"""The ECS extras (infra/ecs/efs.py, infra/ecs/scheduled.py) rendered under mocks in a small program of their own,
wired the way the ECS runtime wires them: EFS volume and client policy on a task definition, a service that waits
for the mount targets, and a schedule running the task definition. Asserted on the captured registrations, the
IAM documents through parliament, the schedule through botocore's Scheduler model."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from infra import iam
from infra.ecs.efs import AppFileSystemArgs
from infra.ecs.scheduled import ScheduledTaskArgs, StrategyItem, schedule_expression_problems, timezone_problems
from policy.validators import POLICIES
from tests.support import ecs_api
from tests.support.iam_lint import unexpected_findings
from tests.support.pack import check_resource, check_stack, stack_resource
from tests.support.programs import program
from tools.render import Plan, render
from tools.render import fakes as render_fakes
from tools.render.artifacts import iam_documents

ACCOUNT = render_fakes.ACCOUNT_ID
REGION = "eu-west-3"
CLUSTER_NAME = "webstack-test"
FAMILY = "webstack-test-webapp"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2", "subnet-0ccccccccccccccc3"]
TAGS = {"project": "webstack", "stack": "test", "managed-by": "pulumi"}

PROGRAM = textwrap.dedent(f'''
    import json

    import pulumi
    import pulumi_aws as aws

    from infra import iam
    from infra.ecs.efs import AppFileSystem, AppFileSystemArgs
    from infra.ecs.scheduled import ScheduledTask, ScheduledTaskArgs, StrategyItem

    TAGS = {TAGS!r}
    SUBNETS = {SUBNETS!r}
    task_sg = aws.ec2.SecurityGroup("task-sg", vpc_id="vpc-0123456789abcdef0", description="app tasks", tags=TAGS)
    files = AppFileSystem("data", AppFileSystemArgs(
        vpc_id="vpc-0123456789abcdef0", subnet_ids=SUBNETS, task_security_group_id=task_sg.id,
        posix_uid=101, posix_gid=101, root_directory="/webapp", tags=TAGS))
    trust = iam.to_json(iam.service_trust_policy("ecs-tasks.amazonaws.com"))
    task_role = aws.iam.Role("task", assume_role_policy=trust, tags=TAGS)
    execution_role = aws.iam.Role("execution", assume_role_policy=trust, tags=TAGS)
    aws.iam.RolePolicy("task-efs", role=task_role.id, policy=files.client_policy(writable=True))
    cluster = aws.ecs.Cluster("cluster", name="{CLUSTER_NAME}", tags=TAGS)
    aws.cloudwatch.LogGroup("logs", name="/ecs/webstack-test/webapp", retention_in_days=30, tags=TAGS)
    container = {{"name": "webapp", "image": "123456789012.dkr.ecr.{REGION}.amazonaws.com/webapp@sha256:" + "a" * 64,
                 "essential": True, "user": "101:101", "readonlyRootFilesystem": True,
                 "linuxParameters": {{"capabilities": {{"drop": ["ALL"]}}}},
                 "healthCheck": {{"command": ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]}},
                 "portMappings": [{{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}}],
                 "mountPoints": [{{"sourceVolume": "data", "containerPath": "/srv/data", "readOnly": False}}],
                 "logConfiguration": {{"logDriver": "awslogs", "options": {{
                     "awslogs-group": "/ecs/webstack-test/webapp", "awslogs-region": "{REGION}",
                     "awslogs-stream-prefix": "webapp"}}}}}}
    task = aws.ecs.TaskDefinition(
        "task", family="{FAMILY}", cpu="256", memory="512", network_mode="awsvpc",
        requires_compatibilities=["FARGATE"], container_definitions=json.dumps([container], sort_keys=True),
        runtime_platform={{"operating_system_family": "LINUX", "cpu_architecture": "ARM64"}},
        execution_role_arn=execution_role.arn, task_role_arn=task_role.arn, volumes=[files.volume("data")],
        tags=TAGS)
    service = aws.ecs.Service(
        "service", name="webapp", cluster=cluster.arn, task_definition=task.arn, desired_count=2,
        capacity_provider_strategies=[{{"capacity_provider": "FARGATE", "weight": 1, "base": 1}}],
        platform_version="1.4.0",
        network_configuration={{"subnets": SUBNETS, "security_groups": [task_sg.id], "assign_public_ip": False}},
        deployment_circuit_breaker={{"enable": True, "rollback": True}}, tags=TAGS,
        opts=pulumi.ResourceOptions(depends_on=files.mount_targets))
    nightly = ScheduledTask("nightly", ScheduledTaskArgs(
        cluster_arn=cluster.arn, task_definition_arn=task.arn, task_definition_family="{FAMILY}",
        container_name="webapp", command=["/bin/sh", "-c", "echo nightly"],
        schedule_expression="cron(30 2 * * ? *)", schedule_timezone="Europe/Paris",
        subnet_ids=SUBNETS, security_group_ids=[task_sg.id],
        capacity_provider_strategy=[StrategyItem("FARGATE_SPOT", 3), StrategyItem("FARGATE", 1, 1)],
        task_role_arn=task_role.arn, execution_role_arn=execution_role.arn, tags=TAGS))
    pulumi.export("file_system_id", files.file_system_id)
    pulumi.export("access_point_arn", files.access_point_arn)
    pulumi.export("efs_security_group_id", files.security_group_id)
    pulumi.export("schedule_arn", nightly.schedule_arn)
    pulumi.export("scheduler_role_arn", nightly.role_arn)
''')


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    root = program(tmp_path_factory.mktemp("ecs-extras"), PROGRAM, project="webstack", stacks=("test",),
                   region=REGION)  # a project of its own: its program, Pulumi.yaml and stack file
    return render("test", root=root, stacks=root)


def doc(r: dict[str, Any], field: str) -> dict[str, Any]:
    return json.loads(r["inputs"][field])


# --- EFS ------------------------------------------------------------------------------------------------
def test_components_have_their_type_tokens_and_children(plan: Plan) -> None:
    fs_component = plan.one("webstack:ecs:AppFileSystem")
    sched_component = plan.one("webstack:ecs:ScheduledTask")
    assert {r["type"] for r in plan.children(fs_component["urn"])} == {
        "aws:efs/fileSystem:FileSystem", "aws:efs/backupPolicy:BackupPolicy",
        "aws:efs/fileSystemPolicy:FileSystemPolicy",
        "aws:ec2/securityGroup:SecurityGroup", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:efs/mountTarget:MountTarget", "aws:efs/accessPoint:AccessPoint"}
    assert {r["type"] for r in plan.children(sched_component["urn"])} == {
        "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:scheduler/schedule:Schedule"}


def test_file_system_encrypted_and_backed_up(plan: Plan) -> None:
    fs = plan.one("aws:efs/fileSystem:FileSystem")
    assert fs["inputs"]["encrypted"] is True
    assert fs["inputs"]["tags"]["managed-by"] == "pulumi"
    assert "lifecyclePolicies" not in fs["inputs"]  # transition to IA off unless asked for
    backup = plan.one("aws:efs/backupPolicy:BackupPolicy")
    assert backup["inputs"] == {"fileSystemId": fs["id"], "backupPolicy": {"status": "ENABLED"}}


def test_file_system_policy_refuses_clients_without_tls(plan: Plan) -> None:
    fs = plan.one("aws:efs/fileSystem:FileSystem")
    policy = doc(plan.one("aws:efs/fileSystemPolicy:FileSystemPolicy"), "policy")
    assert policy["Statement"] == [{
        "Sid": "DenyUnencryptedTransport", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*",
        "Resource": fs["state"]["arn"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    assert not [s for s in policy["Statement"] if s["Effect"] == "Allow"]  # grants nothing: IAM identities must


def test_one_mount_target_per_subnet_in_the_efs_group(plan: Plan) -> None:
    fs, sg = plan.one("aws:efs/fileSystem:FileSystem"), plan.one("aws:ec2/securityGroup:SecurityGroup", "data-sg")
    targets = plan.of_type("aws:efs/mountTarget:MountTarget")
    assert sorted(t["inputs"]["subnetId"] for t in targets) == sorted(SUBNETS)
    for t in targets:
        assert t["inputs"]["fileSystemId"] == fs["id"]
        assert t["inputs"]["securityGroups"] == [sg["id"]]


def test_nfs_admitted_only_from_the_task_group(plan: Plan) -> None:
    sg = plan.one("aws:ec2/securityGroup:SecurityGroup", "data-sg")
    task_sg = plan.one("aws:ec2/securityGroup:SecurityGroup", "task-sg")
    assert "ingress" not in sg["inputs"] and "egress" not in sg["inputs"]  # no inline (CIDR) rules at all
    rules = [r for r in plan.resources if r["type"].startswith(("aws:vpc/securityGroup", "aws:ec2/securityGroupRule"))]
    assert len(rules) == 1
    rule = rules[0]["inputs"]
    assert rule["securityGroupId"] == sg["id"]
    assert rule["referencedSecurityGroupId"] == task_sg["id"]
    assert (rule["ipProtocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 2049, 2049)
    assert not {"cidrIpv4", "cidrIpv6", "prefixListId"} & set(rule)


def test_access_point_pins_the_app_user_and_owns_the_root_directory(plan: Plan) -> None:
    ap = plan.one("aws:efs/accessPoint:AccessPoint")["inputs"]
    assert ap["posixUser"] == {"uid": 101, "gid": 101}
    assert ap["rootDirectory"] == {"path": "/webapp", "creationInfo": {
        "ownerUid": 101, "ownerGid": 101, "permissions": "0750"}}


def test_task_volume_uses_tls_iam_and_the_access_point(plan: Plan) -> None:
    fs, ap = plan.one("aws:efs/fileSystem:FileSystem"), plan.one("aws:efs/accessPoint:AccessPoint")
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")["inputs"]
    assert task["volumes"] == [{"name": "data", "efsVolumeConfiguration": {
        "fileSystemId": fs["id"], "transitEncryption": "ENABLED",
        "authorizationConfig": {"accessPointId": ap["id"], "iam": "ENABLED"}}}]


def test_task_role_gets_only_client_mount_and_write_through_the_access_point(plan: Plan) -> None:
    fs, ap = plan.one("aws:efs/fileSystem:FileSystem"), plan.one("aws:efs/accessPoint:AccessPoint")
    policy = doc(plan.one("aws:iam/rolePolicy:RolePolicy", "task-efs"), "policy")
    assert policy["Statement"] == [{
        "Sid": "MountThroughAccessPoint", "Effect": "Allow",
        "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        "Resource": fs["state"]["arn"],
        "Condition": {"StringEquals": {"elasticfilesystem:AccessPointArn": ap["state"]["arn"]}}}]
    assert fs["state"]["arn"].endswith(f":file-system/{fs['id']}") and ap["state"]["arn"].endswith(ap["id"])
    read_only = iam.efs_client_policy(fs["state"]["arn"], ap["state"]["arn"], writable=False)
    assert read_only["Statement"][0]["Action"] == ["elasticfilesystem:ClientMount"]


def test_service_waits_for_every_mount_target(plan: Plan) -> None:
    """Destroy order: the service (its tasks hold NFS mounts) is deleted before any mount target."""
    service = plan.one("aws:ecs/service:Service")
    for target in plan.of_type("aws:efs/mountTarget:MountTarget"):
        assert plan.depends_on(service["urn"], target["urn"])
        assert not plan.depends_on(target["urn"], service["urn"])


def test_destroy_order_inside_the_file_system(plan: Plan) -> None:
    """Mount targets go before their security group and file system; the NFS rule before the task group it names;
    the access point and the file system policy before the file system."""
    fs = plan.one("aws:efs/fileSystem:FileSystem")["urn"]
    efs_sg = plan.one("aws:ec2/securityGroup:SecurityGroup", "data-sg")["urn"]
    for target in plan.of_type("aws:efs/mountTarget:MountTarget"):
        assert plan.depends_on(target["urn"], efs_sg) and plan.depends_on(target["urn"], fs)
    rule = plan.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")["urn"]
    assert plan.depends_on(rule, plan.one("aws:ec2/securityGroup:SecurityGroup", "task-sg")["urn"])
    for typ in ("aws:efs/accessPoint:AccessPoint", "aws:efs/fileSystemPolicy:FileSystemPolicy",
                "aws:efs/backupPolicy:BackupPolicy"):
        assert plan.depends_on(plan.one(typ)["urn"], fs)


def test_schedule_is_deleted_before_what_it_runs(plan: Plan) -> None:
    """The schedule goes first on destroy: no run can start against a half-deleted task definition, cluster or
    role; its role policy goes before the two roles it may pass."""
    schedule = plan.one("aws:scheduler/schedule:Schedule")["urn"]
    for typ, name in (("aws:ecs/taskDefinition:TaskDefinition", None), ("aws:ecs/cluster:Cluster", None),
                      ("aws:iam/role:Role", "nightly-scheduler"), ("aws:iam/role:Role", "task"),
                      ("aws:iam/role:Role", "execution")):
        assert plan.depends_on(schedule, plan.one(typ, name)["urn"]), (typ, name)
    policy = plan.one("aws:iam/rolePolicy:RolePolicy", "nightly-scheduler")["urn"]
    for role in ("task", "execution"):
        assert plan.depends_on(policy, plan.one("aws:iam/role:Role", role)["urn"])


def test_component_outputs(plan: Plan) -> None:
    fs, ap = plan.one("aws:efs/fileSystem:FileSystem"), plan.one("aws:efs/accessPoint:AccessPoint")
    assert plan.outputs["file_system_id"] == fs["id"]
    assert plan.outputs["access_point_arn"] == ap["state"]["arn"]
    assert plan.outputs["efs_security_group_id"] == plan.one("aws:ec2/securityGroup:SecurityGroup", "data-sg")["id"]
    assert plan.outputs["schedule_arn"] == plan.one("aws:scheduler/schedule:Schedule")["state"]["arn"]
    assert plan.outputs["scheduler_role_arn"] == plan.one("aws:iam/role:Role", "nightly-scheduler")["state"]["arn"]


# --- scheduled task -------------------------------------------------------------------------------------
def test_schedule_runs_the_task_definition_in_the_private_subnets(plan: Plan) -> None:
    """The universal target `aws-sdk:ecs:runTask`: the input is RunTask's whole request (PascalCase members), the
    command an explicit container override; no templated `ecsParameters`."""
    schedule = plan.one("aws:scheduler/schedule:Schedule")["inputs"]
    cluster = plan.one("aws:ecs/cluster:Cluster")
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    task_sg = plan.one("aws:ec2/securityGroup:SecurityGroup", "task-sg")
    role = plan.one("aws:iam/role:Role", "nightly-scheduler")
    assert schedule["scheduleExpression"] == "cron(30 2 * * ? *)"
    assert schedule["scheduleExpressionTimezone"] == "Europe/Paris"
    assert schedule["flexibleTimeWindow"] == {"mode": "OFF"}
    assert schedule["state"] == "ENABLED"
    target = schedule["target"]
    assert target["arn"] == "arn:aws:scheduler:::aws-sdk:ecs:runTask" and target["roleArn"] == role["state"]["arn"]
    assert "ecsParameters" not in target
    assert target["retryPolicy"] == {"maximumEventAgeInSeconds": 3600, "maximumRetryAttempts": 3}
    assert json.loads(target["input"]) == {
        "Cluster": cluster["state"]["arn"], "TaskDefinition": task["state"]["arn"], "Count": 1,
        # never LaunchType with a capacity provider strategy
        "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE_SPOT", "Weight": 3, "Base": 0},
                                     {"CapacityProvider": "FARGATE", "Weight": 1, "Base": 1}],
        "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": SUBNETS, "SecurityGroups": [task_sg["id"]],
                                                         "AssignPublicIp": "DISABLED"}},
        "EnableECSManagedTags": True, "PropagateTags": "TASK_DEFINITION",
        "Overrides": {"ContainerOverrides": [{"Name": "webapp", "Command": ["/bin/sh", "-c", "echo nightly"]}]}}


def test_schedule_is_created_after_its_role_policy(plan: Plan) -> None:
    schedule = plan.one("aws:scheduler/schedule:Schedule")
    policy = plan.one("aws:iam/rolePolicy:RolePolicy", "nightly-scheduler")
    assert plan.depends_on(schedule["urn"], policy["urn"])


def test_scheduler_role_trust_is_scoped_to_the_account(plan: Plan) -> None:
    trust = doc(plan.one("aws:iam/role:Role", "nightly-scheduler"), "assumeRolePolicy")
    assert trust["Statement"] == [{
        "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}]


def test_scheduler_policy_runs_only_the_family_and_passes_exactly_the_two_roles(plan: Plan) -> None:
    cluster_arn = plan.one("aws:ecs/cluster:Cluster")["state"]["arn"]
    roles = sorted(plan.one("aws:iam/role:Role", n)["state"]["arn"] for n in ("task", "execution"))
    policy = doc(plan.one("aws:iam/rolePolicy:RolePolicy", "nightly-scheduler"), "policy")
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert set(by_sid) == {"RunTaskFamilyInCluster", "TagTasksItStarts", "PassTaskRoles"}
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    run = by_sid["RunTaskFamilyInCluster"]
    assert run["Action"] == "ecs:RunTask"
    assert run["Resource"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{FAMILY}:*"
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": cluster_arn}}
    tag = by_sid["TagTasksItStarts"]
    assert tag["Action"] == "ecs:TagResource"
    assert tag["Resource"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER_NAME}/*"
    assert tag["Condition"] == {"StringEquals": {"ecs:CreateAction": "RunTask"}}
    passing = by_sid["PassTaskRoles"]
    assert passing["Action"] == "iam:PassRole" and passing["Resource"] == roles
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}


def test_every_iam_document_passes_parliament(plan: Plan) -> None:
    documents = iam_documents(plan) | {f"{r['name']}-resource-policy": doc(r, "policy")
                  for r in plan.of_type("aws:efs/fileSystemPolicy:FileSystemPolicy")}
    assert {"nightly-scheduler-trust", "nightly-scheduler-policy", "task-efs-policy",
            "data-policy-resource-policy"} <= set(documents)
    unexpected = [f for name, d in documents.items() for f in unexpected_findings(name, d)]
    assert unexpected == []


def test_parliament_still_catches_a_broken_scheduler_policy() -> None:
    policy = iam.scheduler_run_task_policy(f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/x", FAMILY,
                                           f"arn:aws:iam::{ACCOUNT}:role/t", f"arn:aws:iam::{ACCOUNT}:role/e")
    policy["Statement"][0]["Action"] = "ecs:RunTasks"
    assert any("UNKNOWN_ACTION" in f for f in unexpected_findings("nightly-scheduler-policy", policy))


def test_schedule_target_passes_the_scheduler_api_model(plan: Plan) -> None:
    schedule = plan.one("aws:scheduler/schedule:Schedule")
    params = ecs_api.create_schedule_params(schedule["inputs"], autoname="nightly-schedule-1a2b3c4")
    assert ecs_api.validate("scheduler:CreateSchedule", params) == []


def test_the_command_reaches_the_run_task_request(plan: Plan) -> None:
    """What the schedule makes ECS receive, checked against botocore's RunTask input shape: the container override
    with the command, no public IP, the strategy and the task definition. That Scheduler sends the input unchanged
    is its documented contract for universal targets; only a real run proves it."""
    target = plan.one("aws:scheduler/schedule:Schedule")["inputs"]["target"]
    operation, params, casing = ecs_api.universal_target_request(target)
    assert (operation, casing) == ("ecs:RunTask", [])
    assert ecs_api.validate(operation, params) == []
    assert params["overrides"] == {"containerOverrides": [
        {"name": "webapp", "command": ["/bin/sh", "-c", "echo nightly"]}]}
    assert params["taskDefinition"] == plan.one("aws:ecs/taskDefinition:TaskDefinition")["state"]["arn"]
    assert params["cluster"] == plan.one("aws:ecs/cluster:Cluster")["state"]["arn"]
    assert params["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    assert params["capacityProviderStrategy"][1] == {"capacityProvider": "FARGATE", "weight": 1, "base": 1}
    assert "launchType" not in params and "platformVersion" not in params


def test_the_run_task_check_catches_a_broken_input(plan: Plan) -> None:
    target = plan.one("aws:scheduler/schedule:Schedule")["inputs"]["target"]
    request = json.loads(target["input"])
    # camelCase is botocore's spelling but not the universal target's (Scheduler: "missing field TaskDefinition")
    camel = {**{k: v for k, v in request.items() if k != "TaskDefinition"}, "taskDefinition": FAMILY}
    _, _, casing = ecs_api.universal_target_request({**target, "input": json.dumps(camel)})
    assert casing == ["taskDefinition: not PascalCase"]
    missing = {k: v for k, v in request.items() if k != "TaskDefinition"}
    operation, params, _ = ecs_api.universal_target_request({**target, "input": json.dumps(missing)})
    assert any('Missing required parameter in input: "taskDefinition"' in p
               for p in ecs_api.validate(operation, params))
    request["Overrides"]["ContainerOverrides"][0]["Command"] = "echo nightly"  # a string, not a list
    _, params, _ = ecs_api.universal_target_request({**target, "input": json.dumps(request)})
    assert any("command" in p for p in ecs_api.validate("ecs:RunTask", params))
    with pytest.raises(ValueError, match="not a universal target"):
        ecs_api.universal_target_request({**target, "arn": "arn:aws:ecs:eu-west-3:123456789012:cluster/c"})


def test_task_definition_and_service_pass_the_ecs_api_model(plan: Plan) -> None:
    task = ecs_api.register_task_definition_params(plan.one("aws:ecs/taskDefinition:TaskDefinition")["inputs"])
    assert ecs_api.validate("RegisterTaskDefinition", task) == []
    service = ecs_api.create_service_params(plan.one("aws:ecs/service:Service")["inputs"])
    assert ecs_api.validate("CreateService", service) == []


def test_rendered_extras_pass_every_policy(plan: Plan) -> None:
    """The whole pack, as `pulumi up` would run it: resource policies on inputs, stack policies on outputs
    (here the mock state) with the captured property dependencies."""
    found = [f"{r['type']} {r['name']}: {m}" for p in POLICIES if isinstance(p, ResourceValidationPolicy)
             for r in plan.resources for m in check_resource(p, r["type"], r["inputs"], r["urn"], r["name"])]
    stack = {r["urn"]: stack_resource(r, {**r["state"], **({"id": r["id"]} if r["id"] else {})})
             for r in plan.resources}
    for r in plan.resources:
        stack[r["urn"]].property_dependencies = {k: [stack[u] for u in urns if u in stack]
                                                 for k, urns in r["propertyDependencies"].items()}
    found += [f"{p.name}: {m}" for p in POLICIES if isinstance(p, StackValidationPolicy)
              for m, _ in check_stack(p, list(stack.values()))]
    assert found == []


def test_every_rendered_aws_call_passes_its_api_model(plan: Plan) -> None:
    """Each registration ecs_api can map (task definition, service, schedule, EFS file system, access point,
    mount targets, backup and file system policies) validated against botocore's model of its API call."""
    checked = []
    for r in plan.resources:
        if r["type"] not in ecs_api.BY_TYPE:
            continue
        operation, mapping = ecs_api.BY_TYPE[r["type"]]
        params = mapping(r["inputs"])
        if operation in ("scheduler:CreateSchedule", "CreateService") and "name" not in r["inputs"]:
            params = mapping(r["inputs"], autoname=f"{r['name']}-1a2b3c4")  # type: ignore[call-arg]
        assert ecs_api.validate(operation, params) == [], r["name"]
        checked.append(r["type"].split(":")[-1])
    assert sorted(checked) == sorted(["FileSystem", "BackupPolicy", "FileSystemPolicy", "MountTarget", "MountTarget",
                                      "MountTarget", "AccessPoint", "TaskDefinition", "Service", "Schedule"])


def test_efs_mapping_reports_problems(plan: Plan) -> None:
    ap = ecs_api.create_access_point_params(plan.one("aws:efs/accessPoint:AccessPoint")["inputs"])
    assert ap["PosixUser"] == {"Uid": 101, "Gid": 101}
    assert {"Key": "Name", "Value": "data-ap"} in ap["Tags"]
    bad = {**ap, "RootDirectory": {"Path": "/webapp", "CreationInfo": {"OwnerUid": 101, "OwnerGid": 101}}}
    assert any("Permissions" in p for p in ecs_api.validate("efs:CreateAccessPoint", bad))
    # patterns (ParamValidator checks none): at most 4 path levels, none starting with a dot
    for path in ("/a/b/c/d/e", "/webapp/.cache"):
        deep = {**ap, "RootDirectory": {**ap["RootDirectory"], "Path": path}}
        assert any("RootDirectory.Path" in p and "pattern" in p
                   for p in ecs_api.validate("efs:CreateAccessPoint", deep)), path
    fs = ecs_api.create_file_system_params(plan.one("aws:efs/fileSystem:FileSystem")["inputs"])
    assert any("ThroughputMode" in p for p in ecs_api.validate("efs:CreateFileSystem",
                                                                 {**fs, "ThroughputMode": "burst"}))


# --- argument checks --------------------------------------------------------------------------------------
def efs_args(**changes: Any) -> AppFileSystemArgs:
    base: dict[str, Any] = dict(vpc_id="vpc-1", subnet_ids=["subnet-1"], task_security_group_id="sg-1",
                                posix_uid=101, posix_gid=101, root_directory="/webapp", tags=TAGS)
    return AppFileSystemArgs(**{**base, **changes})


def scheduled_args(**changes: Any) -> ScheduledTaskArgs:
    base: dict[str, Any] = dict(
        cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/c", task_definition_arn="td",
        task_definition_family=FAMILY,
        container_name="webapp", command=["run"], schedule_expression="rate(1 hour)", schedule_timezone="UTC",
        subnet_ids=["subnet-1"], security_group_ids=["sg-1"], capacity_provider_strategy=[StrategyItem("FARGATE", 1)],
        task_role_arn="r1", execution_role_arn="r2", tags=TAGS)
    return ScheduledTaskArgs(**{**base, **changes})


@pytest.mark.parametrize(("changes", "expect"), [
    ({"posix_uid": 0}, "posix_uid=0"),
    ({"posix_gid": -1}, "posix_gid=-1"),
    ({"root_directory": "webapp"}, "root_directory='webapp'"),
    ({"root_directory": "/"}, "root_directory='/'"),
    ({"root_directory": "/a/b/c/d/e"}, "root_directory='/a/b/c/d/e'"),
    ({"root_directory": "/webapp/.cache"}, "root_directory='/webapp/.cache'"),
    ({"root_directory": "/web app;rm"}, "root_directory='/web app;rm'"),
    ({"subnet_ids": []}, "subnet_ids is empty"),
    ({"transition_to_ia": "AFTER_2_DAYS"}, "transition_to_ia='AFTER_2_DAYS'"),
])
def test_file_system_args_are_checked(changes: dict[str, Any], expect: str) -> None:
    with pytest.raises(ValueError, match=expect.replace("(", r"\(")):
        efs_args(**changes)


def test_file_system_args_accept_a_lifecycle() -> None:
    assert efs_args(transition_to_ia="AFTER_30_DAYS").transition_to_ia == "AFTER_30_DAYS"


PROTECTED_PROGRAM = textwrap.dedent(f'''
    from infra.ecs.efs import AppFileSystem, AppFileSystemArgs

    AppFileSystem("data", AppFileSystemArgs(
        vpc_id="vpc-0123456789abcdef0", subnet_ids={SUBNETS[:2]!r}, task_security_group_id="sg-0123456789abcdef0",
        posix_uid=1000, posix_gid=1001, root_directory="/srv/app", tags={TAGS!r},
        transition_to_ia="AFTER_30_DAYS", protect=True))
''')


def test_file_system_protection_and_lifecycle_when_asked(plan: Plan, tmp_path: Path) -> None:
    assert plan.one("aws:efs/fileSystem:FileSystem")["options"]["protect"] is False  # the default
    root = program(tmp_path, PROTECTED_PROGRAM, project="webstack", stacks=("test",), region=REGION)
    protected = render("test", root=root, stacks=root)
    fs = protected.one("aws:efs/fileSystem:FileSystem")
    assert fs["options"]["protect"] is True
    assert fs["inputs"]["lifecyclePolicies"] == [{"transitionToIa": "AFTER_30_DAYS"}]
    assert len(protected.of_type("aws:efs/mountTarget:MountTarget")) == 2
    assert protected.one("aws:efs/accessPoint:AccessPoint")["inputs"]["rootDirectory"]["creationInfo"] == {
        "ownerUid": 1000, "ownerGid": 1001, "permissions": "0750"}


@pytest.mark.parametrize(("changes", "expect"), [
    ({"schedule_expression": "0 2 * * *"}, "expected cron"),
    ({"schedule_expression": "cron(0 2 * * *)"}, "takes 6 fields"),
    ({"schedule_expression": "cron(0 2 * * MON *)"}, "exactly one of day-of-month and day-of-week"),
    ({"schedule_expression": "rate(1 hours)"}, "singular"),
    ({"schedule_timezone": "Europe/Pariss"}, "not an IANA time zone"),
    ({"command": []}, "command=[]"),
    ({"capacity_provider_strategy": []}, "capacity_provider_strategy is empty"),
    ({"command": ["echo", "x" * 4096]}, "at most 4096 characters as JSON"),
])
def test_scheduled_task_args_are_checked(changes: dict[str, Any], expect: str) -> None:
    with pytest.raises(ValueError, match=expect.replace("(", r"\(").replace("[", r"\[")):
        scheduled_args(**changes)


@pytest.mark.parametrize("expression", ["cron(0 22 ? * MON-FRI *)", "cron(0/15 8-18 * * ? *)", "rate(5 minutes)",
                                        "rate(1 day)", "at(2027-01-01T00:00:00)", "cron(0 3 L * ? *)"])
def test_valid_schedule_expressions(expression: str) -> None:
    assert schedule_expression_problems(expression) == []
    assert timezone_problems("America/New_York") == []


def test_timezones_without_a_tz_database(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.ecs import scheduled

    monkeypatch.setattr(scheduled, "available_timezones", set)  # no system tzdata, no tzdata package
    assert timezone_problems("Europe/Paris") == [] and timezone_problems("UTC") == []
    assert timezone_problems("Paris time") != [] and timezone_problems("") != []


def test_ecs_arn_parsing() -> None:
    arn = iam.EcsArn.parse("arn:aws-cn:ecs:cn-north-1:123456789012:cluster/prod")
    assert arn.task_definition_family("app") == "arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/app:*"
    assert arn.tasks() == "arn:aws-cn:ecs:cn-north-1:123456789012:task/prod/*"
    with pytest.raises(ValueError, match="not an ECS cluster ARN"):
        iam.EcsArn.parse("arn:aws:ecs:us-east-1:123456789012:service/prod/app")



# --- tests/support/ecs_api.py: the mapping on crafted Pulumi inputs -----------------------------------------------
ROLE = f"arn:aws:iam::{ACCOUNT}:role/"
IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/webapp@sha256:{'b' * 64}"


def crafted_task_definition() -> dict[str, Any]:
    """Inputs shaped like the plan's aws:ecs/taskDefinition:TaskDefinition (camelCase, numbers as floats)."""
    containers = [
        {"name": "webapp", "image": IMAGE, "essential": True, "user": "101:101", "readonlyRootFilesystem": True,
         "cpu": 0, "stopTimeout": 120, "environment": [{"name": "MODE", "value": "prod"}],
         "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}],
         "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
         "mountPoints": [{"sourceVolume": "data", "containerPath": "/srv/data", "readOnly": False}],
         "linuxParameters": {"initProcessEnabled": True},
         "healthCheck": {"command": ["CMD-SHELL", "wget -qO- http://127.0.0.1:8080/healthz"], "interval": 15,
                         "timeout": 5, "retries": 3, "startPeriod": 10},
         "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/webapp",
                                                                  "awslogs-region": "us-east-1",
                                                                  "awslogs-stream-prefix": "webapp"}}},
        {"name": "sidecar", "image": IMAGE, "essential": False, "dependsOn": [
            {"containerName": "webapp", "condition": "HEALTHY"}]},
    ]
    return {
        "family": FAMILY, "containerDefinitions": json.dumps(containers, sort_keys=True), "cpu": "512",
        "memory": "1024", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
        "executionRoleArn": ROLE + "execution", "taskRoleArn": ROLE + "task", "pidMode": "task",
        "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"},
        "ephemeralStorage": {"sizeInGib": 30.0},
        "volumes": [
            {"name": "tmp"},
            {"name": "data", "efsVolumeConfiguration": {
                "fileSystemId": "fs-0123", "transitEncryption": "ENABLED", "transitEncryptionPort": 2999.0,
                "authorizationConfig": {"accessPointId": "fsap-0123", "iam": "ENABLED"}}},
            {"name": "host", "hostPath": "/var/data"},
            {"name": "docker", "dockerVolumeConfiguration": {"scope": "shared", "autoprovision": True,
                                                             "driver": "local", "driverOpts": {"type": "tmpfs"},
                                                             "labels": {"team": "web"}}},
            {"name": "later", "configureAtLaunch": True},
        ],
        "proxyConfiguration": {"type": "APPMESH", "containerName": "sidecar",
                               "properties": {"IgnoredUID": "1337", "AppPorts": "8080"}},
        "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.os-type == linux"}],
        "skipDestroy": True, "trackLatest": False, "tags": TAGS,
    }


def crafted_service() -> dict[str, Any]:
    """Inputs shaped like the plan's aws:ecs/service:Service."""
    return {
        "name": "webapp", "cluster": f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/{CLUSTER_NAME}",
        "taskDefinition": f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/{FAMILY}:3", "desiredCount": 2.0,
        "capacityProviderStrategies": [{"capacityProvider": "FARGATE", "weight": 1.0, "base": 1.0},
                                       {"capacityProvider": "FARGATE_SPOT", "weight": 3.0, "base": 0.0}],
        "platformVersion": "1.4.0",
        "networkConfiguration": {"subnets": SUBNETS, "securityGroups": ["sg-0123"], "assignPublicIp": False},
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "deploymentMaximumPercent": 200.0, "deploymentMinimumHealthyPercent": 100.0,
        "alarms": {"alarmNames": ["webapp-5xx"], "enable": True, "rollback": True},
        "deploymentController": {"type": "ECS"},
        "loadBalancers": [{"targetGroupArn": f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/w/1",
                           "containerName": "webapp", "containerPort": 8080.0}],
        "orderedPlacementStrategies": [{"type": "spread", "field": "attribute:ecs.availability-zone"},
                                       {"type": "binpack", "field": "memory"}],
        "placementConstraints": [{"type": "distinctInstance"}],
        "serviceRegistries": {"registryArn": f"arn:aws:servicediscovery:us-east-1:{ACCOUNT}:service/srv-1",
                              "containerName": "webapp", "containerPort": 8080.0},
        "healthCheckGracePeriodSeconds": 60.0, "enableEcsManagedTags": True, "propagateTags": "SERVICE",
        "enableExecuteCommand": False, "availabilityZoneRebalancing": "ENABLED", "schedulingStrategy": "REPLICA",
        "waitForSteadyState": True, "forceNewDeployment": True, "triggers": {"redeploy": "1"}, "tags": TAGS,
    }


def test_task_definition_mapping_renames_and_reshapes() -> None:
    params = ecs_api.register_task_definition_params(crafted_task_definition())
    assert {"skipDestroy", "trackLatest"} & set(params) == set()
    assert [c["name"] for c in params["containerDefinitions"]] == ["webapp", "sidecar"]  # the JSON, parsed
    volumes = {v["name"]: v for v in params["volumes"]}
    assert volumes["host"] == {"name": "host", "host": {"sourcePath": "/var/data"}}
    assert volumes["later"] == {"name": "later", "configuredAtLaunch": True}
    assert volumes["data"]["efsVolumeConfiguration"]["transitEncryptionPort"] == 2999
    assert params["ephemeralStorage"] == {"sizeInGiB": 30}  # Pulumi's sizeInGib
    assert params["proxyConfiguration"]["properties"] == [{"name": "AppPorts", "value": "8080"},
                                                          {"name": "IgnoredUID", "value": "1337"}]
    assert {"key": "managed-by", "value": "pulumi"} in params["tags"]
    assert ecs_api.validate("RegisterTaskDefinition", params) == []


def test_service_mapping_renames_and_reshapes() -> None:
    params = ecs_api.create_service_params(crafted_service())
    assert {"waitForSteadyState", "forceNewDeployment", "triggers", "name"} & set(params) == set()
    assert params["serviceName"] == "webapp" and params["desiredCount"] == 2
    assert params["capacityProviderStrategy"][1] == {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0}
    assert params["networkConfiguration"] == {"awsvpcConfiguration": {
        "subnets": SUBNETS, "securityGroups": ["sg-0123"], "assignPublicIp": "DISABLED"}}
    assert params["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True}, "maximumPercent": 200,
        "minimumHealthyPercent": 100, "alarms": {"alarmNames": ["webapp-5xx"], "enable": True, "rollback": True}}
    assert params["placementStrategy"][0] == {"type": "spread", "field": "attribute:ecs.availability-zone"}
    assert params["enableECSManagedTags"] is True and isinstance(params["serviceRegistries"], list)
    assert ecs_api.validate("CreateService", params) == []


def _edit_container(td: dict[str, Any], **changes: Any) -> dict[str, Any]:
    containers = json.loads(td["containerDefinitions"])
    containers[0].update(changes)
    return {**td, "containerDefinitions": json.dumps(containers)}


@pytest.mark.parametrize(("edit", "expect"), [
    (lambda td: {**td, "cpu": 512}, "Invalid type for parameter cpu, value: 512"),
    (lambda td: {k: v for k, v in td.items() if k != "family"}, 'Missing required parameter in input: "family"'),
    # the ECS spelling is readonlyRootFilesystem; the usual camel-case guess is an unknown member
    (lambda td: _edit_container(td, readOnlyRootFilesystem=True),
     'Unknown parameter in containerDefinitions[0]: "readOnlyRootFilesystem"'),
    (lambda td: {**td, "inferenceAccelerator": []}, 'Unknown parameter in input: "inferenceAccelerator"'),
    (lambda td: {**td, "networkMode": "vpc"}, "Invalid value for parameter networkMode, value: 'vpc'"),
    (lambda td: {**td, "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "AMD64"}},
     "Invalid value for parameter runtimePlatform.cpuArchitecture"),
    (lambda td: _edit_container(td, stopTimeout="120"),
     "Invalid type for parameter containerDefinitions[0].stopTimeout"),
])
def test_task_definition_problems_are_reported(edit: Any, expect: str) -> None:
    problems = ecs_api.validate("RegisterTaskDefinition",
                                ecs_api.register_task_definition_params(edit(crafted_task_definition())))
    assert any(expect in p for p in problems), problems


@pytest.mark.parametrize(("edit", "expect"), [
    (lambda s: {**s, "desiredCount": "2"}, "Invalid type for parameter desiredCount"),
    (lambda s: {**s, "deploymentCircuitBreakers": {"enable": True}},
     'Unknown parameter in input: "deploymentCircuitBreakers"'),
    (lambda s: {**s, "launchType": "FARGATE_SPOT"}, "Invalid value for parameter launchType, value: 'FARGATE_SPOT'"),
    (lambda s: {**s, "loadBalancers": [{"targetGroupArn": "tg", "containerName": "webapp", "containerPort": "8080"}]},
     "Invalid type for parameter loadBalancers[0].containerPort"),
    (lambda s: {**s, "networkConfiguration": {"subnets": "subnet-1", "assignPublicIp": True}},
     "Invalid type for parameter networkConfiguration.awsvpcConfiguration.subnets"),
])
def test_service_problems_are_reported(edit: Any, expect: str) -> None:
    problems = ecs_api.validate("CreateService", ecs_api.create_service_params(edit(crafted_service())))
    assert any(expect in p for p in problems), problems
    assert ecs_api.unknown_parameters(problems) == (["input.deploymentCircuitBreakers"]
                                                     if "Unknown" in expect else [])


def test_autoscaling_mappings_pass_their_api_models() -> None:
    resource = {"resourceId": f"service/{CLUSTER_NAME}/webapp", "scalableDimension": "ecs:service:DesiredCount",
                "serviceNamespace": "ecs"}
    target = ecs_api.register_scalable_target_params({**resource, "minCapacity": 1.0, "maxCapacity": 4.0,
                                                      "tags": TAGS, "region": "us-east-1"})
    assert target["MinCapacity"] == 1 and target["Tags"] == TAGS
    assert ecs_api.validate("application-autoscaling:RegisterScalableTarget", target) == []
    policy = ecs_api.put_scaling_policy_params({**resource, "name": "requests", "policyType": "TargetTrackingScaling",
                                                "targetTrackingScalingPolicyConfiguration": {
                                                    "targetValue": 500.0, "scaleInCooldown": 300.0,
                                                    "scaleOutCooldown": 60.0, "disableScaleIn": False,
                                                    "predefinedMetricSpecification": {
                                                        "predefinedMetricType": "ALBRequestCountPerTarget",
                                                        "resourceLabel": "app/w/1/targetgroup/w/2"}}})
    assert policy["PolicyName"] == "requests"
    assert ecs_api.validate("application-autoscaling:PutScalingPolicy", policy) == []
    bad = {**policy, "PolicyType": "TargetTracking"}
    assert any("PolicyType" in p for p in ecs_api.validate("application-autoscaling:PutScalingPolicy", bad))
    action = ecs_api.put_scheduled_action_params({**resource, "name": "night", "schedule": "cron(0 20 * * ? *)",
                                                  "timezone": "Europe/Paris",
                                                  "scalableTargetAction": {"minCapacity": 0.0, "maxCapacity": 0.0}})
    assert action["ScalableTargetAction"] == {"MinCapacity": 0, "MaxCapacity": 0}
    assert ecs_api.validate("application-autoscaling:PutScheduledAction", action) == []


def test_schedule_mapping_reports_problems() -> None:
    inputs = {"scheduleExpression": "rate(1 hour)", "flexibleTimeWindow": {"mode": "OFF"},
              "target": {"arn": "arn:aws:ecs:us-east-1:123456789012:cluster/c", "roleArn": ROLE + "s",
                         "ecsParameters": {"taskDefinitionArn": "td", "launchType": "FARGATE",
                                           "networkConfiguration": {"subnets": SUBNETS, "assignPublicIp": True},
                                           "tags": {"team": "web"}}}}
    params = ecs_api.create_schedule_params(inputs, autoname="s-1")
    assert params["Target"]["EcsParameters"]["Tags"] == [{"team": "web"}]
    assert ecs_api.validate("scheduler:CreateSchedule", params) == []
    assert any("Name" in p and "pattern" in p for p in ecs_api.validate(
        "scheduler:CreateSchedule", ecs_api.create_schedule_params(inputs, autoname="nightly run")))
    assert any('Missing required parameter in input: "Name"' in p
               for p in ecs_api.validate("scheduler:CreateSchedule", ecs_api.create_schedule_params(inputs)))
    off = {**inputs, "flexibleTimeWindow": {"mode": "NONE"}}
    assert any("FlexibleTimeWindow.Mode" in p
               for p in ecs_api.validate("scheduler:CreateSchedule", ecs_api.create_schedule_params(off, autoname="s")))


def test_every_mapping_is_listed_by_type() -> None:
    for typ, (operation, _mapping) in ecs_api.BY_TYPE.items():
        assert typ.startswith("aws:") and ecs_api.operation_model(operation).input_shape is not None
