"""A mutation test of the policy pack: every policy must report a realistic breakage of a rendered resource, and
the clean render it was made from must pass. A policy no mutation can trip is a defect, and a policy without a
mutation here fails `test_every_policy_has_a_mutation` (so a new policy comes with its mutations).

`MUTATIONS` is data: policy name -> mutations, each an edit of plain data on a deep copy of a session render (the
test stacks' plans: `dev`, `prod` for EKS, `fargate`, `spot`, `ec2` for ECS), run through the harness the way
`make policy` runs the pack (tests/support/pack.py `check_plan`: resource policies on inputs, stack policies on
every resource with the render's property dependencies). Only the mutated policy's verdict is asserted: one
breakage may well trip a neighbour too.

This module reads the plans through resource *type strings*, never the pack's modules, so the same mutations can
be run against another version of the pack (the issue 21 report: which of them main's pack missed).
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.pack import BY_NAME, check_plan
from tests.support.plan_edits import (
    ROLE,
    ROLE_POLICY,
    TASK,
    allow,
    app,
    attach,
    containers,
    document,
    drop,
    edit_props,
    grant,
    inputs,
    role_policy,
    setp,
    sidecar,
    statement,
)
from tools.render import TEST_STACKS, Plan
from tools.review.diff import example_stacks
from tools.review.policy_report import check

SERVICE, MANAGED_POLICY = "aws:ecs/service:Service", "aws:iam/policy:Policy"
LISTENER, SCHEDULE = "aws:lb/listener:Listener", "aws:scheduler/schedule:Schedule"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG, DEFAULT_SG = "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
LT, REPO, LOG_GROUP, KMS_KEY = ("aws:ec2/launchTemplate:LaunchTemplate", "aws:ecr/repository:Repository",
                                "aws:cloudwatch/logGroup:LogGroup", "aws:kms/key:Key")
CLUSTER, NODES, SUBNET = "eks:index:Cluster", "eks:index:ManagedNodeGroup", "aws:ec2/subnet:Subnet"
DEPLOYMENT, INGRESS = "kubernetes:apps/v1:Deployment", "kubernetes:networking.k8s.io/v1:Ingress"
RELEASE = "kubernetes:helm.sh/v3:Release"
STORAGE_CLASS, PERSISTENT_VOLUME = "kubernetes:storage.k8s.io/v1:StorageClass", "kubernetes:core/v1:PersistentVolume"
NODE_CLASS, NODE_POOL = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", "kubernetes:karpenter.sh/v1:NodePool"
AUTO_NODE_CLASS = "kubernetes:eks.amazonaws.com/v1:NodeClass"
WEB_ACL, TOPIC = "aws:wafv2/webAcl:WebAcl", "aws:sns/topic:Topic"
ALB = "alb.ingress.kubernetes.io/"
TLS10 = "ELBSecurityPolicy-TLS13-1-0-2021-06"  # in the TLS13 family, yet it accepts TLS 1.0 and 1.1


@dataclass(frozen=True)
class Mutation:
    id: str
    stack: str  # the session fixture whose render is mutated: dev, prod, fargate, spot, ec2
    edit: Callable[[Plan], Any]  # edits plain data of (a deep copy of) the plan
    expect: str  # a substring of one message the policy reports


def task_role_is_execution_role(plan: Plan) -> None:
    task = plan.one(TASK)
    execution = plan.one(ROLE, "app-execution")
    task["inputs"]["taskRoleArn"] = task["inputs"]["executionRoleArn"]
    task["propertyDependencies"]["taskRoleArn"] = [execution["urn"]]


def open_tasks_to(**source: Any) -> Callable[[Plan], None]:
    """The tasks' ingress rule (from the ALB's group) made to admit another source instead."""
    def apply(plan: Plan) -> None:
        rule = plan.one(INGRESS_RULE, "web-tasks-from-alb")
        rule["inputs"].pop("referencedSecurityGroupId")
        rule["propertyDependencies"].pop("referencedSecurityGroupId")
        rule["inputs"].update(source)
    return apply


def tasks_from_efs_group(plan: Plan) -> None:
    """Another of the stack's groups (EFS's) may reach the app port."""
    rule = plan.one(INGRESS_RULE, "web-tasks-from-alb")
    files = plan.one(SG, "files-sg")
    rule["inputs"]["referencedSecurityGroupId"] = files["id"]
    rule["propertyDependencies"]["referencedSecurityGroupId"] = [files["urn"]]


def node_group_in_public_subnet(plan: Plan) -> None:
    ng = plan.one(NODES)
    public = plan.one(SUBNET, "network-public-0")
    ng["inputs"]["subnetIds"].append(public["id"])
    ng["propertyDependencies"]["subnetIds"].append(public["urn"])


def nodeclass_in_public_subnet(plan: Plan) -> None:
    """Auto Mode's NodeClass given a public subnet too (its id, and the property dependency the render records)."""
    node_class = plan.one(AUTO_NODE_CLASS)
    public = plan.one(SUBNET, "network-public-0")
    node_class["inputs"]["spec"]["subnetSelectorTerms"].append({"id": public["id"]})
    node_class["propertyDependencies"]["spec"].append(public["urn"])


def fargate_profile_in_public_subnets(plan: Plan) -> None:
    """A Fargate profile for the app's namespace given the public subnets (the subnets' ids and their property
    dependencies, as the render records them)."""
    public = [r for r in plan.resources if r["type"] == SUBNET and "public" in r["name"]]
    stack = plan.resources[0]["urn"].rsplit("::", 1)[0].rsplit("::", 1)[0]
    urn = f"{stack}::webstack:eks:AppFargateProfile$aws:eks/fargateProfile:FargateProfile::app-fargate"
    plan.resources.append({
        "urn": urn, "type": "aws:eks/fargateProfile:FargateProfile", "name": "app-fargate", "custom": True,
        "id": "", "parent": "", "provider": "", "aliases": [], "options": {}, "state": {}, "dependencies": [],
        "inputs": {"clusterName": "webstack-dev", "podExecutionRoleArn": "arn:aws:iam::123456789012:role/x",
                   "selectors": [{"namespace": "webapp"}], "subnetIds": [s["id"] for s in public]},
        "propertyDependencies": {"subnetIds": [s["urn"] for s in public]}})


def instances_in_public_subnets(plan: Plan) -> None:
    """The ECS container instances' group moved to the public subnets (the reviewer's probe)."""
    group = plan.one("aws:autoscaling/group:Group")
    public = [r for r in plan.resources if r["type"] == SUBNET and "public" in r["name"]]
    group["inputs"]["vpcZoneIdentifiers"] = [s["id"] for s in public]
    group["propertyDependencies"]["vpcZoneIdentifiers"] = [s["urn"] for s in public]


def wildcard_trust(condition: dict[str, Any]) -> None:
    """The IRSA trust's exact :sub replaced by a StringLike wildcard on the whole namespace."""
    sub = next(k for k in condition["StringEquals"] if k.endswith(":sub"))
    condition.setdefault("StringLike", {})[sub] = "system:serviceaccount:kube-system:*"
    del condition["StringEquals"][sub]


def tagged(tag: str) -> str:
    return "123456789012.dkr.ecr.us-east-1.amazonaws.com/webapp:" + tag


def inputs_of_https_forward(listener: dict[str, Any]) -> list[dict[str, Any]]:
    """The HTTPS listener's forward action, for an HTTP listener to serve the app in clear text."""
    return [{"type": "forward", "targetGroupArn": listener["loadBalancerArn"].replace(":loadbalancer/app/",
                                                                                      ":targetgroup/")}]


def _with_public_ip(request: str) -> str:
    """A universal-target RunTask request (PascalCase) that gives the task a public IP."""
    doc = json.loads(request)
    doc["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] = "ENABLED"
    return json.dumps(doc, sort_keys=True)


OTEL = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:webapp/other-AbCdEf"

# --- the mutations ------------------------------------------------------------------------------------------
MUTATIONS: dict[str, tuple[Mutation, ...]] = {
    "eks-nodes-in-private-subnets": (
        Mutation("node-group-in-a-public-subnet", "dev", node_group_in_public_subnet, "public subnet(s)"),
    ),
    "eks-fargate-profile-private-subnets": (
        Mutation("fargate-profile-in-a-public-subnet", "dev", fargate_profile_in_public_subnets, "public subnet(s)"),
    ),
    "instances-in-private-subnets": (
        Mutation("ecs-instances-in-public-subnets", "ec2", instances_in_public_subnets, "public subnet(s)"),
        Mutation("ecs-instances-with-public-ips", "ec2", edit_props(LT, None, lambda d: setp(
            d, "networkInterfaces", [{"deviceIndex": 0, "associatePublicIpAddress": "true"}])),
            "associatePublicIpAddress is true"),
        Mutation("ecs-instances-in-the-default-vpc", "ec2", edit_props("aws:autoscaling/group:Group", None, lambda d: (
            drop(d, "vpcZoneIdentifiers"), setp(d, "availabilityZones", ["us-gov-west-1a"]))),
            "declares no vpcZoneIdentifiers"),
    ),
    "launch-template-imdsv2": (
        Mutation("imdsv1-allowed", "dev", edit_props(LT, None, lambda d: setp(d, "metadataOptions", "httpTokens",
                                                                            "optional")), "httpTokens"),
        Mutation("ecs-instances-hop-limit-2", "ec2", edit_props(LT, None, lambda d: setp(
            d, "metadataOptions", "httpPutResponseHopLimit", 2)), "httpPutResponseHopLimit is 2"),
    ),
    "launch-template-encrypted-volumes": (
        Mutation("unencrypted-root", "dev", edit_props(LT, None, lambda d: setp(
            d["blockDeviceMappings"][0], "ebs", "encrypted", "false")), "is not encrypted"),
        Mutation("ecs-instances-unencrypted", "ec2", edit_props(LT, None, lambda d: drop(
            d["blockDeviceMappings"][0], "ebs", "encrypted")), "is not encrypted"),
    ),
    "karpenter-nodeclass-hardened": (
        Mutation("nodeclass-hop-limit-2", "karpenter", edit_props(NODE_CLASS, None, lambda d: setp(
            d["spec"], "metadataOptions", "httpPutResponseHopLimit", 2)), "httpPutResponseHopLimit=2"),
        Mutation("nodeclass-unencrypted-root", "karpenter", edit_props(NODE_CLASS, None, lambda d: setp(
            d["spec"]["blockDeviceMappings"][0], "ebs", "encrypted", False)), "ebs.encrypted"),
        Mutation("nodeclass-public-ip", "karpenter", edit_props(NODE_CLASS, None, lambda d: setp(
            d["spec"], "associatePublicIPAddress", True)), "associatePublicIPAddress is True"),
    ),
    "auto-mode-nodeclass-private": (
        Mutation("nodeclass-default-subnets", "automode", edit_props(AUTO_NODE_CLASS, None, lambda d: drop(
            d["spec"], "subnetSelectorTerms")), "subnetSelectorTerms must list ids only"),
        Mutation("nodeclass-in-a-public-subnet", "automode", nodeclass_in_public_subnet, "public subnet(s)"),
    ),
    "karpenter-nodepool-bounded": (
        Mutation("nodepool-unlimited", "karpenter", edit_props(NODE_POOL, None, lambda d: drop(d["spec"], "limits")),
                 "limits.cpu is not set"),
        Mutation("nodepool-no-budget", "karpenter", edit_props(NODE_POOL, None, lambda d: setp(
            d["spec"], "disruption", "budgets", [])), "disruption.budgets is empty"),
    ),
    "eks-secrets-encryption": (
        Mutation("no-kms-key", "dev", edit_props(CLUSTER, None, lambda d: drop(d, "encryptionConfigKeyArn")),
                 "encryptionConfigKeyArn"),
    ),
    "eks-control-plane-logs": (
        Mutation("api-log-only", "prod", edit_props(CLUSTER, None, lambda d: setp(d, "enabledClusterLogTypes",
                                                                                 ["api"])), "lacks audit"),
    ),
    "eks-public-endpoint-restricted": (
        Mutation("open-to-the-world", "dev", edit_props(CLUSTER, None, lambda d: setp(d, "publicAccessCidrs",
                                                                                     ["0.0.0.0/0"])), "0.0.0.0/0"),
    ),
    "ecr-scan-on-push": (
        Mutation("scan-off", "fargate", edit_props(REPO, None, lambda d: setp(d, "imageScanningConfiguration",
                                                                             "scanOnPush", False)), "scanOnPush"),
    ),
    "ecr-immutable-tags": (
        Mutation("mutable-tags", "dev", edit_props(REPO, None, lambda d: setp(d, "imageTagMutability", "MUTABLE")),
                 "imageTagMutability is MUTABLE"),
    ),
    "security-group-no-world-ingress": (
        Mutation("app-port-from-the-internet", "fargate", open_tasks_to(cidrIpv4="0.0.0.0/0"),
                 "ingress from 0.0.0.0/0 on protocol tcp port(s) 8080"),
        Mutation("ssh-to-the-alb", "ec2", edit_props(INGRESS_RULE, "web-alb-in-80", lambda d: d.update(
            fromPort=22, toPort=22)), "port(s) 22"),
    ),
    "default-security-group-closed": (
        Mutation("default-group-admits-itself", "dev", edit_props(DEFAULT_SG, None, lambda d: setp(
            d, "ingress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}])), "1 ingress rule"),
    ),
    "default-security-group-managed": (
        Mutation("default-group-left-to-aws", "dev", lambda plan: plan.resources.remove(plan.one(DEFAULT_SG)),
                 "has no DefaultSecurityGroup resource"),
        Mutation("default-group-of-another-vpc", "ec2", lambda plan: (
            setp(inputs(plan, DEFAULT_SG), "vpcId", "vpc-0ther"), setp(plan.one(DEFAULT_SG), "propertyDependencies",
                                                                          {})), "'network-vpc'"),
    ),
    "aws-common-tags": (
        Mutation("task-definition-without-stack-tag", "fargate", edit_props(TASK, None, lambda d: drop(
            d, "tags", "stack")), "missing common tag(s) stack"),
        Mutation("vpc-tagged-for-another-stack", "prod", edit_props("aws:ec2/vpc:Vpc", None, lambda d: setp(
            d, "tags", "stack", "dev")), "tag stack='dev' should be 'prod'"),
    ),
    "containers-hardened": (
        Mutation("may-run-as-root", "dev", edit_props(DEPLOYMENT, None, lambda d: (
            drop(d["spec"]["template"]["spec"], "securityContext", "runAsNonRoot"),
            drop(d["spec"]["template"]["spec"]["containers"][0], "securityContext", "runAsNonRoot"))),
            "runAsNonRoot is not true"),
        Mutation("privilege-escalation", "prod", edit_props(DEPLOYMENT, None, lambda d: setp(
            d["spec"]["template"]["spec"]["containers"][0], "securityContext", "allowPrivilegeEscalation", True)),
            "allowPrivilegeEscalation"),
        Mutation("sys-admin-added", "dev", edit_props(DEPLOYMENT, None, lambda d: setp(
            d["spec"]["template"]["spec"]["containers"][0], "securityContext", "capabilities", "add",
            ["SYS_ADMIN", "NET_ADMIN"])), "capabilities.add has SYS_ADMIN, NET_ADMIN"),
    ),
    "images-pinned-by-digest": (
        Mutation("image-by-tag", "dev", edit_props(DEPLOYMENT, None, lambda d: setp(
            d["spec"]["template"]["spec"]["containers"][0], "image", tagged("latest"))), "not pinned by digest"),
    ),
    "efs-encrypted-at-rest": (
        Mutation("efs-unencrypted", "storage", edit_props("aws:efs/fileSystem:FileSystem", None, lambda d: setp(
            d, "encrypted", False)), "encrypted is False"),
        Mutation("ecs-efs-encryption-unset", "spot", edit_props("aws:efs/fileSystem:FileSystem", None, lambda d: drop(
            d, "encrypted")), "encrypted is None"),
    ),
    "storage-encrypted": (
        Mutation("gp3-unencrypted", "dev", edit_props(STORAGE_CLASS, None, lambda d: setp(
            d, "parameters", "encrypted", "false")), "encrypted='false'"),
        Mutation("gp3-encryption-unset", "karpenter", edit_props(STORAGE_CLASS, None, lambda d: drop(
            d, "parameters", "encrypted")), "encrypted=None"),
        Mutation("efs-volume-tls-off-as-0", "storage", edit_props(PERSISTENT_VOLUME, None, lambda d: setp(
            d, "spec", "csi", "volumeAttributes", {"encryptInTransit": "0"})), "must mount with TLS"),
        Mutation("efs-volume-tls-off", "storage", edit_props(PERSISTENT_VOLUME, None, lambda d: setp(
            d, "spec", "csi", "volumeAttributes", {"encryptInTransit": "false"})), "must mount with TLS"),
    ),
    "ingress-alb-tls-only": (
        Mutation("tls10-policy-of-the-tls13-family", "dev", edit_props(INGRESS, None, lambda d: setp(
            d, "metadata", "annotations", f"{ALB}ssl-policy", TLS10)), f"ssl-policy is '{TLS10}'"),
        Mutation("no-https-redirect", "prod", edit_props(INGRESS, None, lambda d: drop(
            d, "metadata", "annotations", f"{ALB}ssl-redirect")), "ssl-redirect"),
    ),
    "route53-changes-scoped": (
        Mutation("every-hosted-zone", "dev", document(MANAGED_POLICY, "platform-external-dns", statement(
            "ChangeOwnZoneOnly", lambda s: setp(s, "Resource", "arn:aws:route53:::hostedzone/*"))),
            "hostedzone/*"),
        # the reviewer's probe: the grant moved into an inline policy of the ExternalDNS role
        Mutation("every-zone-inline-on-the-role", "dev", edit_props(ROLE, "platform-external-dns-irsa", lambda d: setp(
            d, "inlinePolicies", [{"name": "records", "policy": json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "route53:*", "Resource": "*"}]})}])),
            "inline policy 'records': statement #0 grants route53:ChangeResourceRecordSets on *"),
    ),
    "external-dns-filtered": (
        Mutation("no-domain-filter", "dev", edit_props(RELEASE, "external-dns", lambda d: drop(
            d, "values", "domainFilters")), "domainFilters"),
    ),
    "helm-chart-pinned": (
        Mutation("version-range", "dev", edit_props(RELEASE, "aws-load-balancer-controller", lambda d: setp(
            d, "version", "^1.13")), "not an exact version"),
    ),
    "irsa-trust-scoped": (
        Mutation("any-service-account-of-the-namespace", "dev", document(
            ROLE, "platform-alb-controller-irsa", lambda doc: wildcard_trust(doc["Statement"][0]["Condition"]),
            key="assumeRolePolicy"), "wildcard"),
    ),
    "pod-identity-trust-scoped": (
        Mutation("any-service-account-of-the-cluster", "prod", document(
            ROLE, "platform-external-dns-pod-identity", lambda doc: doc["Statement"][0]["Condition"]["StringEquals"]
            .pop("aws:RequestTag/kubernetes-service-account"), key="assumeRolePolicy"), "kubernetes-service-account"),
    ),
    "kms-key-rotation": (
        Mutation("rotation-off", "dev", edit_props(KMS_KEY, "cluster-secrets",
                                                   lambda d: setp(d, "enableKeyRotation", False)),
                 "enableKeyRotation"),
    ),
    "log-group-retention": (
        Mutation("task-logs-never-expire", "fargate", edit_props(LOG_GROUP, None, lambda d: drop(
            d, "retentionInDays")), "retentionInDays is None"),
        Mutation("control-plane-logs-never-expire", "dev", edit_props(LOG_GROUP, None, lambda d: setp(
            d, "retentionInDays", 0)), "retentionInDays is 0"),
    ),
    "ecs-containers-hardened": (
        Mutation("uid-0", "fargate", app(lambda c: setp(c, "user", "0")), "user '0' is root"),
        Mutation("no-user", "ec2", app(lambda c: drop(c, "user")), "no user"),
        Mutation("named-user", "spot", app(lambda c: setp(c, "user", "nginx")), "is a name"),
        Mutation("privileged-on-ec2", "ec2", app(lambda c: setp(c, "privileged", True)), "privileged is true"),
        Mutation("writable-root", "fargate", app(lambda c: setp(c, "readonlyRootFilesystem", False)),
                 "readonlyRootFilesystem is not true"),
        Mutation("capabilities-kept", "fargate", app(lambda c: drop(c, "linuxParameters", "capabilities")),
                 "drop does not include ALL"),
        Mutation("sys-admin-added", "ec2", app(lambda c: setp(c, "linuxParameters", "capabilities", "add",
                                                              ["SYS_ADMIN"])), "add has SYS_ADMIN"),
        Mutation("ptrace-added-for-debugging", "spot", app(lambda c: setp(
            c, "linuxParameters", "capabilities", "add", ["SYS_PTRACE"])), "add has SYS_PTRACE"),
        Mutation("privilege-escalation-on-ec2", "ec2", app(lambda c: drop(c, "dockerSecurityOptions")),
                 "lacks no-new-privileges"),
        Mutation("no-health-check", "spot", app(lambda c: drop(c, "healthCheck")), "no healthCheck"),
        Mutation("host-network-on-ec2", "ec2", edit_props(TASK, None, lambda d: setp(d, "networkMode", "host")),
                 "networkMode is host"),
        Mutation("host-pid", "ec2", edit_props(TASK, None, lambda d: setp(d, "pidMode", "host")), "pidMode is host"),
        Mutation("unbounded-cpu-on-ec2", "ec2", edit_props(TASK, None, lambda d: drop(d, "cpu")), "no cpu"),
        Mutation("soft-memory-only-on-ec2", "ec2", lambda plan: (
            drop(inputs(plan, TASK), "memory"), app(lambda c: setp(c, "memoryReservation", 256))(plan)),
            "no memory limit"),
        Mutation("sidecar-as-root", "fargate", sidecar(image=OTEL.replace(":v0.43.3", "@sha256:" + "a" * 64),
                                                      user=None), "container 'collector': no user"),
        Mutation("sidecar-writable-without-health-check", "ec2", sidecar(
            readonlyRootFilesystem=None, healthCheck=None), "container 'collector': readonlyRootFilesystem"),
    ),
    "ecs-images-pinned-by-digest": (
        Mutation("app-by-tag", "fargate", app(lambda c: setp(c, "image", tagged("1.4.2"))), "not pinned by digest"),
        Mutation("sidecar-by-tag", "spot", sidecar(image=OTEL), "'collector' image"),
    ),
    "ecs-task-logs-to-managed-group": (
        Mutation("no-log-configuration", "fargate", app(lambda c: drop(c, "logConfiguration")),
                 "has no logConfiguration"),
        Mutation("agent-creates-the-group", "spot", app(lambda c: setp(
            c, "logConfiguration", "options", "awslogs-create-group", "true")), "awslogs-create-group"),
        Mutation("logs-stay-on-the-instance", "ec2", app(lambda c: setp(c, "logConfiguration", {
            "logDriver": "json-file", "options": {"max-size": "10m"}})), "logDriver 'json-file'"),
        Mutation("firelens-without-router", "fargate", app(lambda c: setp(c, "logConfiguration", {
            "logDriver": "awsfirelens", "options": {"Name": "cloudwatch_logs"}})), "without a log router"),
        Mutation("firelens-to-an-http-endpoint", "sidecars", containers(lambda defs: setp(
            defs[-1], "logConfiguration", "options", {"Name": "http", "Host": "logs.example.net", "Port": "443",
                                                      "tls": "on"})), "awsfirelens output Name 'http'"),
        Mutation("firelens-to-s3-keeping-the-group-name", "sidecars", containers(lambda defs: setp(
            defs[-1], "logConfiguration", "options", "Name", "s3")), "awsfirelens output Name 's3'"),
    ),
    "ecs-logs-to-stack-log-group": (
        Mutation("logs-to-a-group-outside-the-stack", "fargate", app(lambda c: setp(
            c, "logConfiguration", "options", "awslogs-group", "/ecs/shared")), "'/ecs/shared'"),
        Mutation("sidecar-logs-elsewhere", "ec2", sidecar(logConfiguration={"logDriver": "awslogs", "options": {
            "awslogs-group": "/aws/ecs/otel", "awslogs-region": "us-gov-west-1", "awslogs-stream-prefix": "otel"}}),
            "'/aws/ecs/otel'"),
    ),
    "ecs-no-public-ip": (
        Mutation("service-tasks-public", "fargate", edit_props(SERVICE, None, lambda d: setp(
            d, "networkConfiguration", "assignPublicIp", True)), "assignPublicIp is true"),
        # the universal target aws-sdk:ecs:runTask carries the whole RunTask request in its input (PascalCase)
        Mutation("scheduled-task-public", "spot", edit_props(SCHEDULE, None, lambda d: d["target"].update(
            input=_with_public_ip(d["target"]["input"]))), "assignPublicIp"),
    ),
    "ecs-deployment-circuit-breaker": (
        Mutation("no-rollback", "fargate", edit_props(SERVICE, None, lambda d: setp(
            d, "deploymentCircuitBreaker", "rollback", False)), "rollback not true"),
        Mutation("no-circuit-breaker", "ec2", edit_props(SERVICE, None, lambda d: drop(
            d, "deploymentCircuitBreaker")), "enable and .rollback not true"),
        Mutation("blue-green-without-alarms", "spot", edit_props(SERVICE, None, lambda d: (
            drop(d, "deploymentCircuitBreaker"), setp(d, "deploymentConfiguration", {"strategy": "BLUE_GREEN"}))),
            "BLUE_GREEN deployment with no rollback"),
    ),
    "lb-listener-tls-only": (
        Mutation("tls10-policy-of-the-tls13-family", "fargate", edit_props(LISTENER, "web-https", lambda d: setp(
            d, "sslPolicy", TLS10)), f"sslPolicy is '{TLS10}'"),
        Mutation("default-tls-policy", "ec2", edit_props(LISTENER, "web-https", lambda d: drop(d, "sslPolicy")),
                 "sslPolicy is None"),
        Mutation("http-serves-the-app", "spot", edit_props(LISTENER, "web-http", lambda d: setp(
            d, "defaultActions", inputs_of_https_forward(d))), "does not only redirect"),
    ),
    "lb-http-listener-rules-never-serve": (
        # the rule attaching the target group, on the HTTP listener, made to match every request
        Mutation("attach-rule-matches-every-path", "fargate", edit_props(LISTENER_RULE, "web-attach-tg", lambda d: setp(
            d, "conditions", [{"pathPattern": {"values": ["/*"]}}])), "has action(s) forward on requests it can match"),
        Mutation("attach-rule-from-anywhere", "spot", edit_props(LISTENER_RULE, "web-attach-tg", lambda d: d[
            "conditions"][0]["sourceIp"]["values"].append("0.0.0.0/0")), "'web-http'"),
    ),
    "ecs-tasks-reachable-only-from-load-balancer": (
        Mutation("app-port-from-the-vpc", "fargate", open_tasks_to(cidrIpv4="10.0.0.0/16"), "admits 10.0.0.0/16"),
        Mutation("every-port-from-the-alb", "ec2", edit_props(INGRESS_RULE, "web-tasks-from-alb", lambda d: d.update(
            ipProtocol="-1", fromPort=-1, toPort=-1)), "on every protocol and port"),
        Mutation("app-port-from-another-group", "spot", tasks_from_efs_group, "admits files-sg"),
    ),
    "ecs-execution-role-least-privilege": (
        Mutation("pull-from-every-repository", "fargate", document(ROLE_POLICY, "app-execution", statement(
            "PullAppImage", lambda s: setp(s, "Resource", "*"))), "on Resource '*'"),
        Mutation("pull-from-another-repository", "ec2", document(ROLE_POLICY, "app-execution", statement(
            "PullAppImage", lambda s: setp(s, "Resource", s["Resource"].replace("/webapp", "/base-images")))),
            "outside an ECR repository of this stack"),
        Mutation("logs-to-every-group", "spot", document(ROLE_POLICY, "app-execution", statement(
            "WriteAppLogs", lambda s: setp(s, "Resource", s["Resource"].replace(
                "/ecs/webstack-ecs-spot-webapp", "/ecs/*")))), "outside the log groups"),
        Mutation("a-secret-the-task-does-not-list", "spot", document(ROLE_POLICY, "app-execution", statement(
            "ReadSecrets", lambda s: s["Resource"].append(SECRET))), "outside the secrets"),
        Mutation("every-parameter-under-a-path", "spot", document(ROLE_POLICY, "app-execution", statement(
            "ReadParameters", lambda s: setp(s, "Resource", [s["Resource"][0].rsplit("/", 1)[0] + "/*"]))),
            "outside the secrets"),
        Mutation("decrypt-with-any-key", "spot", document(ROLE_POLICY, "app-execution", statement(
            "DecryptSecrets", lambda s: setp(s, "Resource", "*"))), "kms:Decrypt on Resource '*'"),
        Mutation("agent-may-pass-roles", "fargate", document(ROLE_POLICY, "app-execution", grant(
            "iam:PassRole", "arn:aws:iam::123456789012:role/app-task-6a636f91")), "the ECS agent never uses"),
        Mutation("aws-managed-execution-policy", "ec2", attach(
            "app-execution", "arn:aws-us-gov:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"),
            "not declared in this stack"),
    ),
    "ecs-task-role-least-privilege": (
        Mutation("app-reads-buckets", "fargate", role_policy("app-task", allow(
            "s3:GetObject", "arn:aws:s3:::webstack-ecs-assets/*")), "no feature of the stack needs"),
        Mutation("mount-any-file-system", "spot", document(ROLE_POLICY, "app-task-efs", statement(
            "MountThroughAccessPoint", lambda s: setp(s, "Resource", "*"))), "on Resource '*'"),
        Mutation("mount-another-file-system", "spot", document(ROLE_POLICY, "app-task-efs", statement(
            "MountThroughAccessPoint", lambda s: setp(s, "Resource", s["Resource"].replace(
                "fs-", "fs-0ther")))), "outside an EFS file system of this stack"),
        Mutation("exec-with-every-ssm-action", "spot", document(ROLE_POLICY, "app-task-exec", statement(
            "EcsExecChannels", lambda s: setp(s, "Action", "ssmmessages:*"))), "wildcard action(s) ssmmessages:*"),
        Mutation("exec-channels-plus-session-start", "spot", document(ROLE_POLICY, "app-task-exec", statement(
            "EcsExecChannels", lambda s: s["Action"].append("ssm:StartSession"))), "grants ssm:StartSession"),
        Mutation("task-role-is-the-execution-role", "ec2", task_role_is_execution_role, "is also an execution role"),
        Mutation("admin-attached", "fargate", attach("app-task", "arn:aws:iam::aws:policy/AdministratorAccess"),
                 "AdministratorAccess"),
    ),
    # firewall and alarms (policy/ops.py; more cases in tests/policy/test_policy_ops.py)
    "waf-on-production": (
        Mutation("no-web-acl", "prod", lambda plan: plan.resources.remove(plan.one(WEB_ACL)),
                 "has no WAFv2 web ACL"),
        Mutation("ingress-detaches-the-acl", "prod", edit_props(INGRESS, None, lambda d: setp(
            d, "metadata", "annotations", f"{ALB}wafv2-acl-arn", "none")), "wafv2-acl-arn is 'none'"),
        Mutation("core-rule-set-dropped", "prod", edit_props(WEB_ACL, None, lambda d: setp(d, "rules", [
            r for r in d["rules"] if r["name"] != "AWSManagedRulesCommonRuleSet"])), "AWSManagedRulesCommonRuleSet"),
        Mutation("known-bad-inputs-only-counted", "prod", edit_props(WEB_ACL, None, lambda d: next(
            r for r in d["rules"] if r["name"] == "AWSManagedRulesKnownBadInputsRuleSet").update(
            overrideAction={"count": {}})), "(AWSManagedRulesKnownBadInputsRuleSet) has overrideAction"),
        Mutation("rate-limit-only-counts", "prod", edit_props(WEB_ACL, None, lambda d: next(
            r for r in d["rules"] if "rateBasedStatement" in r["statement"]).update(action={"count": {}})),
            "no rate-based rule blocks"),
    ),
    "deletion-protection-on-production": (
        Mutation("cluster-unprotected", "prod", edit_props(CLUSTER, None, lambda d: setp(d, "deletionProtection",
                                                                                         False)),
                 "deletionProtection is off"),
        Mutation("ingress-alb-unprotected", "prod", edit_props(INGRESS, None, lambda d: setp(
            d, "metadata", "annotations", f"{ALB}load-balancer-attributes",
            "routing.http.drop_invalid_header_fields.enabled=true")), "no deletion_protection.enabled=true"),
    ),
    "aws-managed-policies-allow-listed": (
        Mutation("external-dns-gets-route53-full-access", "dev", attach(
            "platform-external-dns-irsa", "arn:aws:iam::aws:policy/AmazonRoute53FullAccess"),
            "AWS managed policy AmazonRoute53FullAccess, which is not allow-listed"),
    ),
    "sns-topic-customer-key": (
        Mutation("aws-managed-key", "dev", edit_props(TOPIC, None, lambda d: setp(d, "kmsMasterKeyId",
                                                                                  "alias/aws/sns")),
                 "cannot let CloudWatch"),
    ),
}


CASES = [(policy, m) for policy, mutations in MUTATIONS.items() for m in mutations]


def test_every_policy_has_a_mutation() -> None:
    """A new policy needs a mutation here: a realistic breakage of a render that it, and it alone, is there to
    catch."""
    assert sorted(MUTATIONS) == sorted(BY_NAME)
    assert all(MUTATIONS.values())


_CLEAN: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (policy, stack) -> its verdict on the clean render


@pytest.mark.parametrize(("policy", "mutation"), CASES, ids=[f"{p}:{m.id}" for p, m in CASES])
def test_the_policy_reports_the_mutation(request: pytest.FixtureRequest, policy: str, mutation: Mutation) -> None:
    plan: Plan = request.getfixturevalue(mutation.stack)
    if (policy, mutation.stack) not in _CLEAN:  # the same for each mutation of that stack
        _CLEAN[policy, mutation.stack] = check_plan(BY_NAME[policy], plan)
    assert _CLEAN[policy, mutation.stack] == [], "the clean render must pass"
    mutated = pickle.loads(pickle.dumps(plan))  # a deep copy at a third of copy.deepcopy's cost
    mutation.edit(mutated)
    found = check_plan(BY_NAME[policy], mutated)
    assert any(mutation.expect in message for _, message in found), found


TEST_STACK_NAMES = example_stacks(TEST_STACKS)


@pytest.mark.parametrize("stack", TEST_STACK_NAMES)
def test_every_test_stack_passes_the_whole_pack(variant: Callable[..., Plan], stack: str) -> None:
    """No false positive: every test stack's render (EKS, ECS on Fargate, Spot and EC2, GovCloud) passes every
    policy, run as `make policy` runs it."""
    report = check(variant(stack))
    assert [(r.policy, r.resource_name, r.message) for r in report.violations] == []
