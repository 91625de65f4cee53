"""`make down` (tools/down.sh), the Python half: what in a stack's state is deletion-protected (checked before
`pulumi destroy`, which AWS would refuse half-way), and what still exists afterwards that the stack or its
controllers created, each with the command that removes it.

    python -m tools.down protected < state.json        exit 3 and the teardown steps when anything is protected
    python -m tools.down leftovers --state before.json --kept after.json --region R    exit 1 when anything is left

`before.json` is `pulumi stack export` taken before the destroy (the names and the VPC id to look for), `after.json`
after it (what the stack keeps on purpose: a protected zone, with `--exclude-protected`). Every AWS
call here is a read (Describe*, GetResources); nothing is deleted: the commands are printed for a person to run."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_COMPONENT = "eks:index:Cluster"  # pulumi-eks's component; its aws:eks/cluster:Cluster child is the cluster
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
VPC = "aws:ec2/vpc:Vpc"
ECS_CLUSTER = "aws:ecs/cluster:Cluster"
LB_ATTRIBUTES = "alb.ingress.kubernetes.io/load-balancer-attributes"
PROTECTED_EXIT = 3
TEARDOWN_STEPS = (
    "set webstack:deletionProtection to false:  pulumi config set webstack:deletionProtection false --stack {stack}",
    "deploy that (protection off on the cluster and the ALB):  make up STACK={stack}",
    "then tear down:  make down STACK={stack}",
)
# Tags the controllers put on what they create (the cluster name is the value): the AWS Load Balancer Controller
# (ALBs, target groups, security groups; v3.5.0 pkg/deploy/tracking/provider.go), EKS managed nodes and Karpenter
# (instances, launch templates; `eks:eks-cluster-name` and `karpenter.k8s.aws/cluster`, karpenter-provider-aws v1).
# EKS tags its managed node groups' Auto Scaling groups and instances `eks:cluster-name`.
CONTROLLER_TAG_KEYS = ("elbv2.k8s.aws/cluster", "eks:cluster-name", "eks:eks-cluster-name", "karpenter.k8s.aws/cluster")
# Log groups AWS services create by themselves (not in the state): EKS control plane and Container Insights.
LOG_GROUP_PREFIXES = {"eks": ("/aws/eks/{name}/", "/aws/containerinsights/{name}/"),
                      "ecs": ("/aws/ecs/containerinsights/{name}/",)}


# --- the state ------------------------------------------------------------------------------------------------------
def resources(state: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((state.get("deployment") or {}).get("resources") or [])


def _props(r: Mapping[str, Any]) -> Mapping[str, Any]:
    """What was asked (inputs), overridden by what was deployed (outputs)."""
    return {**(r.get("inputs") or {}), **(r.get("outputs") or {})}


def _name(r: Mapping[str, Any]) -> str:
    return str(r.get("urn", "")).rsplit("::", 1)[-1]


def _ingress_protected(r: Mapping[str, Any]) -> bool:
    annotations = ((_props(r).get("metadata") or {}).get("annotations") or {})
    pairs = (p.split("=", 1) for p in str(annotations.get(LB_ATTRIBUTES, "")).split(",") if "=" in p)
    return {k.strip(): v.strip() for k, v in pairs}.get("deletion_protection.enabled") == "true"


def protected(state: Mapping[str, Any]) -> list[str]:
    """The resources AWS (or the LB controller) will refuse to delete, one line each."""
    found = []
    rs = resources(state)
    has_child = any(r.get("type") == EKS_CLUSTER for r in rs)
    for r in rs:
        kind = r.get("type")
        if kind == EKS_COMPONENT and not has_child:
            kind = EKS_CLUSTER  # a state with the component's inputs only
        if kind == EKS_CLUSTER and _props(r).get("deletionProtection") is True:
            found.append(f"EKS cluster {_props(r).get('name') or r.get('id')}: deletionProtection is on (EKS "
                         "refuses DeleteCluster)")
        elif kind == LOAD_BALANCER and _props(r).get("enableDeletionProtection") is True:
            found.append(f"load balancer {_props(r).get('name') or r.get('id')}: deletion protection is on (ELB "
                         "refuses DeleteLoadBalancer)")
        elif kind == INGRESS and _ingress_protected(r):
            found.append(f"Ingress {_name(r)}: its ALB is protected through {LB_ATTRIBUTES} (the Load Balancer "
                         "Controller refuses to delete the Ingress, so `pulumi destroy` would wait on its finalizer)")
    return found


@dataclass(frozen=True)
class Target:
    """What the stack was: the names and ids to look for once its state is gone."""

    project: str
    stack: str
    vpc_ids: tuple[str, ...]
    eks_clusters: tuple[str, ...]
    ecs_clusters: tuple[str, ...]


def target(state: Mapping[str, Any]) -> Target:
    rs = resources(state)
    stack_urn = next((str(r["urn"]) for r in rs if str(r.get("urn", "")).startswith("urn:pulumi:")), "")
    # urn:pulumi:<stack>::<project>::<type>::<name>
    stack, _, rest = stack_urn.removeprefix("urn:pulumi:").partition("::")
    project = rest.partition("::")[0]

    def ids(kind: str, key: str) -> tuple[str, ...]:
        return tuple(sorted({str(_props(r).get(key) or r.get("id")) for r in rs if r.get("type") == kind}))

    eks_clusters = tuple(sorted({*ids(EKS_CLUSTER, "name"), *ids(EKS_COMPONENT, "name")}))
    return Target(project=project, stack=stack, vpc_ids=ids(VPC, "id"), eks_clusters=eks_clusters,
                  ecs_clusters=ids(ECS_CLUSTER, "name"))


# --- what is left -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Leftover:
    what: str
    why: str
    """Which search found it (the stack's tags, a controller's tag, the VPC...)."""
    command: str


def _arn_command(arn: str) -> str:
    """The delete command of a tagged resource, by its ARN's service and resource type."""
    parts = arn.split(":", 5)
    service, resource = (parts[2], parts[5]) if len(parts) == 6 else ("", arn)
    kind, _, ident = resource.partition("/")
    if service == "elasticloadbalancing" and kind == "loadbalancer":
        return f"aws elbv2 delete-load-balancer --load-balancer-arn {arn}"
    if service == "elasticloadbalancing" and kind == "targetgroup":
        return f"aws elbv2 delete-target-group --target-group-arn {arn}"
    if service == "ec2" and kind in EC2_DELETE:
        return f"aws ec2 {EC2_DELETE[kind]} {ident}"
    if service == "logs":
        return f"aws logs delete-log-group --log-group-name {resource.removeprefix('log-group:').removesuffix(':*')}"
    if service == "elasticfilesystem" and kind == "file-system":
        # EFS user guide, "Deleting EFS file systems": mount targets and access points go first (the EFS driver's
        # access points of claims are not the stack's); automatic backups stay in AWS Backup (docs/nodes.md).
        return (f"aws efs delete-file-system --file-system-id {ident} (its mount targets and access points first: "
                f"aws efs describe-access-points --file-system-id {ident}, aws efs delete-access-point "
                "--access-point-id <fsap-id>; the data goes with it, its AWS Backup recovery points stay)")
    if service == "ecr" and kind == "repository":
        return f"aws ecr delete-repository --repository-name {ident} --force (deletes its images)"
    return f"delete it in the {service or 'AWS'} console or CLI (it is not one this tool knows the command of)"


EC2_DELETE = {
    "security-group": "delete-security-group --group-id", "network-interface": "delete-network-interface "
    "--network-interface-id", "volume": "delete-volume --volume-id", "instance": "terminate-instances --instance-ids",
    "launch-template": "delete-launch-template --launch-template-id", "vpc": "delete-vpc --vpc-id",
    "subnet": "delete-subnet --subnet-id", "natgateway": "delete-nat-gateway --nat-gateway-id",
    "elastic-ip": "release-address --allocation-id", "internet-gateway": "delete-internet-gateway "
    "--internet-gateway-id", "route-table": "delete-route-table --route-table-id",
}


def _pages(client: Any, operation: str, key: str, **params: Any) -> Iterator[Any]:
    for page in client.get_paginator(operation).paginate(**params):
        yield from page.get(key) or []


def kept_ids(state: Mapping[str, Any]) -> frozenset[str]:
    """The ids and ARNs of what the stack still has in its state (kept on purpose: not left over)."""
    found = set()
    for r in resources(state):
        found.update(str(v) for v in (r.get("id"), _props(r).get("arn")) if v)
    return frozenset(found)


def _arn_id(arn: str) -> str:
    """The last part of an ARN's resource (`hostedzone/Z123` -> `Z123`)."""
    return arn.rsplit("/", 1)[-1]


def _pending_deletion(kms: Any, arn: str) -> bool:
    """A KMS key the destroy scheduled for deletion still carries its tags for the waiting period."""
    return bool(":kms:" in arn and ":key/" in arn
                and kms.describe_key(KeyId=arn)["KeyMetadata"].get("KeyState") == "PendingDeletion")


def tagged(tagging: Any, kms: Any, t: Target, kept: frozenset[str] = frozenset()) -> Iterator[Leftover]:
    """Everything still carrying the stack's tags, then every controller's cluster tag; not what the stack keeps,
    nor KMS keys already scheduled for deletion."""
    searches = [([{"Key": "project", "Values": [t.project]}, {"Key": "stack", "Values": [t.stack]}],
                 f"tagged project={t.project}, stack={t.stack}")]
    searches += [([{"Key": key, "Values": [name]}], f"tagged {key}={name}")
                 for name in t.eks_clusters for key in CONTROLLER_TAG_KEYS]
    seen: set[str] = set()
    for filters, why in searches:
        for item in _pages(tagging, "get_resources", "ResourceTagMappingList", TagFilters=filters):
            arn = item["ResourceARN"]
            if arn in seen or arn in kept or _arn_id(arn) in kept:
                continue
            seen.add(arn)
            if not _pending_deletion(kms, arn):
                yield Leftover(arn, why, _arn_command(arn))


def in_vpcs(ec2: Any, t: Target) -> Iterator[Leftover]:
    """Network interfaces and security groups (but the VPC's default group) left in the stack's VPCs: what keeps
    a VPC from being deleted (DependencyViolation)."""
    for vpc in t.vpc_ids:
        where = [{"Name": "vpc-id", "Values": [vpc]}]
        for eni in _pages(ec2, "describe_network_interfaces", "NetworkInterfaces", Filters=where):
            ident, status = eni["NetworkInterfaceId"], eni.get("Status", "")
            what = f"network interface {ident} ({status}: {eni.get('Description') or 'no description'})"
            command = (f"aws ec2 delete-network-interface --network-interface-id {ident}" if status == "available"
                       else f"in use ({eni.get('InterfaceType', 'interface')}): delete what it belongs to first, "
                            f"then aws ec2 delete-network-interface --network-interface-id {ident}")
            yield Leftover(what, f"in {vpc}", command)
        for group in _pages(ec2, "describe_security_groups", "SecurityGroups", Filters=where):
            if group.get("GroupName") != "default":
                ident = group["GroupId"]
                yield Leftover(f"security group {ident} ({group.get('GroupName')})", f"in {vpc}",
                               f"aws ec2 delete-security-group --group-id {ident}")


def volumes(ec2: Any, t: Target) -> Iterator[Leftover]:
    """EBS volumes retained by a cluster (a PersistentVolume with reclaim policy Retain, volumes of nodes whose
    termination did not delete them): the provisioners tag them kubernetes.io/cluster/<name>."""
    for name in t.eks_clusters:
        where = [{"Name": "tag-key", "Values": [f"kubernetes.io/cluster/{name}"]},
                 {"Name": "status", "Values": ["available"]}]
        for volume in _pages(ec2, "describe_volumes", "Volumes", Filters=where):
            ident = volume["VolumeId"]
            yield Leftover(f"EBS volume {ident} ({volume.get('Size')} GiB, unattached)",
                           f"tagged kubernetes.io/cluster/{name}",
                           f"aws ec2 delete-volume --volume-id {ident} (snapshot it first if the data matters)")


def log_groups(logs: Any, t: Target) -> Iterator[Leftover]:
    names = [(p.format(name=n), kind) for kind, clusters in (("eks", t.eks_clusters), ("ecs", t.ecs_clusters))
             for n in clusters for p in LOG_GROUP_PREFIXES[kind]]
    for prefix, kind in names:
        for group in _pages(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=prefix):
            name = group["logGroupName"]
            yield Leftover(f"log group {name}", f"made by {kind.upper()} (named {prefix}...)",
                           f"aws logs delete-log-group --log-group-name {name}")


def leftovers(clients: Mapping[str, Any], t: Target, kept: frozenset[str] = frozenset()) -> list[Leftover]:
    """What is left, each once (the tagging API may name what the VPC search finds too)."""
    found: dict[str, Leftover] = {}
    for item in (*tagged(clients["resourcegroupstaggingapi"], clients["kms"], t, kept), *in_vpcs(clients["ec2"], t),
                 *volumes(clients["ec2"], t), *log_groups(clients["logs"], t)):
        found.setdefault(item.command, item)
    return list(found.values())


def report(items: Iterable[Leftover], t: Target) -> str:
    items = list(items)
    if not items:
        return f"make down: nothing of {t.project}/{t.stack} is left (tags, controllers' tags, VPC, volumes, logs)"
    lines = [f"make down: {len(items)} thing(s) of {t.project}/{t.stack} still exist; remove each with:"]
    for item in items:
        lines += [f"  - {item.what}  [{item.why}]", f"      {item.command}"]
    lines.append("The tagging API can list a resource for a while after it is deleted: run `make down` again (it "
                 "destroys nothing more) to check.")
    return "\n".join(lines)


def _clients(region: str) -> dict[str, Any]:
    import boto3  # only a real run needs it

    session = boto3.session.Session(region_name=region)
    return {name: session.client(name) for name in ("resourcegroupstaggingapi", "kms", "ec2", "logs")}


# Exit code of `leftovers` when AWS could not be asked (distinct from 1, "something is left").
CHECK_FAILED_EXIT = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.down", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("protected", help="refuse (exit 3) when the state (stdin) has deletion protection on")
    check.add_argument("--stack", required=True)
    left = sub.add_parser("leftovers", help="list what still exists (exit 1 when anything does)")
    left.add_argument("--state", required=True, help="`pulumi stack export` taken before the destroy")
    left.add_argument("--kept", help="`pulumi stack export` taken after the destroy (what the stack keeps)")
    left.add_argument("--region", required=True)
    args = parser.parse_args(argv)
    if args.command == "protected":
        found = protected(json.load(sys.stdin))
        if not found:
            return 0
        print(f"make down: {args.stack} is deletion-protected, `pulumi destroy` would stop half-way:", file=sys.stderr)
        print("\n".join(f"  - {line}" for line in found), file=sys.stderr)
        print("To tear it down on purpose:", file=sys.stderr)
        print("\n".join(f"  {i}. {step.format(stack=args.stack)}" for i, step in enumerate(TEARDOWN_STEPS, 1)),
              file=sys.stderr)
        return PROTECTED_EXIT
    with open(args.state) as f:
        t = target(json.load(f))
    kept = frozenset()
    if args.kept:
        with open(args.kept) as f:
            kept = kept_ids(json.load(f))
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        items = leftovers(_clients(args.region), t, kept)
    except (BotoCoreError, ClientError) as e:  # e.g. no credentials, AccessDenied on tag:GetResources
        print(f"make down: could not list what is left ({e}): nothing was checked; run `make down` again with "
              "credentials that may call the read-only APIs of docs/operations.md, \"Tearing down\"", file=sys.stderr)
        return CHECK_FAILED_EXIT
    print(report(items, t))
    return 1 if items else 0


if __name__ == "__main__":
    sys.exit(main())
