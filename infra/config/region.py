"""Regions and partitions from botocore's endpoint data (the table AWS's own SDKs resolve endpoints with)."""

from __future__ import annotations

import functools

# Availability Zones per region this stack can use: upper bounds (the AZ IDs each region lists in "AWS Availability
# Zones", https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html), less the
# IDs infra/zones.py leaves out among them: us-east-1 6 - use1-az3, us-west-1 3 - usw1-az2, ap-northeast-1
# 4 - apne1-az3 (cac1-az3 is not among ca-central-1's three listed IDs). An account may see fewer, which the
# deploy-time check (the region's real zones) catches. Regions missing here are checked at deploy time only.
AZ_COUNTS = {
    "us-east-1": 5, "us-east-2": 3, "us-west-1": 2, "us-west-2": 4, "ca-central-1": 3,
    "eu-west-1": 3, "eu-west-2": 3, "eu-west-3": 3, "eu-central-1": 3, "eu-north-1": 3, "eu-south-1": 3,
    "ap-northeast-1": 3, "ap-northeast-2": 4, "ap-northeast-3": 3, "ap-south-1": 3, "ap-southeast-1": 3,
    "ap-southeast-2": 3, "sa-east-1": 3, "af-south-1": 3, "me-south-1": 3,
}


@functools.cache
def partitions() -> dict[str, str]:
    """region -> partition (aws, aws-cn, aws-us-gov, aws-iso...), every region botocore's endpoint data lists
    (read from the snapshot infra/data/aws-data.json, kept equal to the pinned botocore by a test)."""
    from ..instances import aws_data

    return dict(aws_data()["regions"])


def partition_of(region: str) -> str | None:
    return partitions().get(region)


def az_count_of(region: str) -> int | None:
    return AZ_COUNTS.get(region)
