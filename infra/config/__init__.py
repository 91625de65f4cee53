"""Typed stack configuration: every key declared once (infra/config/<section>.py), validated all at once.

`load_config` takes the raw `project:key` values (strings as the Pulumi CLI hands them over, or already-parsed
YAML values) and either returns a fully validated `StackConfig` or raises one `ConfigError` listing every
problem, before any resource is declared. See core.py for the mechanism; the stack's version lock (lock.py) is
checked by the same call.
"""

from __future__ import annotations

from typing import Any

from . import (  # noqa: F401 - each registers its rules
    addons,
    app,
    capacity,
    cluster,
    dns,
    ecs,
    fargate,
    network,
    ops,
    registry,
)
from .addons import ALB_CONTROLLER_CHART_VERSIONS, EXTERNAL_DNS_CHART_VERSIONS, AddonsConfig
from .app import ALB_SSL_POLICIES, AppConfig, alb_name, quantity
from .cluster import (
    CLUSTER_LOG_TYPES,
    DEFAULT_KUBERNETES_VERSION,
    EKS_ADDONS,
    REQUIRED_CLUSTER_LOG_TYPES,
    SUPPORTED_KUBERNETES_VERSIONS,
    ClusterConfig,
)
from .core import PROJECT, ConfigError, Invalid, Setting, rule, setting
from .dns import DnsConfig
from .ecs import EcsConfig
from .lock import LockError, LockFile, Versions, lock_path, read_lock
from .network import LOG_RETENTION_DAYS, NetworkConfig
from .ops import OpsConfig, ops_prefix
from .region import partition_of
from .registry import RegistryConfig
from .stack import StackConfig, load_config, schema, settings

__all__ = [
    "ALB_CONTROLLER_CHART_VERSIONS", "ALB_SSL_POLICIES", "CLUSTER_LOG_TYPES", "DEFAULT_KUBERNETES_VERSION",
    "EKS_ADDONS", "EXTERNAL_DNS_CHART_VERSIONS", "LOG_RETENTION_DAYS", "PROJECT", "REQUIRED_CLUSTER_LOG_TYPES",
    "SUPPORTED_KUBERNETES_VERSIONS", "AddonsConfig", "AppConfig", "ClusterConfig", "ConfigError", "DnsConfig",
    "EcsConfig", "Invalid", "LockError", "LockFile", "NetworkConfig", "OpsConfig", "RegistryConfig", "Setting",
    "StackConfig", "Versions", "alb_name", "from_pulumi", "load_config", "lock_path", "ops_prefix", "partition_of",
    "quantity", "read_lock", "rule", "schema", "setting", "settings",
]


def from_pulumi() -> StackConfig:
    """Read this stack's config through the Pulumi SDK and validate it (unknown keys are refused too)."""
    import pulumi
    from pulumi.runtime.config import CONFIG

    raw: dict[str, Any] = {}
    for full_key, value in CONFIG.get().items():
        ns, _, name = full_key.partition(":")
        if ns == PROJECT:
            raw[name] = value
    region = pulumi.Config("aws").get("region")
    stack = pulumi.get_stack()
    # The stack's version lock is part of its configuration: nothing the program deploys is resolved at run time.
    cfg = load_config(raw, project=pulumi.get_project(), stack=stack, region=region, lock=read_lock(lock_path(stack)))
    for message in [*capacity.not_checked(cfg), *fargate.warnings(cfg)]:
        pulumi.log.warn(message)
    return cfg
