"""EcsCluster: the ECS cluster (Container Insights), the FARGATE and FARGATE_SPOT capacity providers, the optional
EC2 capacity (see capacity.py) and the cluster's default capacity provider strategy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pulumi
import pulumi_aws as aws

from .capacity import Ec2Capacity, Ec2CapacityArgs

TYPE = "webstack:ecs:EcsCluster"


class StrategyItem(NamedTuple):
    """One entry of a capacity provider strategy."""

    capacity_provider: pulumi.Input[str]
    """FARGATE, FARGATE_SPOT, or the EC2 provider's name (its resource's output: what names it depends on it)."""
    weight: int
    base: int = 0


def strategy_input(strategy: Sequence[StrategyItem]) -> list[dict[str, Any]]:
    """A strategy as the cluster, the service and the scheduled task take it."""
    return [item._asdict() for item in strategy]


@dataclass(frozen=True, kw_only=True)
class Ec2CapacitySpec:
    """The EC2 capacity to add (plain values; the cluster supplies itself and the subnets)."""

    instance_type: str
    min_size: int
    max_size: int
    disk_size_gb: int
    target_capacity_percent: int
    ami_id: str
    """The ECS-optimized AMI of the region and architecture (the stack's lock)."""
    provider_name: str | None = None
    """Keep a capacity provider deployed under this name (see Ec2CapacityArgs.provider_name)."""


def fargate_strategy(base: int, fargate_weight: int, spot_weight: int) -> list[StrategyItem]:
    """`base` tasks always on FARGATE, the rest split by weight; FARGATE_SPOT only when it has a weight."""
    items = [StrategyItem(capacity_provider="FARGATE", weight=fargate_weight, base=base)]
    if spot_weight:
        items.append(StrategyItem(capacity_provider="FARGATE_SPOT", weight=spot_weight))
    return items


@dataclass(frozen=True, kw_only=True)
class EcsClusterArgs:
    name: str
    container_insights: str  # enabled | enhanced | disabled
    fargate_base: int
    fargate_weight: int
    fargate_spot_weight: int
    ec2: Ec2CapacitySpec | None
    """With EC2 capacity the default strategy is the EC2 provider alone (a strategy cannot mix it with Fargate)."""
    vpc_id: pulumi.Input[str]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    egress_ready: Sequence[pulumi.Resource]
    """The private default routes (NAT): EC2 instances are launched only once they exist."""
    architecture: str
    partition: str
    tags: Mapping[str, str]


class EcsCluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    strategy: list[StrategyItem]
    """The default capacity provider strategy; the service repeats it explicitly."""
    capacity_providers: pulumi.Output[list[str]]
    capacity: Ec2Capacity | None
    association: aws.ecs.ClusterCapacityProviders
    """Services depend on it: they are deleted before their capacity providers leave the cluster. Hence an update
    dropping a provider a service still uses (ecsCapacity ec2 -> fargate) deadlocks: docs/operations.md "Changing
    `ecsCapacity` from `ec2` to `fargate`"."""

    def __init__(self, name: str, args: EcsClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        cluster = aws.ecs.Cluster(
            f"{name}-cluster", name=args.name,
            settings=[{"name": "containerInsights", "value": args.container_insights}],
            tags=tags, opts=child)

        self.capacity = None
        # Both Fargate providers are always registered (free); the strategy decides what is used.
        provider_names: list[pulumi.Input[str]] = ["FARGATE", "FARGATE_SPOT"]
        if args.ec2 is not None:
            self.capacity = Ec2Capacity(f"{name}-ec2", Ec2CapacityArgs(
                cluster_name=args.name, cluster=cluster, vpc_id=args.vpc_id, subnet_ids=args.private_subnet_ids,
                egress_ready=args.egress_ready,
                instance_type=args.ec2.instance_type, architecture=args.architecture, min_size=args.ec2.min_size,
                max_size=args.ec2.max_size, disk_size_gb=args.ec2.disk_size_gb, ami_id=args.ec2.ami_id,
                target_capacity_percent=args.ec2.target_capacity_percent, partition=args.partition,
                provider_name=args.ec2.provider_name, tags=tags),
                opts=child)
            provider_names.append(self.capacity.capacity_provider_name)
            self.strategy = [StrategyItem(capacity_provider=self.capacity.capacity_provider_name, weight=1, base=0)]
        else:
            self.strategy = fargate_strategy(args.fargate_base, args.fargate_weight, args.fargate_spot_weight)

        self.association = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity-providers", cluster_name=cluster.name, capacity_providers=provider_names,
            default_capacity_provider_strategies=strategy_input(self.strategy),
            opts=child)

        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.capacity_providers = self.association.capacity_providers
        self.register_outputs({"cluster_name": self.cluster_name, "cluster_arn": self.cluster_arn})
