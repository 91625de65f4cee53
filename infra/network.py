"""Network: VPC, public/private subnets per AZ, internet and NAT gateways, routes, endpoints, flow logs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from . import iam
from .subnets import plan_subnets
from .tags import named
from .zones import ZONE_FILTERS, choose_zones

TYPE = "webstack:network:Network"


def nat_count(nat_strategy: str, az_count: int) -> int:
    """NAT gateways to create: one per AZ (an AZ outage leaves the others their egress) or a single shared one."""
    return az_count if nat_strategy == "per-az" else 1


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    vpc_cidr: str
    az_count: int
    zone_ids: Sequence[str]
    """Pinned AZ IDs in subnet order (empty: the az_count lowest usable IDs of the region, see infra/zones.py)."""
    private_subnet_prefix_length: int
    public_subnet_prefix_length: int
    nat_strategy: str
    """per-az (one NAT gateway per AZ) | single (one for all)."""
    flow_logs_enabled: bool
    flow_logs_retention_days: int
    cluster_name: str
    """Tags the subnets for the cluster and names the flow log group."""
    region: str
    partition: str
    """The region's ARN partition (aws, aws-cn, aws-us-gov)."""
    account_id: pulumi.Input[str]
    """The account the stack deploys to: the flow logs role trusts the service only for its flow logs."""
    tags: Mapping[str, str]


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    nat_gateway_ids: list[pulumi.Output[str]]
    private_default_routes: list[aws.ec2.Route]
    """The private 0.0.0.0/0 routes through NAT: depend on these to be sure of egress."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=args.vpc_cidr, enable_dns_support=True,
                          enable_dns_hostnames=True, tags=named(tags, f"{name}-vpc"), opts=child)
        # The default SG is attached to anything created without one: leave it with no rules at all.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[],
                                     tags=named(tags, f"{name}-default-deny"), opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=named(tags, f"{name}-igw"), opts=child)

        public_rt = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=vpc.id,
                                       tags=named(tags, f"{name}-public"), opts=child)
        aws.ec2.Route(f"{name}-public-default", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0",
                      gateway_id=igw.id, opts=child)

        public_subnets, private_subnets = self._subnets(name, args, vpc, public_rt)
        nats = self._nat_gateways(name, args, public_subnets, igw)
        private_rts = self._private_routes(name, args, vpc, private_subnets, nats)

        # Free S3 gateway endpoint: ECR image layers come from S3 without crossing the NAT.
        aws.ec2.VpcEndpoint(f"{name}-s3", vpc_id=vpc.id, service_name=f"com.amazonaws.{args.region}.s3",
                            vpc_endpoint_type="Gateway", route_table_ids=[rt.id for rt in [public_rt, *private_rts]],
                            tags=named(tags, f"{name}-s3"), opts=child)
        if args.flow_logs_enabled:
            self._flow_logs(name, args, vpc)

        self.vpc_id = vpc.id
        self.public_subnet_ids = [s.id for s in public_subnets]
        self.private_subnet_ids = [s.id for s in private_subnets]
        self.nat_gateway_ids = [n.id for n in nats]
        self.register_outputs({
            "vpc_id": self.vpc_id,
            "public_subnet_ids": self.public_subnet_ids,
            "private_subnet_ids": self.private_subnet_ids,
            "nat_gateway_ids": self.nat_gateway_ids,
        })

    def _subnets(self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc,
                 public_rt: aws.ec2.RouteTable) -> tuple[list[aws.ec2.Subnet], list[aws.ec2.Subnet]]:
        """A public and a private subnet per AZ, tagged for the load balancers the cluster's controller creates."""
        tags, child = dict(args.tags), pulumi.ResourceOptions(parent=self)
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}
        private_cidrs, public_cidrs = plan_subnets(
            args.vpc_cidr, args.az_count, args.private_subnet_prefix_length, args.public_subnet_prefix_length
        )
        # Standard zones needing no opt-in, chosen by zone ID: never a Local Zone, and stable when zones are added.
        # In any state: a zone that is `impaired` or `constrained` during an AWS event must not drop out of the
        # choice (the lowest IDs would shift and plan to move subnets; pinned IDs would stop every deploy).
        zones = aws.get_availability_zones_output(
            filters=[aws.GetAvailabilityZonesFilterArgs(name=k, values=v)
                                        for k, v in ZONE_FILTERS.items()],
            opts=pulumi.InvokeOutputOptions(parent=self))
        az_names = pulumi.Output.all(zones.names, zones.zone_ids).apply(
            lambda found: choose_zones(found[0], found[1], args.az_count, args.region, args.zone_ids))
        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        for i in range(args.az_count):
            az = az_names[i]
            public = aws.ec2.Subnet(
                f"{name}-public-{i}", vpc_id=vpc.id, cidr_block=public_cidrs[i], availability_zone=az,
                map_public_ip_on_launch=False,  # only load balancers and NAT (with EIPs) live here
                tags=named(tags, f"{name}-public-{i}", **{"kubernetes.io/role/elb": "1"}, **cluster_tag),
                opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-public-{i}", subnet_id=public.id, route_table_id=public_rt.id,
                                          opts=child)
            private = aws.ec2.Subnet(
                f"{name}-private-{i}", vpc_id=vpc.id, cidr_block=private_cidrs[i], availability_zone=az,
                tags=named(tags, f"{name}-private-{i}", **{"kubernetes.io/role/internal-elb": "1"}, **cluster_tag),
                opts=child)
            public_subnets.append(public)
            private_subnets.append(private)
        return public_subnets, private_subnets

    def _nat_gateways(self, name: str, args: NetworkArgs, public_subnets: list[aws.ec2.Subnet],
                      igw: aws.ec2.InternetGateway) -> list[aws.ec2.NatGateway]:
        tags = dict(args.tags)
        nats: list[aws.ec2.NatGateway] = []
        for i in range(nat_count(args.nat_strategy, args.az_count)):
            eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags=named(tags, f"{name}-nat-{i}"),
                              opts=pulumi.ResourceOptions(parent=self))
            nats.append(aws.ec2.NatGateway(
                f"{name}-nat-{i}", allocation_id=eip.allocation_id, subnet_id=public_subnets[i].id,
                connectivity_type="public", tags=named(tags, f"{name}-nat-{i}"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw])))
        return nats

    def _private_routes(self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc, private_subnets: list[aws.ec2.Subnet],
                        nats: list[aws.ec2.NatGateway]) -> list[aws.ec2.RouteTable]:
        """A route table per private subnet, its default route through its AZ's NAT (or the single one)."""
        tags, child = dict(args.tags), pulumi.ResourceOptions(parent=self)
        private_rts: list[aws.ec2.RouteTable] = []
        self.private_default_routes = []
        for i, subnet in enumerate(private_subnets):
            rt = aws.ec2.RouteTable(f"{name}-private-rt-{i}", vpc_id=vpc.id,
                                    tags=named(tags, f"{name}-private-{i}"), opts=child)
            # Per-AZ NAT keeps an AZ outage from cutting the other AZs' egress.
            nat = nats[i] if args.nat_strategy == "per-az" else nats[0]
            self.private_default_routes.append(aws.ec2.Route(
                f"{name}-private-default-{i}", route_table_id=rt.id, destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id, opts=child))
            aws.ec2.RouteTableAssociation(f"{name}-private-{i}", subnet_id=subnet.id, route_table_id=rt.id,
                                          opts=child)
            private_rts.append(rt)
        return private_rts

    def _flow_logs(self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc) -> None:
        tags, child = dict(args.tags), pulumi.ResourceOptions(parent=self)
        log_group = aws.cloudwatch.LogGroup(f"{name}-flow-logs", name=f"/aws/vpc/{args.cluster_name}/flow-logs",
                                            retention_in_days=args.flow_logs_retention_days, tags=tags, opts=child)
        role = aws.iam.Role(f"{name}-flow-logs",
                            assume_role_policy=iam.json_output(iam.flow_logs_trust_policy, args.partition,
                                                               args.region, args.account_id),
                            tags=tags, opts=child)
        aws.iam.RolePolicy(f"{name}-flow-logs", role=role.id,
                           policy=iam.json_output(iam.flow_logs_policy, log_group.arn), opts=child)
        aws.ec2.FlowLog(f"{name}-flow-log", vpc_id=vpc.id, traffic_type="ALL", log_destination=log_group.arn,
                        log_destination_type="cloud-watch-logs", iam_role_arn=role.arn,
                        max_aggregation_interval=60, tags=named(tags, f"{name}-flow-log"), opts=child)
