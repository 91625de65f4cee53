"""The CrossGuard policy pack (policy/): the rendered stacks pass every policy, and each policy catches what it
is meant to catch, on inputs made by breaking one thing in a real resource of the dev plan.

Validators get the same argument objects and props proxies as under `pulumi preview --policy-pack policy`
(ResourceValidationArgs / StackValidationArgs, props wrapped by pulumi-policy's unknown-checking proxy).
A stack policy sees outputs; here each resource's props are its rendered inputs plus {"id": <its id>}.
"""

from __future__ import annotations

import ast
import copy
import importlib.metadata
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from infra import iam
from infra.config.app import ALB_SSL_POLICIES
from policy import aws, common, ecs, ecs_roles, eks, kubernetes, ops
from policy.validators import POLICIES
from tests.support import rendered
from tests.support.pack import (
    BY_NAME,
    RESOURCE_POLICIES,
    STACK_POLICIES,
    check_plan,
    check_resource,
    check_stack,
    stack_resource,
)
from tools.render import ROOT, Plan

POLICY_DIR = ROOT / "policy"
ECS_NAMES = ecs.ECS_POLICY_NAMES | ecs_roles.ROLE_POLICY_NAMES
UNKNOWN = UNKNOWN_STRING_VALUE








def inputs(plan: Plan, rtype: str, name: str | None = None) -> dict[str, Any]:
    return copy.deepcopy(plan.one(rtype, name)["inputs"])


def aws_cluster(plan: Plan) -> dict[str, Any]:
    """What the engine shows for the aws:eks/cluster:Cluster pulumi-eks creates from our eks:index:Cluster."""
    c = inputs(plan, eks.EKS_CLUSTER_COMPONENT)
    return {
        "name": c["name"], "version": c["version"], "roleArn": "arn:aws:iam::123456789012:role/cluster-eksRole",
        "enabledClusterLogTypes": c["enabledClusterLogTypes"],
        "encryptionConfig": {"provider": {"keyArn": c["encryptionConfigKeyArn"]}, "resources": ["secrets"]},
        "vpcConfig": {"subnetIds": c["privateSubnetIds"] + c["publicSubnetIds"],
                      "endpointPrivateAccess": c["endpointPrivateAccess"],
                      "endpointPublicAccess": c["endpointPublicAccess"], "publicAccessCidrs": c["publicAccessCidrs"]},
        "tags": c["tags"],
    }


def aws_node_group(plan: Plan) -> dict[str, Any]:
    """The aws:eks/nodeGroup:NodeGroup pulumi-eks creates from our eks:index:ManagedNodeGroup."""
    ng = inputs(plan, eks.NODE_GROUP_COMPONENT)
    return {"clusterName": "webstack-dev", "nodeGroupName": ng["nodeGroupNamePrefix"] + "x",
            "nodeRoleArn": ng["nodeRoleArn"],
            "subnetIds": ng["subnetIds"], "scalingConfig": ng["scalingConfig"],
            "launchTemplate": ng["launchTemplate"], "tags": ng["tags"]}


def security_group(plan: Plan, *ingress: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """An aws:ec2/securityGroup:SecurityGroup made from the plan's default SG, with these ingress rules."""
    props = inputs(plan, aws.DEFAULT_SECURITY_GROUP)
    props.update(ingress=list(ingress), egress=[{"protocol": "-1", "fromPort": 0, "toPort": 0,
                                                 "cidrBlocks": ["0.0.0.0/0"]}], description="test")
    return aws.SECURITY_GROUP, props


def rule(port: int | tuple[int, int], *cidrs: str, protocol: str = "tcp") -> dict[str, Any]:
    low, high = port if isinstance(port, tuple) else (port, port)
    return {"protocol": protocol, "fromPort": low, "toPort": high,
            "cidrBlocks": [c for c in cidrs if ":" not in c], "ipv6CidrBlocks": [c for c in cidrs if ":" in c]}


def ingress_rule(plan: Plan, cidr: str, port: int, protocol: str = "tcp") -> tuple[str, dict[str, Any]]:
    tags = inputs(plan, aws.ECR_REPOSITORY)["tags"]
    key = "cidrIpv6" if ":" in cidr else "cidrIpv4"
    return aws.SECURITY_GROUP_INGRESS_RULE, {"securityGroupId": "sg-0123", key: cidr, "fromPort": port,
                                             "toPort": port, "ipProtocol": protocol, "tags": tags}


def sg_rule(kind: str, cidr: str, port: tuple[int, int], protocol: str = "tcp") -> tuple[str, dict[str, Any]]:
    return aws.SECURITY_GROUP_RULE, {"type": kind, "securityGroupId": "sg-0123", "cidrBlocks": [cidr],
                                     "fromPort": port[0], "toPort": port[1], "protocol": protocol}


def role_with_inline(plan: Plan, *policies: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The ExternalDNS role with `policies` inline ({"name", "policy"}; a policy given as a dict is JSON-encoded)."""
    props = inputs(plan, "aws:iam/role:Role", "platform-external-dns-irsa")
    props["inlinePolicies"] = [{k: json.dumps(v) if isinstance(v, dict) else v for k, v in p.items()}
                               for p in policies]
    return "aws:iam/role:Role", props


def with_doc(plan: Plan, edit: Callable[[dict[str, Any]], None], rtype: str = "aws:iam/policy:Policy"
             ) -> tuple[str, dict[str, Any]]:
    props = inputs(plan, "aws:iam/policy:Policy", "platform-external-dns")
    doc = json.loads(props["policy"])
    edit(doc)
    props["policy"] = json.dumps(doc)
    if rtype == "aws:iam/rolePolicy:RolePolicy":
        props = {"role": "some-role", "policy": props["policy"]}
    return rtype, props


def with_trust(plan: Plan, edit: Callable[[dict[str, Any]], None]) -> tuple[str, dict[str, Any]]:
    """The ALB controller's IRSA role, `edit(condition)` applied to its trust statement's Condition."""
    props = inputs(plan, common.IAM_ROLE, "platform-alb-controller-irsa")
    doc = json.loads(props["assumeRolePolicy"])
    edit(doc["Statement"][0]["Condition"])
    props["assumeRolePolicy"] = json.dumps(doc)
    return common.IAM_ROLE, props


def with_pod_trust(plan: Plan, edit: Callable[[dict[str, Any]], None]) -> tuple[str, dict[str, Any]]:
    """A controller role in pod-identity mode (the trust infra/iam.py writes), `edit(statement)` applied."""
    props = inputs(plan, common.IAM_ROLE, "platform-alb-controller-irsa")
    doc = iam.pod_identity_trust_policy("arn:aws:eks:us-east-1:123456789012:cluster/webstack-dev", "kube-system",
                                        "aws-load-balancer-controller")
    edit(doc["Statement"][0])
    props["assumeRolePolicy"] = json.dumps(doc)
    return common.IAM_ROLE, props


def request_tag(tag: str, value: Any = None, operator: str = "StringEquals") -> Callable[[dict[str, Any]], None]:
    """Drop the aws:RequestTag/<tag> condition, or move it under `operator` with `value`."""
    def edit(st: dict[str, Any]) -> None:
        del st["Condition"]["StringEquals"][f"aws:RequestTag/{tag}"]
        if value is not None:
            st["Condition"].setdefault(operator, {})[f"aws:RequestTag/{tag}"] = value
    return edit


def by_cluster_name(st: dict[str, Any]) -> None:
    exact = st["Condition"]["StringEquals"]
    del exact["aws:RequestTag/eks-cluster-arn"]
    exact["aws:RequestTag/eks-cluster-name"] = "webstack-dev"


def condition_key(condition: dict[str, Any], suffix: str) -> str:
    """The <issuer>:sub or <issuer>:aud key of the StringEquals condition."""
    return next(k for k in condition["StringEquals"] if k.endswith(suffix))


def drop_condition(suffix: str) -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        del c["StringEquals"][condition_key(c, suffix)]
    return edit


def set_condition(suffix: str, value: Any, operator: str = "StringEquals") -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        key = condition_key(c, suffix)
        c["StringEquals"].pop(key)
        c.setdefault(operator, {})[key] = value
    return edit


def deployment(plan: Plan, edit: Callable[[dict[str, Any], dict[str, Any]], None] | None = None
               ) -> tuple[str, dict[str, Any]]:
    """The webapp Deployment, `edit(pod_spec, container)` applied."""
    props = inputs(plan, "kubernetes:apps/v1:Deployment")
    pod = props["spec"]["template"]["spec"]
    if edit:
        edit(pod, pod["containers"][0])
    return "kubernetes:apps/v1:Deployment", props


def as_kind(plan: Plan, kind: str, edit: Callable[[dict[str, Any], dict[str, Any]], None] | None = None
            ) -> tuple[str, dict[str, Any]]:
    """The webapp's pod template inside another workload kind."""
    _, dep = deployment(plan, edit)
    template, meta = dep["spec"]["template"], dep["metadata"]
    group = {"Pod": "core/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "Job": "batch/v1",
             "CronJob": "batch/v1"}[kind]
    if kind == "Pod":
        props = {"kind": kind, "metadata": meta, "spec": template["spec"]}
    elif kind == "CronJob":
        props = {"kind": kind, "metadata": meta,
                 "spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": template}}}}
    else:
        props = {"kind": kind, "metadata": meta, "spec": {"selector": dep["spec"]["selector"], "template": template}}
    return f"kubernetes:{group}:{kind}", props


def ingress(plan: Plan, **annotations: str | None) -> tuple[str, dict[str, Any]]:
    """The webapp Ingress with ALB annotations (short names) replaced, or removed when None."""
    props = inputs(plan, "kubernetes:networking.k8s.io/v1:Ingress")
    ann = props["metadata"]["annotations"]
    for short, value in annotations.items():
        key = kubernetes.ALB + short.replace("_", "-")
        if value is None:
            ann.pop(key, None)
        else:
            ann[key] = value
    return "kubernetes:networking.k8s.io/v1:Ingress", props


def release(plan: Plan, name: str, edit: Callable[[dict[str, Any]], None]) -> tuple[str, dict[str, Any]]:
    props = inputs(plan, "kubernetes:helm.sh/v3:Release", name)
    edit(props)
    return "kubernetes:helm.sh/v3:Release", props


def edited(plan: Plan, rtype: str, name: str | None, edit: Callable[[dict[str, Any]], Any]
           ) -> tuple[str, dict[str, Any]]:
    props = inputs(plan, rtype, name)
    edit(props)
    return rtype, props


def edit_aws_cluster(plan: Plan, edit: Callable[[dict[str, Any]], Any]) -> tuple[str, dict[str, Any]]:
    props = aws_cluster(plan)
    edit(props)
    return eks.EKS_CLUSTER, props


def drop(d: dict[str, Any], *path: str) -> None:
    for key in path[:-1]:
        d = d[key]
    d.pop(path[-1], None)


def setp(d: dict[str, Any], *path_and_value: Any) -> None:
    *path, value = path_and_value
    for key in path[:-1]:
        d = d[key]
    d[path[-1]] = value


# --- 1. the rendered stacks pass every policy ---------------------------------------------------------------
@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_rendered_stack_passes(request: pytest.FixtureRequest, stack: str, policy: Any) -> None:
    plan: Plan = request.getfixturevalue(stack)
    if isinstance(policy, StackValidationPolicy):
        found = [m for m, _ in check_stack(policy, [stack_resource(r) for r in plan.resources])]
    else:
        found = [f"{r['type']} {r['name']}: {m}" for r in plan.resources
                 for m in check_resource(policy, r["type"], r["inputs"], r["urn"], r["name"])]
    assert found == []


# --- 2. each policy catches what it is for ------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    policy: str
    id: str
    build: Callable[[Plan], tuple[str, dict[str, Any]]]
    expect: str  # a substring of one reported message naming what is wrong


LT, REPO, CLUSTER = eks.LAUNCH_TEMPLATE, aws.ECR_REPOSITORY, eks.EKS_CLUSTER_COMPONENT
SECRETS_KEY = "cluster-secrets"  # the EKS secrets key (the alarm topic has a key of its own)
ALB_RELEASE, DNS_RELEASE = "aws-load-balancer-controller", "external-dns"

VIOLATIONS = [
    # 2. IMDSv2 / 2b. volumes
    Case("launch-template-imdsv2", "tokens-optional",
         lambda p: edited(p, LT, None, lambda d: setp(d, "metadataOptions", "httpTokens", "optional")),
         "httpTokens is 'optional'"),
    Case("launch-template-imdsv2", "hop-limit-2",
         lambda p: edited(p, LT, None, lambda d: setp(d, "metadataOptions", "httpPutResponseHopLimit", 2)),
         "httpPutResponseHopLimit is 2"),
    Case("launch-template-imdsv2", "no-metadata-options",
         lambda p: edited(p, LT, None, lambda d: drop(d, "metadataOptions")), "httpTokens is None"),
    Case("launch-template-encrypted-volumes", "unencrypted-root",
         lambda p: edited(p, LT, None, lambda d: setp(d["blockDeviceMappings"][0], "ebs", "encrypted", "false")),
         "/dev/xvda is not encrypted"),
    Case("launch-template-encrypted-volumes", "no-volumes",
         lambda p: edited(p, LT, None, lambda d: drop(d, "blockDeviceMappings")), "declares no EBS volume"),
    # 3. secrets encryption
    Case("eks-secrets-encryption", "component-no-key",
         lambda p: edited(p, CLUSTER, None, lambda d: drop(d, "encryptionConfigKeyArn")), "encryptionConfigKeyArn"),
    Case("eks-secrets-encryption", "aws-cluster-no-secrets",
         lambda p: edit_aws_cluster(p, lambda d: setp(d, "encryptionConfig", "resources", [])), "['secrets']"),
    Case("eks-secrets-encryption", "aws-cluster-no-encryption",
         lambda p: edit_aws_cluster(p, lambda d: drop(d, "encryptionConfig")), "['secrets']"),
    Case("eks-secrets-encryption", "aws-cluster-no-key",
         lambda p: edit_aws_cluster(p, lambda d: drop(d, "encryptionConfig", "provider")), "provider.keyArn"),
    # 4. control plane logs
    Case("eks-control-plane-logs", "component-api-only",
         lambda p: edited(p, CLUSTER, None, lambda d: setp(d, "enabledClusterLogTypes", ["api"])),
         "lacks audit, authenticator"),
    Case("eks-control-plane-logs", "aws-cluster-no-logs",
         lambda p: edit_aws_cluster(p, lambda d: drop(d, "enabledClusterLogTypes")), "lacks api, audit, authenticator"),
    # 5. public endpoint
    Case("eks-public-endpoint-restricted", "component-open-to-world",
         lambda p: edited(p, CLUSTER, None, lambda d: setp(d, "publicAccessCidrs", ["203.0.113.0/24", "0.0.0.0/0"])),
         "publicAccessCidrs contains 0.0.0.0/0"),
    Case("eks-public-endpoint-restricted", "component-no-allow-list",
         lambda p: edited(p, CLUSTER, None, lambda d: drop(d, "publicAccessCidrs")), "no publicAccessCidrs"),
    Case("eks-public-endpoint-restricted", "component-public-by-default",
         lambda p: edited(p, CLUSTER, None, lambda d: (drop(d, "endpointPublicAccess"), drop(d, "publicAccessCidrs"))),
         "no publicAccessCidrs"),
    Case("eks-public-endpoint-restricted", "aws-cluster-ipv6-world",
         lambda p: edit_aws_cluster(p, lambda d: setp(d, "vpcConfig", "publicAccessCidrs", ["::/0"])),
         "vpcConfig.publicAccessCidrs contains ::/0"),
    Case("eks-public-endpoint-restricted", "aws-cluster-default-public",
         lambda p: edit_aws_cluster(p, lambda d: (drop(d, "vpcConfig", "endpointPublicAccess"),
                                                  drop(d, "vpcConfig", "publicAccessCidrs"))),
         "no vpcConfig.publicAccessCidrs"),
    Case("eks-public-endpoint-restricted", "invalid-cidr",
         lambda p: edited(p, CLUSTER, None, lambda d: setp(d, "publicAccessCidrs", ["203.0.113.300/24"])),
         "invalid CIDR(s) 203.0.113.300/24"),
    # 6/7. ECR
    Case("ecr-scan-on-push", "scan-off",
         lambda p: edited(p, REPO, None, lambda d: setp(d, "imageScanningConfiguration", "scanOnPush", False)),
         "scanOnPush is not true"),
    Case("ecr-scan-on-push", "no-scanning-config",
         lambda p: edited(p, REPO, None, lambda d: drop(d, "imageScanningConfiguration")), "scanOnPush is not true"),
    Case("ecr-immutable-tags", "mutable",
         lambda p: edited(p, REPO, None, lambda d: setp(d, "imageTagMutability", "MUTABLE")),
         "imageTagMutability is MUTABLE"),
    Case("ecr-immutable-tags", "default-mutable",
         lambda p: edited(p, REPO, None, lambda d: drop(d, "imageTagMutability")), "MUTABLE (the default)"),
    # 8. security groups
    Case("security-group-no-world-ingress", "sg-ssh-from-world",
         lambda p: security_group(p, rule(443, "0.0.0.0/0"), rule(22, "0.0.0.0/0")),
         "ingress from 0.0.0.0/0 on protocol tcp port(s) 22"),
    Case("security-group-no-world-ingress", "sg-all-traffic-ipv6",
         lambda p: security_group(p, rule(0, "::/0", protocol="-1")), "ingress from ::/0 on protocol -1"),
    Case("security-group-no-world-ingress", "sg-port-range-80-443",
         lambda p: security_group(p, rule((80, 443), "0.0.0.0/0")), "port(s) 80-443"),
    Case("security-group-no-world-ingress", "sg-rule-ingress-all-ports",
         lambda p: sg_rule("ingress", "0.0.0.0/0", (0, 65535)), "port(s) 0-65535"),
    Case("security-group-no-world-ingress", "ingress-rule-udp-443",
         lambda p: ingress_rule(p, "0.0.0.0/0", 443, protocol="udp"), "protocol udp port(s) 443"),
    Case("security-group-no-world-ingress", "ingress-rule-postgres-ipv6",
         lambda p: ingress_rule(p, "::/0", 5432), "ingress from ::/0 on protocol tcp port(s) 5432"),
    Case("default-security-group-closed", "default-sg-ingress",
         lambda p: edited(p, aws.DEFAULT_SECURITY_GROUP, None,
                          lambda d: setp(d, "ingress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}])),
         "has 1 ingress rule(s)"),
    Case("default-security-group-closed", "default-sg-egress",
         lambda p: edited(p, aws.DEFAULT_SECURITY_GROUP, None, lambda d: setp(d, "egress", [rule(0, "0.0.0.0/0")])),
         "has 1 egress rule(s)"),
    # 9. tags
    Case("aws-common-tags", "repo-without-managed-by",
         lambda p: edited(p, REPO, None, lambda d: drop(d, "tags", "managed-by")), "missing common tag(s) managed-by"),
    Case("aws-common-tags", "subnet-without-tags",
         lambda p: edited(p, eks.SUBNET, "network-private-0", lambda d: drop(d, "tags")),
         "missing common tag(s) project, stack, managed-by"),
    Case("aws-common-tags", "vpc-tagged-with-other-stack",
         lambda p: edited(p, "aws:ec2/vpc:Vpc", None, lambda d: setp(d, "tags", "stack", "prod")),
         "tag stack='prod' should be 'dev'"),
    Case("aws-common-tags", "kms-key-wrong-project",
         lambda p: edited(p, aws.KMS_KEY, SECRETS_KEY, lambda d: setp(d, "tags", "project", "other")),
         "tag project='other' should be 'webstack'"),
    # 10. containers
    Case("containers-hardened", "root-allowed",
         lambda p: deployment(p, lambda pod, c: (drop(pod, "securityContext", "runAsNonRoot"),
                                                 drop(c, "securityContext", "runAsNonRoot"))),
         "container 'webapp': runAsNonRoot is not true"),
    Case("containers-hardened", "container-overrides-non-root",
         lambda p: deployment(p, lambda pod, c: setp(c, "securityContext", "runAsNonRoot", False)),
         "runAsNonRoot is not true"),
    Case("containers-hardened", "run-as-uid-0",
         lambda p: deployment(p, lambda pod, c: setp(c, "securityContext", "runAsUser", 0)), "runAsUser is 0"),
    Case("containers-hardened", "no-memory-limit",
         lambda p: deployment(p, lambda pod, c: drop(c, "resources", "limits", "memory")), "no memory limit"),
    Case("containers-hardened", "no-requests",
         lambda p: deployment(p, lambda pod, c: drop(c, "resources", "requests")), "no cpu request; no memory request"),
    Case("containers-hardened", "no-liveness-probe",
         lambda p: deployment(p, lambda pod, c: drop(c, "livenessProbe")), "no livenessProbe"),
    Case("containers-hardened", "no-readiness-probe",
         lambda p: deployment(p, lambda pod, c: drop(c, "readinessProbe")), "no readinessProbe"),
    Case("containers-hardened", "privilege-escalation",
         lambda p: deployment(p, lambda pod, c: setp(c, "securityContext", "allowPrivilegeEscalation", True)),
         "allowPrivilegeEscalation is not false"),
    Case("containers-hardened", "privileged",
         lambda p: deployment(p, lambda pod, c: setp(c, "securityContext", "privileged", True)),
         "privileged is true"),
    Case("containers-hardened", "writable-root",
         lambda p: deployment(p, lambda pod, c: drop(c, "securityContext", "readOnlyRootFilesystem")),
         "readOnlyRootFilesystem is not true"),
    Case("containers-hardened", "capabilities-kept",
         lambda p: deployment(p, lambda pod, c: setp(c, "securityContext", "capabilities", {"drop": ["NET_RAW"]})),
         "capabilities.drop does not include ALL"),
    Case("containers-hardened", "init-container-unhardened",
         lambda p: deployment(p, lambda pod, c: setp(pod, "initContainers",
                                                     [{"name": "migrate", "image": c["image"]}])),
         "container 'migrate': no cpu request"),
    Case("containers-hardened", "host-network",
         lambda p: deployment(p, lambda pod, c: setp(pod, "hostNetwork", True)), "sets hostNetwork"),
    Case("containers-hardened", "statefulset-root",
         lambda p: as_kind(p, "StatefulSet", lambda pod, c: (drop(pod, "securityContext", "runAsNonRoot"),
                                                              drop(c, "securityContext", "runAsNonRoot"))),
         "runAsNonRoot is not true"),
    Case("containers-hardened", "cronjob-no-limits",
         lambda p: as_kind(p, "CronJob", lambda pod, c: drop(c, "resources", "limits")), "no cpu limit"),
    Case("containers-hardened", "pod-no-probes",
         lambda p: as_kind(p, "Pod", lambda pod, c: (drop(c, "livenessProbe"), drop(c, "readinessProbe"))),
         "no readinessProbe; no livenessProbe"),
    Case("images-pinned-by-digest", "tag-not-digest",
         lambda p: deployment(p, lambda pod, c: setp(c, "image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/"
                                                                 "webapp:latest")),
         "webapp:latest' is not pinned by digest"),
    Case("images-pinned-by-digest", "daemonset-short-digest",
         lambda p: as_kind(p, "DaemonSet", lambda pod, c: setp(c, "image", "nginx@sha256:abc")),
         "'nginx@sha256:abc' is not pinned by digest"),
    # 11. ingress
    Case("ingress-alb-tls-only", "no-certificate", lambda p: ingress(p, certificate_arn=None), "certificate-arn"),
    Case("ingress-alb-tls-only", "http-only-listener", lambda p: ingress(p, listen_ports='[{"HTTP":80}]'),
         'must include {"HTTPS":443}'),
    Case("ingress-alb-tls-only", "listen-ports-not-json", lambda p: ingress(p, listen_ports="HTTPS:443"),
         "listen-ports is 'HTTPS:443'"),
    Case("ingress-alb-tls-only", "no-ssl-redirect", lambda p: ingress(p, ssl_redirect=None), "ssl-redirect is None"),
    Case("ingress-alb-tls-only", "tls12-policy", lambda p: ingress(p, ssl_policy="ELBSecurityPolicy-2016-08"),
         "ssl-policy is 'ELBSecurityPolicy-2016-08'"),
    Case("ingress-alb-tls-only", "tls13-family-allowing-tls10",
         lambda p: ingress(p, ssl_policy="ELBSecurityPolicy-TLS13-1-0-2021-06"),
         "ssl-policy is 'ELBSecurityPolicy-TLS13-1-0-2021-06': it must be a current TLS policy"),
    Case("ingress-alb-tls-only", "other-class",
         lambda p: edited(p, "kubernetes:networking.k8s.io/v1:Ingress", None,
                          lambda d: setp(d, "spec", "ingressClassName", "nginx")), "ingress class is 'nginx'"),
    Case("ingress-alb-tls-only", "no-class",
         lambda p: edited(p, "kubernetes:networking.k8s.io/v1:Ingress", None,
                          lambda d: drop(d, "spec", "ingressClassName")), "ingress class is None"),
    # 11b. storage
    Case("efs-encrypted-at-rest", "unencrypted",
         lambda p: ("aws:efs/fileSystem:FileSystem", {"encrypted": False, "tags": {
             "project": "webstack", "stack": "dev", "managed-by": "pulumi", "Name": "x"}}), "encrypted is False"),
    Case("storage-encrypted", "gp3-unencrypted",
         lambda p: edited(p, "kubernetes:storage.k8s.io/v1:StorageClass", None,
                          lambda d: setp(d, "parameters", "encrypted", "false")), "encrypted='false'"),
    Case("storage-encrypted", "efs-volume-tls-off",
         lambda p: ("kubernetes:core/v1:PersistentVolume", {
             "metadata": {"name": "shared"}, "spec": {"csi": {"driver": "efs.csi.aws.com", "volumeHandle": "fs-1",
                                                              "volumeAttributes": {"encryptInTransit": "False"}}}}),
         "PersistentVolume 'shared' (EFS) must mount with TLS"),
    # 12. ExternalDNS
    Case("route53-changes-scoped", "all-resources",
         lambda p: with_doc(p, lambda d: setp(d["Statement"][0], "Resource", "*")),
         "ChangeResourceRecordSets on *"),
    Case("route53-changes-scoped", "every-hosted-zone",
         lambda p: with_doc(p, lambda d: setp(d["Statement"][0], "Resource", ["arn:aws:route53:::hostedzone/*"])),
         "on arn:aws:route53:::hostedzone/*"),
    Case("route53-changes-scoped", "route53-star-on-star",
         lambda p: with_doc(p, lambda d: (setp(d["Statement"][2], "Action", "route53:*"))),
         "statement ListZones grants route53:ChangeResourceRecordSets on *"),
    Case("route53-changes-scoped", "admin-in-role-policy",
         lambda p: with_doc(p, lambda d: d["Statement"].append({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                            rtype="aws:iam/rolePolicy:RolePolicy"),
         "statement #3 grants route53:ChangeResourceRecordSets on *"),
    Case("route53-changes-scoped", "not-resource",
         lambda p: with_doc(p, lambda d: d["Statement"][0].update(
             NotResource=d["Statement"][0].pop("Resource"))), "with NotResource"),
    Case("route53-changes-scoped", "every-zone-inline-on-the-role",
         lambda p: role_with_inline(p, {"name": "dns", "policy": {"Version": "2012-10-17", "Statement": [
             {"Effect": "Allow", "Action": "route53:ChangeResourceRecordSets", "Resource": "arn:aws:route53:::*"}]}}),
         "inline policy 'dns': statement #0 grants route53:ChangeResourceRecordSets on arn:aws:route53:::*"),
    Case("route53-changes-scoped", "inline-not-json", lambda p: role_with_inline(p, {"name": "x", "policy": "{"}),
         "inline policy 'x': the policy document is not a JSON object"),
    Case("route53-changes-scoped", "not-json",
         lambda p: edited(p, "aws:iam/policy:Policy", "platform-external-dns",
                          lambda d: setp(d, "policy", "{not json")), "not a JSON object"),
    Case("external-dns-filtered", "no-domain-filters",
         lambda p: release(p, DNS_RELEASE, lambda d: drop(d, "values", "domainFilters")), "values.domainFilters"),
    Case("external-dns-filtered", "no-zone-id-filter",
         lambda p: release(p, DNS_RELEASE, lambda d: setp(d, "values", "extraArgs", ["--aws-zone-type=public"])),
         "--zone-id-filter"),
    Case("external-dns-filtered", "empty-zone-id-filter",
         lambda p: release(p, DNS_RELEASE, lambda d: setp(d, "values", "extraArgs", ["--zone-id-filter="])),
         "--zone-id-filter"),
    Case("external-dns-filtered", "oci-chart-unfiltered",
         lambda p: release(p, DNS_RELEASE, lambda d: (setp(d, "chart", "oci://registry.example/charts/external-dns"),
                                                      drop(d, "values", "extraArgs"))),
         "--zone-id-filter"),
    # 13+.
    Case("helm-chart-pinned", "no-version", lambda p: release(p, ALB_RELEASE, lambda d: drop(d, "version")),
         "version None is not an exact version"),
    Case("helm-chart-pinned", "empty-version", lambda p: release(p, "metrics-server", lambda d: setp(d, "version", "")),
         "version '' is not an exact version"),
    Case("helm-chart-pinned", "caret-range",
         lambda p: release(p, DNS_RELEASE, lambda d: setp(d, "version", "^1.21.0")), "'^1.21.0' is not an exact"),
    Case("helm-chart-pinned", "x-range",
         lambda p: release(p, ALB_RELEASE, lambda d: setp(d, "version", "3.x")), "'3.x' is not an exact"),
    Case("irsa-trust-scoped", "no-sub", lambda p: with_trust(p, drop_condition(":sub")),
         "has no <issuer>:sub condition"),
    Case("irsa-trust-scoped", "wildcard-sub",
         lambda p: with_trust(p, set_condition(":sub", "system:serviceaccount:kube-system:*", "StringLike")),
         "wildcard(s) system:serviceaccount:kube-system:*"),
    Case("irsa-trust-scoped", "no-aud", lambda p: with_trust(p, drop_condition(":aud")),
         ":aud = sts.amazonaws.com"),
    Case("irsa-trust-scoped", "wrong-aud", lambda p: with_trust(p, set_condition(":aud", "example.com")),
         ":aud = sts.amazonaws.com"),
    Case("pod-identity-trust-scoped", "no-service-account",
         lambda p: with_pod_trust(p, request_tag("kubernetes-service-account")), "aws:RequestTag/kubernetes-service"),
    Case("pod-identity-trust-scoped", "no-namespace",
         lambda p: with_pod_trust(p, request_tag("kubernetes-namespace")), "aws:RequestTag/kubernetes-namespace"),
    Case("pod-identity-trust-scoped", "no-cluster",
         lambda p: with_pod_trust(p, request_tag("eks-cluster-arn")), "eks-cluster-arn or eks-cluster-name"),
    Case("pod-identity-trust-scoped", "wildcard-namespace",
         lambda p: with_pod_trust(p, request_tag("kubernetes-namespace", "kube-*", "StringLike")),
         "aws:RequestTag/kubernetes-namespace"),
    Case("pod-identity-trust-scoped", "two-service-accounts",
         lambda p: with_pod_trust(p, request_tag("kubernetes-service-account", ["a", "b"])),
         "aws:RequestTag/kubernetes-service-account"),
    Case("pod-identity-trust-scoped", "no-condition",
         lambda p: with_pod_trust(p, lambda st: st.pop("Condition")), "any Pod Identity association"),
    Case("kms-key-rotation", "rotation-off",
         lambda p: edited(p, aws.KMS_KEY, SECRETS_KEY, lambda d: setp(d, "enableKeyRotation", False)),
         "enableKeyRotation is not true"),
    Case("kms-key-rotation", "rotation-unset",
         lambda p: edited(p, aws.KMS_KEY, SECRETS_KEY, lambda d: drop(d, "enableKeyRotation")), "enableKeyRotation"),
    Case("log-group-retention", "never-expire",
         lambda p: edited(p, aws.LOG_GROUP, None, lambda d: drop(d, "retentionInDays")), "retentionInDays is None"),
    Case("log-group-retention", "zero",
         lambda p: edited(p, aws.LOG_GROUP, None, lambda d: setp(d, "retentionInDays", 0)), "retentionInDays is 0"),
    # Karpenter's custom resources: from the karpenter test stack's render (dev has none)
    Case("karpenter-nodeclass-hardened", "imdsv1",
         lambda _: edited(rendered("karpenter"), eks.EC2_NODE_CLASS, None, lambda d: setp(
             d["spec"], "metadataOptions", "httpTokens", "optional")), "httpTokens='optional'"),
    Case("karpenter-nodeclass-hardened", "no-root-volume",
         lambda _: edited(rendered("karpenter"), eks.EC2_NODE_CLASS, None, lambda d: drop(
             d["spec"], "blockDeviceMappings")), "must declare the root volume"),
    Case("karpenter-nodeclass-hardened", "public-ip-unset",
         lambda _: edited(rendered("karpenter"), eks.EC2_NODE_CLASS, None, lambda d: drop(
             d["spec"], "associatePublicIPAddress")), "associatePublicIPAddress is None"),
    Case("karpenter-nodepool-bounded", "no-cpu-limit",
         lambda _: edited(rendered("karpenter"), eks.NODE_POOL, None, lambda d: setp(d["spec"], "limits", {})),
         "limits.cpu is not set"),
    Case("karpenter-nodepool-bounded", "no-budgets",
         lambda _: edited(rendered("karpenter"), eks.NODE_POOL, None, lambda d: drop(d["spec"], "disruption")),
         "disruption.budgets is empty"),
    # an AWS managed policy whose scope the pack cannot read (route53-changes-scoped passes it)
    Case("aws-managed-policies-allow-listed", "route53-full-access",
         lambda p: edited(p, common.IAM_ROLE_POLICY_ATTACHMENT, "cluster-node-AmazonEKS_CNI_Policy", lambda d: setp(
             d, "policyArn", "arn:aws:iam::aws:policy/AmazonRoute53FullAccess")),
         "AWS managed policy AmazonRoute53FullAccess, which is not allow-listed"),
    Case("aws-managed-policies-allow-listed", "role-admin-govcloud",
         lambda p: edited(p, common.IAM_ROLE, "cluster-node", lambda d: setp(
             d, "managedPolicyArns", ["arn:aws-us-gov:iam::aws:policy/AdministratorAccess"])),
         "AWS managed policy AdministratorAccess"),
]


@pytest.mark.parametrize("case", VIOLATIONS, ids=lambda c: f"{c.policy}:{c.id}")
def test_policy_reports_violation(dev: Plan, case: Case) -> None:
    rtype, props = case.build(dev)
    urn = f"urn:pulumi:dev::webstack::test${rtype}::bad"
    found = check_resource(BY_NAME[case.policy], rtype, props, urn, "bad")
    assert any(case.expect in m for m in found), found
    # only the one thing broken is reported, by this policy alone
    others = [(p.name, m) for p in RESOURCE_POLICIES if p.name != case.policy
              for m in check_resource(p, rtype, props, urn, "bad")]
    assert others == []


# --- 2b. the node-group stack policy ------------------------------------------------------------------------
NODES = "eks-nodes-in-private-subnets"


def node_stack(plan: Plan, node_props: dict[str, Any], node_type: str = eks.NODE_GROUP_COMPONENT,
               deps: dict[str, list[str]] | None = None,
               subnet_edit: Callable[[str, dict[str, Any]], None] | None = None) -> list[PolicyResource]:
    """Every resource of the plan, the node group's props (and type) replaced, subnets optionally edited."""
    resources: dict[str, PolicyResource] = {}
    for r in plan.resources:
        if r["type"] == eks.NODE_GROUP_COMPONENT:
            continue
        props = None
        if r["type"] == eks.SUBNET and subnet_edit:
            props = {**copy.deepcopy(r["inputs"]), "id": r["id"]}
            subnet_edit(r["name"], props)
        resources[r["urn"]] = stack_resource(r, props)
    ng = plan.one(eks.NODE_GROUP_COMPONENT)
    property_deps = {k: [resources[u] for u in urns] for k, urns in (deps or {}).items()}
    node = {**ng, "type": node_type, "urn": ng["urn"].replace(eks.NODE_GROUP_COMPONENT, node_type)}
    return [*resources.values(), stack_resource(node, node_props, property_deps)]


FARGATE_SUBNETS = "eks-fargate-profile-private-subnets"


def fargate_stack(edit: Callable[[dict[str, Any], Plan], dict[str, list[str]] | None] | None = None
                  ) -> list[PolicyResource]:
    """The eks-fargate test stack as a stack policy sees it, the Fargate profile's props edited by `edit` (which
    may return the profile's property dependencies, subnet URNs by property)."""
    plan = rendered("eks-fargate")
    resources = {r["urn"]: stack_resource(r) for r in plan.resources if r["type"] != eks.FARGATE_PROFILE}
    profile = plan.one(eks.FARGATE_PROFILE)
    props = copy.deepcopy(profile["inputs"])
    deps = edit(props, plan) if edit else None
    property_deps = {k: [resources[u] for u in urns] for k, urns in (deps or {}).items()}
    return [*resources.values(), stack_resource(profile, props, property_deps)]


def _public_ids(props: dict[str, Any], plan: Plan) -> None:
    props["subnetIds"] = [*props["subnetIds"], subnet_id(plan, "network-public-0")]


def _public_at_preview(props: dict[str, Any], plan: Plan) -> dict[str, list[str]]:
    props["subnetIds"] = [UNKNOWN, UNKNOWN]
    return {"subnetIds": [*subnet_urns(plan, "private")[:1], *subnet_urns(plan, "public")[:1]]}


@pytest.mark.parametrize(("edit", "expect"), [
    (None, None),
    (_public_ids, "places pods in public subnet(s) network-public-0"),
    (_public_at_preview, "places pods in public subnet(s) network-public-0"),
    (lambda props, plan: props.pop("subnetIds") and None, "declares no subnetIds"),
], ids=["private-only", "a-public-subnet-id", "public-by-dependency-at-preview", "no-subnets"])
def test_fargate_profile_subnets(edit: Any, expect: str | None) -> None:
    reported = [m for m, _ in check_stack(BY_NAME[FARGATE_SUBNETS], fargate_stack(edit))]
    assert reported == [] if expect is None else (len(reported) == 1 and expect in reported[0]), reported


AUTO_NODE_CLASS = "auto-mode-nodeclass-private"


def nodeclass_stack(edit: Callable[[dict[str, Any], Plan], dict[str, list[str]] | None] | None = None
                    ) -> list[PolicyResource]:
    """The automode test stack as a stack policy sees it, the NodeClass's props edited by `edit` (which may return
    its property dependencies, URNs by property; else the render's)."""
    plan = rendered("automode")
    resources = {r["urn"]: stack_resource(r) for r in plan.resources if r["type"] != eks.AUTO_NODE_CLASS}
    node_class = plan.one(eks.AUTO_NODE_CLASS)
    props = copy.deepcopy(node_class["inputs"])
    deps = (edit(props, plan) if edit else None) or node_class["propertyDependencies"]
    property_deps = {k: [resources[u] for u in urns if u in resources] for k, urns in deps.items()}
    return [*resources.values(), stack_resource(node_class, props, property_deps)]


def _nodeclass_public_id(props: dict[str, Any], plan: Plan) -> None:
    props["spec"]["subnetSelectorTerms"].append({"id": subnet_id(plan, "network-public-0")})


def _nodeclass_public_at_preview(props: dict[str, Any], plan: Plan) -> dict[str, list[str]]:
    props["spec"]["subnetSelectorTerms"] = [{"id": UNKNOWN}, {"id": UNKNOWN}]
    return {"spec": [*subnet_urns(plan, "private")[:1], *subnet_urns(plan, "public")[:1]]}


@pytest.mark.parametrize(("edit", "expect"), [
    (None, None),
    (_nodeclass_public_id, "places nodes in public subnet(s) network-public-0"),
    (_nodeclass_public_at_preview, "places nodes in public subnet(s) network-public-0"),
    (lambda props, plan: props["spec"]["subnetSelectorTerms"].append({"id": "subnet-0123456789abcdef0"}),
     "subnet(s) subnet-0123456789abcdef0 that are not this stack's"),
    (lambda props, plan: props["spec"].update(subnetSelectorTerms=[{"tags": {"kubernetes.io/role/elb": "1"}}]),
     "subnetSelectorTerms must list ids only"),
    (lambda props, plan: props["spec"].pop("securityGroupSelectorTerms") and None,
     "securityGroupSelectorTerms must list ids only"),
], ids=["private-only", "a-public-subnet-id", "public-by-dependency-at-preview", "a-subnet-of-no-stack",
        "subnets-by-tag", "no-security-groups"])
def test_auto_mode_nodeclass_subnets(edit: Any, expect: str | None) -> None:
    reported = [m for m, _ in check_stack(BY_NAME[AUTO_NODE_CLASS], nodeclass_stack(edit))]
    assert reported == [] if expect is None else (len(reported) == 1 and expect in reported[0]), reported


def subnet_urns(plan: Plan, kind: str) -> list[str]:
    return [r["urn"] for r in plan.of_type(eks.SUBNET) if r["name"].startswith(f"network-{kind}-")]


def subnet_id(plan: Plan, name: str) -> str:
    return str(plan.one(eks.SUBNET, name)["id"])


def unknown_subnets(ng: dict[str, Any]) -> dict[str, Any]:
    return {**ng, "subnetIds": [UNKNOWN for _ in ng["subnetIds"]]}


STACK_VIOLATIONS: list[tuple[str, Callable[[Plan], list[PolicyResource]], str]] = [
    ("component-in-public-subnet",
     lambda p: node_stack(p, {**inputs(p, eks.NODE_GROUP_COMPONENT),
                              "subnetIds": [subnet_id(p, "network-private-0"), subnet_id(p, "network-public-0")]}),
     "'cluster-nodes' places nodes in public subnet(s) network-public-0"),
    ("component-without-subnets",
     lambda p: node_stack(p, {k: val for k, val in inputs(p, eks.NODE_GROUP_COMPONENT).items() if k != "subnetIds"}),
     "declares no subnetIds"),
    ("aws-node-group-all-public",
     lambda p: node_stack(p, {**aws_node_group(p), "subnetIds": [subnet_id(p, "network-public-0"),
                                                                 subnet_id(p, "network-public-1")]}, eks.NODE_GROUP),
     "public subnet(s) network-public-0, network-public-1"),
    ("aws-node-group-empty-subnets",
     lambda p: node_stack(p, {**aws_node_group(p), "subnetIds": []}, eks.NODE_GROUP), "declares no subnetIds"),
    ("preview-unknown-ids-public-dependency",
     lambda p: node_stack(p, unknown_subnets(aws_node_group(p)), eks.NODE_GROUP,
                          deps={"subnetIds": subnet_urns(p, "public")}),
     "public subnet(s) network-public-0, network-public-1"),
    ("private-subnet-maps-public-ips",
     lambda p: node_stack(p, inputs(p, eks.NODE_GROUP_COMPONENT),
                          subnet_edit=lambda name, s: s.update(mapPublicIpOnLaunch=name == "network-private-1")),
     "public subnet(s) network-private-1"),
]


@pytest.mark.parametrize(("build", "expect"), [c[1:] for c in STACK_VIOLATIONS], ids=[c[0] for c in STACK_VIOLATIONS])
def test_node_group_subnet_violations(dev: Plan, build: Callable[[Plan], list[PolicyResource]], expect: str) -> None:
    reported = check_stack(BY_NAME[NODES], build(dev))
    assert any(expect in m for m, _ in reported), reported
    node_urns = {r.urn for r in build(dev) if r.resource_type in eks.NODE_GROUP_TYPES}
    assert all(urn in node_urns for _, urn in reported)  # reported against the node group


STACK_COMPLIANT: list[tuple[str, Callable[[Plan], list[PolicyResource]]]] = [
    ("aws-node-group-private", lambda p: node_stack(p, aws_node_group(p), eks.NODE_GROUP)),
    ("preview-unknown-ids-private-dependency",
     lambda p: node_stack(p, unknown_subnets(aws_node_group(p)), eks.NODE_GROUP,
                          deps={"subnetIds": subnet_urns(p, "private")})),
    ("preview-subnet-ids-unknown",  # a first preview: no subnet id is known yet
     lambda p: node_stack(p, unknown_subnets(aws_node_group(p)), eks.NODE_GROUP,
                          deps={"subnetIds": subnet_urns(p, "private")},
                          subnet_edit=lambda name, s: s.update(id=UNKNOWN))),
    ("component-outputs-only",  # under the engine the component's props are its outputs, not its inputs
     lambda p: node_stack(p, {"nodeGroup": {"urn": "urn:x"}})),
]


@pytest.mark.parametrize("build", [c[1] for c in STACK_COMPLIANT], ids=[c[0] for c in STACK_COMPLIANT])
def test_node_group_subnet_compliant(dev: Plan, build: Callable[[Plan], list[PolicyResource]]) -> None:
    assert check_stack(BY_NAME[NODES], build(dev)) == []


INSTANCES, DEFAULT_SG = "instances-in-private-subnets", "default-security-group-managed"
ASG = "aws:autoscaling/group:Group"


def asg_subnets(kind: str, unknown_ids: bool = False) -> Callable[[Plan], None]:
    """The ECS instances' Auto Scaling group on the `kind` subnets, their ids unknown (a first preview) if asked."""
    def edit(plan: Plan) -> None:
        group = plan.one(ASG)
        subnets = [r for r in plan.of_type(eks.SUBNET) if r["name"].startswith(f"network-{kind}-")]
        group["inputs"]["vpcZoneIdentifiers"] = [UNKNOWN if unknown_ids else r["id"] for r in subnets]
        group["propertyDependencies"]["vpcZoneIdentifiers"] = [r["urn"] for r in subnets]
    return edit


def public_ip(value: Any) -> Callable[[Plan], None]:
    return lambda plan: setp(plan.one(eks.LAUNCH_TEMPLATE)["inputs"], "networkInterfaces", [
        {"deviceIndex": 0, "associatePublicIpAddress": value}])


def vpc_matched_by_id_only(plan: Plan) -> None:
    plan.one(aws.DEFAULT_SECURITY_GROUP)["propertyDependencies"] = {}


PLAN_STACK_CASES: list[tuple[str, str, list[Callable[[Plan], Any]], str | None]] = [
    # (policy, id, edits of the ec2 render, expected message part or None: passes)
    (INSTANCES, "private", [], None),
    (INSTANCES, "preview-private-dependency", [asg_subnets("private", unknown_ids=True)], None),
    (INSTANCES, "preview-public-dependency", [asg_subnets("public", unknown_ids=True)],
     "public subnet(s) network-public-0, network-public-1"),
    (INSTANCES, "public-by-id", [asg_subnets("public")], "'ecs-ec2-asg' launches instances in public subnet(s)"),
    (INSTANCES, "no-public-ip", [public_ip("false")], None),
    (INSTANCES, "public-ip", [public_ip("true")], "networkInterfaces[0].associatePublicIpAddress is true"),
    (INSTANCES, "public-ip-unknown-at-preview", [public_ip(UNKNOWN)], None),
    (DEFAULT_SG, "adopted", [], None),
    (DEFAULT_SG, "matched-by-vpc-id", [vpc_matched_by_id_only], None),
    (DEFAULT_SG, "another-vpc", [vpc_matched_by_id_only, lambda plan: setp(
        plan.one(aws.DEFAULT_SECURITY_GROUP)["inputs"], "vpcId", "vpc-0ther")], "VPC 'network-vpc' has no"),
]


@pytest.mark.parametrize(("policy", "edits", "expect"), [(c[0], *c[2:]) for c in PLAN_STACK_CASES],
                         ids=[f"{c[0]}:{c[1]}" for c in PLAN_STACK_CASES])
def test_instance_and_default_group_stack_policies(ec2: Plan, policy: str, edits: list[Callable[[Plan], Any]],
                                                   expect: str | None) -> None:
    plan = copy.deepcopy(ec2)
    for edit in edits:
        edit(plan)
    found = check_plan(BY_NAME[policy], plan)
    if expect is None:
        assert found == []
    else:
        assert any(expect in message for _, message in found), found


# --- 3. realistic inputs that are fine ----------------------------------------------------------------------
def _dns_statement(d: dict[str, Any], effect: str, action: str, resource: str) -> None:
    d["Statement"].append({"Effect": effect, "Action": action, "Resource": resource})


COMPLIANT: list[tuple[str, Callable[[Plan], tuple[str, dict[str, Any]]]]] = [
    ("role-inline-policies-removed", lambda p: role_with_inline(p, {})),  # an empty block: no inline policy
    ("role-inline-zone-scoped", lambda p: role_with_inline(p, {"name": "dns", "policy": inputs(
        p, "aws:iam/policy:Policy", "platform-external-dns")["policy"]})),
    ("sg-https-and-http-from-world", lambda p: security_group(p, rule(443, "0.0.0.0/0", "::/0"), rule(80, "::/0"))),
    ("sg-ssh-from-vpc", lambda p: security_group(p, rule(22, "10.0.0.0/16"), rule(0, "10.0.0.0/8", protocol="-1"))),
    ("sg-rule-egress-to-world", lambda p: sg_rule("egress", "0.0.0.0/0", (0, 65535), protocol="-1")),
    ("sg-rule-https-from-world", lambda p: sg_rule("ingress", "0.0.0.0/0", (443, 443))),
    ("ingress-rule-https-protocol-number", lambda p: ingress_rule(p, "0.0.0.0/0", 443, protocol="6")),
    ("ingress-rule-http-ipv6", lambda p: ingress_rule(p, "::/0", 80)),
    ("private-endpoint-only",
     lambda p: edited(p, CLUSTER, None,
                      lambda d: (setp(d, "endpointPublicAccess", False), drop(d, "publicAccessCidrs")))),
    ("aws-cluster", lambda p: (eks.EKS_CLUSTER, aws_cluster(p))),
    ("aws-cluster-encryption-config-list",
     lambda p: edit_aws_cluster(p, lambda d: setp(d, "encryptionConfig", [d["encryptionConfig"]]))),
    ("aws-node-group", lambda p: (eks.NODE_GROUP, aws_node_group(p))),
    ("engine-shows-component-without-inputs", lambda p: (CLUSTER, {})),
    ("engine-shows-node-group-component-without-inputs", lambda p: (eks.NODE_GROUP_COMPONENT, {})),
    ("route53-read-and-deny-all",
     lambda p: with_doc(p, lambda d: (_dns_statement(d, "Allow", "route53:Get*", "*"),
                                      _dns_statement(d, "Deny", "*", "*")))),
    ("route53-change-two-named-zones",
     lambda p: with_doc(p, lambda d: setp(d["Statement"][0], "Resource", ["arn:aws:route53:::hostedzone/Z111",
                                                                          "arn:aws:route53:::hostedzone/Z222"]))),
    ("not-action-excluding-route53",
     lambda p: with_doc(p, lambda d: d["Statement"].append({"Effect": "Allow", "NotAction": "route53:*",
                                                             "Resource": "*"}))),
    ("external-dns-extra-args-map",
     lambda p: release(p, DNS_RELEASE, lambda d: setp(d, "values", "extraArgs", {"zone-id-filter": "Z111"}))),
    ("helm-prerelease-version", lambda p: release(p, ALB_RELEASE, lambda d: setp(d, "version", "1.22.0-rc.1"))),
    ("helm-v-prefixed-version", lambda p: release(p, "metrics-server", lambda d: setp(d, "version", "v3.13.0"))),
    ("irsa-sub-list",
     lambda p: with_trust(p, set_condition(":sub", ["system:serviceaccount:a:b", "system:serviceaccount:a:c"]))),
    ("irsa-exact-sub-under-string-like",
     lambda p: with_trust(p, set_condition(":sub", "system:serviceaccount:kube-system:x", "StringLike"))),
    ("service-trust-role", lambda p: edited(p, common.IAM_ROLE, "cluster-node", lambda d: None)),
    ("pod-identity-trust", lambda p: with_pod_trust(p, lambda st: None)),
    ("pod-identity-trust-by-cluster-name",  # the other session tag naming the cluster (the User Guide's example)
     lambda p: with_pod_trust(p, by_cluster_name)),
    ("asymmetric-kms-key-without-rotation",
     lambda p: edited(p, aws.KMS_KEY, SECRETS_KEY, lambda d: d.update(enableKeyRotation=False, keyUsage="SIGN_VERIFY",
                                                             customerMasterKeySpec="ECC_NIST_P256"))),
    ("tags-from-provider-default-tags",
     lambda p: edited(p, REPO, None, lambda d: d.update(tagsAll=d.pop("tags")))),
    ("untaggable-type", lambda p: ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                                   {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"})),
    ("non-root-set-on-container-only",
     lambda p: deployment(p, lambda pod, c: drop(pod, "securityContext", "runAsNonRoot"))),
    ("cronjob", lambda p: as_kind(p, "CronJob")),
    ("statefulset", lambda p: as_kind(p, "StatefulSet")),
    ("pod", lambda p: as_kind(p, "Pod")),
    ("deployment-patch-partial",
     lambda p: ("kubernetes:apps/v1:DeploymentPatch", {"kind": "Deployment", "metadata": {"name": "webapp"},
                                                       "spec": {"replicas": 5}})),
    ("ingress-legacy-class-annotation",
     lambda p: edited(p, "kubernetes:networking.k8s.io/v1:Ingress", None, lambda d: (
         drop(d, "spec", "ingressClassName"),
         setp(d, "metadata", "annotations", "kubernetes.io/ingress.class", "alb")))),
    ("ingress-https-only-listener", lambda p: ingress(p, listen_ports='[{"HTTPS": 443}]')),
]


@pytest.mark.parametrize("build", [c[1] for c in COMPLIANT], ids=[c[0] for c in COMPLIANT])
def test_compliant_inputs_pass_every_policy(dev: Plan, build: Callable[[Plan], tuple[str, dict[str, Any]]]) -> None:
    rtype, props = build(dev)
    urn = f"urn:pulumi:dev::webstack::test${rtype}::ok"
    found = [(p.name, m) for p in RESOURCE_POLICIES for m in check_resource(p, rtype, props, urn, "ok")]
    assert found == []


def test_preview_unknowns_are_not_violations(dev: Plan) -> None:
    """At preview the certificate/KMS ARNs are unknown: those policies still pass. A policy that must read an
    unknown value raises the SDK's UnknownValueError (reported by pulumi-policy as "can't run during preview")."""
    _, ing = ingress(dev, certificate_arn=UNKNOWN)
    assert check_resource(BY_NAME["ingress-alb-tls-only"], "kubernetes:networking.k8s.io/v1:Ingress", ing) == []
    cluster = aws_cluster(dev)
    cluster["encryptionConfig"]["provider"]["keyArn"] = UNKNOWN
    assert check_resource(BY_NAME["eks-secrets-encryption"], eks.EKS_CLUSTER, cluster) == []
    rtype, dep = deployment(dev, lambda pod, c: setp(c, "image", UNKNOWN))
    assert check_resource(BY_NAME["containers-hardened"], rtype, dep) == []
    with pytest.raises(UnknownValueError):
        check_resource(BY_NAME["images-pinned-by-digest"], rtype, dep)


def test_every_policy_has_a_violation_case() -> None:
    # ECS: tests/policy/test_policy_ecs.py; firewall and alarms: tests/policy/test_policy_ops.py
    covered = ({c.policy for c in VIOLATIONS} | {NODES, FARGATE_SUBNETS, AUTO_NODE_CLASS, INSTANCES, DEFAULT_SG}
               | ECS_NAMES | ops.OPS_POLICY_NAMES)
    assert covered == set(BY_NAME)


def test_the_tls_policies_are_the_ones_the_config_allows() -> None:
    """Both TLS policies (Ingress annotations, listeners) accept exactly what the `sslPolicy` key allows."""
    assert common.TLS_POLICIES == ALB_SSL_POLICIES


# --- 4. the pack itself ------------------------------------------------------------------------------------
# Advisory on purpose, each with its reason: deletion protection is turned off on a production stack as the first step
# of a deliberate teardown (docs/operations.md), which must deploy.
ADVISORY = ("deletion-protection-on-production",)


def test_policies_are_mandatory_named_and_described() -> None:
    assert len(POLICIES) >= 12
    names = [p.name for p in POLICIES]
    assert len(set(names)) == len(names)
    for p in POLICIES:
        level = EnforcementLevel.ADVISORY if p.name in ADVISORY else EnforcementLevel.MANDATORY
        assert p.enforcement_level == level, p.name
        assert p.description and p.description.strip().endswith("."), p.name
        assert isinstance(p, ResourceValidationPolicy | StackValidationPolicy)
    assert [p.name for p in STACK_POLICIES if p.name not in ECS_NAMES | ops.OPS_POLICY_NAMES] == [
        NODES, FARGATE_SUBNETS, INSTANCES, AUTO_NODE_CLASS, DEFAULT_SG]


@pytest.mark.parametrize("func", [eks.eks_nodes_in_private_subnets, eks.launch_template_imdsv2,
                                  kubernetes.containers_hardened, eks.route53_changes_scoped], ids=lambda f: f.__name__)
def test_validators_take_the_sdk_signature(func: Callable[..., None]) -> None:
    assert list(inspect.signature(func).parameters) == ["args", "report_violation"]


def test_main_builds_the_pack_from_policies_without_running_it() -> None:
    tree = ast.parse((POLICY_DIR / "__main__.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "PolicyPack"]
    assert len(calls) == 1
    kwargs = {k.arg: k.value for k in calls[0].keywords}
    assert isinstance(kwargs["policies"], ast.Name) and kwargs["policies"].id == "POLICIES"
    assert ast.literal_eval(kwargs["name"]) == "webstack-guardrails"
    level = kwargs["enforcement_level"]
    assert isinstance(level, ast.Attribute) and level.attr == "MANDATORY"
    # POLICIES comes from the validators module, both as a package and as the CLI's top-level module
    imports = {(n.module, n.level) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
               and any(a.name == "POLICIES" for a in n.names)}
    assert imports == {("validators", 1), ("validators", 0)}
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)]


def test_pack_project_and_pins() -> None:
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}
    assert project["description"]
    pins = dict(line.split("==") for line in (POLICY_DIR / "requirements.txt").read_text().split())
    assert pins == {"pulumi": importlib.metadata.version("pulumi"),
                    "pulumi-policy": importlib.metadata.version("pulumi-policy")}


def test_every_allow_listed_aws_managed_policy_is_attached_by_some_stack(dev: Plan, ec2: Plan) -> None:
    """No stale entries: each allow-listed policy is attached in a test stack's render, or inside pulumi-eks (which
    the mocks do not show); the stack's own policies and other accounts' are not AWS managed."""
    plans = [dev, ec2, rendered("karpenter"), rendered("ecs", ecsDeploymentStrategy="blue-green"),
             rendered("eks-fargate"), rendered("storage"), rendered("automode")]
    arns = [a for plan in plans for r in plan.resources
            for a in (r["inputs"].get("managedPolicyArns") or [r["inputs"].get("policyArn")])]
    seen = {a.split(":policy/", 1)[1] for a in arns if isinstance(a, str) and ":iam::aws:policy/" in a}
    assert aws.aws_managed_not_allowed(arns) == []
    expected = set(aws.AWS_MANAGED_POLICIES_ALLOWED) - aws.AWS_MANAGED_INSIDE_PULUMI_EKS
    assert expected - seen == set()
    assert aws.aws_managed_not_allowed(["arn:aws:iam::123456789012:policy/AmazonRoute53FullAccess"]) == []
