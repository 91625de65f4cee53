"""Review finding 1: nodeMinSize / nodeMaxSize changes apply to a live, autoscaled node group without failing and
without resetting the Cluster Autoscaler's desired size.

Each case renders a base and a changed config, takes the node group pulumi-eks declares (modelled by the render's
engine, after the program's transforms: `remoteChildren`) and the stack's scaling command, and plays what reaches EKS
on a live node group whose desired size the autoscaler moved: the provider's update computed from the stack state
(tests/support/node_group_model.py), then the command's own script run against a fake AWS CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.day2 import diff_actions, what_up_does
from tests.support.node_group_model import EksRefused, eks_update, provider_update, run_scaling_command
from tools.render import Plan

MNG = "eks:index:ManagedNodeGroup"
COMMAND = "command:local:Command"
GROUP = "webstack-dev-nodes-20260101000000000000000001"  # a name the provider makes from the prefix


def node_group(plan: Plan) -> dict[str, Any]:
    [child] = plan.one(MNG)["remoteChildren"]
    assert child["type"] == "aws:eks/nodeGroup:NodeGroup"
    return child


def scaling_commands(plan: Plan) -> list[dict[str, Any]]:
    return [c for c in plan.of_type(COMMAND) if "update-nodegroup-config" in (c["inputs"].get("create") or "")]


def what_eks_ends_with(base: Plan, changed: Plan, live_desired: int, tmp_path: Path) -> dict[str, int]:
    """The live node group after `pulumi up` of `changed` over `base` (state never refreshed), the autoscaler having
    set its desired size to `live_desired`."""
    old, new = node_group(base), node_group(changed)
    live = {**old["inputs"]["scalingConfig"], "desiredSize": live_desired}
    request = provider_update(old["inputs"], old["inputs"], new["inputs"], new["ignoreChanges"])
    if request is not None:
        live = eks_update(live, request)
    for cmd in scaling_commands(changed):  # runs after the node group (asserted below)
        if cmd["inputs"] != next(iter(scaling_commands(base)), {"inputs": None})["inputs"]:
            groups, _ = run_scaling_command(cmd["inputs"]["create"], cmd["inputs"]["environment"], {GROUP: live},
                                            tmp_path)
            live = groups[GROUP]
    return live


def test_raising_the_minimum_above_the_live_desired_size_applies(dev: Plan, variant: Callable[..., Plan],
                                                                   tmp_path: Path) -> None:
    # dev: min 2, desired 2, max 3; the autoscaler left it at 2. Raise min to 3 (desired 3 to satisfy the config).
    changed = variant("dev", nodeMinSize=3, nodeDesiredSize=3, nodeMaxSize=5)
    # Before the fix the provider sent min 3 with the state's desired 2: EKS refused the whole update.
    assert what_eks_ends_with(dev, changed, live_desired=2, tmp_path=tmp_path) == {
        "minSize": 3, "maxSize": 5, "desiredSize": 3}


def test_changing_the_maximum_keeps_the_autoscalers_desired_size(dev: Plan, variant: Callable[..., Plan],
                                                                  tmp_path: Path) -> None:
    # The autoscaler scaled dev up to its max, 3 nodes; raising nodeMaxSize must not bring it back to 2.
    changed = variant("dev", nodeMaxSize=5)
    assert what_eks_ends_with(dev, changed, live_desired=3, tmp_path=tmp_path) == {
        "minSize": 2, "maxSize": 5, "desiredSize": 3}


def test_the_provider_never_sends_a_scaling_config_after_creation(dev: Plan, variant: Callable[..., Plan]) -> None:
    old, new = node_group(dev), node_group(variant("dev", nodeMinSize=3, nodeDesiredSize=3, nodeMaxSize=5))
    assert "scalingConfig" in new["ignoreChanges"]
    assert provider_update(old["inputs"], old["inputs"], new["inputs"], new["ignoreChanges"]) is None
    # created with the configured sizes
    assert new["inputs"]["scalingConfig"] == {"minSize": 3, "desiredSize": 3, "maxSize": 5}


def test_the_scaling_command_follows_the_node_group_and_its_replacements(dev: Plan,
                                                                         variant: Callable[..., Plan]) -> None:
    [cmd] = scaling_commands(dev)
    assert dev.depends_on(cmd["urn"], dev.one(MNG)["urn"])
    env = cmd["inputs"]["environment"]
    assert (env["CLUSTER"], env["REGION"], env["PREFIX"], env["MIN_SIZE"], env["MAX_SIZE"]) == (
        "webstack-dev", "us-east-1", "webstack-dev-nodes-", "2", "3")
    assert "delete" not in cmd["inputs"]  # nothing to undo on destroy
    # A change that replaces the node group (capacity type: ForceNew) re-runs it (triggers replace the command):
    # the new group is created from the state's ignored scalingConfig and gets the configured bounds again.
    [spot] = scaling_commands(variant("dev", nodeCapacityType="SPOT"))
    assert spot["inputs"]["triggers"] != cmd["inputs"]["triggers"]
    # A label change (an in-place update) does not.
    [labelled] = scaling_commands(variant("dev", nodeLabels={"team": "web"}))
    assert labelled["inputs"] == cmd["inputs"]


def test_the_command_leaves_a_node_group_within_its_bounds_alone(dev: Plan, tmp_path: Path) -> None:
    [cmd] = scaling_commands(dev)
    live = {"minSize": 2, "maxSize": 3, "desiredSize": 3}
    groups, calls = run_scaling_command(cmd["inputs"]["create"], cmd["inputs"]["environment"], {GROUP: live},
                                        tmp_path)
    assert groups == {GROUP: live}
    assert [c[:2] for c in calls] == [["eks", "list-nodegroups"], ["eks", "describe-nodegroup"]]


def test_the_model_reproduces_the_failure_the_review_found() -> None:
    """pulumi-eks's ignoreScalingChanges alone: min raised above the state's desired size is refused."""
    old = {"scalingConfig": {"minSize": 2, "desiredSize": 2, "maxSize": 3}}
    new = {"scalingConfig": {"minSize": 3, "desiredSize": 3, "maxSize": 5}}
    request = provider_update(old, old, new, ["scalingConfig.desiredSize"])
    assert request == {"minSize": 3, "desiredSize": 2, "maxSize": 5}
    with pytest.raises(EksRefused, match="Minimum capacity 3 can't be greater than desired size 2"):
        eks_update({"minSize": 2, "desiredSize": 2, "maxSize": 3}, request)


def test_day2_scaling_updates_the_node_group_and_its_scaling_command(dev: Plan, variant: Callable[..., Plan]) -> None:
    """docs/operations.md "Scaling", as `make diff` labels it: nothing is replaced. The node group's update reaches
    no AWS call (its scalingConfig is ignored after creation); the command sends the new maximum."""
    found = what_up_does(dev, variant("dev", nodeMaxSize=5))  # the render of the maximum test above
    assert found == {**{k: set() for k in found}, "update": {"ManagedNodeGroup/cluster-nodes",
                                                              "Command/cluster-node-scaling"}}
    assert diff_actions(dev, variant("dev", nodeMaxSize=5))["Command/cluster-node-scaling"].kind == "update"
