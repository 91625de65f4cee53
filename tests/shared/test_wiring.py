"""infra/wiring.py: config -> the shared components' Args, every setting to its own field."""

from __future__ import annotations

from infra.config import StackConfig, load_config
from infra.wiring import dns_args, network_args, registry_args
from tests.support import carried

# Settings of the same type set apart from each other and from their defaults, so a swap shows.
RAW = {
    "zoneName": "example.com", "hostname": "app.example.com", "publicAccessCidrs": '["203.0.113.0/24"]',
    "azCount": "3", "privateSubnetPrefixLength": "20", "publicSubnetPrefixLength": "25", "natStrategy": "per-az",
    "flowLogsEnabled": "true", "flowLogsRetentionDays": "30", "untaggedImageExpiryDays": "7",
    "imagesToKeep": "50", "registryForceDelete": "true", "certificateExtraNames": '["www.example.com"]',
    "createZone": "true", "clusterName": "shop",
}


def config() -> StackConfig:
    return load_config(RAW, project="webstack", stack="t", region="eu-west-1")


def test_network_args_carry_the_network_settings() -> None:
    cfg, tags = config(), {"project": "webstack"}
    args = network_args(cfg, tags, "123456789012")
    assert set(carried(args, cfg.network)) == {
        "vpc_cidr", "az_count", "private_subnet_prefix_length", "public_subnet_prefix_length", "nat_strategy",
        "flow_logs_enabled", "flow_logs_retention_days"}
    assert (args.private_subnet_prefix_length, args.public_subnet_prefix_length) == (20, 25)
    assert (args.cluster_name, args.region, args.tags) == ("shop", "eu-west-1", tags)
    assert (args.partition, args.account_id) == ("aws", "123456789012")


def test_registry_and_dns_args_carry_their_settings() -> None:
    cfg, tags = config(), {"project": "webstack"}
    registry = registry_args(cfg, tags)
    assert set(carried(registry, cfg.registry)) == {"repository_name", "encryption", "kms_key_arn", "force_delete",
                                                    "untagged_expiry_days", "images_to_keep"}
    assert (registry.untagged_expiry_days, registry.images_to_keep, registry.force_delete) == (7, 50, True)
    dns = dns_args(cfg, tags)
    assert set(carried(dns, cfg.dns)) == {"zone_name", "create_zone", "zone_id", "hostname",
                                               "certificate_extra_names"}
    assert dns.certificate_extra_names == ("www.example.com",) and dns.create_zone is True
    assert registry.tags == dns.tags == tags
