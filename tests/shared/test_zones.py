"""Review finding 2: the stack's zones are standard zones needing no opt-in, never an AZ ID known to lack what the
stack uses, chosen by zone ID (stable when the account opts into a zone), or pinned by webstack:availabilityZoneIds.

The fake account (tools/render/fakes.py) answers us-east-1 with an opted-in Local Zone whose name sorts first
(us-east-1-bos-1a) and with zone names shuffled against their IDs, as AWS does per account."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.config import ConfigError, load_config
from infra.zones import UNSUPPORTED_ZONE_IDS, NotEnoughZonesError, choose_zones, zone_id_prefix
from tools.render import TEST_STACKS, Plan, RenderError, render
from tools.render.fakes import ZONES_BY_REGION

SUBNET = "aws:ec2/subnet:Subnet"
ZONES = "aws:index/getAvailabilityZones:getAvailabilityZones"
ID_OF = {name: zone_id for name, zone_id, _, _ in ZONES_BY_REGION["us-east-1"]}


def zone_ids(plan: Plan, kind: str) -> list[str]:
    """The AZ IDs of the `kind` subnets, in subnet index order."""
    found = sorted((int(s["name"].rsplit("-", 1)[1]), s["inputs"]["availabilityZone"])
                   for s in plan.of_type(SUBNET) if f"-{kind}-" in s["name"])
    return [ID_OF[name] for _, name in found]


def test_subnets_take_the_lowest_standard_zone_ids_never_a_local_zone(dev: Plan) -> None:
    # dev: us-east-1, azCount 2. By name the Local Zone would come first, then us-east-1a (use1-az4).
    assert zone_ids(dev, "public") == zone_ids(dev, "private") == ["use1-az1", "use1-az2"]
    asked = [i["args"] for i in dev.invokes if i["token"] == ZONES]
    # No state filter: a zone AWS reports `impaired` during an event stays the stack's zone.
    assert asked == [{"filters": [
        {"name": "opt-in-status", "values": ["opt-in-not-required"]},
        {"name": "zone-type", "values": ["availability-zone"]}]}]


def test_an_unsupported_zone_id_is_left_out(variant: Callable[..., Plan]) -> None:
    plan = variant("dev", azCount=5)  # every usable us-east-1 zone: all but use1-az3
    assert zone_ids(plan, "private") == ["use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"]


def test_pinned_zone_ids_are_used_in_their_order(variant: Callable[..., Plan]) -> None:
    plan = variant("dev", availabilityZoneIds=["use1-az6", "use1-az4"])
    assert zone_ids(plan, "public") == zone_ids(plan, "private") == ["use1-az6", "use1-az4"]


def test_the_choice_is_stable_when_the_account_gains_zones() -> None:
    names, ids = ["us-east-1a", "us-east-1b", "us-east-1c"], ["use1-az4", "use1-az6", "use1-az1"]
    before = choose_zones(names, ids, 2, "us-east-1")
    assert before == ["us-east-1c", "us-east-1a"]
    # a newly listed zone (an opt-in, a new zone) never moves the chosen ones unless its ID is lower
    assert choose_zones([*names, "us-east-1d"], [*ids, "use1-az5"], 2, "us-east-1") == before
    assert choose_zones(["us-east-1d", *names], ["use1-az3", *ids], 2, "us-east-1") == before  # left out


def test_a_pinned_zone_missing_from_the_account_is_a_clear_deploy_time_error() -> None:
    with pytest.raises(NotEnoughZonesError, match=r"^webstack:availabilityZoneIds = \['use1-az1', 'use1-az9'\]: "
                                                  r"use1-az9 is not an available standard zone of us-east-1"):
        choose_zones(["us-east-1a"], ["use1-az1"], 2, "us-east-1", pinned=["use1-az1", "use1-az9"])
    with pytest.raises(RenderError, match="use1-az9 is not an available standard zone"):
        render("dev", {"webstack:availabilityZoneIds": ["use1-az1", "use1-az9"]}, stacks=TEST_STACKS)


RAW = {"zoneName": "example.com", "hostname": "app.example.com", "publicAccessCidrs": '["203.0.113.0/24"]'}


def problems(**raw: object) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config({**RAW, **{k: v for k, v in raw.items() if k != "region"}}, project="webstack", stack="t",
                    region=str(raw.get("region", "us-east-1")))
    return err.value.problems


def test_bad_pinned_zone_ids_are_refused_with_every_reason() -> None:
    [line] = problems(azCount="3", availabilityZoneIds='["use1-az1", "euw1-az2", "use1-az3"]')
    assert line.startswith("webstack:availabilityZoneIds/azCount/aws:region = ")
    assert "euw1-az2 is not in us-east-1 (its zone IDs start with use1-az)" in line
    assert "use1-az3 cannot be used: EKS refuses cluster subnets there" in line
    [count] = problems(azCount="3", availabilityZoneIds='["use1-az1", "use1-az2"]')
    assert "2 zone(s) listed, azCount is 3: list exactly azCount" in count
    [shape] = problems(availabilityZoneIds='["us-east-1a"]')
    assert shape.startswith("webstack:availabilityZoneIds = ['us-east-1a']: entry 'us-east-1a': must be an AZ ID")
    [twice] = problems(azCount="2", availabilityZoneIds='["use1-az1", "use1-az1"]')
    assert "listed twice: use1-az1" in twice


def test_az_count_is_bounded_by_the_usable_zones() -> None:
    [line] = problems(azCount="6")  # us-east-1 has six zones, use1-az3 is left out
    assert line == "webstack:azCount/aws:region = 6/'us-east-1': us-east-1 has 5 availability zones this stack can " \
                   "use (infra/zones.py)"
    cfg = load_config({**RAW, "azCount": "3", "availabilityZoneIds": '["usgw1-az1", "usgw1-az2", "usgw1-az3"]',
                       "adminPrincipalArns": "[]"}, project="webstack", stack="t", region="us-gov-west-1")
    assert cfg.network.availability_zone_ids == ("usgw1-az1", "usgw1-az2", "usgw1-az3")


def test_every_unsupported_zone_id_names_its_source_and_region() -> None:
    prefixes = {zone_id_prefix(r) for r in ("us-east-1", "us-west-1", "ca-central-1", "ap-northeast-1",
                                            "cn-north-1")}
    for zone_id, why in UNSUPPORTED_ZONE_IDS.items():
        assert zone_id.rsplit("-az", 1)[0] in prefixes
        assert "Guide" in why or "eksctl" in why, zone_id
    assert [zone_id_prefix(r) for r in ("us-east-1", "ap-northeast-1", "us-gov-west-1", "eu-central-2", "x")] == [
        "use1", "apne1", "usgw1", "euc2", None]
