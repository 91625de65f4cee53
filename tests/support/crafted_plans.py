"""Plans crafted from a real render, for what the test stacks do not render.

`ecs_plan`: the dev render's shared parts (network, registry, DNS, image) plus the pulumi-aws resources an ECS
runtime declares, wired by property dependencies the way the SDK captures them (the ECS runtime itself is
built on another branch). `broken`: the dev plan with one mandatory policy violation."""

from __future__ import annotations

import copy
from typing import Any

from tools.render import Plan

_RUNTIME_PREFIXES = ("eks:", "kubernetes:", "pulumi:providers:kubernetes", "webstack:eks:", "webstack:platform",
                     "webstack:workload")


def ecs_plan(dev: Plan, *, efs: bool = True, ec2: bool = True) -> Plan:
    shared = [copy.deepcopy(r) for r in dev.resources if not r["type"].startswith(_RUNTIME_PREFIXES)]
    urn_of = {r["type"]: r["urn"] for r in shared}
    subnets = [r for r in shared if r["type"] == "aws:ec2/subnet:Subnet"]
    private = [s for s in subnets if "kubernetes.io/role/elb" not in s["inputs"]["tags"]]
    public = [s for s in subnets if s not in private]
    zone_id = next(i for i in dev.invokes if i["token"] == "aws:route53/getZone:getZone")
    stack_urn = shared[0]["urn"].split("::")[0] + "::" + shared[0]["urn"].split("::")[1]
    added: list[dict[str, Any]] = []

    def add(rtype: str, name: str, inputs: dict[str, Any], deps: dict[str, list[str]] | None = None) -> str:
        urn = f"{stack_urn}::webstack::webstack:ecs:Runtime${rtype}::{name}"
        deps = deps or {}
        added.append({"type": rtype, "name": name, "urn": urn, "custom": True, "id": f"{name}-id",
                      "parent": None, "provider": None, "dependencies": sorted({u for v in deps.values() for u in v}),
                      "propertyDependencies": deps, "options": {}, "inputs": inputs, "state": {}})
        return urn

    # listeners take the validated ARN: their certificateArn depends on the CertificateValidation
    cert = urn_of["aws:acm/certificateValidation:CertificateValidation"]
    cluster = add("aws:ecs/cluster:Cluster", "ecs-cluster", {"name": "webstack-ecs"})
    task = add("aws:ecs/taskDefinition:TaskDefinition", "ecs-task",
               {"family": "webstack-ecs-webapp", "cpu": "256", "memory": "512", "networkMode": "awsvpc",
                "requiresCompatibilities": ["FARGATE"], "containerDefinitions": "[]"})
    alb = add("aws:lb/loadBalancer:LoadBalancer", "ecs-alb",
              {"name": "webstack-ecs", "loadBalancerType": "application", "internal": False,
               "subnets": [s["id"] for s in public]}, {"subnets": [s["urn"] for s in public]})
    tg = add("aws:lb/targetGroup:TargetGroup", "ecs-tg",
             {"port": 8080, "protocol": "HTTP", "targetType": "ip", "healthCheck": {"path": "/healthz"}})
    add("aws:lb/listener:Listener", "ecs-https",
        {"port": 443, "protocol": "HTTPS", "defaultActions": [{"type": "forward"}]},
        {"loadBalancerArn": [alb], "defaultActions": [tg], "certificateArn": [cert]})
    add("aws:lb/listener:Listener", "ecs-http",
        {"port": 80, "protocol": "HTTP", "defaultActions": [{"type": "redirect"}]}, {"loadBalancerArn": [alb]})
    strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 3}]
    service = add("aws:ecs/service:Service", "ecs-service",
                  {"name": "webapp", "desiredCount": 2, "capacityProviderStrategies": strategy,
                   "networkConfiguration": {"subnets": [s["id"] for s in private], "assignPublicIp": False}},
                  {"cluster": [cluster], "taskDefinition": [task], "loadBalancers": [tg],
                   "networkConfiguration": [s["urn"] for s in private]})
    add("aws:appautoscaling/target:Target", "ecs-scaling",
        {"minCapacity": 2, "maxCapacity": 6, "resourceId": "service/webstack-ecs/webapp",
         "scalableDimension": "ecs:service:DesiredCount", "serviceNamespace": "ecs"},
        {"resourceId": [cluster, service]})
    add("aws:route53/record:Record", "ecs-alias",
        {"name": "app.example.com", "type": "A", "zoneId": zone_id["args"].get("name"),
         "aliases": [{"name": "alb.example", "zoneId": "Z35SXDOTRQ7X7K", "evaluateTargetHealth": True}]},
        {"aliases": [alb]})
    add("aws:route53/record:Record", "ecs-cert-validation", {"name": "_x.app.example.com", "type": "CNAME"})
    if efs:
        add("aws:efs/fileSystem:FileSystem", "ecs-efs", {"encrypted": True})
    add("aws:scheduler/schedule:Schedule", "ecs-nightly",
        {"scheduleExpression": "cron(0 3 * * ? *)", "scheduleExpressionTimezone": "Europe/Paris",
         "target": {"arn": "arn:aws:ecs:us-east-1:123456789012:cluster/webstack-ecs"}},
        {"target": [cluster, task]})
    if ec2:
        add("aws:autoscaling/group:Group", "ecs-capacity",
            {"minSize": 0, "maxSize": 4, "vpcZoneIdentifiers": [s["id"] for s in private]},
            {"vpcZoneIdentifiers": [s["urn"] for s in private]})
    return Plan(stack="ecs", resources=shared + added, invokes=copy.deepcopy(dev.invokes),
                outputs=copy.deepcopy(dev.outputs))


def broken(plan: Plan) -> Plan:
    """The plan with the ECR repository's tags made mutable (one mandatory violation: ecr-immutable-tags)."""
    resources = copy.deepcopy(plan.resources)
    repo = next(r for r in resources if r["type"] == "aws:ecr/repository:Repository")
    repo["inputs"]["imageTagMutability"] = "MUTABLE"
    return Plan(stack=plan.stack, resources=resources, invokes=plan.invokes, outputs=plan.outputs)
