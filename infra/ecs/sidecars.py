"""The app task's optional sidecar containers, as plain container definitions: an AWS Distro for OpenTelemetry
collector and a FireLens (Fluent Bit) log router. Each is hardened like the app (read-only root filesystem, every
capability dropped, a memory limit and CPU reservation, a health check, its own logs through awslogs into the
stack's log group) and runs as non-root where its image allows (the FireLens router cannot: see below).

Neither reads the app's files, so the task gets no shared volume for them: the app's stdout reaches the router
through the FireLens log driver (the ECS agent's socket), and telemetry reaches the collector over OTLP on localhost
(the containers of an awsvpc task share one network namespace).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

COLLECTOR = "otel-collector"
LOG_ROUTER = "log-router"
# The aws-otel-collector image runs as user aoc, uid/gid 4317 (cmd/awscollector/Dockerfile: USER_UID=4317).
COLLECTOR_USER = "4317:4317"
# FireLens needs its log router to run as root: the router creates the unix socket the app's log driver writes to,
# in a root-owned directory the ECS agent mounts (aws/containers-roadmap#2122, open; aws-for-fluent-bit#713).
LOG_ROUTER_USER = "0"
# The uptime check AWS recommends for FireLens (aws-samples/amazon-ecs-firelens-examples, fluent-bit/health-check):
# the image's own config file turns on Fluent Bit's HTTP server on port 2020, which answers /api/v1/uptime. Only
# files inside the image can be used on Fargate (config-file-type "file").
LOG_ROUTER_CONFIG = "/fluent-bit/configs/output-metrics-healthcheck.conf"
LOG_ROUTER_HEALTH = "curl -f http://127.0.0.1:2020/api/v1/uptime || exit 1"
# The collector's health_check extension answers on 13133; the image ships /healthcheck, a static binary that
# queries it (cmd/healthcheck/main.go): the image has no shell.
COLLECTOR_HEALTH_PORT = 13133
DROP_ALL = {"capabilities": {"add": [], "drop": ["ALL"]}}


@dataclass(frozen=True, kw_only=True)
class CollectorSpec:
    image: str
    """public.ecr.aws/aws-observability/aws-otel-collector@sha256:..."""
    cpu: int
    memory: int
    metrics_namespace: str


@dataclass(frozen=True, kw_only=True)
class LogRouterSpec:
    image: str
    """public.ecr.aws/aws-observability/aws-for-fluent-bit@sha256:..."""
    cpu: int
    memory: int


def awslogs(log_group: str, region: str, prefix: str) -> dict[str, Any]:
    """The awslogs driver into the stack's log group (run by the execution role; never creates a group)."""
    return {"logDriver": "awslogs", "options": {
        "awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": prefix}}


def collector_config(region: str, namespace: str, metrics_log_group: str) -> str:
    """The collector's configuration (AOT_CONFIG_CONTENT: the image reads it from that variable,
    pkg/config/config_factory.go), as JSON, which is YAML: OTLP in on localhost only, traces to X-Ray, metrics as
    EMF into the stack's metrics log group (which exists: the exporter then never creates a group)."""
    config = {
        "extensions": {"health_check": {"endpoint": f"127.0.0.1:{COLLECTOR_HEALTH_PORT}"}},
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "127.0.0.1:4317"},
                                             "http": {"endpoint": "127.0.0.1:4318"}}}},
        "processors": {"batch/traces": {"timeout": "1s", "send_batch_size": 50},
                       "batch/metrics": {"timeout": "60s"},
                       "resourcedetection": {"detectors": ["env", "ecs"]}},
        "exporters": {"awsxray": {"region": region},
                      "awsemf": {"region": region, "namespace": namespace, "log_group_name": metrics_log_group,
                                 "log_stream_name": "otel-{TaskId}", "dimension_rollup_option": "NoDimensionRollup"}},
        "service": {"extensions": ["health_check"], "pipelines": {
            "traces": {"receivers": ["otlp"], "processors": ["resourcedetection", "batch/traces"],
                       "exporters": ["awsxray"]},
            "metrics": {"receivers": ["otlp"], "processors": ["resourcedetection", "batch/metrics"],
                        "exporters": ["awsemf"]}}},
    }
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


def collector_container(spec: CollectorSpec, *, log_group: str, metrics_log_group: str,
                        region: str) -> dict[str, Any]:
    return {
        "name": COLLECTOR, "image": spec.image, "essential": True, "user": COLLECTOR_USER,
        "readonlyRootFilesystem": True, "cpu": spec.cpu, "memory": spec.memory,
        "environment": [{"name": "AOT_CONFIG_CONTENT",
                         "value": collector_config(region, spec.metrics_namespace, metrics_log_group)}],
        "linuxParameters": DROP_ALL,
        "healthCheck": {"command": ["CMD", "/healthcheck"], "interval": 10, "timeout": 5, "retries": 3,
                        "startPeriod": 10},
        "logConfiguration": awslogs(log_group, region, COLLECTOR),
    }


def log_router_container(spec: LogRouterSpec, *, log_group: str, region: str) -> dict[str, Any]:
    return {
        "name": LOG_ROUTER, "image": spec.image, "essential": True, "user": LOG_ROUTER_USER,
        "readonlyRootFilesystem": True, "cpu": spec.cpu, "memory": spec.memory,
        "firelensConfiguration": {"type": "fluentbit", "options": {
            "config-file-type": "file", "config-file-value": LOG_ROUTER_CONFIG, "enable-ecs-log-metadata": "true"}},
        "linuxParameters": DROP_ALL,
        "healthCheck": {"command": ["CMD-SHELL", LOG_ROUTER_HEALTH], "interval": 10, "timeout": 5, "retries": 3,
                        "startPeriod": 30},
        # The router's own output goes straight to CloudWatch: it cannot log through itself.
        "logConfiguration": awslogs(log_group, region, LOG_ROUTER),
    }


def firelens_logs(log_group: str, region: str, prefix: str) -> dict[str, Any]:
    """The app's logs through the router: Fluent Bit's cloudwatch_logs output into the stack's log group, which
    exists with its retention (never auto-created), streams `<prefix>/<container>-firelens-<task id>`."""
    return {"logDriver": "awsfirelens", "options": {
        "Name": "cloudwatch_logs", "region": region, "log_group_name": log_group, "log_stream_prefix": f"{prefix}/",
        "auto_create_group": "false", "retry_limit": "2"}}


def sidecar_dependencies(collector: bool, log_router: bool) -> list[dict[str, str]]:
    """The app's `dependsOn`: it starts once each sidecar reports healthy (both have a health check), so its first
    log lines and spans have somewhere to go."""
    names = [n for n, on in ((COLLECTOR, collector), (LOG_ROUTER, log_router)) if on]
    return [{"containerName": n, "condition": "HEALTHY"} for n in sorted(names)]


def reservations(containers: list[Mapping[str, Any]]) -> tuple[int, int]:
    """(CPU units, MiB) the containers reserve: `cpu`, and `memory` or else `memoryReservation`."""
    return (sum(int(c.get("cpu") or 0) for c in containers),
            sum(int(c.get("memory") or c.get("memoryReservation") or 0) for c in containers))
