"""Subnet maths, pure: the config loader checks that the subnets fit with the same function the Network uses."""

from __future__ import annotations

import ipaddress


def plan_subnets(vpc_cidr: str, az_count: int, private_prefix: int, public_prefix: int
                 ) -> tuple[list[str], list[str]]:
    """Deterministic, non-overlapping subnet CIDRs: private subnets first, then public ones, each aligned to its
    size. Raises ValueError when they do not fit in the VPC (or an argument is not a usable IPv4 value)."""
    vpc = ipaddress.IPv4Network(vpc_cidr)
    if az_count < 1 or not vpc.prefixlen <= private_prefix <= 32 or not vpc.prefixlen <= public_prefix <= 32:
        raise ValueError(f"cannot plan {az_count} subnets of /{private_prefix} and /{public_prefix} in {vpc_cidr}")
    cursor, end = int(vpc.network_address), int(vpc.broadcast_address)
    planned: dict[str, list[str]] = {"private": [], "public": []}
    for bucket, prefix in (("private", private_prefix), ("public", public_prefix)):
        size = 2 ** (32 - prefix)
        for _ in range(az_count):
            cursor = (cursor + size - 1) // size * size  # align to the block size
            if cursor + size - 1 > end:
                raise ValueError(f"{az_count} private and {az_count} public subnets do not fit in {vpc_cidr}")
            planned[bucket].append(str(ipaddress.IPv4Network((cursor, prefix))))
            cursor += size
    return planned["private"], planned["public"]
