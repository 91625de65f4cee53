"""What reaches EKS when a live, autoscaled node group's scaling bounds change: a model of the Pulumi engine, the
terraform-provider-aws node group update and EKS's check, plus a fake AWS CLI to run the stack's own scaling command.

Sources modelled:
- Pulumi engine, ignoreChanges: "the engine simply replaces the values of input properties in the goal state with
  old inputs" (pulumi/pulumi#2657); the old inputs are the stack state's, refreshed only by `pulumi refresh`.
- terraform-provider-aws internal/service/eks/node_group.go, resourceNodeGroupUpdate: when `scaling_config` differs
  from the prior state, UpdateNodegroupConfig carries the whole planned block (expandNodegroupScalingConfig:
  desired, min and max).
- EKS UpdateNodegroupConfig: refuses min > desired ("Minimum capacity N can't be greater than desired size M") and
  desired > max.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SCALING_KEYS = ("minSize", "maxSize", "desiredSize")


class EksRefused(Exception):  # noqa: N818 - named after what EKS answers
    """EKS's InvalidParameterException."""


def planned_inputs(old: dict[str, Any], new: dict[str, Any], ignore_changes: list[str]) -> dict[str, Any]:
    """The goal state's inputs: each ignored path takes its old (stack state) value."""
    planned = copy.deepcopy(new)
    for path in ignore_changes:
        *parents, leaf = path.split(".")
        src, dst = old, planned
        for key in parents:
            src, dst = src.get(key, {}), dst.setdefault(key, {})
        if leaf in src:
            dst[leaf] = copy.deepcopy(src[leaf])
    return planned


def provider_update(state_inputs: dict[str, Any], state_outputs: dict[str, Any], new_inputs: dict[str, Any],
                    ignore_changes: list[str]) -> dict[str, int] | None:
    """The scaling config the provider's update sends (None: it sends none)."""
    planned = planned_inputs(state_inputs, new_inputs, ignore_changes)["scalingConfig"]
    return dict(planned) if planned != state_outputs["scalingConfig"] else None


def eks_update(live: dict[str, int], request: dict[str, int]) -> dict[str, int]:
    """The node group's scaling after UpdateNodegroupConfig (an omitted size keeps its live value)."""
    after = {**live, **request}
    if after["minSize"] > after["desiredSize"]:
        raise EksRefused(f"Minimum capacity {after['minSize']} can't be greater than desired size "
                         f"{after['desiredSize']}")
    if after["desiredSize"] > after["maxSize"]:
        raise EksRefused(f"Desired capacity {after['desiredSize']} can't be greater than max size "
                         f"{after['maxSize']}")
    return after


# The fake `aws` CLI: the node groups of one cluster in a JSON file ({name: {minSize, maxSize, desiredSize}}); the
# calls the scaling command makes, answered as the real CLI would with the command's --query and --output text.
_FAKE_AWS = r'''
import json, os, sys
args, state_file = sys.argv[1:], os.environ["FAKE_EKS_STATE"]
groups = json.load(open(state_file))
with open(os.environ["FAKE_EKS_CALLS"], "a") as log:
    log.write(json.dumps(args) + "\n")
def arg(flag):
    return args[args.index(flag) + 1]
op = " ".join(args[:2])
if op == "eks list-nodegroups":
    prefix = arg("--query").split("'")[1]
    print("\t".join(n for n in sorted(groups) if n.startswith(prefix)))
elif op == "eks describe-nodegroup":
    g = groups[arg("--nodegroup-name")]
    print(f"{g['minSize']}\t{g['maxSize']}\t{g['desiredSize']}")
elif op == "eks update-nodegroup-config":
    name = arg("--nodegroup-name")
    request = {k: int(v) for k, v in (kv.split("=") for kv in arg("--scaling-config").split(","))}
    after = {**groups[name], **request}
    if not after["minSize"] <= after["desiredSize"] <= after["maxSize"]:
        print(f"InvalidParameterException: {after}", file=sys.stderr)
        sys.exit(254)
    groups[name] = after
    json.dump(groups, open(state_file, "w"))
    print("update-1")
elif op == "eks describe-update":
    print("Successful")
else:
    sys.exit(f"fake aws: {args} not modelled")
'''


def run_scaling_command(script: str, environment: dict[str, str], groups: dict[str, dict[str, int]],
                        tmp_path: Path) -> tuple[dict[str, dict[str, int]], list[list[str]]]:
    """Run the stack's scaling command (its `create` script and environment, from a render) against fake node
    groups: (the node groups after it, the AWS CLI calls it made)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "aws"
    fake.write_text(f"#!{sys.executable}\n{_FAKE_AWS}")
    fake.chmod(0o755)
    state, calls = tmp_path / "groups.json", tmp_path / "calls.jsonl"
    state.write_text(json.dumps(groups))
    calls.write_text("")
    env = {**environment, "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin", "FAKE_EKS_STATE": str(state),
           "FAKE_EKS_CALLS": str(calls), "POLL_SECONDS": "0"}
    done = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise EksRefused(done.stderr.strip())
    return json.loads(state.read_text()), [json.loads(line) for line in calls.read_text().splitlines()]
