"""Rendered inputs of the alarms and the firewall -> the AWS API requests pulumi-aws makes of them, for botocore's
models (`tests.support.ecs_api.validate`: types, required and unknown members, lengths, ranges, enums, patterns),
and a minimal structural check of a CloudWatch dashboard body (a JSON string in PutDashboard: no model).

The mapping follows the Terraform provider underneath: tag maps become [{Key, Value}], a metric alarm's
`dimensions` map becomes [{Name, Value}] and `metricQueries` becomes `Metrics` with a nested `MetricStat`,
WAF's camelCase blocks become the API's PascalCase members (`cloudwatchMetricsEnabled` is
`CloudWatchMetricsEnabled`). A member the mapping does not know is passed on, so botocore reports it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

PULUMI_ONLY = frozenset({"region", "tagsAll", "arn", "namePrefix"})
WAF_NAMES = {"cloudwatchMetricsEnabled": "CloudWatchMetricsEnabled", "webAclArn": "WebACLArn"}


def _int(value: Any) -> Any:
    """The wire format has only floats: whole numbers go back to int (what the API models want)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _pascal(value: Any, renames: Mapping[str, str] = WAF_NAMES) -> Any:
    if isinstance(value, Mapping):
        return {renames.get(k, k[:1].upper() + k[1:]): _pascal(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal(v, renames) for v in value]
    return _int(value)


def _tags(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())]


def _dimensions(dims: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in sorted((dims or {}).items())]


def _query(q: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": q["id"], "ReturnData": q.get("returnData", False)}
    for key, name in (("expression", "Expression"), ("label", "Label"), ("period", "Period")):
        if q.get(key) is not None:
            out[name] = _int(q[key])
    if q.get("metric"):
        m = q["metric"]
        out["MetricStat"] = {"Metric": {"Namespace": m["namespace"], "MetricName": m["metricName"],
                                        "Dimensions": _dimensions(m.get("dimensions"))},
                             "Period": _int(m["period"]), "Stat": m["stat"]}
    return out


def put_metric_alarm_params(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """PutMetricAlarm from an `aws:cloudwatch/metricAlarm:MetricAlarm`'s inputs."""
    renames = {"name": "AlarmName", "alarmDescription": "AlarmDescription", "alarmActions": "AlarmActions",
               "okActions": "OKActions", "extendedStatistic": "ExtendedStatistic"}
    params: dict[str, Any] = {}
    for key, value in inputs.items():
        if key in PULUMI_ONLY or value is None:
            continue
        if key == "tags":
            params["Tags"] = _tags(value)
        elif key == "dimensions":
            params["Dimensions"] = _dimensions(value)
        elif key == "metricQueries":
            params["Metrics"] = [_query(q) for q in value]
        else:
            params[renames.get(key, key[:1].upper() + key[1:])] = _int(value)
    return params


def create_web_acl_params(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """CreateWebACL from an `aws:wafv2/webAcl:WebAcl`'s inputs (`rules` -> `Rules`, blocks PascalCase)."""
    params = {k: v for k, v in inputs.items() if k not in PULUMI_ONLY and v is not None and k != "tags"}
    out = _pascal(params)
    if inputs.get("tags"):
        out["Tags"] = _tags(inputs["tags"])
    return out


def put_logging_configuration_params(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {"LoggingConfiguration": _pascal({k: v for k, v in inputs.items() if k not in PULUMI_ONLY})}


def associate_web_acl_params(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return _pascal({k: v for k, v in inputs.items() if k not in PULUMI_ONLY})


# --- the dashboard body ---------------------------------------------------------------------------------------
GRID_WIDTH = 24
_METRIC_OPTIONS = frozenset({"stat", "label", "period", "color", "yAxis", "visible", "id", "region", "accountId"})
_WIDGET_TYPES = frozenset({"metric", "alarm", "text", "log"})


def dashboard_problems(body: str, region: str) -> list[str]:
    """Where a dashboard body breaks the published structure (CloudWatch-Dashboard-Body-Structure): widgets on the
    24-column grid, metric arrays [namespace, name, dim, value, ..., {options}], a region for metric widgets."""
    try:
        doc = json.loads(body)
    except ValueError as err:
        return [f"not JSON: {err}"]
    widgets = doc.get("widgets") if isinstance(doc, dict) else None
    if not isinstance(widgets, list) or not widgets:
        return ["no widgets list"]
    problems = []
    for i, w in enumerate(widgets):
        if w.get("type") not in _WIDGET_TYPES:
            problems.append(f"widget {i}: type {w.get('type')!r}")
        x, width = w.get("x", 0), w.get("width", 6)
        if not (isinstance(x, int) and isinstance(width, int) and 0 <= x < x + width <= GRID_WIDTH):
            problems.append(f"widget {i}: x {x} + width {width} is off the {GRID_WIDTH}-column grid")
        props = w.get("properties") or {}
        if w.get("type") == "metric":
            if props.get("region") != region:
                problems.append(f"widget {i}: region {props.get('region')!r}, not {region}")
            problems += [f"widget {i} metric {j}: {p}" for j, m in enumerate(props.get("metrics") or [])
                         for p in _metric_problems(m)]
        if w.get("type") == "alarm" and not all(re.fullmatch(r"arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+", a)
                                                for a in props.get("alarms") or [None]):
            problems.append(f"widget {i}: alarms must be alarm ARNs")
    return problems


def _metric_problems(metric: Any) -> list[str]:
    if not isinstance(metric, list) or len(metric) < 2:
        return ["not [namespace, metric name, ...]"]
    options = metric[-1] if isinstance(metric[-1], dict) else {}
    names = metric[:-1] if options else metric
    problems = [] if all(isinstance(v, str) and v for v in names) else ["names and dimensions must be strings"]
    if (len(names) - 2) % 2:
        problems.append("dimensions must come in name/value pairs")
    if set(options) - _METRIC_OPTIONS:
        problems.append(f"unknown options {sorted(set(options) - _METRIC_OPTIONS)}")
    return problems
