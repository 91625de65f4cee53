"""The AWS partition of a region (aws, aws-cn, aws-us-gov, ...), from botocore's bundled endpoint data.

ARNs start with `arn:<partition>:`; hard-coding `arn:aws:` breaks the China and GovCloud regions.
botocore's endpoint data is AWS's own list of partitions (explicit regions plus a region regex each).
"""

from __future__ import annotations

from functools import cache

from botocore.exceptions import UnknownRegionError
from botocore.loaders import create_loader
from botocore.regions import EndpointResolver


@cache
def _resolver() -> EndpointResolver:
    return EndpointResolver(create_loader().load_data("endpoints"))


def partition_of(region: str) -> str:
    """`aws` for us-east-1, `aws-cn` for cn-north-1, `aws-us-gov` for us-gov-west-1; ValueError when unknown."""
    try:
        return _resolver().get_partition_for_region(region)
    except UnknownRegionError as err:
        raise ValueError(f"no AWS partition matches region {region!r}") from err


def dns_suffix_of(region: str) -> str:
    """The partition's DNS suffix: `amazonaws.com`, `amazonaws.com.cn` for the China regions, ..."""
    return str(_resolver().get_partition_dns_suffix(partition_of(region)))


def arn(region: str, service: str, resource: str, *, account: str = "", regional: bool = True) -> str:
    """`arn:<partition>:<service>:<region>:<account>:<resource>` (region left empty for global services)."""
    return f"arn:{partition_of(region)}:{service}:{region if regional else ''}:{account}:{resource}"
