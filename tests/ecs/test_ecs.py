"""The ECS runtime (webstack:runtime = ecs), asserted on three renders: Fargate (tests/stacks/Pulumi.ecs.yaml),
Fargate + Spot with EFS, ECS Exec, secrets and a scheduled task (Pulumi.ecs-spot.yaml) and EC2 capacity on Graviton
(Pulumi.ecs-ec2.yaml). Each render happens once per session (conftest)."""

from __future__ import annotations

import base64
import ipaddress
import json
import random
import re
from typing import Any

import pytest

from infra.ecs.capacity import provider_name
from infra.ecs.task import SCRATCH_PATH, SCRATCH_VOLUME, canonical_container_definitions
from infra.image import APP_UID, app_contract
from tests.support import committed_lock, ecs_api
from tools.outputs import declared
from tools.render import ROOT, Plan

CONTRACT = app_contract()
STACKS = ("ecs", "ecs-spot", "ecs-ec2")
CLUSTER = "aws:ecs/cluster:Cluster"
CAPACITY = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
TASKDEF = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LB = "aws:lb/loadBalancer:LoadBalancer"
TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
RECORD = "aws:route53/record:Record"
SCALING_TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
SCHEDULED_ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


@pytest.fixture(scope="session", params=STACKS)
def plan(request: pytest.FixtureRequest, variant: Any) -> Plan:
    return variant(request.param)


def containers(plan: Plan) -> list[dict[str, Any]]:
    return json.loads(plan.one(TASKDEF)["inputs"]["containerDefinitions"])


def app_container(plan: Plan) -> dict[str, Any]:
    (c,) = containers(plan)
    return c


def service(plan: Plan) -> dict[str, Any]:
    return plan.one(SERVICE)["inputs"]


def doc(plan: Plan, typ: str, name: str, field: str) -> dict[str, Any]:
    return json.loads(plan.one(typ, name)["inputs"][field])


def by_id(plan: Plan, typ: str, name: str) -> str:
    return plan.one(typ, name)["id"]


def private_subnet_ids(plan: Plan) -> list[str]:
    return [r["id"] for r in plan.of_type("aws:ec2/subnet:Subnet") if "-private-" in r["name"]]


def public_subnet_ids(plan: Plan) -> list[str]:
    return [r["id"] for r in plan.of_type("aws:ec2/subnet:Subnet") if "-public-" in r["name"]]


# --- the runtime switch -----------------------------------------------------------------------------------
def test_ecs_declares_no_eks_or_kubernetes_resource(plan: Plan) -> None:
    eks = [r["type"] for r in plan.resources
           if r["type"].startswith(("eks:", "kubernetes:", "aws:eks/", "pulumi:providers:kubernetes"))
           or r["type"].startswith("webstack:eks") or r["type"].startswith("webstack:workload")]
    assert eks == []
    assert not [i for i in plan.invokes if i["token"].startswith("aws:eks/")]


def test_ecs_shares_network_registry_dns_and_image(plan: Plan, dev: Plan) -> None:
    shared = ("webstack:network:Network", "webstack:registry:Registry", "webstack:dns:Dns",
              "webstack:image:AppImage", "docker:index/image:Image",
              "aws:acm/certificateValidation:CertificateValidation")
    for typ in shared:
        assert len(plan.of_type(typ)) == len(dev.of_type(typ)) == 1, typ
    assert plan.of_type(CLUSTER) and not dev.of_type(CLUSTER) and not dev.of_type(SERVICE)


def test_image_is_built_for_the_task_architecture(fargate: Plan, ec2: Plan) -> None:
    for p, arch, cpu in ((fargate, "amd64", "X86_64"), (ec2, "arm64", "ARM64")):
        assert p.one("docker:index/image:Image")["inputs"]["build"]["platform"] == f"linux/{arch}"
        platform = p.one(TASKDEF)["inputs"]["runtimePlatform"]
        assert platform == {"cpuArchitecture": cpu, "operatingSystemFamily": "LINUX"}


def test_outputs(plan: Plan) -> None:
    out = plan.outputs
    hostname = {"ecs": "app.example.com", "ecs-spot": "web.example.org", "ecs-ec2": "app.example.net"}[plan.stack]
    assert out["url"] == f"https://{hostname}"
    assert out["alb_hostname"] == plan.one(LB)["state"]["dnsName"]
    assert out["cluster_name"] == f"webstack-{plan.stack}" == plan.one(CLUSTER)["inputs"]["name"]
    assert out["service_name"] == service(plan)["name"]
    assert out["image_digest"] == app_container(plan)["image"]
    assert "@sha256:" in out["image_digest"]
    assert "kubeconfig" not in out
    assert set(out) <= {d.name for d in declared()}, "every ECS output is exported with a description"
    assert {"service_name", "task_definition_arn", "log_group_name"} <= set(out)


# --- cluster and capacity -----------------------------------------------------------------------------------
def test_container_insights_from_config(fargate: Plan, spot: Plan, ec2: Plan) -> None:
    for p, value in ((fargate, "enhanced"), (spot, "enabled"), (ec2, "disabled")):
        assert p.one(CLUSTER)["inputs"]["settings"] == [{"name": "containerInsights", "value": value}]


def test_fargate_strategy(fargate: Plan, spot: Plan) -> None:
    assert fargate.one(CAPACITY)["inputs"]["defaultCapacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1}]
    assert spot.one(CAPACITY)["inputs"]["defaultCapacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 2},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0}]
    for p in (fargate, spot):
        assert p.one(CAPACITY)["inputs"]["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
        assert not p.of_type("aws:autoscaling/group:Group")


def test_service_repeats_the_strategy_and_never_sets_a_launch_type(plan: Plan) -> None:
    s = service(plan)
    assert s["capacityProviderStrategies"] == plan.one(CAPACITY)["inputs"]["defaultCapacityProviderStrategies"]
    assert "launchType" not in s
    assert s["forceNewDeployment"] is True  # a strategy change takes effect


def test_ec2_capacity(ec2: Plan) -> None:
    lt = ec2.one("aws:ec2/launchTemplate:LaunchTemplate")["inputs"]
    # The lock's AMI for the stack's architecture: nothing read from SSM at deploy time, so a new AMI reaches the
    # instances only through a commit of the lock (a new launch template version, then the instance refresh).
    amis = committed_lock("ecs-ec2")["ecsAmis"]
    assert lt["imageId"] == amis["arm64"] != amis["amd64"]
    assert not [i for i in ec2.invokes if i["token"] == "aws:ssm/getParameter:getParameter"]
    assert lt["instanceType"] == "m7g.large"
    assert lt["metadataOptions"]["httpTokens"] == "required"
    assert lt["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (disk,) = lt["blockDeviceMappings"]
    assert disk["ebs"]["encrypted"] == "true" and disk["ebs"]["volumeType"] == "gp3" and disk["ebs"]["volumeSize"] == 40
    user_data = base64.b64decode(lt["userData"]).decode()
    assert "ECS_CLUSTER=webstack-ecs-ec2\n" in user_data
    assert "ECS_AWSVPC_BLOCK_IMDS=true\n" in user_data  # tasks cannot reach the instance's credentials
    profile = ec2.one("aws:iam/instanceProfile:InstanceProfile")
    assert lt["iamInstanceProfile"]["arn"] == profile["state"]["arn"]
    instance_sg = ec2.one(SG, "ecs-ec2-instances")
    assert lt["vpcSecurityGroupIds"] == [instance_sg["id"]]
    assert not [r for r in ec2.of_type(INGRESS) if r["inputs"]["securityGroupId"] == instance_sg["id"]]

    asg = ec2.one("aws:autoscaling/group:Group")
    assert sorted(asg["inputs"]["vpcZoneIdentifiers"]) == sorted(private_subnet_ids(ec2))
    assert asg["inputs"]["protectFromScaleIn"] is True
    assert asg["inputs"]["forceDelete"] is True, "protected instances would otherwise block the group's deletion"
    refresh = asg["inputs"]["instanceRefresh"]
    assert refresh["strategy"] == "Rolling", "a new AMI or instance type rolls the instances"
    assert refresh["preferences"]["scaleInProtectedInstances"] == "Refresh"
    assert refresh["preferences"]["minHealthyPercentage"] == 100
    assert asg["inputs"]["launchTemplate"]["version"] == str(
        ec2.one("aws:ec2/launchTemplate:LaunchTemplate")["state"]["latestVersion"])
    assert (asg["inputs"]["minSize"], asg["inputs"]["maxSize"]) == (1, 5)
    assert "desiredCapacity" in asg["options"]["ignoreChanges"]
    assert {"key": "AmazonECSManaged", "value": "true", "propagateAtLaunch": True} in asg["inputs"]["tags"]
    assert ec2.depends_on(asg["urn"], ec2.one(CLUSTER)["urn"]), "instances join an existing cluster"

    provider = ec2.one("aws:ecs/capacityProvider:CapacityProvider")
    group = provider["inputs"]["autoScalingGroupProvider"]
    assert group["managedTerminationProtection"] == "ENABLED"
    assert group["managedDraining"] == "ENABLED"
    assert group["managedScaling"]["status"] == "ENABLED" and group["managedScaling"]["targetCapacity"] == 90
    assert group["autoScalingGroupArn"] == asg["state"]["arn"]
    association = ec2.one(CAPACITY)
    assert provider["inputs"]["name"] in association["inputs"]["capacityProviders"]
    name = provider_name("webstack-ecs-ec2", asg["state"]["arn"])
    assert provider["inputs"]["name"] == name and re.fullmatch(r"webstack-ecs-ec2-ec2-[0-9a-f]{8}", name)
    assert association["inputs"]["defaultCapacityProviderStrategies"] == [
        {"capacityProvider": name, "weight": 1, "base": 0}]
    # Destroy: the association goes first, then the provider (it cannot be deleted while associated).
    assert ec2.depends_on(association["urn"], provider["urn"])
    assert ec2.depends_on(ec2.one(SERVICE)["urn"], association["urn"])


def test_leaving_ec2_capacity_is_documented(ec2: Plan, fargate: Plan) -> None:
    """The service depends on the capacity provider association (created after it, deleted before it), so it is
    also updated after it: leaving EC2 capacity would drop a provider the service still uses, which ECS refuses
    (ResourceInUseException, retried by the provider until its timeout). The service moves off EC2 first."""
    provider = plan_capacity_provider_name(ec2)
    assert provider in ec2.one(CAPACITY)["inputs"]["capacityProviders"]
    assert provider not in fargate.one(CAPACITY)["inputs"]["capacityProviders"]
    assert ec2.depends_on(ec2.one(SERVICE)["urn"], ec2.one(CAPACITY)["urn"])
    assert fargate.depends_on(fargate.one(SERVICE)["urn"], fargate.one(CAPACITY)["urn"])
    page = (ROOT / "docs" / "operations.md").read_text()
    section = page.split("## Changing `ecsCapacity` from `ec2` to `fargate`", 1)[1].split("\n#", 1)[0]
    move, wait, switch = (section.index(s) for s in (
        "aws ecs update-service", "aws ecs wait services-stable", "webstack:ecsCapacity fargate"))
    assert move < wait < switch and "capacityProvider=FARGATE" in section


def plan_capacity_provider_name(plan: Plan) -> str:
    return plan.one("aws:ecs/capacityProvider:CapacityProvider")["inputs"]["name"]


def test_every_arn_follows_the_partition(ec2: Plan) -> None:
    """The EC2 stack is in GovCloud: no `arn:aws:` anywhere in what the ECS runtime declares."""
    text = json.dumps([r["inputs"] for r in ec2.resources] + [i["args"] for i in ec2.invokes])
    assert "arn:aws-us-gov:" in text
    assert not re.search(r"\barn:aws:", text)


def test_ec2_instance_role_is_the_ecs_managed_policy_only(ec2: Plan) -> None:
    attachments = ec2.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert [a["inputs"]["policyArn"] for a in attachments] == [
        "arn:aws-us-gov:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"]


# --- task definition ------------------------------------------------------------------------------------------
def test_task_definition_basics(fargate: Plan, spot: Plan, ec2: Plan) -> None:
    for p, cpu, memory, compat in ((fargate, "512", "1024", ["FARGATE"]), (spot, "1024", "2048", ["FARGATE"]),
                                   (ec2, "256", "512", ["EC2"])):
        t = p.one(TASKDEF)["inputs"]
        assert (t["cpu"], t["memory"], t["networkMode"], sorted(t["requiresCompatibilities"])) == (
            cpu, memory, "awsvpc", compat)
        assert t["executionRoleArn"] != t["taskRoleArn"]
        assert t["family"] == f"webstack-{p.stack}-webapp"


def test_container_is_the_image_by_digest_non_root_read_only(plan: Plan) -> None:
    c = app_container(plan)
    assert c["image"] == plan.one("docker:index/image:Image")["state"]["repoDigest"]
    assert c["user"] == str(APP_UID)
    assert c["readonlyRootFilesystem"] is True
    assert c["portMappings"] == [{"containerPort": CONTRACT["port"], "hostPort": CONTRACT["port"], "protocol": "tcp"}]
    assert CONTRACT["healthPath"] in c["healthCheck"]["command"][-1]
    assert c["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
    assert {"sourceVolume": SCRATCH_VOLUME, "containerPath": SCRATCH_PATH, "readOnly": False} in c["mountPoints"]
    volumes = plan.one(TASKDEF)["inputs"]["volumes"]
    assert {"name": SCRATCH_VOLUME} in volumes, "a task-scoped bind mount, no host path"


def test_no_new_privileges_where_ecs_offers_it(fargate: Plan, spot: Plan, ec2: Plan) -> None:
    """EC2 tasks set Docker's no-new-privileges (a setuid binary gains nothing); Fargate refuses
    dockerSecurityOptions altogether, so its tasks must not carry it."""
    assert app_container(ec2)["dockerSecurityOptions"] == ["no-new-privileges"]
    assert "dockerSecurityOptions" not in app_container(fargate)
    assert "dockerSecurityOptions" not in app_container(spot)


def test_stop_timeout_only_with_spot(fargate: Plan, spot: Plan, ec2: Plan) -> None:
    assert app_container(spot)["stopTimeout"] == 120
    assert "stopTimeout" not in app_container(fargate) and "stopTimeout" not in app_container(ec2)


def test_logs_go_to_a_stack_owned_group_with_retention(fargate: Plan, ec2: Plan) -> None:
    for p, days in ((fargate, 90), (ec2, 30)):
        group = p.one(LOG_GROUP)
        assert group["inputs"]["retentionInDays"] == days
        options = app_container(p)["logConfiguration"]
        assert options["logDriver"] == "awslogs"
        assert options["options"]["awslogs-group"] == group["inputs"]["name"]
        assert options["options"]["awslogs-region"] == {"ecs-ec2": "us-gov-west-1", "ecs": "us-east-1"}[p.stack]


def test_environment_and_secrets_from_config(fargate: Plan, spot: Plan) -> None:
    assert app_container(fargate)["environment"] == [{"name": "APP_MODE", "value": "static"}]
    assert "secrets" not in app_container(fargate)
    assert app_container(spot)["secrets"] == [
        {"name": "API_TOKEN",
         "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:webapp/api-token-AbCdEf"},
        {"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/webapp/db-password"}]


def test_container_definitions_are_canonical(plan: Plan) -> None:
    text = plan.one(TASKDEF)["inputs"]["containerDefinitions"]
    assert canonical_container_definitions(json.loads(text)) == text
    c = app_container(plan)
    for key, default in (("cpu", 0), ("essential", True), ("volumesFrom", []), ("systemControls", [])):
        assert c[key] == default, key
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def test_canonicalisation_sorts_fills_and_is_idempotent() -> None:
    shuffled = [
        {"name": "zeta", "image": "z", "portMappings": [{"containerPort": 80}],
         "environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
         "mountPoints": [{"sourceVolume": "v", "containerPath": "/v"}]},
        {"name": "alpha", "image": "a", "essential": False, "cpu": 128,
         "secrets": [{"name": "Y", "valueFrom": "arn:y"}, {"name": "X", "valueFrom": "arn:x"}]},
    ]
    random.Random(7).shuffle(shuffled)
    once = canonical_container_definitions(shuffled)
    assert canonical_container_definitions(json.loads(once)) == once
    alpha, zeta = json.loads(once)
    assert (alpha["name"], zeta["name"]) == ("alpha", "zeta")
    assert alpha["essential"] is False and alpha["cpu"] == 128, "given values are kept"
    assert [s["name"] for s in alpha["secrets"]] == ["X", "Y"]
    assert alpha["portMappings"] == [] and alpha["environment"] == [] and alpha["mountPoints"] == []
    assert zeta["portMappings"] == [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]
    assert [e["name"] for e in zeta["environment"]] == ["A", "B"]
    assert zeta["mountPoints"] == [{"containerPath": "/v", "readOnly": False, "sourceVolume": "v"}]
    assert zeta["cpu"] == 0 and zeta["essential"] is True


def test_canonical_text_is_what_go_marshals() -> None:
    # The provider re-marshals the stored text with Go's encoding/json: UTF-8 kept, <, > and & escaped.
    text = canonical_container_definitions([{"name": "a", "environment": [{"name": "Q", "value": "a&b<c>é"}]}])
    assert '"value":"a\\u0026b\\u003cc\\u003eé"' in text
    assert json.loads(text)[0]["environment"][0]["value"] == "a&b<c>é"


# --- IAM ------------------------------------------------------------------------------------------------------
def test_task_roles_trust_ecs_tasks_of_this_account_only(plan: Plan) -> None:
    region = {"ecs": "us-east-1", "ecs-spot": "eu-west-1", "ecs-ec2": "us-gov-west-1"}[plan.stack]
    partition = "aws-us-gov" if plan.stack == "ecs-ec2" else "aws"
    for name in ("app-execution", "app-task"):
        (statement,) = doc(plan, ROLE, name, "assumeRolePolicy")["Statement"]
        assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert statement["Condition"] == {
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:ecs:{region}:123456789012:*"},
            "StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_execution_role_is_least_privilege(fargate: Plan, spot: Plan) -> None:
    for p in (fargate, spot):
        statements = doc(p, ROLE_POLICY, "app-execution", "policy")["Statement"]
        star = [s for s in statements if s["Resource"] == "*"]
        assert star == [{"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]
        pull = next(s for s in statements if s["Sid"] == "PullAppImage")
        assert pull["Resource"] == p.one("aws:ecr/repository:Repository")["state"]["arn"]
        logs = next(s for s in statements if s["Sid"] == "WriteAppLogs")
        assert logs["Resource"] == p.one(LOG_GROUP)["state"]["arn"] + ":*"
    plain = {s["Sid"] for s in doc(fargate, ROLE_POLICY, "app-execution", "policy")["Statement"]}
    assert plain == {"EcrToken", "PullAppImage", "WriteAppLogs"}, "no secrets configured: no secret or KMS access"
    by_sid = {s["Sid"]: s for s in doc(spot, ROLE_POLICY, "app-execution", "policy")["Statement"]}
    assert by_sid["ReadSecrets"]["Resource"] == [
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:webapp/api-token-AbCdEf"]
    assert by_sid["ReadParameters"]["Resource"] == [
        "arn:aws:ssm:eu-west-1:123456789012:parameter/webapp/db-password"]
    assert by_sid["DecryptSecrets"] == {"Sid": "DecryptSecrets", "Effect": "Allow", "Action": "kms:Decrypt",
                                        "Resource": "arn:aws:kms:eu-west-1:123456789012:key/"
                                                    "1234abcd-12ab-34cd-56ef-1234567890ab"}


def test_ecs_exec_is_opt_in(fargate: Plan, spot: Plan) -> None:
    assert service(spot)["enableExecuteCommand"] is True
    assert app_container(spot)["linuxParameters"]["initProcessEnabled"] is True
    actions = doc(spot, ROLE_POLICY, "app-task-exec", "policy")["Statement"][0]["Action"]
    assert all(a.startswith("ssmmessages:") for a in actions) and len(actions) == 4
    assert service(fargate)["enableExecuteCommand"] is False
    assert "initProcessEnabled" not in app_container(fargate)["linuxParameters"]
    assert not [r for r in fargate.of_type(ROLE_POLICY) if r["name"].startswith("app-task-")]
    # The SSM agent needs writable paths despite the read-only root filesystem (containers-roadmap#1359).
    exec_mounts = {m["containerPath"] for m in app_container(spot)["mountPoints"]}
    assert {"/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm"} <= exec_mounts
    assert {"name": "exec-agents"} in spot.one(TASKDEF)["inputs"]["volumes"]
    assert [m["containerPath"] for m in app_container(fargate)["mountPoints"]] == [SCRATCH_PATH]


def test_task_definition_waits_for_the_role_policies(spot: Plan) -> None:
    taskdef = spot.one(TASKDEF)["urn"]
    for name in ("app-execution", "app-task-exec", "app-task-efs"):
        assert spot.depends_on(taskdef, spot.one(ROLE_POLICY, name)["urn"]), name


# --- service ---------------------------------------------------------------------------------------------------
def test_service_network_and_deployment(plan: Plan) -> None:
    s = service(plan)
    net = s["networkConfiguration"]
    assert sorted(net["subnets"]) == sorted(private_subnet_ids(plan))
    assert net["assignPublicIp"] is False
    assert net["securityGroups"] == [by_id(plan, SG, "web-tasks")]
    assert s["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert s["waitForSteadyState"] is True
    # EC2 tasks are bin packed, which AWS does not support with AZ rebalancing; they spread over AZs first.
    assert s["availabilityZoneRebalancing"] == ("DISABLED" if plan.stack == "ecs-ec2" else "ENABLED")
    assert s["enableEcsManagedTags"] is True and s["propagateTags"] == "SERVICE"
    assert s["deploymentController"] == {"type": "ECS"}
    (lb,) = s["loadBalancers"]
    assert lb == {"targetGroupArn": plan.one(TG)["state"]["arn"], "containerName": "webapp",
                  "containerPort": CONTRACT["port"]}
    assert "desiredCount" in plan.one(SERVICE)["options"]["ignoreChanges"], "auto scaling owns the count"


def test_service_deployment_numbers_from_config(fargate: Plan, ec2: Plan) -> None:
    assert (service(fargate)["deploymentMinimumHealthyPercent"], service(fargate)["deploymentMaximumPercent"],
            service(fargate)["healthCheckGracePeriodSeconds"], service(fargate)["desiredCount"]) == (100, 200, 60, 2)
    assert (service(ec2)["deploymentMinimumHealthyPercent"], service(ec2)["deploymentMaximumPercent"],
            service(ec2)["healthCheckGracePeriodSeconds"]) == (50, 150, 120)


def test_platform_version_pinned_on_fargate_only(fargate: Plan, spot: Plan, ec2: Plan) -> None:
    assert service(fargate)["platformVersion"] == service(spot)["platformVersion"] == "1.4.0"
    assert "platformVersion" not in service(ec2)


def test_placement_for_ec2_tasks_only(fargate: Plan, ec2: Plan) -> None:
    assert service(ec2)["orderedPlacementStrategies"] == [
        {"type": "spread", "field": "attribute:ecs.availability-zone"}, {"type": "binpack", "field": "memory"}]
    assert service(ec2)["placementConstraints"] == [
        {"type": "memberOf", "expression": "attribute:ecs.cpu-architecture == arm64"}]
    assert "orderedPlacementStrategies" not in service(fargate) and "placementConstraints" not in service(fargate)


def test_service_is_created_after_its_target_group_is_attached_and_before_https_forwards_to_it(plan: Plan) -> None:
    """ECS refuses a target group no load balancer uses, so a rule attaches it first; the HTTPS listener forwards to
    it only after the service (steady in it: waitForSteadyState). A replaced target group (port, protocol) is thus
    created, attached, deployed into by the service, and only then receives traffic; destroy deletes the HTTPS
    listener, then the service, then the rule and the group. Pulumi walks this order; that ECS accepts each step
    and how long the old group drains is only provable on AWS."""
    svc, tg = plan.one(SERVICE)["urn"], plan.one(TG)["urn"]
    https, http = plan.one(LISTENER, "web-https")["urn"], plan.one(LISTENER, "web-http")["urn"]
    rule = plan.one(LISTENER_RULE, "web-attach-tg")
    assert rule["inputs"]["actions"] == [{"type": "forward", "targetGroupArn": plan.one(TG)["state"]["arn"]}]
    assert plan.depends_on(rule["urn"], tg) and plan.depends_on(rule["urn"], http)
    assert plan.depends_on(svc, rule["urn"]) and plan.depends_on(svc, tg)
    assert plan.depends_on(https, svc), "HTTPS forwards to the group only once the service is steady in it"
    assert not plan.depends_on(svc, https)
    assert service(plan)["waitForSteadyState"] is True


def test_the_attaching_rule_never_routes_a_request(plan: Plan) -> None:
    """It sits on the HTTP listener (every other request redirected to HTTPS), last, and matches only a
    documentation-only source address (RFC 5737) that no internet connection has; botocore's elbv2 model accepts
    it. Whether the ALB accepts that CIDR is only provable on AWS."""
    rule = plan.one(LISTENER_RULE, "web-attach-tg")["inputs"]
    assert rule["listenerArn"] == plan.one(LISTENER, "web-http")["state"]["arn"]
    assert rule["priority"] == 50000
    assert rule["conditions"] == [{"sourceIp": {"values": ["192.0.2.1/32"]}}]
    assert ipaddress.ip_network("192.0.2.1/32").subnet_of(ipaddress.ip_network("192.0.2.0/24"))
    params = ecs_api.create_rule_params(rule)
    assert params["Conditions"] == [{"Field": "source-ip", "SourceIpConfig": {"Values": ["192.0.2.1/32"]}}]
    assert ecs_api.validate("elbv2:CreateRule", params) == []


def test_task_security_group_admits_only_the_alb(plan: Plan) -> None:
    tasks, alb = by_id(plan, SG, "web-tasks"), by_id(plan, SG, "web-alb")
    rules = [r["inputs"] for r in plan.of_type(INGRESS) if r["inputs"]["securityGroupId"] == tasks]
    assert rules == [{**rules[0], "ipProtocol": "tcp", "fromPort": CONTRACT["port"], "toPort": CONTRACT["port"],
                      "referencedSecurityGroupId": alb}]
    assert "cidrIpv4" not in rules[0] and "cidrIpv6" not in rules[0]
    world = [r["inputs"] for r in plan.of_type(INGRESS) if r["inputs"].get("cidrIpv4") == "0.0.0.0/0"]
    assert sorted(r["fromPort"] for r in world) == [80, 443]
    assert all(r["securityGroupId"] == alb for r in world)


# --- load balancer and DNS ------------------------------------------------------------------------------------------
def test_alb(plan: Plan) -> None:
    alb = plan.one(LB)["inputs"]
    assert alb["internal"] is False and alb["loadBalancerType"] == "application"
    assert sorted(alb["subnets"]) == sorted(public_subnet_ids(plan))
    assert alb["dropInvalidHeaderFields"] is True
    assert alb["enableDeletionProtection"] is False  # deletionProtection unset: off outside prod*
    assert alb["securityGroups"] == [by_id(plan, SG, "web-alb")]
    # Never the EKS Ingress's ALB name (<cluster>-<app>): a runtime switch creates this one before that one goes.
    assert alb["name"] == f"webstack-{plan.stack}-ecs"


def test_target_group_is_ip_with_the_health_path(plan: Plan) -> None:
    tg = plan.one(TG)["inputs"]
    assert tg["targetType"] == "ip" and tg["port"] == CONTRACT["port"] and tg["protocol"] == "HTTP"
    assert tg["healthCheck"]["path"] == CONTRACT["healthPath"]
    assert tg["healthCheck"]["matcher"] == "200"


def test_listeners_tls_and_redirect(plan: Plan) -> None:
    https, http = plan.one(LISTENER, "web-https")["inputs"], plan.one(LISTENER, "web-http")["inputs"]
    validation = plan.one("aws:acm/certificateValidation:CertificateValidation")
    assert https["protocol"] == "HTTPS" and https["port"] == 443
    assert https["certificateArn"] == validation["state"]["certificateArn"], "the validated certificate"
    assert https["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["defaultActions"] == [{"type": "forward", "targetGroupArn": plan.one(TG)["state"]["arn"]}]
    assert http["protocol"] == "HTTP" and http["port"] == 80
    assert http["defaultActions"] == [{"type": "redirect", "redirect": {
        "protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]


def test_alias_record_for_the_hostname(plan: Plan) -> None:
    alb = plan.one(LB)["state"]
    (record,) = [r["inputs"] for r in plan.of_type(RECORD) if r["name"] == "web-alias"]
    assert record["name"] == plan.outputs["url"].removeprefix("https://") and record["type"] == "A"
    assert record["aliases"] == [{"name": alb["dnsName"], "zoneId": alb["zoneId"], "evaluateTargetHealth": True}]
    assert record["allowOverwrite"] is False, "Route 53 CREATE: an existing record for the hostname is never taken over"
    zone_lookup = next(i for i in plan.invokes if i["token"] == "aws:route53/getZone:getZone")
    assert record["zoneId"].startswith("Z") and zone_lookup["args"]["name"] in record["name"]


def test_switch_from_eks_keeps_the_record(dev: Plan, variant: Any) -> None:
    """In an EKS -> ECS switch the ECS alias overwrites ExternalDNS's record (deliberately: ecsTakeOverHostnameRecord)
    before the EKS side is deleted; with ExternalDNS's default policy (sync) it would then delete that record, which
    it still owns by its TXT record. The switch is documented in runs: upsert-only first, then the switch with the
    takeover, then the guard back. That Route 53 refuses CREATE over an existing record is only provable on AWS."""
    (release,) = [r["inputs"] for r in dev.of_type("kubernetes:helm.sh/v3:Release")
                  if r["inputs"]["name"] == "external-dns"]
    assert release["values"]["policy"] == "sync", "the premise: the EKS runtime deletes the records it owns"
    switching = variant("ecs", ecsTakeOverHostnameRecord=True)
    (record,) = [r["inputs"] for r in switching.of_type(RECORD) if r["name"] == "web-alias"]
    assert record["allowOverwrite"] is True
    page = (ROOT / "docs" / "operations.md").read_text()
    section = page.split("## Switching an existing stack from EKS to ECS", 1)[1].split("\n#", 1)[0]
    first, second = section.index("externalDnsPolicy upsert-only"), section.index("webstack:runtime ecs")
    take, back = (section.index("set webstack:ecsTakeOverHostnameRecord true"),
                  section.index("rm webstack:ecsTakeOverHostnameRecord"))
    assert first < second < take < back, "upsert-only, then the switch with the takeover, then the guard back"
    assert "pulumi up --refresh" in section


# --- auto scaling -----------------------------------------------------------------------------------------------
def test_scalable_target(plan: Plan) -> None:
    target = plan.one(SCALING_TARGET)["inputs"]
    assert target["resourceId"] == f"service/webstack-{plan.stack}/webapp"
    assert target["scalableDimension"] == "ecs:service:DesiredCount" and target["serviceNamespace"] == "ecs"
    bounds = {"ecs": (2, 5), "ecs-spot": (3, 12), "ecs-ec2": (2, 6)}[plan.stack]
    assert (target["minCapacity"], target["maxCapacity"]) == bounds


def test_target_tracking_any_subset(fargate: Plan, spot: Plan, ec2: Plan) -> None:
    def metrics(p: Plan) -> dict[str, dict[str, Any]]:
        out = {}
        for r in p.of_type(SCALING_POLICY):
            spec = r["inputs"]["targetTrackingScalingPolicyConfiguration"]
            out[spec["predefinedMetricSpecification"]["predefinedMetricType"]] = spec
        return out

    assert {k: v["targetValue"] for k, v in metrics(fargate).items()} == {
        "ECSServiceAverageCPUUtilization": 60, "ECSServiceAverageMemoryUtilization": 75}
    assert {k: v["targetValue"] for k, v in metrics(ec2).items()} == {"ECSServiceAverageCPUUtilization": 70}
    requests = metrics(spot)
    assert list(requests) == ["ALBRequestCountPerTarget"]
    alb, tg = spot.one(LB)["state"], spot.one(TG)["state"]
    label = requests["ALBRequestCountPerTarget"]["predefinedMetricSpecification"]["resourceLabel"]
    assert label == f"{alb['arnSuffix']}/{tg['arnSuffix']}"
    assert label.startswith("app/") and "/targetgroup/" in label


def test_scheduled_scaling(fargate: Plan, spot: Plan) -> None:
    actions = {r["inputs"]["name"]: r["inputs"] for r in fargate.of_type(SCHEDULED_ACTION)}
    assert set(actions) == {"webstack-ecs-night", "webstack-ecs-morning"}
    night = actions["webstack-ecs-night"]
    assert night["schedule"] == "cron(0 20 ? * * *)" and night["timezone"] == "Europe/Paris"
    assert night["scalableTargetAction"] == {"minCapacity": 0, "maxCapacity": 0}
    assert night["resourceId"] == fargate.one(SCALING_TARGET)["inputs"]["resourceId"]
    assert not spot.of_type(SCHEDULED_ACTION)
    # With schedules, a `pulumi up` at night must not restore the day's bounds; without, config owns them.
    assert fargate.one(SCALING_TARGET)["options"]["ignoreChanges"] == ["maxCapacity", "minCapacity"]
    assert spot.one(SCALING_TARGET)["options"]["ignoreChanges"] == []
    for r in fargate.of_type(SCHEDULED_ACTION) + fargate.of_type(SCALING_POLICY):
        assert fargate.depends_on(r["urn"], fargate.one(SCALING_TARGET)["urn"])
