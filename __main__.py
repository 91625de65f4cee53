"""webstack: an HTTPS web app on EKS, fed from a private ECR registry, in one `pulumi up`.

Reads like the architecture: config -> network, registry, DNS/TLS -> cluster, image ->
platform add-ons -> workload -> outputs. No resource is declared here directly.
"""

import pulumi

from infra.config import from_pulumi
from infra.dns import Dns, DnsArgs
from infra.eks.addons import PlatformAddons, PlatformAddonsArgs
from infra.eks.cluster import Cluster, ClusterArgs
from infra.eks.workload import WebApp, WebAppArgs
from infra.image import AppImage, AppImageArgs
from infra.network import Network, NetworkArgs
from infra.registry import Registry, RegistryArgs
from infra.tags import common_tags

cfg = from_pulumi()  # validates everything first: a bad config declares nothing
tags = common_tags(cfg)

network = Network("network", NetworkArgs(cfg.network, cfg.cluster.name, cfg.region, tags))
registry = Registry("registry", RegistryArgs(cfg.registry, tags))
dns = Dns("dns", DnsArgs(config=cfg.dns, tags=tags))

cluster = Cluster("cluster", ClusterArgs(
    config=cfg.cluster, vpc_id=network.vpc_id, public_subnet_ids=network.public_subnet_ids,
    private_subnet_ids=network.private_subnet_ids, egress_ready=network.private_default_routes, tags=tags))
# Built and pushed while the control plane is created: the image does not depend on the cluster.
image = AppImage("app", AppImageArgs(repository_url=registry.repository_url, registry_id=registry.registry_id,
                                     architecture=cfg.cluster.node_architecture))

addons = PlatformAddons("platform", PlatformAddonsArgs(
    config=cfg.addons, kubernetes_version=cfg.cluster.kubernetes_version, cluster_name=cluster.cluster_name,
    region=cfg.region, vpc_id=network.vpc_id, oidc_provider_arn=cluster.oidc_provider_arn,
    oidc_issuer=cluster.oidc_issuer, zone_id=dns.zone_id, zone_arn=dns.zone_arn, zone_name=dns.zone_name,
    provider=cluster.provider, tags=tags))

app = WebApp("webapp", WebAppArgs(
    config=cfg.app, image=image.repo_digest, architecture=cfg.cluster.node_architecture,
    hostname=cfg.dns.hostname, certificate_arn=dns.certificate_arn, provider=cluster.provider,
    ingress_controllers=[addons.alb_controller, addons.dns_drain]))

pulumi.export("url", app.url)
pulumi.export("alb_hostname", app.alb_hostname)
pulumi.export("cluster_name", cluster.cluster_name)
pulumi.export("cluster_endpoint", cluster.endpoint)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("oidc_provider_arn", cluster.oidc_provider_arn)
pulumi.export("node_role_arn", cluster.node_role_arn)
pulumi.export("node_security_group_id", cluster.node_security_group_id)
pulumi.export("vpc_id", network.vpc_id)
pulumi.export("public_subnet_ids", network.public_subnet_ids)
pulumi.export("private_subnet_ids", network.private_subnet_ids)
pulumi.export("registry_url", registry.repository_url)
pulumi.export("image_digest", image.repo_digest)
pulumi.export("zone_name_servers", dns.name_servers)
pulumi.export("certificate_arn", dns.certificate_arn)
