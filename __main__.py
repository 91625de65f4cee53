"""webstack: an HTTPS web app on EKS, fed from a private ECR registry, in one `pulumi up`.

Reads like the architecture: config -> network, registry, DNS/TLS -> cluster, image ->
platform add-ons -> workload -> outputs. No resource is declared here directly.
"""

from infra.config import from_pulumi
from infra.dns import Dns, DnsArgs
from infra.eks.addons import PlatformAddons, PlatformAddonsArgs
from infra.eks.cluster import Cluster, ClusterArgs
from infra.eks.workload import WebApp, WebAppArgs
from infra.image import AppImage, AppImageArgs
from infra.network import Network, NetworkArgs
from infra.outputs import export
from infra.registry import Registry, RegistryArgs
from infra.tags import common_tags

cfg = from_pulumi()  # validates everything first: a bad config declares nothing
tags = common_tags(cfg)

network = Network("network", NetworkArgs(config=cfg.network, cluster_name=cfg.cluster.name, region=cfg.region,
                                          tags=tags))
registry = Registry("registry", RegistryArgs(config=cfg.registry, tags=tags))
dns = Dns("dns", DnsArgs(config=cfg.dns, tags=tags))

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

export("url", app.url, "The app's address, `https://<hostname>`.")
export("alb_hostname", app.alb_hostname, "DNS name of the ALB the Ingress created (the app's record aliases it).")
export("cluster_name", cluster.cluster_name, "EKS cluster name (for `aws eks update-kubeconfig --name`).")
export("cluster_endpoint", cluster.endpoint, "URL of the cluster's Kubernetes API server.")
export("kubeconfig", cluster.kubeconfig,
       "Kubeconfig of the cluster; it authenticates with `aws eks get-token` (AWS CLI on PATH).")
export("oidc_provider_arn", cluster.oidc_provider_arn, "The cluster's IAM OIDC provider, for IRSA trust policies.")
export("node_role_arn", cluster.node_role_arn, "IAM role of the managed node group's instances.")
export("node_security_group_id", cluster.node_security_group_id, "Security group of the worker nodes.")
export("vpc_id", network.vpc_id, "The VPC everything runs in.")
export("public_subnet_ids", network.public_subnet_ids, "Public subnets (load balancers, NAT gateways), one per AZ.")
export("private_subnet_ids", network.private_subnet_ids, "Private subnets (nodes and pods), one per AZ.")
export("registry_url", registry.repository_url, "URL of the ECR repository the app image is pushed to.")
export("image_digest", image.repo_digest, "The deployed image, `<repository>@sha256:<digest>`.")
export("zone_name_servers", dns.name_servers,
       "Name servers of the public zone: with createZone, set them as NS records at your registrar.")
export("certificate_arn", dns.certificate_arn, "ARN of the validated ACM certificate the ALB serves.")
