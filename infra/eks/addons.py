"""PlatformAddons: AWS Load Balancer Controller, ExternalDNS and metrics-server, each a pinned Helm
release on the new cluster, the two AWS-calling controllers with their own IRSA role."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .. import iam
from ..config import AddonsConfig
from .irsa import irsa_role

TYPE = "webstack:addons:PlatformAddons"
ALB_CHART = ("aws-load-balancer-controller", "https://aws.github.io/eks-charts")
EXTERNAL_DNS_CHART = ("external-dns", "https://kubernetes-sigs.github.io/external-dns/")
METRICS_SERVER_CHART = ("metrics-server", "https://kubernetes-sigs.github.io/metrics-server/")
ALB_SERVICE_ACCOUNT = ("kube-system", "aws-load-balancer-controller")
EXTERNAL_DNS_SERVICE_ACCOUNT = ("external-dns", "external-dns")
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


@dataclass(frozen=True)
class PlatformAddonsArgs:
    config: AddonsConfig
    cluster_name: pulumi.Input[str]
    region: str
    vpc_id: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    zone_id: pulumi.Input[str]
    zone_arn: pulumi.Input[str]
    zone_name: str
    provider: k8s.Provider
    tags: Mapping[str, str]


def _release(name: str, chart: tuple[str, str], version: str, namespace: pulumi.Input[str],
             values: Mapping[str, object], opts: pulumi.ResourceOptions) -> k8s.helm.v3.Release:
    return k8s.helm.v3.Release(
        name,
        name=name,
        chart=chart[0],
        version=version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart[1]),
        namespace=namespace,
        values=dict(values),
        # Wait until the workloads are ready (the controller's webhook must answer before anything
        # creates Services or Ingresses) and roll back a failed install instead of leaving it half-done.
        skip_await=False,
        atomic=True,
        cleanup_on_fail=True,
        timeout=600,
        opts=opts,
    )


class PlatformAddons(pulumi.ComponentResource):
    alb_controller: k8s.helm.v3.Release
    external_dns: k8s.helm.v3.Release
    metrics_server: k8s.helm.v3.Release

    def __init__(self, name: str, args: PlatformAddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        cfg = args.config
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)

        alb_ns, alb_sa = ALB_SERVICE_ACCOUNT
        alb_role = irsa_role(
            f"{name}-alb-controller", oidc_provider_arn=args.oidc_provider_arn, oidc_issuer=args.oidc_issuer,
            namespace=alb_ns, service_account=alb_sa,
            policy=iam.to_json(iam.alb_controller_policy(cfg.alb_controller_chart_version)),
            tags=args.tags, parent=self)
        self.alb_controller = _release(
            "aws-load-balancer-controller", ALB_CHART, cfg.alb_controller_chart_version, alb_ns,
            {
                # Set explicitly: with IMDS hop limit 1 the controller cannot discover them itself.
                "clusterName": args.cluster_name,
                "region": args.region,
                "vpcId": args.vpc_id,
                "replicaCount": 2,
                "podDisruptionBudget": {"maxUnavailable": 1},
                "serviceAccount": {"create": True, "name": alb_sa, "annotations": {IRSA_ANNOTATION: alb_role.arn}},
                "createIngressClassResource": True,
                "ingressClass": "alb",
            },
            pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[alb_role])),
        )

        dns_ns_name, dns_sa = EXTERNAL_DNS_SERVICE_ACCOUNT
        dns_ns = k8s.core.v1.Namespace(
            f"{name}-external-dns",
            metadata={"name": dns_ns_name, "labels": {"app.kubernetes.io/managed-by": "pulumi",
                                                      "pod-security.kubernetes.io/enforce": "restricted"}},
            opts=k8s_opts)
        dns_role = irsa_role(
            f"{name}-external-dns", oidc_provider_arn=args.oidc_provider_arn, oidc_issuer=args.oidc_issuer,
            namespace=dns_ns_name, service_account=dns_sa,
            policy=iam.json_output(iam.external_dns_policy, args.zone_arn), tags=args.tags, parent=self)
        self.external_dns = _release(
            "external-dns", EXTERNAL_DNS_CHART, cfg.external_dns_chart_version, dns_ns.metadata.name,
            {
                "provider": {"name": "aws"},
                "policy": cfg.external_dns_policy,
                "registry": "txt",
                # Unique per cluster: two clusters never fight over (or delete) each other's records.
                "txtOwnerId": pulumi.Output.concat(args.cluster_name, ".", args.region),
                "domainFilters": [args.zone_name],
                "extraArgs": ["--aws-zone-type=public", pulumi.Output.concat("--zone-id-filter=", args.zone_id)],
                "sources": ["ingress", "service"],
                "env": [{"name": "AWS_DEFAULT_REGION", "value": args.region}],
                "serviceAccount": {"create": True, "name": dns_sa, "annotations": {IRSA_ANNOTATION: dns_role.arn}},
            },
            # After the controller: its webhook intercepts Services, so nothing may race it.
            pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[dns_role,
                                                                                     self.alb_controller])),
        )

        self.metrics_server = _release(
            "metrics-server", METRICS_SERVER_CHART, cfg.metrics_server_chart_version, "kube-system",
            {"replicas": 2, "podDisruptionBudget": {"enabled": True, "minAvailable": 1}},
            pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.alb_controller])),
        )
        self.register_outputs({"alb_controller": self.alb_controller.status,
                               "external_dns": self.external_dns.status,
                               "metrics_server": self.metrics_server.status})
