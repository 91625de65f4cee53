"""Availability zones: which of a region's zones the stack uses, chosen by zone ID so the choice is stable.

Zone *names* (us-east-1a) map to physical zones differently in each account, and the list of names an account sees
grows when it opts into a Local Zone (`us-east-1-bos-1a` sorts before `us-east-1a`). Zone *IDs* (use1-az1) name the
same physical zone in every account. The stack asks DescribeAvailabilityZones for standard zones that need no opt-in
only, leaves out the IDs known to lack what it uses, and takes the lowest IDs: opting into a zone later, or a new
zone, changes nothing (a subnet's zone forces its replacement). `webstack:availabilityZoneIds` pins them instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# The DescribeAvailabilityZones filters: standard Availability Zones (not Local or Wavelength Zones, which have no
# EKS control plane nor NAT gateway) that need no opt-in.
ZONE_FILTERS = {"opt-in-status": ["opt-in-not-required"], "zone-type": ["availability-zone"]}

_EKS = ("EKS refuses cluster subnets there (UnsupportedAvailabilityZoneException; EKS User Guide, \"VPC and subnet "
        "requirements\"; eksctl pkg/az avoids it)")
_FARGATE = "ECS on Fargate does not run there (ECS Developer Guide, \"Amazon ECS on AWS Fargate\", supported zone IDs)"
# AZ IDs known to lack what this stack uses, with why. The same list for both runtimes: switching runtime never moves
# a subnet.
UNSUPPORTED_ZONE_IDS: dict[str, str] = {
    "use1-az3": f"{_EKS}; no current-generation (Nitro) instance families; no Fargate ARM64 tasks (ECS Developer "
                "Guide, ARM64 task definitions)",
    "usw1-az2": f"{_EKS}; {_FARGATE} (us-west-1: usw1-az1 and usw1-az3 only)",
    "cac1-az3": f"{_EKS}; {_FARGATE} (ca-central-1)",
    "apne1-az3": f"{_FARGATE} (ap-northeast-1: apne1-az1, apne1-az2 and apne1-az4 only)",
    "cnn1-az4": f"{_FARGATE} (cn-north-1: cnn1-az1 and cnn1-az2 only); eksctl pkg/az avoids it",
}

ZONE_ID = r"[a-z]{2,8}[0-9]{1,2}-az[0-9]{1,2}"
# Region words -> their letters in zone IDs (us-east-1 -> use1, ap-northeast-1 -> apne1, us-gov-west-1 -> usgw1).
_DIRECTION = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c", "northeast": "ne",
              "northwest": "nw", "southeast": "se", "southwest": "sw", "gov": "g"}


def zone_id_prefix(region: str) -> str | None:
    """The prefix of the region's zone IDs (`use1` for us-east-1), or None for a region whose words are unknown."""
    parts = region.split("-")
    if len(parts) < 3 or not parts[-1].isdigit() or not all(p in _DIRECTION for p in parts[1:-1]):
        return None
    return parts[0] + "".join(_DIRECTION[p] for p in parts[1:-1]) + parts[-1]


def zone_id_problem(zone_id: str, region: str) -> str | None:
    """Why `zone_id` cannot be one of the stack's zones in `region`, or None."""
    if not re.fullmatch(ZONE_ID, zone_id, re.ASCII):
        return f"{zone_id} is not an AZ ID such as use1-az1"
    prefix = zone_id_prefix(region)
    if prefix is not None and zone_id.rsplit("-az", 1)[0] != prefix:
        return f"{zone_id} is not in {region} (its zone IDs start with {prefix}-az)"
    if zone_id in UNSUPPORTED_ZONE_IDS:
        return f"{zone_id} cannot be used: {UNSUPPORTED_ZONE_IDS[zone_id]}"
    return None


class NotEnoughZonesError(ValueError):
    """The region's zones cannot give the stack the zones it asks for (too few, or a pinned one missing)."""


def enough_zones(names: Sequence[str], az_count: int, region: str, left_out: Sequence[str] = ()) -> list[str]:
    """The usable zones, checked at deploy time (the zones an account sees vary by region and account): fewer than
    azCount is a clear error naming the key instead of an IndexError mid-deploy."""
    if len(names) < az_count:
        found = ", ".join(names) or "none"
        why = f"; left out: {', '.join(left_out)} (unsupported, see infra/zones.py)" if left_out else ""
        raise NotEnoughZonesError(
            f"webstack:azCount = {az_count}: region {region} has only {len(names)} available availability zone(s) "
            f"({found}{why}); set webstack:azCount to at most {len(names)} or choose another aws:region")
    return list(names)


def choose_zones(names: Sequence[str], zone_ids: Sequence[str], az_count: int, region: str,
                 pinned: Sequence[str] = ()) -> list[str]:
    """The names of the zones the stack uses, in subnet order, from the region's standard zones (`names[i]` has ID
    `zone_ids[i]`): the pinned IDs in their order, else the `az_count` lowest IDs that are not unsupported."""
    name_of = dict(zip(zone_ids, names, strict=True))
    if pinned:
        missing = [z for z in pinned if z not in name_of]
        if missing:
            found = ", ".join(f"{i} ({name_of[i]})" for i in sorted(name_of)) or "none"
            raise NotEnoughZonesError(
                f"webstack:availabilityZoneIds = {list(pinned)}: {', '.join(missing)} is not an available standard "
                f"zone of {region} in this account (found: {found})")
        return [name_of[z] for z in pinned]
    usable = sorted(z for z in name_of if z not in UNSUPPORTED_ZONE_IDS)
    left_out = sorted(f"{z} ({name_of[z]})" for z in name_of if z in UNSUPPORTED_ZONE_IDS)
    enough_zones([f"{z} ({name_of[z]})" for z in usable], az_count, region, left_out)
    return [name_of[z] for z in usable[:az_count]]
