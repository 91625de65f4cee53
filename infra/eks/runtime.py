"""The EKS runtime's wiring: cluster and node group -> image (built meanwhile) -> platform add-ons -> the app's
workload. A plain function, not a component: the resources keep the URNs they always had."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from ..config import StackConfig
from ..dns import Dns
from ..image import AppImage, AppImageArgs
from ..network import Network
from ..registry import Registry
from .addons import PlatformAddons, PlatformAddonsArgs
from .cluster import Cluster, ClusterArgs
from .workload import WebApp, WebAppArgs


@dataclass(frozen=True, kw_only=True)
class EksRuntime:
    """What the stack exports from the EKS runtime."""

    url: str
    alb_hostname: pulumi.Output[str]
    image: AppImage
    cluster: Cluster


def eks_runtime(cfg: StackConfig, *, network: Network, registry: Registry, dns: Dns,
                tags: Mapping[str, str]) -> EksRuntime:
    cluster = Cluster("cluster", ClusterArgs(
        config=cfg.cluster, vpc_id=network.vpc_id, public_subnet_ids=network.public_subnet_ids,
        private_subnet_ids=network.private_subnet_ids, egress_ready=network.private_default_routes,
        partition=cfg.partition, tags=tags))
    # Built and pushed while the control plane is created: the image does not depend on the cluster.
    image = AppImage("app", AppImageArgs(repository_url=registry.repository_url, registry_id=registry.registry_id,
                                         architecture=cfg.cluster.node_architecture))

    addons = PlatformAddons("platform", PlatformAddonsArgs(
        config=cfg.addons, kubernetes_version=cfg.cluster.kubernetes_version, cluster_name=cluster.cluster_name,
        region=cfg.region, partition=cfg.partition, vpc_id=network.vpc_id, oidc_provider_arn=cluster.oidc_provider_arn,
        oidc_issuer=cluster.oidc_issuer, zone_id=dns.zone_id, zone_arn=dns.zone_arn, zone_name=dns.zone_name,
        provider=cluster.provider, tags=tags))

    app = WebApp("webapp", WebAppArgs(
        config=cfg.app, image=image.repo_digest, architecture=cfg.cluster.node_architecture,
        hostname=cfg.dns.hostname, certificate_arn=dns.certificate_arn, provider=cluster.provider,
        ingress_controllers=[addons.alb_controller, addons.dns_drain]))

    return EksRuntime(url=app.url, alb_hostname=app.alb_hostname, image=image, cluster=cluster)
