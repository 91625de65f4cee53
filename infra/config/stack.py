"""StackConfig: the sections, the stack-wide keys (extraTags), and how a raw config map becomes one."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .addons import AddonsConfig
from .app import AppConfig, alb_name
from .cluster import CLUSTER_LOG_TYPES, REQUIRED_CLUSTER_LOG_TYPES, ClusterConfig
from .core import (
    PROJECT,
    REGION_KEY,
    RULES,
    ConfigError,
    Setting,
    declared,
    each,
    length,
    one_of,
    problem,
    read,
    rule,
    schema_entry,
    setting,
    show,
)
from .dns import DnsConfig
from .ecs import RUNTIMES, EcsConfig
from .lock import LockFile, Versions, locked_versions
from .network import NetworkConfig
from .ops import OpsConfig, resolved
from .region import partition_of
from .registry import RegistryConfig, default_repository_name
from .review import ReviewConfig

# Tags the stack sets itself (infra/tags.py): extraTags cannot override them.
COMMON_TAG_KEYS = ("project", "stack", "managed-by")
# AWS: at most 50 user tags per resource. Every resource carries the 3 common tags and a Name, and the subnets
# two more (kubernetes.io/role/elb or internal-elb, kubernetes.io/cluster/<name>): 44 are left.
TAGS_PER_RESOURCE = 50
EXTRA_TAGS_MAX = TAGS_PER_RESOURCE - len(COMMON_TAG_KEYS) - 1 - 2
RESERVED_TAG_KEYS = (*COMMON_TAG_KEYS, "Name")
# Kubernetes' and Karpenter's (Karpenter refuses an EC2NodeClass whose tags use its keys).
RESERVED_TAG_PREFIXES = ("kubernetes.io/", "karpenter.sh/", "karpenter.k8s.aws/")
# Karpenter tags each instance it launches with six keys of its own besides the EC2NodeClass's tags (Name,
# karpenter.sh/nodepool, karpenter.sh/nodeclaim, karpenter.k8s.aws/ec2nodeclass, kubernetes.io/cluster/<name>,
# eks:eks-cluster-name: the CRD refuses them in spec.tags), and EC2 allows 50.
KARPENTER_OWN_TAGS = 6
KARPENTER_EXTRA_TAGS_MAX = TAGS_PER_RESOURCE - len(COMMON_TAG_KEYS) - KARPENTER_OWN_TAGS
_TAG_PUNCTUATION = set("_.:/=+-@ ")


def tag_text(text: str) -> bool:
    """AWS tag characters: Unicode letters, digits, spaces and _ . : / = + - @ (Tagging best practices)."""
    return all(c in _TAG_PUNCTUATION or unicodedata.category(c)[0] in "LNZ" for c in text)


def tag_pair(pair: tuple[str, str]) -> str | None:
    key, value = pair
    if not 1 <= len(key) <= 128 or len(value) > 256 or not tag_text(key) or not tag_text(value):
        return ("keys must be 1-128 and values at most 256 letters, digits, spaces or _ . : / = + - @ "
                "(AWS tag rules)")
    if key.lower().startswith("aws:"):
        return "keys must not start with 'aws:' (reserved by AWS)"
    if key in RESERVED_TAG_KEYS or key.startswith(RESERVED_TAG_PREFIXES):
        return (f"keys must not override the stack's own tags ({', '.join(RESERVED_TAG_KEYS)}, "
                f"{', '.join(p + '...' for p in RESERVED_TAG_PREFIXES)})")
    return None


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    project: str
    stack: str
    region: str
    partition: str = "aws"  # from the region (botocore endpoint data): aws, aws-cn, aws-us-gov...
    network: NetworkConfig = field(default_factory=NetworkConfig)
    registry: RegistryConfig = field(default_factory=RegistryConfig)
    dns: DnsConfig = field(default_factory=DnsConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    addons: AddonsConfig = field(default_factory=AddonsConfig)
    app: AppConfig = field(default_factory=AppConfig)
    ecs: EcsConfig = field(default_factory=EcsConfig)
    ops: OpsConfig = field(default_factory=OpsConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    runtime: str = setting("runtime", "eks", "Where the app runs: 'eks' (Kubernetes) or 'ecs' (ECS, no EKS at all).",
                           one_of(*RUNTIMES))
    extra_tags: tuple[tuple[str, str], ...] = setting(
        "extraTags", (), f"Extra tags added to every AWS resource (at most {EXTRA_TAGS_MAX}).",
        length(0, EXTRA_TAGS_MAX), each(tag_pair))
    locked: Versions | None = None
    """The versions from the stack's lock (config pins applied), when `load_config` was given the lock."""

    @property
    def versions(self) -> Versions:
        """What the program deploys of everything versioned (infra/config/lock.py). `from_pulumi` always reads
        the lock; a config loaded without it (the config tests) has none, and asking is a bug."""
        if self.locked is None:
            raise RuntimeError(f"stack {self.stack!r}: the config was loaded without its version lock "
                               "(load_config(..., lock=read_lock(lock_path(stack))))")
        return self.locked


SECTIONS: dict[str, type] = {"network": NetworkConfig, "registry": RegistryConfig, "dns": DnsConfig,
                             "cluster": ClusterConfig, "addons": AddonsConfig, "app": AppConfig, "ecs": EcsConfig,
                             "ops": OpsConfig, "review": ReviewConfig}


@functools.cache
def settings() -> tuple[Setting, ...]:
    """Every key, in declaration order: the sections', then the stack-wide ones."""
    found = [s for name, cls in SECTIONS.items() for s in declared(cls, name)]
    return (*found, *declared(StackConfig))


@functools.cache
def settings_by_key() -> dict[str, Setting]:
    return {s.key: s for s in settings()}


def schema() -> dict[str, dict[str, Any]]:
    """Pulumi.yaml's `config:` block, generated from the declarations (`make config-schema`)."""
    return {s.key: schema_entry(s) for s in settings()}


def value_of(cfg: StackConfig, key: str) -> Any:
    if key == REGION_KEY:
        return cfg.region
    value: Any = cfg
    for part in settings_by_key()[key].path:
        value = getattr(value, part)
    return value


def _resolve(values: dict[tuple[str, ...], Any], *, project: str, stack: str, region: str, partition: str
             ) -> StackConfig:
    """Build the sections from parsed values, then fill in what is derived (names, always-on log types)."""
    by_section: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    top: dict[str, Any] = {}
    for path, value in values.items():  # one pass (a scan per section was a tenth of a load)
        if len(path) == 1:
            top[path[0]] = value
        else:
            by_section[path[0]][path[1]] = value
    parts = {name: cls(**by_section[name]) for name, cls in SECTIONS.items()}
    dns, cluster, app = parts["dns"], parts["cluster"], parts["app"]
    parts["dns"] = dataclasses.replace(
        dns, zone_name=dns.zone_name.removesuffix(".").lower(), hostname=dns.hostname.removesuffix("."),
        certificate_extra_names=tuple(n.removesuffix(".") for n in dns.certificate_extra_names))
    # The security-relevant log types are always on; the key can only add to them.
    wanted = set(cluster.log_types) | set(REQUIRED_CLUSTER_LOG_TYPES)
    cluster = dataclasses.replace(cluster, name=cluster.name or f"{project}-{stack}",
                                  log_types=tuple(t for t in CLUSTER_LOG_TYPES if t in wanted))
    parts["cluster"] = cluster
    registry = parts["registry"]
    parts["registry"] = dataclasses.replace(
        registry, repository_name=registry.repository_name or default_repository_name(project, stack))
    parts["app"] = dataclasses.replace(app, load_balancer_name=app.load_balancer_name or alb_name(cluster.name,
                                                                                                  app.name))
    parts["ops"] = resolved(parts["ops"], stack)
    return StackConfig(project=project, stack=stack, region=region, partition=partition, **parts, **top)


# Keys that existed once, with what replaces them: a stack file that still sets one is told where it went.
RETIRED_KEYS = {
    "ecsAlbDeletionProtection": "replaced by deletionProtection (both runtimes, the EKS cluster too; unset: on for "
                                "prod* stacks)",
}


def _unknown_keys(raw: Mapping[Any, Any]) -> list[str]:
    known = settings_by_key()
    lines = []
    for name in sorted((k for k in raw if k not in known), key=str):
        if isinstance(name, str) and name in RETIRED_KEYS:
            lines.append(f"{PROJECT}:{name}: {RETIRED_KEYS[name]}")
            continue
        close = difflib.get_close_matches(str(name), known, n=1) if isinstance(name, str) and len(name) < 200 else []
        hint = f" (did you mean {close[0]}?)" if close else ""
        lines.append(f"{PROJECT}:{show(name).strip(chr(39))}: unknown key{hint}; known keys are listed in Pulumi.yaml")
    return lines


def _region(region: Any) -> tuple[str, str, str | None]:
    """(region, partition, problem)."""
    if region is None or region == "":
        return "", "aws", f"{REGION_KEY} is not set: allowed is an AWS region such as us-east-1"
    partition = partition_of(region) if isinstance(region, str) else None
    if partition is None:
        return "", "aws", problem([REGION_KEY], [region], "must be an AWS region botocore's endpoint data lists, "
                                                           "such as us-east-1, cn-north-1 or us-gov-west-1")
    return region, partition, None


def build(raw: Mapping[Any, Any], *, project: str, stack: str, region: Any, lock: LockFile | None = None
          ) -> StackConfig:
    problems = _unknown_keys(raw)
    failed: set[str] = set()
    values: dict[tuple[str, ...], Any] = {}
    for decl in settings():
        if not decl.required and raw.get(decl.key) is None:  # unset: read's first case, without the call
            values[decl.path] = decl.default
            continue
        values[decl.path], why = read(decl, raw)
        if why:
            problems.append(why)
            failed.add(decl.key)
    region, partition, why = _region(region)
    if why:
        problems.append(why)
        failed.add(REGION_KEY)
    cfg = _resolve(values, project=project, stack=stack, region=region, partition=partition)
    for r in RULES:
        if failed.isdisjoint(r.keys):
            why = r.check(cfg)
            if why:
                problems.append(problem(r.keys, [value_of(cfg, k) for k in r.keys], why))
    if "runtime" not in failed and (why := _keys_of_the_other_runtime(values, cfg.runtime)):
        problems.append(why)
    if problems:
        raise ConfigError(problems)
    # The lock is checked against a valid config only (what it must hold depends on the runtime, the minor...).
    return cfg if lock is None else dataclasses.replace(cfg, locked=locked_versions(cfg, lock))


# Keys of the EKS sections the ECS runtime reads too (the app's name, the ALB's TLS policy).
SHARED_WITH_ECS = frozenset({"appName", "sslPolicy"})


@functools.cache
def _other_runtimes_settings(runtime: str) -> tuple[Setting, ...]:
    sections = ("ecs",) if runtime == "eks" else ("cluster", "addons", "app")
    return tuple(d for d in settings() if d.section in sections and d.key not in SHARED_WITH_ECS)


def _keys_of_the_other_runtime(values: Mapping[tuple[str, ...], Any], runtime: str) -> str | None:
    """Keys of the runtime that is not chosen, set to anything but their default (a real `pulumi up` passes
    Pulumi.yaml's defaults too), would be silently ignored: refuse them, naming each."""
    ignored = sorted(d.key for d in _other_runtimes_settings(runtime) if values.get(d.path, d.default) != d.default)
    if not ignored:
        return None
    other, one = ("ecs" if runtime == "eks" else "eks"), len(ignored) == 1
    return problem(["runtime", *ignored], [runtime],
                   f"{', '.join(ignored)} {'is' if one else 'are'} for runtime {other!r} only and would be ignored: "
                   f"remove {'it' if one else 'them'} from this stack, or set runtime to {other!r}")


@rule("extraTags", "nodeProvisioner")
def _room_for_karpenters_tags(cfg: StackConfig) -> str | None:
    if cfg.runtime != "eks" or cfg.cluster.node_provisioner != "karpenter":
        return None
    if len(cfg.extra_tags) > KARPENTER_EXTRA_TAGS_MAX:
        return (f"at most {KARPENTER_EXTRA_TAGS_MAX} extra tags under Karpenter: its instances carry "
                f"{KARPENTER_OWN_TAGS} tags of its own and the stack's {len(COMMON_TAG_KEYS)} (EC2 allows "
                f"{TAGS_PER_RESOURCE})")
    return None


@rule("extraTags")
def _extra_tags_case(cfg: StackConfig) -> str | None:
    # Tag keys are case sensitive, but two keys differing only in case are refused by some services (IAM).
    lowered = [k.lower() for k, _ in cfg.extra_tags]
    return "keys must differ in more than letter case (IAM refuses such pairs)" if len(set(lowered)) < len(
        lowered) else None


def load_config(raw: Mapping[str, Any], *, project: str, stack: str, region: str | None,
                lock: LockFile | None = None) -> Any:
    """Validate every key and build the StackConfig, or raise one ConfigError listing all problems.

    `raw` maps bare key names (no `project:` prefix) to their raw values. With `lock` (the stack's version lock as
    read), the lock is checked against the config too (LockError, a ConfigError) and `cfg.versions` is set.
    """
    return build(raw, project=project, stack=stack, region=region, lock=lock)
