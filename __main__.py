"""webstack: an HTTPS web app on EKS, fed from a private ECR registry, in one `pulumi up`.

Reads like the architecture: config -> network, registry, DNS/TLS -> cluster, image ->
platform add-ons -> workload -> outputs. No resource is declared here directly.
"""

import pulumi

from infra.config import from_pulumi
from infra.dns import Dns, DnsArgs
from infra.network import Network, NetworkArgs
from infra.registry import Registry, RegistryArgs
from infra.tags import common_tags

cfg = from_pulumi()  # validates everything first: a bad config declares nothing
tags = common_tags(cfg)

network = Network("network", NetworkArgs(cfg.network, cfg.cluster.name, cfg.region, tags))
registry = Registry("registry", RegistryArgs(cfg.registry, tags))
dns = Dns("dns", DnsArgs(cfg.dns, tags))

pulumi.export("vpc_id", network.vpc_id)
pulumi.export("public_subnet_ids", network.public_subnet_ids)
pulumi.export("private_subnet_ids", network.private_subnet_ids)
pulumi.export("registry_url", registry.repository_url)
pulumi.export("zone_name_servers", dns.name_servers)
pulumi.export("certificate_arn", dns.certificate_arn)
