"""The stack's version lock: everything AWS (or a chart repository) would otherwise resolve afresh on each run.

`Pulumi.<stack>.lock.yaml`, committed beside the stack file, pins the EKS add-on versions, the EKS node AMI release
(per architecture), the chart versions, the Kubernetes minor it was resolved for, the Fargate platform version, the
ECS-optimized AMI ids (per architecture, for one region) and, with the firewall on, the static versions of the
versioned AWS managed WAF rule groups (or `unpinned`: AWS's default version, until `make bump` pins it). `make bump
STACK=<stack>` (tools/bump.py, read-only AWS calls) writes it; the program only reads it, so `make plan` needs no
credentials and nothing moves without a commit. A config key that pins a version (addonVersions, the chart version
keys, ecsPlatformVersion) wins over the lock; kubernetesVersion states the minor, which the lock must have been
resolved for.

`load_config(..., lock=read_lock(path))` checks the lock against the valid config and sets `StackConfig.versions`;
every problem is reported at once, each naming the entry, what is wrong and `make bump`.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .addons import CHART_VERSION, CHARTS, KARPENTER_KUBERNETES, charts_of
from .cluster import ADDON_VERSION, EKS_ADDONS, SUPPORTED_KUBERNETES_VERSIONS, required_eks_addons
from .core import ConfigError, show
from .ecs import ARCHITECTURES, PLATFORM_VERSIONS
from .ops import WAF_GROUP_VERSION, WAF_UNPINNED, WAF_VERSIONED_GROUPS

if TYPE_CHECKING:
    from .stack import StackConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Where the program reads the lock (default: beside the root stack file). The offline render points it at the lock
# beside the stack file it renders (tests/stacks/ for the test stacks).
LOCK_FILE_ENV = "WEBSTACK_LOCK_FILE"
SUFFIX = ".lock.yaml"
# The AL2023 EKS node AMI release: <Kubernetes version>-<build date>, e.g. 1.35.0-20260108 (SSM .../release_version).
RELEASE_VERSION = r"[0-9]{1,2}\.[0-9]{1,3}\.[0-9]{1,3}-[0-9]{8}"
AMI_ID = r"ami-[0-9a-f]{8,17}"
REGION = r"[a-z]{2}(-[a-z]+)+-[0-9]"
KEYS = ("region", "kubernetesVersion", "eksAddons", "eksNodeReleaseVersions", "charts", "fargatePlatformVersion",
        "ecsAmis", "wafRuleGroups")


def bump_command(stack: str, folder: Path | None = None) -> str:
    """The command that writes the lock of `stack` whose stack file is in `folder` (default: the project root)."""
    where = ""
    if folder is not None and folder.resolve() != PROJECT_ROOT:
        where = f" STACKS={os.path.relpath(folder.resolve(), PROJECT_ROOT)}"
    return f"make bump STACK={stack}{where}"


def lock_name(stack: str) -> str:
    return f"Pulumi.{stack}{SUFFIX}"


def lock_path(stack: str, folder: Path | None = None) -> Path:
    """The stack's lock: beside its stack file in `folder`, else where WEBSTACK_LOCK_FILE says, else the project's."""
    if folder is None and os.environ.get(LOCK_FILE_ENV):
        return Path(os.environ[LOCK_FILE_ENV])
    return (folder or PROJECT_ROOT) / lock_name(stack)


@dataclass(frozen=True)
class LockFile:
    """A lock as read: its path, its YAML document (None when the file is missing or unreadable; an empty file is
    an empty map) and why it could not be read, if so."""

    path: Path
    data: Any = None
    error: str = ""


def read_lock(path: Path) -> LockFile:
    import yaml  # only when a lock is read: loading the config alone stays light

    if not path.is_file():
        return LockFile(path, None, "is missing")
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        return LockFile(path, None, f"is not valid YAML ({type(err).__name__})")
    return LockFile(path, {} if data is None else data)


@dataclass(frozen=True, kw_only=True)
class Versions:
    """What the program deploys: the lock's values, a config pin wherever one is set. Empty where the runtime has
    nothing of that kind (an ECS stack has no add-ons, an EKS stack no platform version)."""

    kubernetes: str = ""
    eks_addons: Mapping[str, str] = field(default_factory=dict)
    """Every managed EKS add-on -> its version."""
    eks_node_release: str = ""
    """The node AMI release for the node architecture."""
    charts: Mapping[str, str] = field(default_factory=dict)
    """Chart name -> version."""
    fargate_platform: str = ""
    ecs_ami_id: str = ""
    """The ECS-optimized AMI of the stack's region and architecture (EC2 capacity only)."""
    waf_rule_groups: Mapping[str, str | None] = field(default_factory=dict)
    """With the firewall on: every versioned AWS managed rule group -> its static version, None where the lock
    leaves it unpinned (AWS's default version is deployed)."""


class LockError(ConfigError):
    """The lock is missing or does not fit the config: every problem, then the command that rewrites the lock."""

    def __init__(self, path: Path, stack: str, problems: list[str]):
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        ValueError.__init__(self, f"version lock {path} of stack {stack!r}: {len(problems)} problem(s):\n{listing}\n"
                                  f"Run `{bump_command(stack, path.parent)}` (read-only AWS calls) to resolve the "
                                  f"versions for this config, review and commit {path.name} (docs/operations.md, "
                                  f"\"Keeping versions current\").")


Check = Callable[[Any], "str | None"]


def _pattern(regex: str, example: str, what: str) -> Check:
    return lambda v: None if isinstance(v, str) and re.fullmatch(regex, v, re.ASCII) else (
        f"must be {what} such as {example!r} (a quoted string)")


def _one_of(allowed: tuple[str, ...]) -> Check:
    return lambda v: None if v in allowed else f"allowed: {', '.join(allowed)}"


ADDON_CHECK = _pattern(ADDON_VERSION, "v1.11.4-eksbuild.2", "an EKS add-on version")
RELEASE_CHECK = _pattern(RELEASE_VERSION, "1.35.0-20260108", "an EKS AL2023 node AMI release version")
CHART_CHECK = _pattern(CHART_VERSION, "3.13.0", "an exact chart version")
AMI_CHECK = _pattern(AMI_ID, "ami-0123456789abcdef0", "an AMI id")


def WAF_CHECK(value: Any) -> str | None:  # noqa: N802 (a Check like the constants above)
    if value == WAF_UNPINNED or (isinstance(value, str) and re.fullmatch(WAF_GROUP_VERSION, value, re.ASCII)):
        return None
    return (f"must be a static version of the rule group such as 'Version_1.19', or {WAF_UNPINNED!r} (AWS's default "
            "version, until `make bump` pins it)")


def _map_problems(data: Mapping[str, Any], key: str, names: tuple[str, ...], check: Check) -> list[str]:
    """A map entry of the lock: only the known names, each value passing `check`."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, dict):
        return [f"{key} = {show(value)}: must be a map of {', '.join(names)}"]
    problems = [f"{key}.{show(k).strip(chr(39))}: unknown entry; known are {', '.join(names)}"
                for k in value if k not in names]
    problems += [f"{key}.{k} = {show(v)}: {why}" for k, v in value.items() if k in names and (why := check(v))]
    return problems


def shape_problems(data: Any) -> list[str]:
    """What is malformed in a lock document, whatever the config (unknown entries, values of the wrong form)."""
    if not isinstance(data, dict):
        return [f"must be a YAML map of {', '.join(KEYS)}, got {show(data)}"]
    problems = [f"{show(k).strip(chr(39))}: unknown entry; known are {', '.join(KEYS)}" for k in data if k not in KEYS]
    singles: dict[str, Check] = {
        "region": _pattern(REGION, "us-east-1", "an AWS region"),
        "kubernetesVersion": _one_of(SUPPORTED_KUBERNETES_VERSIONS),
        "fargatePlatformVersion": _one_of(PLATFORM_VERSIONS)}
    problems += [f"{k} = {show(data[k])}: {why}" for k, check in singles.items()
                 if data.get(k) is not None and (why := check(data[k]))]
    problems += _map_problems(data, "eksAddons", EKS_ADDONS, ADDON_CHECK)
    problems += _map_problems(data, "eksNodeReleaseVersions", ARCHITECTURES, RELEASE_CHECK)
    problems += _map_problems(data, "charts", tuple(CHARTS), CHART_CHECK)
    problems += _map_problems(data, "wafRuleGroups", WAF_VERSIONED_GROUPS, WAF_CHECK)
    return problems + _map_problems(data, "ecsAmis", ARCHITECTURES, AMI_CHECK)


def _entry(data: Mapping[str, Any], key: str, name: str, problems: list[str], command: str, unless: str = "") -> str:
    """The lock's `key`.`name` (or `key` alone when `name` is empty), a problem line when it is missing."""
    value = data.get(key)
    if name:
        value = value.get(name) if isinstance(value, dict) else None
    if value is None:
        label = f"{key}.{name}" if name else key
        pin = f" ({unless} does not pin it)" if unless else ""
        problems.append(f"{label} is missing{pin}: run `{command}`")
        return ""
    return str(value)


def karpenter_ami_alias(release: str) -> str:
    """The EC2NodeClass AMI alias of the AL2023 release `release` (`1.35.3-20261023` -> `al2023@v20261023`): Karpenter
    resolves `al2023@v<date>` through SSM .../amazon-eks-node-al2023-<arch>-standard-<minor>-v<date>/image_id, the
    AMI of the same EKS release (karpenter-provider-aws pkg/providers/amifamily/al2023.go, resolvePath)."""
    return "al2023@v" + release.rpartition("-")[2]


def _minor_key(minor: str) -> tuple[int, ...]:
    return tuple(int(p) for p in minor.split("."))


def _chart_versions(cfg: StackConfig, data: Mapping[str, Any], problems: list[str], command: str) -> dict[str, str]:
    """The charts this stack's node provisioner installs: a config pin, else the lock's (a supported version)."""
    charts, installed = {}, charts_of(cfg.cluster.node_provisioner)
    locked = data.get("charts")
    for name in (n for n in CHARTS if isinstance(locked, Mapping) and n in locked and n not in installed):
        problems.append(f"charts.{name}: nodeProvisioner {cfg.cluster.node_provisioner!r} does not install this "
                        f"chart (an entry nothing deploys): run `{command}`")
    for name, pin in installed.items():
        pinned = getattr(cfg.addons, pin.attr)
        charts[name] = pinned or _entry(data, "charts", name, problems, command, f"webstack:{pin.key}")
        if not pinned and charts[name] and pin.supported and charts[name] not in pin.supported:
            problems.append(f"charts.{name} = {charts[name]!r}: this project supports {', '.join(pin.supported)} "
                            f"only (infra/config/addons.py): run `{command}`")
    minor, karpenter = cfg.cluster.kubernetes_version, charts.get("karpenter")
    if karpenter in KARPENTER_KUBERNETES:
        low, high = KARPENTER_KUBERNETES[karpenter]
        if not _minor_key(low) <= _minor_key(minor) <= _minor_key(high):
            problems.append(f"charts.karpenter = {karpenter!r}: Karpenter {karpenter} supports Kubernetes {low} to "
                            f"{high}, not {minor} (its compatibility matrix)")
    return charts


def _eks_versions(cfg: StackConfig, data: Mapping[str, Any], problems: list[str], command: str) -> Versions:
    minor = cfg.cluster.kubernetes_version
    resolved_for = _entry(data, "kubernetesVersion", "", problems, command)
    if resolved_for and resolved_for != minor:
        problems.append(f"kubernetesVersion = {resolved_for!r}: the add-on versions and node AMI releases were "
                        f"resolved for Kubernetes {resolved_for}, but webstack:kubernetesVersion = {minor!r}: run "
                        f"`{command}` and commit the lock with the config change")
    if cfg.cluster.node_provisioner == "auto-mode":
        # EKS Auto Mode runs networking, DNS, the Pod Identity agent and the node AMIs itself: no managed add-on and
        # no node AMI release is deployed, so none is needed (entries the lock still has are left unread).
        return Versions(kubernetes=minor, charts=_chart_versions(cfg, data, problems, command))
    pins, installed = dict(cfg.cluster.addon_versions), required_eks_addons(cfg)
    locked = data.get("eksAddons")
    for name in (n for n in EKS_ADDONS if isinstance(locked, Mapping) and n in locked and n not in installed):
        problems.append(f"eksAddons.{name}: this config does not install this add-on (an entry nothing deploys): "
                        f"run `{command}`")
    addons = {name: pins.get(name) or _entry(data, "eksAddons", name, problems, command, "webstack:addonVersions")
              for name in installed}
    arch = cfg.cluster.node_architecture
    release = _entry(data, "eksNodeReleaseVersions", arch, problems, command)
    if release and resolved_for == minor and not release.startswith(f"{minor}."):
        problems.append(f"eksNodeReleaseVersions.{arch} = {release!r}: not a release for Kubernetes {minor}: run "
                        f"`{command}`")
    return Versions(kubernetes=minor, eks_addons=addons, eks_node_release=release,
                    charts=_chart_versions(cfg, data, problems, command))


def _ecs_versions(cfg: StackConfig, data: Mapping[str, Any], problems: list[str], command: str) -> Versions:
    ecs = cfg.ecs
    if ecs.capacity == "ec2":
        region = _entry(data, "region", "", problems, command)
        if region and region != cfg.region:
            problems.append(f"region = {region!r}: the ECS AMI ids were resolved in {region}, the stack runs in "
                            f"{cfg.region} (AMI ids are regional): run `{command}`")
        return Versions(ecs_ami_id=_entry(data, "ecsAmis", ecs.cpu_architecture, problems, command))
    platform = ecs.platform_version or _entry(data, "fargatePlatformVersion", "", problems, command,
                                              "webstack:ecsPlatformVersion")
    return Versions(fargate_platform=platform)


def locked_versions(cfg: StackConfig, lock: LockFile) -> Versions:
    """The versions this stack deploys: the lock checked against the (valid) config, config pins applied. Raises
    LockError listing every problem: a missing file, a malformed entry, an entry the config needs but the lock
    lacks, an entry resolved for another Kubernetes minor or region."""
    if lock.data is None:
        what = ("the versions AWS and the chart repositories would otherwise resolve on every run (EKS add-ons, "
                "node AMI release, charts, Fargate platform, ECS AMI, WAF managed rule groups) are pinned there")
        raise LockError(lock.path, cfg.stack, [f"{lock.path.name} {lock.error}: {what}"])
    problems = shape_problems(lock.data)
    if not isinstance(lock.data, dict):
        raise LockError(lock.path, cfg.stack, problems)
    command = bump_command(cfg.stack, lock.path.parent)
    versions = (_ecs_versions if cfg.runtime == "ecs" else _eks_versions)(cfg, lock.data, problems, command)
    if cfg.ops.waf:
        found = {g: _entry(lock.data, "wafRuleGroups", g, problems, command) for g in WAF_VERSIONED_GROUPS}
        versions = dataclasses.replace(versions, waf_rule_groups={
            g: None if v == WAF_UNPINNED else v for g, v in found.items()})
    if problems:
        raise LockError(lock.path, cfg.stack, problems)
    return versions
