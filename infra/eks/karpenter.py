"""Karpenter: the official karpenter and karpenter-crd charts (pinned), the controller's IAM as Karpenter publishes it,
the interruption queue with its EventBridge rules, the node role (access entry EC2_LINUX), one EC2NodeClass and one
NodePool in the private subnets (nodeProvisioner karpenter).

What upstream publishes for the pinned version (aws/karpenter-provider-aws, website getting-started
cloudformation.yaml, kept in infra/data/) is the source of the IAM documents, the queue and the rules; the CRD
schemas are in tests/data/crds/. The destroy rule: nodes Karpenter launches are this component's NodePool's, so
everything else in the cluster that runs pods is deleted before it on `pulumi destroy` (it depends on `capacity`),
then the NodePool (its nodes drained and terminated by the still running controller), the EC2NodeClass (its
finalizer waits for its instances to be gone), and only then the controller, its identity, its queue, the node role
and its access entry, the CRDs, and (through the Kubernetes provider) the system node group and NAT egress.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .. import iam
from .helm import Chart, ServiceAccountRef, release
from .identity import IdentityAnnotations, IdentityContext, WorkloadIdentity, workload_identity

TYPE = "webstack:karpenter:Karpenter"
CHART = Chart(name="karpenter", repo="oci://public.ecr.aws/karpenter")
CRD_CHART = Chart(name="karpenter-crd", repo="oci://public.ecr.aws/karpenter")
SERVICE_ACCOUNT = ServiceAccountRef(namespace="kube-system", name="karpenter")
NODE_CLASS = "default"
NODE_POOL = "default"
# The node role's AWS-managed policies: those of the managed node group's role (infra/eks/cluster.py).
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")
# Karpenter's interruption handling (the template's rules, in its order): event source and detail type.
INTERRUPTION_EVENTS = {
    "scheduled-change": ("aws.health", "AWS Health Event"),
    "spot-interruption": ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    "rebalance": ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    "instance-state-change": ("aws.ec2", "EC2 Instance State-change Notification"),
    "capacity-reservation-interruption": ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
}
# The controller's policies in two managed policies: all six in one exceed IAM's 6,144 characters with a 30-character
# cluster name in GovCloud. The second is attached to the same role.
CONTROLLER_POLICY_SPLIT = (("NodeLifecyclePolicy", "EKSIntegrationPolicy", "InterruptionPolicy", "ZonalShiftPolicy"),
                           ("IAMIntegrationPolicy", "ResourceDiscoveryPolicy"))
# Instance families: current compute, general purpose and memory optimised, 5th generation or newer.
INSTANCE_CATEGORIES = ("c", "m", "r")
OLDEST_GENERATION_EXCLUDED = "4"
# A node is replaced after 30 days (Karpenter's default, stated), and a drain waits at most this long for pods whose
# disruption budget holds it (then they are evicted anyway): consolidation and `pulumi destroy` cannot hang.
EXPIRE_AFTER = "720h"
TERMINATION_GRACE_PERIOD = "30m"
DELETE_TIMEOUT = "45m"


@dataclass(frozen=True, kw_only=True)
class KarpenterArgs:
    chart_version: str
    cluster_name: str
    """The cluster's name (plain: it names the queue and the discovery tags)."""
    cluster: pulumi.Input[str]
    """The cluster's name as an output of the cluster: what reads it waits for the cluster."""
    cluster_endpoint: pulumi.Input[str]
    cluster_security_group_id: pulumi.Input[str]
    """The security group EKS made for the cluster: the system node group's nodes are in it, and so are
    Karpenter's (same rules: control plane <-> kubelet, node <-> node)."""
    private_subnet_ids: Sequence[pulumi.Input[str]]
    region: str
    partition: str
    identity: IdentityContext
    """How the controller gets its role (webstack:workloadIdentity: Pod Identity or IRSA), as the other add-ons; its
    OIDC provider's ARN also names the account."""
    architecture: str
    """Nodes of the image's architecture only (amd64 | arm64)."""
    capacity_types: Sequence[str]
    cpu_limit: int
    disruption_budget: str
    consolidate_after: str
    disk_size_gb: int
    ami_alias: str
    """al2023@v<date>: the AMI release the stack's lock pins (infra/config/lock.py karpenter_ami_alias)."""
    replicas: int
    provider: k8s.Provider
    tags: Mapping[str, str]


def nodeclass_spec(args: KarpenterArgs, node_role_name: pulumi.Input[str]) -> dict[str, Any]:
    """The EC2NodeClass: AL2023 at the locked release, the private subnets and the cluster's security group by id
    (no discovery tags to keep on shared resources; a replaced subnet updates this object), IMDSv2 only with one
    hop (pods cannot read the node's credentials), an encrypted gp3 root volume, no public address."""
    return {
        "role": node_role_name,
        "amiSelectorTerms": [{"alias": args.ami_alias}],
        "subnetSelectorTerms": [{"id": subnet} for subnet in args.private_subnet_ids],
        "securityGroupSelectorTerms": [{"id": args.cluster_security_group_id}],
        "associatePublicIPAddress": False,
        "metadataOptions": {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled",
                            "httpPutResponseHopLimit": 1, "httpTokens": "required"},
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "rootVolume": True, "ebs": {
            "volumeSize": f"{args.disk_size_gb}Gi", "volumeType": "gp3", "encrypted": True,
            "deleteOnTermination": True}}],
        "tags": dict(args.tags),
    }


def nodepool_spec(args: KarpenterArgs) -> dict[str, Any]:
    """The NodePool: the image's architecture, the configured capacity types, bounded in vCPUs, consolidated when
    empty or underused with at most `disruption_budget` nodes disrupted at once."""
    requirements = [
        {"key": "kubernetes.io/arch", "operator": "In", "values": [args.architecture]},
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": list(args.capacity_types)},
        {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": list(INSTANCE_CATEGORIES)},
        {"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt", "values": [OLDEST_GENERATION_EXCLUDED]},
    ]
    return {
        "template": {"spec": {
            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": NODE_CLASS},
            "requirements": requirements,
            "expireAfter": EXPIRE_AFTER,
            "terminationGracePeriod": TERMINATION_GRACE_PERIOD,
        }},
        "limits": {"cpu": str(args.cpu_limit)},
        "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": args.consolidate_after,
                       "budgets": [{"nodes": args.disruption_budget}]},
    }


def controller_values(args: KarpenterArgs, *, queue_name: pulumi.Input[str],
                      identity: IdentityAnnotations) -> dict[str, Any]:
    """The karpenter chart's values: this cluster, its interruption queue, the controller's IAM role, and the
    region set explicitly (IMDS hop limit 1 on the nodes it runs on)."""
    return {
        "settings": {"clusterName": args.cluster, "clusterEndpoint": args.cluster_endpoint,
                     "interruptionQueue": queue_name},
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT.name, "annotations": identity.service_account},
        "podAnnotations": identity.pod,
        # Two replicas need two nodes (the chart's required anti-affinity by hostname).
        "replicas": args.replicas,
        "controller": {"env": [{"name": "AWS_REGION", "value": args.region}],
                       "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}}},
    }


class Karpenter(pulumi.ComponentResource):
    capacity: list[pulumi.Resource]
    """The NodePool and the EC2NodeClass: every other in-cluster object depends on them (deleted first)."""
    controller: k8s.helm.v3.Release
    node_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: KarpenterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        tags, child = dict(args.tags), pulumi.ResourceOptions(parent=self)
        queue = self._interruption_queue(name, args)
        node_role = aws.iam.Role(f"{name}-node", assume_role_policy=iam.to_json(
            iam.service_trust_policy("ec2.amazonaws.com")), tags=tags, opts=child)
        node_policies = [aws.iam.RolePolicyAttachment(
            f"{name}-node-{policy}", role=node_role.name, policy_arn=f"arn:{args.partition}:iam::aws:policy/{policy}",
            opts=child) for policy in NODE_POLICIES]
        # Nodes of this role may join the cluster (EKS grants the node permissions of an EC2_LINUX entry).
        access = aws.eks.AccessEntry(f"{name}-node", cluster_name=args.cluster, principal_arn=node_role.arn,
                                     type="EC2_LINUX", tags=tags, opts=child)

        identity, ready = self._controller_identity(name, args, queue, node_role)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        crds = release("karpenter-crd", CRD_CHART, args.chart_version, SERVICE_ACCOUNT.namespace, {}, k8s_opts)
        self.controller = release(
            "karpenter", CHART, args.chart_version, SERVICE_ACCOUNT.namespace,
            controller_values(args, queue_name=queue.name, identity=identity.annotations),
            pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[crds, *ready])),
            skip_crds=True)
        # Deleted before the controller and its CRDs, which finish the job: the NodeClass's finalizer waits for its
        # nodes to be gone, then deletes the instance profile Karpenter made.
        after_controller = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(
            depends_on=[crds, self.controller, access, *node_policies],
            custom_timeouts=pulumi.CustomTimeouts(delete=DELETE_TIMEOUT)))
        nodeclass = k8s.apiextensions.CustomResource(
            f"{name}-nodeclass", api_version="karpenter.k8s.aws/v1", kind="EC2NodeClass",
            metadata={"name": NODE_CLASS}, spec=nodeclass_spec(args, node_role.name), opts=after_controller)
        # The NodePool goes first: deleting it drains and terminates its nodes, which the NodeClass waits for.
        nodepool = k8s.apiextensions.CustomResource(
            f"{name}-nodepool", api_version="karpenter.sh/v1", kind="NodePool", metadata={"name": NODE_POOL},
            spec=nodepool_spec(args),
            opts=pulumi.ResourceOptions.merge(after_controller, pulumi.ResourceOptions(depends_on=[nodeclass])))
        self.capacity = [nodepool, nodeclass]
        self.node_role_arn = node_role.arn
        self.register_outputs({"node_role_arn": self.node_role_arn, "interruption_queue": queue.name,
                               "controller": self.controller.status})

    def _interruption_queue(self, name: str, args: KarpenterArgs) -> aws.sqs.Queue:
        """The queue Karpenter reads EC2 interruption events from (Spot warnings, rebalance, scheduled changes,
        state changes): drained and replaced before EC2 takes the instance."""
        child = pulumi.ResourceOptions(parent=self)
        queue = aws.sqs.Queue(f"{name}-interruption", name=f"{args.cluster_name}-karpenter",
                              message_retention_seconds=300, sqs_managed_sse_enabled=True, tags=dict(args.tags),
                              opts=child)
        aws.sqs.QueuePolicy(f"{name}-interruption", queue_url=queue.id,
                            policy=iam.json_output(iam.karpenter_queue_policy, queue.arn), opts=child)
        for event, (source, detail_type) in INTERRUPTION_EVENTS.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{event}", description=f"Karpenter interruption handling of {args.cluster_name}: {detail_type}",
                event_pattern=json.dumps({"source": [source], "detail-type": [detail_type]}), tags=dict(args.tags),
                opts=child)
            aws.cloudwatch.EventTarget(f"{name}-{event}", rule=rule.name, arn=queue.arn,
                                       target_id="KarpenterInterruptionQueueTarget", opts=child)
        return queue

    def _controller_identity(self, name: str, args: KarpenterArgs, queue: aws.sqs.Queue,
                             node_role: aws.iam.Role) -> tuple[WorkloadIdentity, list[Any]]:
        """The controller's AWS identity: ONE workload_identity call (the role, its first policy; an association
        under pod-identity) and the second half of the published policy attached to the same role. Returns it and
        what the pod must wait for."""
        def document(part: int) -> pulumi.Output[str]:
            return iam.json_output(lambda arn, role_arn, queue_arn: iam.karpenter_controller_policy(
                args.chart_version, _names(args, arn, role_arn, queue_arn), CONTROLLER_POLICY_SPLIT[part]),
                args.identity.oidc_provider_arn, node_role.arn, queue.arn)

        identity = workload_identity(name, args.identity, namespace=SERVICE_ACCOUNT.namespace,
                                     service_account=SERVICE_ACCOUNT.name, policy=document(0), parent=self)
        child = pulumi.ResourceOptions(parent=self)
        more = aws.iam.Policy(f"{name}-controller-more", description="Karpenter controller: instance profiles, "
                              "discovery (the published policy's second half)", policy=document(1),
                              tags=dict(args.tags), opts=child)
        attachment = aws.iam.RolePolicyAttachment(f"{name}-controller-more", role=identity.role.name,
                                                  policy_arn=more.arn, opts=child)
        return identity, [*identity.ready, attachment]


def _names(args: KarpenterArgs, oidc_provider_arn: str, node_role_arn: str, queue_arn: str) -> iam.KarpenterNames:
    account = oidc_provider_arn.split(":")[4]  # arn:<partition>:iam::<account>:oidc-provider/...
    return iam.KarpenterNames(partition=args.partition, region=args.region, account_id=account,
                              cluster_name=args.cluster_name, node_role_arn=node_role_arn, queue_arn=queue_arn)
