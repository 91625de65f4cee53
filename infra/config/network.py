"""Network keys: the VPC range, AZs, subnet sizes, NAT and flow logs."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.subnets import plan_subnets
from infra.zones import ZONE_ID, zone_id_problem

from .core import Check, between, each, matches, one_of, rule, setting, unique
from .region import az_count_of

if TYPE_CHECKING:
    from .stack import StackConfig

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy, retentionInDays).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)
# The private ranges AWS documents for a VPC's IPv4 block: RFC 1918 and the RFC 6598 shared address space:
# https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html
VPC_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                      "100.64.0.0/10"))


def vpc_cidr_check() -> Check:
    def check(text: str) -> str | None:
        try:
            net = ipaddress.IPv4Network(text, strict=True)
        except ValueError as err:
            if "host bits" in str(err):
                return "must have no host bits set, e.g. 10.0.0.0/16"
            return "must be an IPv4 CIDR such as 10.0.0.0/16"
        if not any(net.subnet_of(r) for r in VPC_RANGES):
            return "must be inside a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10)"
        if not 16 <= net.prefixlen <= 24:
            return "prefix length must be /16 to /24 (room for node and pod subnets in every AZ)"
        return None

    return check


@dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    vpc_cidr: str = setting(
        "vpcCidr", "10.0.0.0/16",
        "VPC IPv4 CIDR; an RFC 1918 or RFC 6598 (100.64.0.0/10) range, /16 to /24.",
        matches(r"[0-9./]{9,18}", "10.0.0.0/16", "an IPv4 CIDR"), vpc_cidr_check())
    az_count: int = setting("azCount", 3, "Availability zones to span (2-6).", between(2, 6))
    availability_zone_ids: tuple[str, ...] = setting(
        "availabilityZoneIds", (),
        "AZ IDs (e.g. use1-az1) of the subnets, in subnet order, exactly azCount of them (default: the region's "
        "azCount lowest standard zone IDs needing no opt-in, minus unsupported ones; infra/zones.py). Pin the "
        "current zones of a stack deployed before zones were chosen by ID (docs/operations.md).",
        each(matches(ZONE_ID, "use1-az1", "an AZ ID")), unique())
    private_subnet_prefix_length: int = setting(
        "privateSubnetPrefixLength", 19, "Prefix length of each private (node and pod) subnet.", between(16, 28))
    # ALB: "subnets must have at least a /27 bitmask and at least eight free IP addresses".
    public_subnet_prefix_length: int = setting(
        "publicSubnetPrefixLength", 24, "Prefix length of each public (load balancer) subnet; at most /27.",
        between(16, 27))
    nat_strategy: str = setting(
        "natStrategy", "per-az",
        "'per-az' (one NAT gateway per AZ, production) or 'single' (one shared NAT, cheap dev).",
        one_of("single", "per-az"))
    flow_logs_enabled: bool = setting("flowLogsEnabled", True, "Send VPC flow logs to CloudWatch Logs.")
    flow_logs_retention_days: int = setting(
        "flowLogsRetentionDays", 90, "Retention of the flow log group, in days (a CloudWatch Logs retention value).",
        one_of(*LOG_RETENTION_DAYS))


def _inside_vpc(attr: str) -> Callable[[StackConfig], str | None]:
    """A rule: the subnet prefix length `attr` (a NetworkConfig field) is longer than the VPC's."""

    def check(cfg: StackConfig) -> str | None:
        vpc = ipaddress.IPv4Network(cfg.network.vpc_cidr)
        if getattr(cfg.network, attr) <= vpc.prefixlen:
            return f"must be longer than the VPC prefix /{vpc.prefixlen}"
        return None

    return check


# One rule per subnet key, so each problem line names the key at fault.
rule("privateSubnetPrefixLength", "vpcCidr")(_inside_vpc("private_subnet_prefix_length"))
rule("publicSubnetPrefixLength", "vpcCidr")(_inside_vpc("public_subnet_prefix_length"))


@rule("vpcCidr", "azCount", "privateSubnetPrefixLength", "publicSubnetPrefixLength")
def _subnets_fit(cfg: StackConfig) -> str | None:
    n = cfg.network
    try:
        plan_subnets(n.vpc_cidr, n.az_count, n.private_subnet_prefix_length, n.public_subnet_prefix_length)
    except ValueError as err:
        return f"{err}; use a larger VPC, fewer AZs or smaller subnets"
    return None


@rule("azCount", "aws:region")
def _enough_zones(cfg: StackConfig) -> str | None:
    zones = az_count_of(cfg.region)
    if zones is not None and cfg.network.az_count > zones:
        return f"{cfg.region} has {zones} availability zones this stack can use (infra/zones.py)"
    return None


@rule("availabilityZoneIds", "azCount", "aws:region")
def _pinned_zones(cfg: StackConfig) -> str | None:
    ids = cfg.network.availability_zone_ids
    if not ids:
        return None
    problems = [p for p in (zone_id_problem(z, cfg.region) for z in ids) if p]
    if len(ids) != cfg.network.az_count:
        problems.append(f"{len(ids)} zone(s) listed, azCount is {cfg.network.az_count}: list exactly azCount")
    return "; ".join(problems) or None
