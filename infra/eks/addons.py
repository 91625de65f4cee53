"""PlatformAddons: AWS Load Balancer Controller, ExternalDNS, metrics-server and Cluster Autoscaler, each a pinned
Helm release on the new cluster, those that call AWS with their own identity (infra/eks/identity.py: EKS Pod
Identity or IRSA, as webstack:workloadIdentity says). Under nodeProvisioner karpenter, Karpenter
(infra/eks/karpenter.py) replaces the Cluster Autoscaler; under auto-mode, EKS Auto Mode replaces both the
autoscaler and the LB controller (infra/eks/automode.py has its IngressClass)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s

from .. import iam
from .autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from .helm import Chart, ServiceAccountRef, release
from .identity import IdentityAnnotations, IdentityContext, workload_identity

TYPE = "webstack:addons:PlatformAddons"
ALB_CHART = Chart(name="aws-load-balancer-controller", repo="https://aws.github.io/eks-charts")
EXTERNAL_DNS_CHART = Chart(name="external-dns", repo="https://kubernetes-sigs.github.io/external-dns/")
METRICS_SERVER_CHART = Chart(name="metrics-server", repo="https://kubernetes-sigs.github.io/metrics-server/")
ALB_SERVICE_ACCOUNT = ServiceAccountRef(namespace="kube-system", name="aws-load-balancer-controller")
EXTERNAL_DNS_SERVICE_ACCOUNT = ServiceAccountRef(namespace="external-dns", name="external-dns")
# ExternalDNS syncs on every Ingress event and at least this often; with policy sync it deletes the records of
# a deleted Ingress on its next sync. The drain waits two intervals (plus margin) before ExternalDNS goes.
EXTERNAL_DNS_INTERVAL_SECONDS = 60
DNS_DRAIN_SECONDS = 2 * EXTERNAL_DNS_INTERVAL_SECONDS + 30


def alb_controller_values(*, cluster_name: pulumi.Input[str], region: str, vpc_id: pulumi.Input[str],
                          identity: IdentityAnnotations) -> dict[str, Any]:
    """The AWS Load Balancer Controller chart's values."""
    return {
        # Set explicitly: with IMDS hop limit 1 the controller cannot discover them itself.
        "clusterName": cluster_name,
        "region": region,
        "vpcId": vpc_id,
        "replicaCount": 2,
        "podDisruptionBudget": {"maxUnavailable": 1},
        "serviceAccount": {"create": True, "name": ALB_SERVICE_ACCOUNT.name,
                           "annotations": identity.service_account},
        "podAnnotations": identity.pod,
        "createIngressClassResource": True,
        "ingressClass": "alb",
        # The Service mutator webhook (failurePolicy Fail, every Service CREATE in every namespace) only
        # serves LoadBalancer Services, which this stack never creates. Off, no chart that creates a
        # Service (coredns, ExternalDNS, metrics-server, the autoscaler) races the controller's start.
        "enableServiceMutatorWebhook": False,
    }


def external_dns_values(*, policy: str, cluster_name: pulumi.Input[str], region: str, zone_name: str,
                        zone_id: pulumi.Input[str], identity: IdentityAnnotations) -> dict[str, Any]:
    """ExternalDNS's chart values: the app's public zone only, records owned by this cluster (TXT registry)."""
    return {
        "provider": {"name": "aws"},
        "policy": policy,
        "registry": "txt",
        # Unique per cluster: two clusters never fight over (or delete) each other's records.
        "txtOwnerId": pulumi.Output.concat(cluster_name, ".", region),
        "domainFilters": [zone_name],
        "extraArgs": ["--aws-zone-type=public", pulumi.Output.concat("--zone-id-filter=", zone_id)],
        "sources": ["ingress", "service"],
        "interval": f"{EXTERNAL_DNS_INTERVAL_SECONDS}s",
        "triggerLoopOnEvent": True,
        "env": [{"name": "AWS_DEFAULT_REGION", "value": region}],
        "serviceAccount": {"create": True, "name": EXTERNAL_DNS_SERVICE_ACCOUNT.name,
                           "annotations": identity.service_account},
        "podAnnotations": identity.pod,
    }


@dataclass(frozen=True, kw_only=True)
class PlatformAddonsArgs:
    alb_controller_chart_version: str
    """Empty: no LB controller (EKS Auto Mode's load balancing serves the Ingress)."""
    external_dns_chart_version: str
    external_dns_policy: str
    """upsert-only | sync (sync deletes the records it owns once their Ingress is gone)."""
    metrics_server_chart_version: str
    cluster_autoscaler_chart_version: str
    """Empty: no Cluster Autoscaler (Karpenter provisions the nodes)."""
    kubernetes_version: str
    cluster_name: pulumi.Input[str]
    region: str
    partition: str
    vpc_id: pulumi.Input[str]
    identity: IdentityContext
    """How the controllers that call AWS get their role (webstack:workloadIdentity), and the cluster it trusts."""
    zone_id: pulumi.Input[str]
    zone_arn: pulumi.Input[str]
    zone_name: str
    provider: k8s.Provider
    capacity: Sequence[pulumi.Resource] = ()
    """What the add-ons' pods may run on beyond the node group (Karpenter's NodePool and EC2NodeClass): every
    release is created after and deleted before them."""


class PlatformAddons(pulumi.ComponentResource):
    alb_controller: k8s.helm.v3.Release | None
    """None under auto-mode."""
    external_dns: k8s.helm.v3.Release
    dns_drain: command.local.Command
    """Deleted between the objects ExternalDNS names and ExternalDNS itself: waits while it removes their records."""
    metrics_server: k8s.helm.v3.Release
    autoscaler: ClusterAutoscaler | None
    """None under Karpenter."""

    def __init__(self, name: str, args: PlatformAddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.capacity))
        self.alb_controller = self._alb_controller(name, args) if args.alb_controller_chart_version else None
        self.external_dns = self._external_dns(name, args)
        # No-op on create; on delete it holds ExternalDNS (deleted after it) running while it removes the records
        # of the Ingress deleted before it. A Pulumi-managed alias record would not need the wait, but ExternalDNS
        # stays the one writer of app records (TXT ownership), for this app and any later one.
        self.dns_drain = command.local.Command(
            f"{name}-dns-drain", delete=f"sleep {DNS_DRAIN_SECONDS}",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.external_dns]))

        self.metrics_server = release(
            "metrics-server", METRICS_SERVER_CHART, args.metrics_server_chart_version, "kube-system",
            {"replicas": 2, "podDisruptionBudget": {"enabled": True, "minAvailable": 1}}, k8s_opts)

        self.autoscaler = ClusterAutoscaler(f"{name}-cluster-autoscaler", ClusterAutoscalerArgs(
            chart_version=args.cluster_autoscaler_chart_version, kubernetes_version=args.kubernetes_version,
            cluster_name=args.cluster_name, region=args.region, identity=args.identity, provider=args.provider),
            pulumi.ResourceOptions(parent=self)) if args.cluster_autoscaler_chart_version else None
        self.register_outputs({**({"alb_controller": self.alb_controller.status} if self.alb_controller else {}),
                               "external_dns": self.external_dns.status,
                               "metrics_server": self.metrics_server.status})

    def _alb_controller(self, name: str, args: PlatformAddonsArgs) -> k8s.helm.v3.Release:
        identity = workload_identity(
            f"{name}-alb-controller", args.identity, namespace=ALB_SERVICE_ACCOUNT.namespace,
            service_account=ALB_SERVICE_ACCOUNT.name,
            policy=iam.to_json(iam.alb_controller_policy(args.alb_controller_chart_version, args.partition)),
            parent=self)
        values = alb_controller_values(cluster_name=args.cluster_name, region=args.region, vpc_id=args.vpc_id,
                                       identity=identity.annotations)
        return release("aws-load-balancer-controller", ALB_CHART, args.alb_controller_chart_version,
                       ALB_SERVICE_ACCOUNT.namespace, values,
                       pulumi.ResourceOptions(parent=self, provider=args.provider,
                                              depends_on=[*identity.ready, *args.capacity]))

    def _external_dns(self, name: str, args: PlatformAddonsArgs) -> k8s.helm.v3.Release:
        dns_ns_name, dns_sa = EXTERNAL_DNS_SERVICE_ACCOUNT
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.capacity))
        dns_ns = k8s.core.v1.Namespace(
            f"{name}-external-dns",
            metadata={"name": dns_ns_name, "labels": {"app.kubernetes.io/managed-by": "pulumi",
                                                      "pod-security.kubernetes.io/enforce": "restricted"}},
            opts=k8s_opts)
        identity = workload_identity(
            f"{name}-external-dns", args.identity, namespace=dns_ns_name, service_account=dns_sa,
            policy=iam.json_output(iam.external_dns_policy, args.zone_arn), parent=self)
        values = external_dns_values(policy=args.external_dns_policy, cluster_name=args.cluster_name,
                                     region=args.region, zone_name=args.zone_name, zone_id=args.zone_id,
                                     identity=identity.annotations)
        # Not after the LB controller: with its Service mutator webhook off, nothing here races it.
        return release("external-dns", EXTERNAL_DNS_CHART, args.external_dns_chart_version, dns_ns.metadata.name,
                       values,
                       pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=identity.ready)))
