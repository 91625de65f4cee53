"""Rendered Pulumi inputs -> AWS API request parameters, validated against the API models botocore ships.

pulumi-aws (the Terraform provider underneath) sends the API what a resource's inputs say, renamed and reshaped:
`hostPath` becomes `host.sourcePath`, `networkConfiguration.assignPublicIp` (bool) becomes
`awsvpcConfiguration.assignPublicIp` ("ENABLED"/"DISABLED"), tag maps become lists, the service's circuit breaker
and percents move into `deploymentConfiguration`... These functions redo that mapping on the plain data of
`plan.one(...)["inputs"]`; `validate()` then checks it with botocore's ParamValidator (types, required members,
unknown members, lengths, ranges) plus the shapes' enums and patterns, which ParamValidator does not check.

A member the mapping does not know is passed through unchanged, so a misspelt or unsupported input is reported
as an unknown parameter instead of being dropped silently. Only inputs that exist in Pulumi alone (provider
behaviour such as `waitForSteadyState`) are removed, each listed below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator

# Inputs that configure the provider, not the API call.
TASK_DEFINITION_PULUMI_ONLY = frozenset({"skipDestroy", "trackLatest", "region", "tagsAll", "arn",
                                         "arnWithoutRevision", "revision"})
SERVICE_PULUMI_ONLY = frozenset({"forceNewDeployment", "forceDelete", "waitForSteadyState", "triggers", "region",
                                 "tagsAll", "sigintRollback"})
SCHEDULE_PULUMI_ONLY = frozenset({"namePrefix", "region", "arn"})
AUTOSCALING_PULUMI_ONLY = frozenset({"region", "tagsAll", "arn"})


# --- the API models -------------------------------------------------------------------------------------
@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def operation_model(operation: str) -> OperationModel:
    """`Operation` (ECS) or `service:Operation`, e.g. `scheduler:CreateSchedule`."""
    service, _, name = operation.rpartition(":")
    return _session().get_service_model(service or "ecs").operation_model(name)


def _enum_errors(value: Any, shape: Shape, path: str) -> Iterator[str]:
    if shape.type_name == "structure" and isinstance(value, Mapping):
        for key, member in shape.members.items():
            if key in value:
                yield from _enum_errors(value[key], member, f"{path}.{key}")
    elif shape.type_name == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _enum_errors(item, shape.member, f"{path}[{i}]")
    elif shape.type_name == "map" and isinstance(value, Mapping):
        for key, item in value.items():
            yield from _enum_errors(item, shape.value, f"{path}.{key}")
    elif shape.type_name == "string" and isinstance(value, str):
        if getattr(shape, "enum", None) and value not in shape.enum:
            yield f"Invalid value for parameter {path.lstrip('.')}, value: {value!r}, valid values: {shape.enum}"
        pattern = _pattern(shape.metadata.get("pattern"))
        # Full match: AWS services validate the whole value even where the model's pattern is unanchored
        # (a Scheduler Name is [0-9a-zA-Z-_.]+: "nightly run" is refused).
        if pattern and not pattern.fullmatch(value):
            yield f"Invalid value for parameter {path.lstrip('.')}, value: {value!r}, pattern: {pattern.pattern}"


@cache
def _pattern(pattern: str | None) -> re.Pattern[str] | None:
    """The model's pattern, when Python's re reads it as the model's (Java) regex does; else None (unchecked)."""
    if not pattern:
        return None
    try:  # \p{...} classes and \uD800 surrogate ranges do not compile in Python: those stay unchecked
        return re.compile(pattern)
    except re.error:
        return None


def validate(operation: str, params: Mapping[str, Any]) -> list[str]:
    """Every problem botocore finds in `params` for `operation`, one per line; empty when valid."""
    shape = operation_model(operation).input_shape
    report = ParamValidator().validate(dict(params), shape)
    problems = report.generate_report().splitlines() if report.has_errors() else []
    return [p.strip() for p in problems if p.strip()] + list(_enum_errors(params, shape, ""))


# --- helpers --------------------------------------------------------------------------------------------
def _int(value: Any) -> Any:
    """The wire format has only floats: integers go back to int (what the API model wants)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _ints(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return _int(value)


def _tags(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted((tags or {}).items())]


def _drop(inputs: Mapping[str, Any], pulumi_only: frozenset[str]) -> dict[str, Any]:
    return {k: _ints(v) for k, v in inputs.items() if k not in pulumi_only and v is not None}


def _public_ip(value: Any) -> Any:
    return {True: "ENABLED", False: "DISABLED"}.get(value, value) if isinstance(value, bool) else value


def _awsvpc(network: Mapping[str, Any]) -> dict[str, Any]:
    """Pulumi's flat networkConfiguration -> the API's {awsvpcConfiguration: {...}}."""
    vpc = dict(network)
    if "assignPublicIp" in vpc:
        vpc["assignPublicIp"] = _public_ip(vpc["assignPublicIp"])
    return {"awsvpcConfiguration": vpc}


def _renamed(value: Mapping[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    return {renames.get(k, k): v for k, v in value.items()}


# --- ECS ------------------------------------------------------------------------------------------------
def _volume(volume: Mapping[str, Any]) -> dict[str, Any]:
    out = _renamed(volume, {"configureAtLaunch": "configuredAtLaunch"})
    if "hostPath" in out:
        out["host"] = {"sourcePath": out.pop("hostPath")}
    return out


def register_task_definition_params(task_definition_inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The RegisterTaskDefinition request an `aws:ecs/taskDefinition:TaskDefinition`'s inputs make."""
    params = _drop(task_definition_inputs, TASK_DEFINITION_PULUMI_ONLY)
    if isinstance(params.get("containerDefinitions"), str):
        params["containerDefinitions"] = json.loads(params["containerDefinitions"])
    if "volumes" in params:
        params["volumes"] = [_volume(v) for v in params["volumes"]]
    if isinstance(params.get("ephemeralStorage"), Mapping):
        params["ephemeralStorage"] = _renamed(params["ephemeralStorage"], {"sizeInGib": "sizeInGiB"})
    proxy = params.get("proxyConfiguration")
    if isinstance(proxy, Mapping) and isinstance(proxy.get("properties"), Mapping):
        params["proxyConfiguration"] = {**proxy, "properties": [
            {"name": k, "value": v} for k, v in sorted(proxy["properties"].items())]}
    if "tags" in params:
        params["tags"] = _tags(params["tags"])
    return params


def create_service_params(service_inputs: Mapping[str, Any], *, autoname: str | None = None) -> dict[str, Any]:
    """The CreateService request an `aws:ecs/service:Service`'s inputs make. Without a `name` input the provider
    auto-names the service (not under mocks): pass that name as `autoname`."""
    params = _drop(service_inputs, SERVICE_PULUMI_ONLY)
    if autoname and "name" not in params:
        params["name"] = autoname
    params = _renamed(params, {
        "name": "serviceName", "capacityProviderStrategies": "capacityProviderStrategy",
        "orderedPlacementStrategies": "placementStrategy", "enableEcsManagedTags": "enableECSManagedTags",
        "iamRole": "role", "volumeConfiguration": "volumeConfigurations",
    })
    if "networkConfiguration" in params:
        params["networkConfiguration"] = _awsvpc(params["networkConfiguration"])
    if "loadBalancers" in params:
        params["loadBalancers"] = [_renamed(lb, {"elbName": "loadBalancerName"}) for lb in params["loadBalancers"]]
    if isinstance(params.get("serviceRegistries"), Mapping):  # one block in Pulumi, a list in the API
        params["serviceRegistries"] = [params["serviceRegistries"]]
    if isinstance(params.get("volumeConfigurations"), Mapping):
        volume = _renamed(params["volumeConfigurations"], {"managedEbsVolume": "managedEBSVolume"})
        if isinstance(volume.get("managedEBSVolume"), Mapping):
            volume["managedEBSVolume"] = _renamed(volume["managedEBSVolume"], {"sizeInGb": "sizeInGiB"})
        params["volumeConfigurations"] = [volume]
    deployment = dict(params.pop("deploymentConfiguration", None) or {})
    for pulumi_name, api_name in (("deploymentCircuitBreaker", "deploymentCircuitBreaker"),
                                  ("deploymentMaximumPercent", "maximumPercent"),
                                  ("deploymentMinimumHealthyPercent", "minimumHealthyPercent"),
                                  ("alarms", "alarms")):
        if pulumi_name in params:
            deployment[api_name] = params.pop(pulumi_name)
    if deployment:
        params["deploymentConfiguration"] = deployment
    if "tags" in params:
        params["tags"] = _tags(params["tags"])
    return params


# --- EventBridge Scheduler ------------------------------------------------------------------------------
def _ecs_parameters(ecs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in ecs.items():
        if key == "networkConfiguration":
            vpc = _renamed(value, {"subnets": "Subnets", "securityGroups": "SecurityGroups",
                                   "assignPublicIp": "AssignPublicIp"})
            if "AssignPublicIp" in vpc:
                vpc["AssignPublicIp"] = _public_ip(vpc["AssignPublicIp"])
            out["NetworkConfiguration"] = {"awsvpcConfiguration": vpc}
        elif key == "capacityProviderStrategies":
            out["CapacityProviderStrategy"] = value  # its items keep camelCase members in the API too
        elif key == "placementStrategies":
            out["PlacementStrategy"] = value
        elif key == "placementConstraints":
            out["PlacementConstraints"] = value
        elif key == "enableEcsManagedTags":
            out["EnableECSManagedTags"] = value
        elif key == "tags":
            out["Tags"] = [{k: v} for k, v in sorted(value.items())]
        else:
            out[_pascal(key)] = value
    return out


def create_schedule_params(schedule_inputs: Mapping[str, Any], *, autoname: str | None = None) -> dict[str, Any]:
    """The CreateSchedule request an `aws:scheduler/schedule:Schedule`'s inputs make (`autoname`: the name the
    provider would generate when there is no `name` input)."""
    params = _drop(schedule_inputs, SCHEDULE_PULUMI_ONLY)
    if autoname and "name" not in params:
        params["name"] = autoname
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key == "target":
            target = {}
            for tkey, tvalue in value.items():
                if tkey == "ecsParameters":
                    target["EcsParameters"] = _ecs_parameters(tvalue)
                else:
                    target[_pascal(tkey)] = _pascal_keys(tvalue)
            out["Target"] = target
        else:
            out[_pascal(key)] = _pascal_keys(value)
    return out


# A universal target: arn:<partition>:scheduler:::aws-sdk:<service>:<apiAction> (Scheduler User Guide).
_UNIVERSAL_TARGET = re.compile(r"arn:[a-z-]+:scheduler:::aws-sdk:(?P<service>[a-z0-9-]+):(?P<action>[a-z][A-Za-z0-9]+)")


def universal_target_request(target: Mapping[str, Any]) -> tuple[str, dict[str, Any], list[str]]:
    """(operation, params, casing problems) of the API call a Scheduler universal target makes with its `input`
    (a schedule's Pulumi `target`). The input is the request with every member in PascalCase (the spelling
    universal targets take; camelCase is reported refused: "missing field TaskDefinition"); `params` renames each
    member to botocore's spelling, guided by the operation's input shape, so `validate(operation, params)` checks
    the request the service receives. A member not in PascalCase is listed in the casing problems (and stays as
    written: for a service whose botocore names are PascalCase, validate then reports it unknown)."""
    match = _UNIVERSAL_TARGET.fullmatch(str(target.get("arn", "")))
    if not match:
        raise ValueError(f"not a universal target ARN: {target.get('arn')!r}")
    operation = f"{match['service']}:{_pascal(match['action'])}"
    problems: list[str] = []
    params = _from_pascal(json.loads(target["input"]), operation_model(operation).input_shape, "", problems)
    return operation, params, problems


def _from_pascal(value: Any, shape: Shape | None, path: str, problems: list[str]) -> Any:
    if isinstance(value, Mapping) and shape is not None and shape.type_name == "structure":
        by_pascal = {_pascal(m): m for m in shape.members}
        out = {}
        for key, item in value.items():
            if key != _pascal(key):
                problems.append(f"{path}{key}: not PascalCase")
            member = by_pascal.get(key, key)
            out[member] = _from_pascal(item, shape.members.get(member), f"{path}{key}.", problems)
        return out
    if isinstance(value, list) and shape is not None and shape.type_name == "list":
        return [_from_pascal(v, shape.member, f"{path}[{i}].", problems) for i, v in enumerate(value)]
    return value


# --- Application Auto Scaling -----------------------------------------------------------------------------
_AUTOSCALING_RENAMES = {"RoleArn": "RoleARN", "Name": "PolicyName"}


def register_scalable_target_params(target_inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The RegisterScalableTarget request an `aws:appautoscaling/target:Target`'s inputs make (tags stay a map)."""
    params = _drop(target_inputs, AUTOSCALING_PULUMI_ONLY)
    return {_AUTOSCALING_RENAMES.get(_pascal(k), _pascal(k)): (v if k == "tags" else _pascal_keys(v))
            for k, v in params.items()}


def put_scaling_policy_params(policy_inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The PutScalingPolicy request an `aws:appautoscaling/policy:Policy`'s inputs make."""
    params = _drop(policy_inputs, AUTOSCALING_PULUMI_ONLY)
    out = {_AUTOSCALING_RENAMES.get(_pascal(k), _pascal(k)): _pascal_keys(v) for k, v in params.items()}
    steps = (out.get("StepScalingPolicyConfiguration") or {}).get("StepAdjustments") or []
    for step in steps:  # bounds are strings in Pulumi, doubles in the API
        for bound in ("MetricIntervalLowerBound", "MetricIntervalUpperBound"):
            if isinstance(step.get(bound), str) and step[bound] != "":
                step[bound] = float(step[bound])
    return out


def put_scheduled_action_params(action_inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The PutScheduledAction request an `aws:appautoscaling/scheduledAction:ScheduledAction`'s inputs make."""
    params = _drop(action_inputs, AUTOSCALING_PULUMI_ONLY)
    renames = {"Name": "ScheduledActionName"}
    return {renames.get(_pascal(k), _pascal(k)): _pascal_keys(v) for k, v in params.items()}


def _pascal(key: str) -> str:
    return key[:1].upper() + key[1:]


def _pascal_keys(value: Any, convert: Callable[[str], str] = _pascal) -> Any:
    if isinstance(value, Mapping):
        return {convert(k): _pascal_keys(v, convert) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal_keys(v, convert) for v in value]
    return value


# --- CloudWatch alarms ------------------------------------------------------------------------------------
ALARM_PULUMI_ONLY = frozenset({"region", "tagsAll", "arn"})
_ALARM_RENAMES = {"Name": "AlarmName", "OkActions": "OKActions"}


def put_metric_alarm_params(alarm_inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The PutMetricAlarm request an `aws:cloudwatch/metricAlarm:MetricAlarm`'s inputs make: the dimension and tag
    maps become lists of {Name, Value} / {Key, Value}."""
    params = _drop(alarm_inputs, ALARM_PULUMI_ONLY)
    out = {_ALARM_RENAMES.get(_pascal(k), _pascal(k)): v for k, v in params.items() if k not in ("dimensions", "tags")}
    if "dimensions" in params:
        out["Dimensions"] = [{"Name": k, "Value": v} for k, v in sorted(params["dimensions"].items())]
    if "tags" in params:
        out["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(params["tags"].items())]
    if isinstance(out.get("Threshold"), int):
        out["Threshold"] = float(out["Threshold"])  # a double in the API
    return out


# --- EFS ------------------------------------------------------------------------------------------------
# Set by other calls than the create (PutLifecycleConfiguration, UpdateFileSystemProtection), or Pulumi's own.
EFS_PULUMI_ONLY = frozenset({"region", "tagsAll", "arn", "lifecyclePolicies", "protection"})


def _efs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    params = {_pascal(k): (v if k == "tags" else _pascal_keys(v)) for k, v in _drop(inputs, EFS_PULUMI_ONLY).items()}
    if "Tags" in params:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(params["Tags"].items())]
    return params


def create_file_system_params(inputs: Mapping[str, Any], *, token: str = "pulumi") -> dict[str, Any]:
    """CreateFileSystem from `aws:efs/fileSystem:FileSystem` (the provider generates the creation token)."""
    return {"CreationToken": token, **_efs(inputs)}


def create_access_point_params(inputs: Mapping[str, Any], *, token: str = "pulumi") -> dict[str, Any]:
    """CreateAccessPoint from `aws:efs/accessPoint:AccessPoint` (the client token is generated per call)."""
    return {"ClientToken": token, **_efs(inputs)}


def create_mount_target_params(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return _efs(inputs)


def put_backup_policy_params(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return _efs(inputs)


def put_file_system_policy_params(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return _efs(inputs)


# --- Elastic Load Balancing v2 ---------------------------------------------------------------------------------
LISTENER_RULE_PULUMI_ONLY = frozenset({"region", "tagsAll", "arn"})
# A Pulumi rule condition is one block per kind; the API names the kind in `Field` and nests its values.
_CONDITION_FIELDS = {"hostHeader": "host-header", "pathPattern": "path-pattern", "httpHeader": "http-header",
                     "queryString": "query-string", "httpRequestMethod": "http-request-method",
                     "sourceIp": "source-ip"}


def _rule_condition(condition: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, config in condition.items():
        if kind in _CONDITION_FIELDS:
            out["Field"] = _CONDITION_FIELDS[kind]
            out[_pascal(kind) + "Config"] = _pascal_keys(config)
        else:
            out[_pascal(kind)] = _pascal_keys(config)
    return out


def _rule_action(action: Mapping[str, Any]) -> dict[str, Any]:
    """A weighted `forward` block is the API's ForwardConfig, each `arn` a TargetGroupArn (the provider's
    expandLbForwardActionConfig)."""
    out = _pascal_keys(dict(action))
    if "Forward" in out:
        forward = out.pop("Forward")
        forward["TargetGroups"] = [_renamed(g, {"Arn": "TargetGroupArn"}) for g in forward.get("TargetGroups", [])]
        out["ForwardConfig"] = forward
    return out


def create_rule_params(rule_inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The elbv2 CreateRule request an `aws:lb/listenerRule:ListenerRule`'s inputs make."""
    params = {_pascal(k): v for k, v in _drop(rule_inputs, LISTENER_RULE_PULUMI_ONLY).items()}
    if "Conditions" in params:
        params["Conditions"] = [_rule_condition(c) for c in params["Conditions"]]
    if "Actions" in params:
        params["Actions"] = [_rule_action(a) for a in params["Actions"]]
    if "Tags" in params:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(params["Tags"].items())]
    return params


# Mappings by Pulumi type, for tests that sweep a whole plan.
BY_TYPE: dict[str, tuple[str, Callable[[Mapping[str, Any]], dict[str, Any]]]] = {
    "aws:ecs/taskDefinition:TaskDefinition": ("RegisterTaskDefinition", register_task_definition_params),
    "aws:ecs/service:Service": ("CreateService", create_service_params),
    "aws:scheduler/schedule:Schedule": ("scheduler:CreateSchedule", create_schedule_params),
    "aws:appautoscaling/target:Target": ("application-autoscaling:RegisterScalableTarget",
                                         register_scalable_target_params),
    "aws:appautoscaling/policy:Policy": ("application-autoscaling:PutScalingPolicy", put_scaling_policy_params),
    "aws:appautoscaling/scheduledAction:ScheduledAction": ("application-autoscaling:PutScheduledAction",
                                                           put_scheduled_action_params),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch:PutMetricAlarm", put_metric_alarm_params),
    "aws:efs/fileSystem:FileSystem": ("efs:CreateFileSystem", create_file_system_params),
    "aws:efs/accessPoint:AccessPoint": ("efs:CreateAccessPoint", create_access_point_params),
    "aws:efs/mountTarget:MountTarget": ("efs:CreateMountTarget", create_mount_target_params),
    "aws:efs/backupPolicy:BackupPolicy": ("efs:PutBackupPolicy", put_backup_policy_params),
    "aws:efs/fileSystemPolicy:FileSystemPolicy": ("efs:PutFileSystemPolicy", put_file_system_policy_params),
    "aws:lb/listenerRule:ListenerRule": ("elbv2:CreateRule", create_rule_params),
}

_UNKNOWN_RE = re.compile(r"Unknown parameter in (?P<path>[^:]+): \"(?P<name>[^\"]+)\"")


def unknown_parameters(problems: list[str]) -> list[str]:
    """The `path.name` of each unknown-parameter problem (botocore's report format)."""
    return [f"{m['path']}.{m['name']}" for p in problems if (m := _UNKNOWN_RE.search(p))]
