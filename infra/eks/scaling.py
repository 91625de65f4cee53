"""The node group's scaling bounds after creation: applied by `aws eks update-nodegroup-config` with the live desired
size, never by the provider.

Why not the provider: terraform-provider-aws (internal/service/eks/node_group.go, resourceNodeGroupUpdate) sends the
whole `scaling_config` in UpdateNodegroupConfig whenever any of it changes, `desired_size` included. pulumi-eks's
`ignoreScalingChanges` ignores `scalingConfig.desiredSize` (nodejs/eks/nodes/nodegroup.ts), and Pulumi fills an
ignored input from the stack state, not from AWS: the update sends the desired size recorded at the last update.
Raising `nodeMinSize` above it is refused ("Minimum capacity N can't be greater than desired size M"), and any
min/max change resets the desired size the Cluster Autoscaler chose.

So the provider never sees a scaling change: the node group ignores its whole `scalingConfig` after creation (a
replacement is created from the state's values), and a command reads the live sizes and sends min, max and the live
desired size clamped into them. It runs when min or max change, and when the node group is replaced (its triggers are
the node group's inputs that force a replacement, the provider's `ForceNew` ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_command as command

NODE_GROUP_TYPE = "aws:eks/nodeGroup:NodeGroup"
IGNORED = "scalingConfig"
# The aws_eks_node_group attributes this stack sets that force a replacement (ForceNew in node_group.go).
REPLACING_INPUTS = ("amiType", "capacityType", "clusterName", "instanceTypes", "launchTemplate.id",
                    "nodeGroupNamePrefix", "nodeRoleArn", "subnetIds")
POLL_SECONDS, POLL_TIMES = 15, 120  # an update waits up to 30 minutes

# POSIX sh with the AWS CLI (already needed: the kubeconfig runs `aws eks get-token`). Every node group of the cluster
# named with the prefix (two exist while a replacement is under way; both get the bounds).
SCRIPT = r"""set -eu
groups=$(aws eks list-nodegroups --region "$REGION" --cluster-name "$CLUSTER" \
  --query "nodegroups[?starts_with(@, '$PREFIX')]" --output text)
[ -n "$groups" ] || { echo "no node group named $PREFIX* in $CLUSTER" >&2; exit 1; }
for group in $groups; do
  set -- $(aws eks describe-nodegroup --region "$REGION" --cluster-name "$CLUSTER" --nodegroup-name "$group" \
    --query "[nodegroup.scalingConfig.minSize, nodegroup.scalingConfig.maxSize, nodegroup.scalingConfig.desiredSize]" \
    --output text)
  desired=$3
  [ "$desired" -ge "$MIN_SIZE" ] || desired=$MIN_SIZE
  [ "$desired" -le "$MAX_SIZE" ] || desired=$MAX_SIZE
  if [ "$1 $2 $3" = "$MIN_SIZE $MAX_SIZE $desired" ]; then
    echo "$group: min $1, max $2, desired $3: nothing to change"
    continue
  fi
  echo "$group: min $1 -> $MIN_SIZE, max $2 -> $MAX_SIZE, desired $3 -> $desired"
  update=$(aws eks update-nodegroup-config --region "$REGION" --cluster-name "$CLUSTER" --nodegroup-name "$group" \
    --scaling-config "minSize=$MIN_SIZE,maxSize=$MAX_SIZE,desiredSize=$desired" --query update.id --output text)
  tries=0
  while :; do
    status=$(aws eks describe-update --region "$REGION" --name "$CLUSTER" --nodegroup-name "$group" \
      --update-id "$update" --query update.status --output text)
    case "$status" in
      Successful) break ;;
      Failed|Cancelled) echo "$group: update $update $status" >&2; exit 1 ;;
    esac
    tries=$((tries + 1))
    [ "$tries" -lt "$POLL_TIMES" ] || { echo "$group: update $update still $status" >&2; exit 1; }
    sleep "$POLL_SECONDS"
  done
done
"""


def scaling_config_ignored() -> pulumi.ResourceTransform:
    """The node group pulumi-eks creates ignores its whole `scalingConfig` after creation (see the module doc)."""

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ != NODE_GROUP_TYPE:
            return None
        return pulumi.ResourceTransformResult(props=args.props, opts=pulumi.ResourceOptions.merge(
            args.opts, pulumi.ResourceOptions(ignore_changes=[IGNORED])))

    return transform


@dataclass(frozen=True, kw_only=True)
class NodeScalingArgs:
    cluster_name: pulumi.Input[str]
    region: str
    name_prefix: str
    min_size: int
    max_size: int
    replacing_inputs: Sequence[pulumi.Input[object]]
    """The node group's inputs that force its replacement: a new group gets the bounds too."""


def node_scaling(name: str, args: NodeScalingArgs, opts: pulumi.ResourceOptions) -> command.local.Command:
    """The command applying min/max to the live node group (after it, in `opts.depends_on`)."""
    return command.local.Command(
        name, create=SCRIPT,
        environment={"CLUSTER": args.cluster_name, "REGION": args.region, "PREFIX": args.name_prefix,
                     "MIN_SIZE": str(args.min_size), "MAX_SIZE": str(args.max_size),
                     "POLL_SECONDS": str(POLL_SECONDS), "POLL_TIMES": str(POLL_TIMES)},
        triggers=list(args.replacing_inputs), opts=opts)
