"""EC2 instance types, shared by both runtimes: validity from botocore's EC2 API model, CPU architecture by name.

botocore ships the EC2 API model whose `InstanceType` enum lists every type EC2 accepts (RunInstances,
CreateLaunchTemplate...): an authoritative list kept current by AWS's own SDK releases, not a hand list. The loader
reads it from `infra/data/aws-data.json`, a snapshot of the pinned botocore's data (`make aws-data`; a test fails
when the two differ), because loading botocore itself costs ~0.3 s per process.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

AWS_DATA = Path(__file__).resolve().parent / "data" / "aws-data.json"

# family letters, generation digits, attribute letters (g = Graviton), '.', size: m7gd.2xlarge, c8g.metal-48xl.
# u-6tb1.* (Intel high memory) and mac-m4.* have a '-' after the family and no generation digit.
_NAME = re.compile(r"([a-z]+)([0-9]*)([a-z0-9-]*)\.([a-z0-9-]+)", re.ASCII)
# Mac instances run only on Dedicated Hosts: EKS managed node groups cannot launch them.
MAC_FAMILY = re.compile(r"mac[0-9]*(-[a-z0-9]+)?", re.ASCII)


@functools.cache
def aws_data() -> dict[str, Any]:
    """The snapshot of botocore's data (tools/aws_data.py), read once per process (~1 ms)."""
    return dict(json.loads(AWS_DATA.read_text()))


@functools.cache
def instance_types() -> frozenset[str]:
    """Every instance type in botocore's EC2 model (shape `InstanceType`, its enum)."""
    return frozenset(aws_data()["instanceTypes"])


def is_instance_type(name: str) -> bool:
    return name in instance_types()


def instance_architecture(instance_type: str) -> str:
    """'arm64' for Graviton types ('a1', or a 'g' right after the generation digit: m7g, c6gn, t4g, r8gd),
    else 'amd64'. u-6tb1.metal and the like (family 'u-') are Intel."""
    m = _NAME.fullmatch(instance_type)
    if not m:
        raise ValueError(f"not an EC2 instance type: {instance_type!r}")
    family, generation, attrs = m.group(1), m.group(2), m.group(3)
    if family == "mac":  # mac1 is Intel; mac2 and the mac-m* types are Apple silicon
        return "amd64" if generation == "1" else "arm64"
    if family == "a" or (generation and attrs.startswith("g")):
        return "arm64"
    return "amd64"
