"""ARN partitions follow the region (botocore's endpoint data), in the program and in the render fakes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from infra import iam
from infra.config import load_config
from infra.config.region import partition_of
from tools.render import Plan
from tools.render.fakes import FakeCloud

# The EKS runtime's components (infra/eks/), checked on their own below.
EKS_TYPES = {"webstack:cluster:Cluster", "webstack:addons:PlatformAddons", "webstack:workload:WebApp"}
HARD_CODED = re.compile(r"\barn:aws:")


@pytest.mark.parametrize(("region", "partition", "suffix"), [
    ("us-east-1", "aws", "amazonaws.com"), ("eu-central-1", "aws", "amazonaws.com"),
    ("cn-north-1", "aws-cn", "amazonaws.com.cn"), ("cn-northwest-1", "aws-cn", "amazonaws.com.cn"),
    ("us-gov-west-1", "aws-us-gov", "amazonaws.com"), ("us-gov-east-1", "aws-us-gov", "amazonaws.com"),
])
def test_partition_of_a_region_in_the_config_and_the_fakes(region: str, partition: str, suffix: str) -> None:
    assert partition_of(region) == partition
    raw = {"zoneName": "acme-corp.net", "hostname": "app.acme-corp.net", "publicAccessCidrs": ["81.2.69.160/32"]}
    assert load_config(raw, project="webstack", stack="t", region=region).partition == partition
    fake = FakeCloud(region)
    assert (fake.partition, fake.dns_suffix) == (partition, suffix)
    assert fake._arn("aws:iam/role:Role", "r", {"name": "r"}, "id").startswith(f"arn:{partition}:iam::")


def test_the_alb_controller_policy_moves_to_the_partition() -> None:
    published = iam.alb_controller_policy("3.5.0")
    gov = iam.alb_controller_policy("3.5.0", "aws-us-gov")
    assert HARD_CODED.search(json.dumps(published))  # the published (aws) policy is untouched
    assert not HARD_CODED.search(json.dumps(gov))
    assert json.dumps(gov).count("arn:aws-us-gov:") == json.dumps(published).count("arn:aws:")
    assert [s["Action"] for s in gov["Statement"]] == [s["Action"] for s in published["Statement"]]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _arn_strings(plan: Plan, *, skip_eks: bool) -> list[tuple[str, str]]:
    eks = {r["urn"] for r in plan.resources if r["type"] in EKS_TYPES}
    found = []
    for r in plan.resources:
        if skip_eks and (r["urn"] in eks or eks & set(plan.ancestors(r["urn"]))):
            continue
        found += [(r["name"], s) for s in _strings([r["inputs"], r["state"]]) if "arn:" in s]
    return found


@pytest.fixture(scope="module")
def govcloud(variant: Any) -> Plan:
    return variant("govcloud")


def test_a_govcloud_render_has_no_arn_in_the_aws_partition(govcloud: Plan) -> None:
    found = _arn_strings(govcloud, skip_eks=True)
    assert [name for name, s in found if HARD_CODED.search(s)] == []
    # not vacuous: ARNs of the network (flow logs), DNS and registry are there, in aws-us-gov
    in_gov = {name for name, s in found if "arn:aws-us-gov:" in s}
    assert {"network-flow-logs", "dns-cert", "registry-repo"} <= in_gov
    assert not any(HARD_CODED.search(s) for s in _strings([govcloud.outputs, govcloud.invokes]) if s != "[secret]")


def test_the_eks_runtime_has_no_arn_in_the_aws_partition(govcloud: Plan) -> None:
    assert [name for name, s in _arn_strings(govcloud, skip_eks=False) if HARD_CODED.search(s)] == []
