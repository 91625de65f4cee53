"""`python -m tools.review.cost --stack dev [--base REF] [--usage FILE]`: a monthly cost estimate from the render.

Every priced line: resource, price component, unit price, quantity, monthly cost; then the total, with the range
from minimum to maximum size for node groups, auto scaling groups and auto-scaled ECS services. Prices come from
`tools/review/prices/<region>.yaml` (each with its source and date); a region without a price file, or a price
missing from it, is reported as unpriced, never taken from another region. Usage-based quantities (GB through NAT,
log GB, LCUs, stored GB) come from `usage.yml` (documented defaults). With `--base`, also the difference against
the plan of that git ref (rendered with the same engine, see diff.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from tools.render import ROOT, Plan, render

PRICES_DIR = Path(__file__).with_name("prices")
DEFAULT_USAGE = ROOT / "usage.yml"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
INGRESS_CLASS = "kubernetes:networking.k8s.io/v1:IngressClass"
LB = "aws:lb/loadBalancer:LoadBalancer"


class NoPriceDataError(LookupError):
    """No price file for the region: nothing is priced rather than priced with another region's data."""


@dataclass(frozen=True)
class Price:
    key: str
    price: float
    unit: str
    source: str
    date: str
    basis: str = ""


@dataclass(frozen=True)
class PriceBook:
    region: str
    as_of: dt.date
    hours_per_month: float
    prices: dict[str, Price]
    eks_versions: dict[str, dict[str, dt.date]]

    def get(self, key: str) -> Price | None:
        return self.prices.get(key)


def load_prices(region: str, folder: Path = PRICES_DIR) -> PriceBook:
    path = folder / f"{region}.yaml"
    if not path.exists():
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        raise NoPriceDataError(f"no price data for region {region} ({shown} does not exist): nothing priced; "
                               "another region's prices are never used")
    data = yaml.safe_load(path.read_text())
    if data.get("region") != region:
        raise ValueError(f"{path} declares region {data.get('region')!r}, not {region!r}")
    prices = {k: Price(k, float(v["price"]), str(v["unit"]), str(v["source"]), str(v["date"]), str(v.get("basis", "")))
              for k, v in (data.get("prices") or {}).items()}
    support = yaml.safe_load((folder / "eks-support.yaml").read_text())
    return PriceBook(region, _date(data["as_of"]), float(data.get("hours_per_month", 730)), prices,
                     {v: {k: _date(d) for k, d in dates.items()} for v, dates in support["versions"].items()})


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@dataclass(frozen=True)
class Usage:
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)

    def value(self, kind: str, name: str, key: str, fallback: float = 0.0) -> float:
        for scope in (self.resources.get(name) or {}, self.defaults.get(kind) or {}):
            if scope.get(key) is not None:
                return float(scope[key])
        return fallback

    def has(self, kind: str, name: str, key: str) -> bool:
        return any((scope or {}).get(key) is not None for scope in (self.resources.get(name), self.defaults.get(kind)))


def load_usage(path: Path | None = None) -> Usage:
    path = path or DEFAULT_USAGE
    if not path.exists():
        return Usage()
    data = yaml.safe_load(path.read_text()) or {}
    return Usage(dict(data.get("defaults") or {}), dict(data.get("resources") or {}))


class CostLine(NamedTuple):
    resource: str
    type: str
    component: str
    unit: str
    unit_price: float | None  # None: unpriced (no price in the region's data)
    quantity: float
    low_quantity: float | None = None  # the range at minimum / maximum size, when the resource scales
    high_quantity: float | None = None
    note: str = ""

    @property
    def monthly(self) -> float | None:
        return None if self.unit_price is None else self.unit_price * self.quantity

    @property
    def low(self) -> float | None:
        q = self.quantity if self.low_quantity is None else self.low_quantity
        return None if self.unit_price is None else self.unit_price * q

    @property
    def high(self) -> float | None:
        q = self.quantity if self.high_quantity is None else self.high_quantity
        return None if self.unit_price is None else self.unit_price * q


@dataclass(frozen=True)
class Estimate:
    stack: str
    region: str
    lines: tuple[CostLine, ...]
    notes: tuple[str, ...] = ()

    @property
    def unpriced(self) -> list[CostLine]:
        return [line for line in self.lines if line.unit_price is None]

    @property
    def total(self) -> float:
        return sum(line.monthly or 0.0 for line in self.lines)

    @property
    def total_low(self) -> float:
        return sum(line.low or 0.0 for line in self.lines)

    @property
    def total_high(self) -> float:
        return sum(line.high or 0.0 for line in self.lines)


# --- the estimate --------------------------------------------------------------------------------------------------

class _Ctx(NamedTuple):
    plan: Plan
    prices: PriceBook
    usage: Usage

    @property
    def hours(self) -> float:
        return self.prices.hours_per_month

    def line(self, r: dict[str, Any], component: str, key: str, quantity: float, *, unit: str | None = None,
             low: float | None = None, high: float | None = None, note: str = "") -> CostLine:
        price = self.prices.get(key)
        if price is None:
            note = "; ".join(filter(None, [note, f"UNPRICED: no '{key}' price for {self.prices.region}"]))
        return CostLine(r["name"], r["type"], component, unit or (price.unit if price else key),
                        price.price if price else None, quantity, low, high, note)

    def ref(self, r: dict[str, Any], prop: str, typ: str) -> dict[str, Any] | None:
        """The resource of type `typ` that input `prop` of `r` came from (its captured property dependency)."""
        for urn in (r.get("propertyDependencies") or {}).get(prop, []):
            try:
                target = self.plan.get(urn)
            except KeyError:
                continue
            if target["type"] == typ:
                return target
        return None


def _num(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _eks_support(ctx: _Ctx, version: str) -> tuple[str, str]:
    """('standard' | 'extended', note) for a Kubernetes version at the price data's date."""
    minor = ".".join(str(version).split(".")[:2])
    window = ctx.prices.eks_versions.get(minor)
    as_of = ctx.prices.as_of
    if window is None:
        newest = max(ctx.prices.eks_versions, key=lambda v: tuple(int(p) for p in v.split(".")))
        if tuple(int(p) for p in minor.split(".")) > tuple(int(p) for p in newest.split(".")):
            return "standard", f"Kubernetes {minor} is newer than the support calendar: assumed standard support"
        return "extended", f"Kubernetes {minor} is older than the support calendar: assumed extended support"
    if as_of < window["end_of_standard"]:
        return "standard", f"Kubernetes {minor}: standard support until {window['end_of_standard']}"
    if as_of < window["end_of_extended"]:
        return "extended", f"Kubernetes {minor}: extended support since {window['end_of_standard']}"
    return "extended", (f"Kubernetes {minor}: past the end of extended support ({window['end_of_extended']}); "
                        "EKS auto-upgrades it to the oldest version in extended support")


def _eks_cluster(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    version = str(r["inputs"].get("version") or "")
    if not version:
        yield ctx.line(r, "EKS control plane", "eks.cluster.standard", ctx.hours,
                       note="no version set: EKS default, assumed standard support")
        return
    support, note = _eks_support(ctx, version)
    yield ctx.line(r, f"EKS control plane ({support} support)", f"eks.cluster.{support}", ctx.hours, note=note)


def _instances(ctx: _Ctx, r: dict[str, Any], types: list[str], desired: float, low: float, high: float,
               spot: bool) -> Iterator[CostLine]:
    if not types:
        yield CostLine(r["name"], r["type"], "instances", "instance-hour", None, desired * ctx.hours,
                       note="UNPRICED: no instance type found")
        return
    note = f"several types ({', '.join(types)}): priced as the first, {types[0]}" if len(types) > 1 else ""
    if spot:
        yield CostLine(r["name"], r["type"], f"{types[0]} Spot instances", "instance-hour", None,
                       desired * ctx.hours, low * ctx.hours, high * ctx.hours,
                       "; ".join(filter(None, [note, "UNPRICED: Spot prices vary, no fixed rate"])))
        return
    yield ctx.line(r, f"{types[0]} instances (x{desired:g}, range {low:g}-{high:g})", f"ec2.{types[0]}",
                   desired * ctx.hours, unit="instance-hour", low=low * ctx.hours, high=high * ctx.hours, note=note)


def _volumes(ctx: _Ctx, r: dict[str, Any], lt: dict[str, Any] | None, desired: float, low: float,
             high: float, default_gb: float | None = None) -> Iterator[CostLine]:
    mappings = ((lt or {}).get("inputs") or {}).get("blockDeviceMappings") or []
    volumes = [(m.get("ebs") or {}) for m in mappings if m.get("ebs")]
    if not volumes and default_gb:
        volumes = [{"volumeSize": default_gb, "volumeType": "gp3"}]
    for ebs in volumes:
        size, kind = _num(ebs.get("volumeSize")), str(ebs.get("volumeType") or "gp3")
        if not size:
            continue
        yield ctx.line(r, f"{kind} volumes ({size:g} GB per instance)", f"ebs.{kind}", size * desired,
                       unit="GB-month", low=size * low, high=size * high)


def _node_group(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    i = r["inputs"]
    scaling = i.get("scalingConfig") or {}
    desired = _num(scaling.get("desiredSize"), _num(scaling.get("minSize"), 1))
    low, high = _num(scaling.get("minSize"), desired), _num(scaling.get("maxSize"), desired)
    lt = ctx.ref(r, "launchTemplate", "aws:ec2/launchTemplate:LaunchTemplate")
    types = list(i.get("instanceTypes") or [])
    if not types and lt and lt["inputs"].get("instanceType"):
        types = [lt["inputs"]["instanceType"]]
    if not types:
        types = ["t3.medium"]  # the EKS API's default for a managed node group
    yield from _instances(ctx, r, types, desired, low, high, str(i.get("capacityType")) == "SPOT")
    # Without a launch template EKS gives each node a 20 GiB root volume (the API's diskSize default).
    yield from _volumes(ctx, r, lt, desired, low, high, None if lt else _num(i.get("diskSize"), 20))


# Karpenter's NodePool: priced per 2 vCPUs as the general-purpose 2-vCPU type of the architecture in the price data.
KARPENTER_REFERENCE = {"amd64": ("m6i.large", 2), "arm64": ("m7g.large", 2)}


def _karpenter_node_pool(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    """Nodes Karpenter launches: none while the system node group holds every pod (the estimate), up to the
    NodePool's CPU limit (the range). Spot allowed: the on-demand price is the ceiling; Spot only: unpriced. EKS
    Auto Mode's NodePool (nodeClassRef group eks.amazonaws.com) the same, with its management fee unpriced; its
    nodes hold every pod, so the estimate's zero is a floor there, not the expected figure."""
    spec = r["inputs"].get("spec") or {}
    requirements = {q.get("key"): q.get("values") or [] for q in (spec.get("template") or {}).get("spec", {}).get(
        "requirements", [])}
    arch = (requirements.get("kubernetes.io/arch") or ["amd64"])[0]
    capacity = requirements.get("karpenter.sh/capacity-type") or ["on-demand"]
    reference, vcpus = KARPENTER_REFERENCE.get(arch, KARPENTER_REFERENCE["amd64"])
    high = _num((spec.get("limits") or {}).get("cpu")) / vcpus * ctx.hours
    auto_mode = ((spec.get("template") or {}).get("spec", {}).get("nodeClassRef") or {}).get("group") == (
        "eks.amazonaws.com")
    who = "EKS Auto Mode" if auto_mode else "Karpenter"
    label = f"{who} nodes ({1 if auto_mode else 0} to {high / ctx.hours:g} x {reference} worth of vCPUs)"
    if auto_mode:
        # No sourced price in the price data (aws-prices.md has none): the fee is listed, never guessed.
        yield CostLine(r["name"], r["type"], "EKS Auto Mode management fee on each node", "instance-hour", None,
                       ctx.hours, ctx.hours, high, "UNPRICED: a per-instance-hour fee by instance type on top of "
                       "EC2; no sourced price in the data (https://aws.amazon.com/eks/pricing/ lists it)")
    if "on-demand" not in capacity:
        yield CostLine(r["name"], r["type"], label, "instance-hour", None, 0, 0, high,
                       "UNPRICED: Spot only, Spot prices vary, no fixed rate")
        return
    note = f"priced as {reference} per {vcpus} vCPUs (on-demand)"
    if "spot" in capacity:
        note += "; Spot allowed and preferred: usually well below this"
    # Under Auto Mode this NodePool is the only capacity: while the app runs, at least one node does.
    floor = ctx.hours if auto_mode else 0
    if auto_mode:
        note += "; the estimate is one such node (every pod runs on this NodePool)"
    yield ctx.line(r, label, f"ec2.{reference}", floor, unit="instance-hour", low=floor, high=high, note=note)


def _autoscaling_group(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    i = r["inputs"]
    low, high = _num(i.get("minSize")), _num(i.get("maxSize"))
    desired = _num(i.get("desiredCapacity"), low)
    mixed = i.get("mixedInstancesPolicy") or {}
    lt = ctx.ref(r, "launchTemplate", "aws:ec2/launchTemplate:LaunchTemplate") or ctx.ref(
        r, "mixedInstancesPolicy", "aws:ec2/launchTemplate:LaunchTemplate")
    overrides = [o.get("instanceType") for o in ((mixed.get("launchTemplate") or {}).get("overrides") or [])
                 if o.get("instanceType")]
    types = overrides or ([lt["inputs"]["instanceType"]] if lt and lt["inputs"].get("instanceType") else [])
    dist = mixed.get("instancesDistribution") or {}
    spot = bool(mixed) and _num(dist.get("onDemandPercentageAboveBaseCapacity"), 100) == 0 and not _num(
        dist.get("onDemandBaseCapacity"))
    yield from _instances(ctx, r, types, desired, low, high, spot)
    yield from _volumes(ctx, r, lt, desired, low, high)


def _nat(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    yield ctx.line(r, "NAT gateway hours", "nat.hour", ctx.hours)
    gb = ctx.usage.value(r["type"], r["name"], "monthly_data_processed_gb")
    yield ctx.line(r, "NAT data processed (usage.yml)", "nat.data", gb)


def _eip(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    yield ctx.line(r, "public IPv4 address", "ipv4.hour", ctx.hours)


def _public_subnet_count(plan: Plan) -> int:
    return sum(1 for s in plan.of_type("aws:ec2/subnet:Subnet")
               if ((s["inputs"].get("tags") or {}).get("kubernetes.io/role/elb")) == "1")


def _alb_lines(ctx: _Ctx, r: dict[str, Any], azs: int, internal: bool, note: str = "") -> Iterator[CostLine]:
    yield ctx.line(r, "ALB hours", "alb.hour", ctx.hours, note=note)
    lcu = ctx.usage.value("alb", r["name"], "average_lcu", 1.0)
    yield ctx.line(r, f"ALB LCU-hours ({lcu:g} LCU average, usage.yml)", "alb.lcu", lcu * ctx.hours)
    if not internal:
        yield ctx.line(r, f"ALB public IPv4 addresses (one per AZ: {azs})", "ipv4.hour", azs * ctx.hours)


def _ingress(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    i = r["inputs"]
    ann = ((i.get("metadata") or {}).get("annotations") or {})
    klass = (i.get("spec") or {}).get("ingressClassName") or ann.get("kubernetes.io/ingress.class")
    # The LB controller's class, or one whose IngressClass names EKS Auto Mode's ALB controller.
    auto_mode = klass in {(c["inputs"].get("metadata") or {}).get("name") for c in ctx.plan.of_type(INGRESS_CLASS)
                          if (c["inputs"].get("spec") or {}).get("controller") == "eks.amazonaws.com/alb"}
    if klass != "alb" and not auto_mode:
        return
    internal = ann.get("alb.ingress.kubernetes.io/scheme", "internal") != "internet-facing"
    # The controller puts an internet-facing ALB in every public subnet tagged kubernetes.io/role/elb.
    azs = _public_subnet_count(ctx.plan) if not internal else 0
    name = ann.get("alb.ingress.kubernetes.io/load-balancer-name") or r["name"]
    maker = "EKS Auto Mode" if auto_mode else "the AWS Load Balancer Controller"
    yield from _alb_lines(ctx, r, azs, internal, f"ALB {name}, created from this Ingress by {maker}")


def _load_balancer(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    i = r["inputs"]
    kind = str(i.get("loadBalancerType") or "application")
    azs = len(i.get("subnetMappings") or i.get("subnets") or [])
    internal = bool(i.get("internal"))
    if kind == "application":
        yield from _alb_lines(ctx, r, azs, internal)
        return
    yield CostLine(r["name"], r["type"], f"{kind} load balancer", "hour", None, ctx.hours,
                   note=f"UNPRICED: no {kind} load balancer prices in the data")
    if not internal:
        yield ctx.line(r, f"public IPv4 addresses (one per AZ: {azs})", "ipv4.hour", azs * ctx.hours)


def _kms(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    note = "rotation adds $1 per rotated key version (first two rotations), not estimated" if r["inputs"].get(
        "enableKeyRotation") else ""
    yield ctx.line(r, "KMS customer managed key", "kms.key", 1, note=note)


def _log_group(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    gb = ctx.usage.value(r["type"], r["name"], "monthly_ingestion_gb")
    yield ctx.line(r, "log ingestion (usage.yml)", "logs.ingestion", gb)
    if ctx.usage.has(r["type"], r["name"], "storage_gb"):
        stored, how = ctx.usage.value(r["type"], r["name"], "storage_gb"), "usage.yml"
    else:
        days = _num(r["inputs"].get("retentionInDays"))
        months = min(days / (365 / 12), 12.0) if days else 12.0
        stored, how = gb * months, f"{gb:g} GB x {months:.1f} months of retention"
    yield ctx.line(r, f"log storage ({how})", "logs.storage", stored)


def _zone(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    yield ctx.line(r, "Route 53 hosted zone", "route53.zone", 1)


def _ecr(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    yield ctx.line(r, "ECR image storage (usage.yml)", "ecr.storage", ctx.usage.value(r["type"], r["name"],
                                                                                        "storage_gb"))


def _efs(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    note = "provisioned throughput not estimated" if r["inputs"].get("throughputMode") == "provisioned" else ""
    yield ctx.line(r, "EFS Standard storage (usage.yml)", "efs.standard",
                   ctx.usage.value(r["type"], r["name"], "storage_gb"), note=note)


def _storage_class(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    """An EBS class's volumes are made by claims, not by the stack: priced per GB-month at the usage file's
    assumption (storage_gb, by default none). EFS classes add nothing beyond their file system's line."""
    if str(r["inputs"].get("provisioner", "")).startswith("ebs.csi.") and \
            (r["inputs"].get("parameters") or {}).get("type") == "gp3":
        yield ctx.line(r, "EBS gp3 volumes of claims (usage.yml)", "ebs.gp3",
                       ctx.usage.value(r["type"], r["name"], "storage_gb"))


def _endpoint(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    i = r["inputs"]
    kind = str(i.get("vpcEndpointType") or "Gateway")
    if kind == "Gateway":
        yield ctx.line(r, f"gateway endpoint {i.get('serviceName', '')} (free)", "vpce.gateway", 1)
        return
    azs = len(i.get("subnetIds") or []) or 1
    yield ctx.line(r, f"interface endpoint hours ({azs} AZ)", "vpce.interface.hour", azs * ctx.hours)
    gb = ctx.usage.value(r["type"], r["name"], "monthly_data_processed_gb")
    yield ctx.line(r, "interface endpoint data (usage.yml)", "vpce.interface.data", gb)


_FARGATE = {"FARGATE": "fargate", "FARGATE_SPOT": "fargate.spot"}


def _task_split(desired: float, strategies: list[dict[str, Any]]) -> dict[str, float]:
    """Tasks per capacity provider the way ECS places them: each provider's `base` first, the rest by weight."""
    out: dict[str, float] = {}
    left = desired
    for s in strategies:
        base = min(_num(s.get("base")), left)
        out[s["capacityProvider"]] = out.get(s["capacityProvider"], 0.0) + base
        left -= base
    weights = sum(_num(s.get("weight")) for s in strategies)
    for s in strategies:
        if weights:
            out[s["capacityProvider"]] += left * _num(s.get("weight")) / weights
    return out


def _scaling_range(ctx: _Ctx, service: dict[str, Any]) -> tuple[float, float] | None:
    """(min, max) tasks from the auto scaling target of this ECS service, if one is declared."""
    name = service["inputs"].get("name") or service["name"]
    for t in ctx.plan.of_type("aws:appautoscaling/target:Target"):
        i = t["inputs"]
        if i.get("scalableDimension") not in (None, "ecs:service:DesiredCount"):
            continue
        linked = service["urn"] in (t.get("propertyDependencies") or {}).get("resourceId", [])
        by_name = isinstance(i.get("resourceId"), str) and i["resourceId"].split("/")[-1] == name
        if linked or by_name:
            return _num(i.get("minCapacity")), _num(i.get("maxCapacity"))
    return None


def _task_definition(ctx: _Ctx, service: dict[str, Any]) -> dict[str, Any] | None:
    """The task definition a service runs: from its captured property dependency, else by the family or ARN in
    its `taskDefinition` input, else the plan's only task definition."""
    td = ctx.ref(service, "taskDefinition", "aws:ecs/taskDefinition:TaskDefinition")
    if td:
        return td
    candidates = ctx.plan.of_type("aws:ecs/taskDefinition:TaskDefinition")
    wanted = str(service["inputs"].get("taskDefinition") or "")
    for t in candidates:
        family = str(t["inputs"].get("family") or "")
        arn = str((t.get("state") or {}).get("arn") or "")
        if wanted and (wanted in (family, arn) or wanted.startswith(f"{family}:")
                       or f":task-definition/{family}:" in wanted):
            return t
    return candidates[0] if len(candidates) == 1 and not wanted else None


def _ecs_service(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    i = r["inputs"]
    desired = _num(i.get("desiredCount"))  # the API default is 0 tasks
    td = _task_definition(ctx, r)
    if td is None:
        yield CostLine(r["name"], r["type"], "ECS tasks", "task-hour", None, desired * ctx.hours,
                       note="UNPRICED: task definition not found in the render")
        return
    t = td["inputs"]
    vcpu, gb = _num(t.get("cpu")) / 1024, _num(t.get("memory")) / 1024
    arm = str((t.get("runtimePlatform") or {}).get("cpuArchitecture") or "X86_64").upper() == "ARM64"
    strategies = list(i.get("capacityProviderStrategies") or [])
    if strategies:
        split = _task_split(desired, strategies)
    else:
        split = {"FARGATE" if str(i.get("launchType") or "EC2") == "FARGATE" else "EC2": desired}
    bounds = _scaling_range(ctx, r)
    sidecars = _sidecar_names(t)
    for provider, tasks in split.items():
        family = _FARGATE.get(provider)
        if family is None:
            yield CostLine(r["name"], r["type"], f"{tasks:g} task(s) on {provider}", "task-hour", 0.0, 0.0,
                           note="runs on EC2 capacity: priced with its Auto Scaling group")
            continue
        share = tasks / desired if desired else 0.0
        low, high = ((bounds[0] * share, bounds[1] * share) if bounds else (tasks, tasks))
        arch = ".arm" if arm else ""
        label = f"{'Fargate Spot' if provider == 'FARGATE_SPOT' else 'Fargate'}{' ARM' if arm else ''}"
        note = "; ".join(filter(None, ["" if bounds is None else f"auto scaling {bounds[0]:g}-{bounds[1]:g} tasks",
                                       # no fixed Spot rate: the price data holds the on-demand one as a ceiling
                                       "CEILING: Spot priced at the on-demand rate (no fixed rate, up to 70 % "
                                       "less)" if provider == "FARGATE_SPOT" else "",
                                       # Fargate bills the task size: the sidecars' share is inside it
                                       f"task size includes sidecars {', '.join(sidecars)}" if sidecars else ""]))
        yield ctx.line(r, f"{label} vCPU ({tasks:g} tasks x {vcpu:g} vCPU)", f"{family}{arch}.vcpu",
                       tasks * vcpu * ctx.hours, unit="vCPU-hour", low=low * vcpu * ctx.hours,
                       high=high * vcpu * ctx.hours, note=note)
        yield ctx.line(r, f"{label} memory ({tasks:g} tasks x {gb:g} GB)", f"{family}{arch}.gb",
                       tasks * gb * ctx.hours, unit="GB-hour", low=low * gb * ctx.hours, high=high * gb * ctx.hours,
                       note=note)


def _pods_selected(ctx: _Ctx, selector: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The Deployments whose pods a Fargate profile selector matches (namespace, and every label it names)."""
    labels = selector.get("labels") or {}
    for d in ctx.plan.of_type("kubernetes:apps/v1:Deployment"):
        meta, template = d["inputs"].get("metadata") or {}, (d["inputs"].get("spec") or {}).get("template") or {}
        pod_labels = (template.get("metadata") or {}).get("labels") or {}
        if meta.get("namespace") == selector.get("namespace") and all(
                pod_labels.get(k) == v for k, v in labels.items()):
            yield d


def _hpa_range(ctx: _Ctx, deployment: dict[str, Any]) -> tuple[float, float] | None:
    name = (deployment["inputs"].get("metadata") or {}).get("name")
    for h in ctx.plan.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler"):
        spec = h["inputs"].get("spec") or {}
        if (spec.get("scaleTargetRef") or {}).get("name") == name:
            return _num(spec.get("minReplicas"), 1), _num(spec.get("maxReplicas"), 1)
    return None


def _eks_fargate_profile(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    """EKS Fargate bills each pod's provisioned size (its requests plus 256 MiB, rounded up to a Fargate
    combination: infra/config/fargate.py) at the Fargate Linux x86 rates, per pod-hour."""
    from infra.config import quantity
    from infra.config.fargate import pod_size

    for selector in r["inputs"].get("selectors") or []:
        for d in _pods_selected(ctx, selector):
            spec = d["inputs"]["spec"]
            containers = spec["template"]["spec"]["containers"]
            requests = [(c.get("resources") or {}).get("requests") or {} for c in containers]
            cpu = sum(float(quantity(str(q.get("cpu", "0"))) or 0) for q in requests)
            mib = sum(float(quantity(str(q.get("memory", "0"))) or 0) for q in requests) / 2**20
            size = pod_size(cpu * 1000, mib)
            name = (d["inputs"].get("metadata") or {}).get("name")
            if size is None:
                yield CostLine(r["name"], r["type"], f"Fargate pods of {name}", "pod-hour", None, 0.0,
                               note="UNPRICED: the pod is larger than any Fargate size")
                continue
            bounds = _hpa_range(ctx, d)
            pods = bounds[0] if bounds else _num(spec.get("replicas"), 1)
            low, high = bounds or (pods, pods)
            note = (f"{name}: {size.vcpu:g} vCPU, {size.memory_gib:g} GB per pod (requests + 256 MiB, rounded up)"
                    + (f"; HPA {low:g}-{high:g} pods" if bounds else ""))
            for label, key, per_pod, unit in (("vCPU", "fargate.vcpu", size.vcpu, "vCPU-hour"),
                                              ("memory", "fargate.gb", size.memory_gib, "GB-hour")):
                yield ctx.line(r, f"EKS Fargate {label} ({pods:g} pods x {per_pod:g})", key,
                               pods * per_pod * ctx.hours, unit=unit, low=low * per_pod * ctx.hours,
                               high=high * per_pod * ctx.hours, note=note)


def _sidecar_names(task_definition_inputs: dict[str, Any]) -> list[str]:
    """The containers beside the app (the one that `dependsOn` the others), when the task runs several."""
    try:
        raw = json.loads(task_definition_inputs.get("containerDefinitions") or "[]")
        defs = [c for c in raw if isinstance(c, dict)]
    except (ValueError, TypeError):
        return []
    app = next((c.get("name") for c in defs if c.get("dependsOn")), None)
    return sorted(str(c.get("name")) for c in defs if c.get("name") != app) if len(defs) > 1 else []


def _metric_alarm(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    """CloudWatch bills an alarm per metric it evaluates: a metric-math alarm pays for each metric in its query
    (expressions are free); a period under 60 s (10 or 30 s) makes it a high-resolution alarm."""
    i = r["inputs"]
    queries = [q for q in i.get("metricQueries") or [] if q.get("metric")]
    metrics = len(queries) or 1
    high = any(_num(q["metric"].get("period"), 60) < 60 for q in queries) or _num(i.get("period"), 60) < 60
    kind = "high" if high else "standard"
    yield ctx.line(r, f"CloudWatch {kind}-resolution alarm ({metrics} metric{'s' if metrics > 1 else ''})",
                   f"cloudwatch.alarm.{kind}", metrics, note="an account's first 10 alarm metrics are free (not "
                                                             "deducted)")


def _dashboard(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    yield ctx.line(r, "CloudWatch dashboard", "cloudwatch.dashboard", 1,
                   note="an account's first 3 dashboards (up to 50 metrics each) are free (not deducted)")


def _subscription(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    if r["inputs"].get("protocol") != "email":
        return
    sent = ctx.usage.value(r["type"], r["name"], "monthly_notifications")
    yield ctx.line(r, f"SNS e-mail notifications ({sent:g}, usage.yml)", "sns.email", sent,
                   note="the first 1,000 e-mails a month of an account are free (not deducted)")


def _web_acl(ctx: _Ctx, r: dict[str, Any]) -> Iterator[CostLine]:
    """WAF bills the web ACL, each rule in it (an AWS managed rule group counts as one rule) and the requests it
    inspects (every request the ALB receives)."""
    rules = len(r["inputs"].get("rules") or [])
    yield ctx.line(r, "WAF web ACL", "waf.web_acl", 1)
    yield ctx.line(r, f"WAF rules ({rules}, managed rule groups included)", "waf.rule", rules)
    millions = ctx.usage.value(r["type"], r["name"], "monthly_requests_millions")
    yield ctx.line(r, f"WAF requests ({millions:g} million, usage.yml)", "waf.requests", millions)


HANDLERS: dict[str, Callable[[_Ctx, dict[str, Any]], Iterator[CostLine]]] = {
    "eks:index:Cluster": _eks_cluster,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "eks:index:ManagedNodeGroup": _node_group,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:autoscaling/group:Group": _autoscaling_group,
    "kubernetes:karpenter.sh/v1:NodePool": _karpenter_node_pool,
    "aws:ec2/natGateway:NatGateway": _nat,
    "aws:ec2/eip:Eip": _eip,
    INGRESS: _ingress,
    LB: _load_balancer,
    "aws:kms/key:Key": _kms,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _metric_alarm,
    "aws:route53/zone:Zone": _zone,
    "aws:ecr/repository:Repository": _ecr,
    "aws:efs/fileSystem:FileSystem": _efs,
    "kubernetes:storage.k8s.io/v1:StorageClass": _storage_class,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _endpoint,
    "aws:ecs/service:Service": _ecs_service,
    "aws:eks/fargateProfile:FargateProfile": _eks_fargate_profile,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:sns/topicSubscription:TopicSubscription": _subscription,
    "aws:wafv2/webAcl:WebAcl": _web_acl,
}


def estimate(plan: Plan, prices: PriceBook, usage: Usage | None = None) -> Estimate:
    """Monthly cost lines of every priced resource of `plan` (see HANDLERS), with `prices` of the plan's region."""
    if prices.region != plan.region:
        raise NoPriceDataError(f"prices are for {prices.region}, the stack runs in {plan.region}")
    ctx = _Ctx(plan, prices, usage or Usage())
    lines: list[CostLine] = []
    nodes_inside_eks = False
    for r in plan.resources:
        handler = HANDLERS.get(r["type"])
        if handler:
            lines.extend(handler(ctx, r))
        nodes_inside_eks |= r["type"] == "eks:index:ManagedNodeGroup"
    notes = [f"Prices: tools/review/prices/{prices.region}.yaml (as of {prices.as_of}); {prices.hours_per_month:g} "
             "hours a month; on-demand list prices, before taxes, free tiers, savings plans and data transfer out."]
    for zone in plan.looked_up_zones():
        notes.append(f"Route 53 zone {zone} is looked up, not created: billed where it lives.")
    return Estimate(plan.stack, plan.region, tuple(lines), tuple(notes))


# --- formatting ----------------------------------------------------------------------------------------------------

def _money(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:,.2f}"


def _unit_price(line: CostLine) -> str:
    return "unpriced" if line.unit_price is None else f"${line.unit_price:g}/{line.unit}"


def _range(low: float, high: float) -> str:
    return "" if math.isclose(low, high) else f" (range {_money(low)} - {_money(high)})"


def format_text(e: Estimate, title: str = "") -> str:
    rows = [(f"{line.resource}", line.component, _unit_price(line), f"{line.quantity:,.2f}",
             _money(line.monthly) + _range(line.low or 0.0, line.high or 0.0) if line.unit_price is not None
             else "unpriced", line.note) for line in e.lines]
    head = ("resource", "component", "unit price", "quantity", "monthly", "note")
    widths = [max(len(str(r[c])) for r in [head, *rows]) for c in range(5)]
    out = [title or f"Monthly cost estimate: stack {e.stack} ({e.region}), rendered under mocks"]
    out.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=False)) + "  note")
    for r in rows:
        out.append("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=False)) + ("  " + r[5] if r[5] else ""))
    out.append(f"TOTAL {_money(e.total)} per month{_range(e.total_low, e.total_high)}")
    if e.unpriced:
        out.append(f"{len(e.unpriced)} line(s) UNPRICED (not in the total): "
                   + ", ".join(f"{line.resource} {line.component}" for line in e.unpriced))
    out += list(e.notes)
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def format_markdown(e: Estimate, title: str = "") -> str:
    out = [f"### {title or f'Monthly cost: stack {e.stack} ({e.region})'}", "",
           f"**{_money(e.total)} per month**{_range(e.total_low, e.total_high)}"
           + (f", {len(e.unpriced)} line(s) unpriced" if e.unpriced else ""), "",
           "<details><summary>Cost lines</summary>", "",
           "| resource | component | unit price | quantity | monthly | note |", "|---|---|---|---:|---:|---|"]
    for line in e.lines:
        monthly = _money(line.monthly) + (_range(line.low or 0.0, line.high or 0.0) if line.unit_price is not None
                                          else "")
        out.append(f"| {_md(line.resource)} | {_md(line.component)} | {_unit_price(line)} | {line.quantity:,.2f} | "
                   f"{monthly} | {_md(line.note)} |")
    out += ["", *[f"_{n}_" for n in e.notes], "", "</details>"]
    return "\n".join(out) + "\n"


class LineDelta(NamedTuple):
    resource: str
    component: str
    before: float
    after: float


def _key(line: CostLine) -> tuple[str, str, str]:
    # The component text carries sizes ("x2"): compare on its stable head.
    return line.resource, line.type, re.split(r" \(", line.component)[0]


def _monthly_by_key(e: Estimate) -> dict[tuple[str, str, str], float]:
    out: dict[tuple[str, str, str], float] = {}
    for line in e.lines:
        out[_key(line)] = out.get(_key(line), 0.0) + (line.monthly or 0.0)
    return out


def compare(base: Estimate, head: Estimate) -> list[LineDelta]:
    """Per line monthly cost before and after (0 for a line that appears or disappears)."""
    before, after = _monthly_by_key(base), _monthly_by_key(head)
    out = []
    for key in [*before, *(k for k in after if k not in before)]:
        b, a = before.get(key, 0.0), after.get(key, 0.0)
        if not math.isclose(a, b, abs_tol=0.005):
            out.append(LineDelta(key[0], key[2], b, a))
    return out


class Budget(NamedTuple):
    """A stack's cost increase thresholds: an increase over either is flagged (make cost BASE=..., the review
    comment). Declared once, per stack, as the config keys costIncreaseLimitUsd / costIncreaseLimitPercent
    (infra/config/review.py)."""
    usd: float  # a month
    percent: float


def _budget_settings() -> tuple[Any, Any]:
    from infra.config.stack import settings_by_key

    keys = settings_by_key()
    return keys["costIncreaseLimitUsd"], keys["costIncreaseLimitPercent"]


def default_budget() -> Budget:
    usd, percent = _budget_settings()
    return Budget(float(usd.default), float(percent.default))


def budget_of(plan: Plan) -> Budget:
    """The thresholds in the stack config `plan` was rendered with (the keys' defaults where unset). The program
    validated them during the render; a value it would refuse raises here too, naming the key."""
    from infra.config.core import PROJECT, read

    raw = {k.split(":", 1)[1]: v for k, v in plan.config.items() if k.startswith(f"{PROJECT}:")}
    values = []
    for decl in _budget_settings():
        value, why = read(decl, raw)
        if why:
            raise ValueError(why)
        values.append(float(value))
    return Budget(*values)


COST_FLAG = "<!-- cost-flag -->"


def budget_flag(base: Estimate, head: Estimate, budget: Budget | None = None) -> str:
    """Why the increase from `base` to `head` is large (empty when it is not): over either threshold of `budget`
    (default: the keys' defaults, +$100 a month or +20%)."""
    budget = budget or default_budget()
    change = head.total - base.total
    if change <= 0:
        return ""
    percent = change / base.total * 100 if base.total else math.inf
    if change <= budget.usd and percent <= budget.percent:
        return ""
    shown = f"+{percent:.0f}%" if math.isfinite(percent) else "from nothing"
    return (f"Large cost increase: +{_money(change)} a month ({shown}), over the stack's threshold "
            f"(+{_money(budget.usd)} a month or +{budget.percent:g}%: costIncreaseLimitUsd, costIncreaseLimitPercent)")


def format_delta(base: Estimate, head: Estimate, base_label: str, markdown: bool = False,
                 budget: Budget | None = None) -> str:
    deltas = compare(base, head)
    change = head.total - base.total
    sign = "+" if change >= 0 else "-"
    headline = (f"Monthly cost change against {base_label}: {sign}{_money(abs(change))} "
                f"({_money(base.total)} -> {_money(head.total)})")
    flag = budget_flag(base, head, budget)
    if markdown:
        out = [f"**{headline}**", ""] + ([f"**⚠️ {flag}** {COST_FLAG}", ""] if flag else [])
        if deltas:
            out += ["| resource | component | before | after | change |", "|---|---|---:|---:|---:|"]
            out += [f"| {_md(d.resource)} | {_md(d.component)} | {_money(d.before)} | {_money(d.after)} | "
                    f"{'+' if d.after >= d.before else '-'}{_money(abs(d.after - d.before))} |" for d in deltas]
        return "\n".join(out) + "\n"
    out = [headline] + ([f"WARNING: {flag}"] if flag else [])
    out += [f"  {d.resource}  {d.component}: {_money(d.before)} -> {_money(d.after)}" for d in deltas]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--base", default=None, help="git ref to compare with (rendered with this tree's engine)")
    parser.add_argument("--usage", type=Path, default=None, help="usage file (default: usage.yml at the root)")
    parser.add_argument("--stacks", default=None, help="folder of the Pulumi.<stack>.yaml files, relative to the root")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    args = parser.parse_args(argv)
    usage = load_usage(args.usage)
    markdown = args.format == "markdown"
    try:
        if args.base:
            from .diff import render_pair

            base_plan, plan, commit = render_pair(args.stack, args.base, ROOT, args.stacks)
        else:
            plan = render(args.stack, stacks=ROOT / args.stacks if args.stacks else None)
    except Exception as err:
        print(f"make cost failed: {err}", file=sys.stderr)
        return 1
    try:
        head = estimate(plan, load_prices(plan.region), usage)
    except NoPriceDataError as err:
        print(f"{'**' if markdown else ''}Monthly cost of stack {args.stack}: {err}{'**' if markdown else ''}")
        return 0
    print((format_markdown if markdown else format_text)(head), end="")
    if args.base:
        try:
            base = estimate(base_plan, load_prices(base_plan.region), usage)
        except NoPriceDataError as err:
            print(f"\nNo comparison with {args.base}: {err}")
            return 0
        print()
        print(format_delta(base, head, f"{args.base} ({commit[:12]})", markdown, budget_of(plan)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
