"""No rendered stack resolves a floating version at deploy time: every version the program declares is its lock's
(infra/config/lock.py), and every Fargate launch names its platform version."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import committed_lock, ecs_api
from tools.render import Plan

FIXTURES = {"dev": "dev", "prod": "prod", "fargate": "ecs", "spot": "ecs-spot", "ec2": "ecs-ec2"}
# Data sources whose answer moves with no commit: the newest add-on version, AWS's "recommended" AMI parameters.
FLOATING = {"aws:eks/getAddonVersion:getAddonVersion", "aws:ssm/getParameter:getParameter",
            "aws:ssm/getParameters:getParameters", "aws:ec2/getAmi:getAmi", "aws:ec2/getAmiIds:getAmiIds"}


@pytest.mark.parametrize("fixture", FIXTURES)
def test_no_invoke_resolves_a_version(request: pytest.FixtureRequest, fixture: str) -> None:
    plan: Plan = request.getfixturevalue(fixture)
    assert [i["token"] for i in plan.invokes if i["token"] in FLOATING] == []
    assert not [i for i in plan.invokes if "mostRecent" in json.dumps(i["args"])]


def _run_task(plan: Plan) -> dict[str, Any]:
    """The RunTask request the schedule's universal target sends."""
    return ecs_api.universal_target_request(plan.one("aws:scheduler/schedule:Schedule")["inputs"]["target"])[1]


def test_every_fargate_launch_names_the_locks_platform_version(spot: Plan, fargate: Plan, ec2: Plan) -> None:
    version = committed_lock("ecs-spot")["fargatePlatformVersion"]
    assert version != "LATEST"
    assert spot.one("aws:ecs/service:Service")["inputs"]["platformVersion"] == version
    assert _run_task(spot)["platformVersion"] == version  # the scheduled runs too, never RunTask's LATEST
    assert fargate.one("aws:ecs/service:Service")["inputs"]["platformVersion"] == committed_lock("ecs")[
        "fargatePlatformVersion"]
    assert "platformVersion" not in ec2.one("aws:ecs/service:Service")["inputs"]  # EC2 launches have none

