"""The shared components' wiring: config -> the Args of the network, registry and DNS, which both runtimes use.

Every component takes explicit plain fields, never a config section: its Args says exactly what it uses, and it
does not change when the config schema does. Mapping config to Args is the wiring's job: here for the shared
components, `infra/eks/runtime.py` and `infra/ecs/runtime.py` for each runtime's own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from .config import StackConfig, ops_prefix
from .dns import DnsArgs
from .monitoring import AlarmsArgs, EcsServiceMetrics
from .network import NetworkArgs
from .registry import RegistryArgs
from .waf import WebAcl, WebAclArgs


def network_args(cfg: StackConfig, tags: Mapping[str, str], account_id: pulumi.Input[str]) -> NetworkArgs:
    """`account_id`: the deploying account (aws.get_caller_identity), for the flow logs role's trust."""
    net = cfg.network
    return NetworkArgs(
        vpc_cidr=net.vpc_cidr, az_count=net.az_count, zone_ids=net.availability_zone_ids,
        private_subnet_prefix_length=net.private_subnet_prefix_length,
        public_subnet_prefix_length=net.public_subnet_prefix_length, nat_strategy=net.nat_strategy,
        flow_logs_enabled=net.flow_logs_enabled, flow_logs_retention_days=net.flow_logs_retention_days,
        cluster_name=cfg.cluster.name, region=cfg.region, partition=cfg.partition, account_id=account_id, tags=tags)


def registry_args(cfg: StackConfig, tags: Mapping[str, str]) -> RegistryArgs:
    reg = cfg.registry
    return RegistryArgs(
        repository_name=reg.repository_name, encryption=reg.encryption, kms_key_arn=reg.kms_key_arn,
        force_delete=reg.force_delete, untagged_expiry_days=reg.untagged_expiry_days,
        images_to_keep=reg.images_to_keep, tags=tags)


def dns_args(cfg: StackConfig, tags: Mapping[str, str]) -> DnsArgs:
    return DnsArgs(zone_name=cfg.dns.zone_name, create_zone=cfg.dns.create_zone, zone_id=cfg.dns.zone_id,
                   hostname=cfg.dns.hostname, certificate_extra_names=cfg.dns.certificate_extra_names, tags=tags)


def account_id() -> pulumi.Output[str]:
    """The deploying account's id (policies name it in their confused-deputy conditions)."""
    return aws.get_caller_identity_output().account_id


def waf_args(cfg: StackConfig, tags: Mapping[str, str], *, alb_arn: pulumi.Input[str] | None,
             account: pulumi.Input[str]) -> WebAclArgs:
    """The firewall of either runtime: ECS attaches it to its ALB (`alb_arn`), EKS through the Ingress (None)."""
    ops = cfg.ops
    return WebAclArgs(name=f"{ops_prefix(cfg)}-app", rate_limit=ops.waf_rate_limit,
                      log_retention_days=ops.waf_log_retention_days,
                      group_versions=dict(cfg.versions.waf_rule_groups), alb_arn=alb_arn, region=cfg.region,
                      partition=cfg.partition, account_id=account, tags=tags)


def alarms_args(cfg: StackConfig, tags: Mapping[str, str], *, load_balancer: pulumi.Input[str],
                target_group: pulumi.Input[str], ecs_service: EcsServiceMetrics | None, firewall: WebAcl | None,
                after: Sequence[pulumi.Resource], account: pulumi.Input[str],
                alternate_target_group: pulumi.Input[str] | None = None) -> AlarmsArgs:
    """The alarms of either runtime, on its ALB and target group(s) (and, on ECS, its service's tasks)."""
    ops = cfg.ops
    return AlarmsArgs(
        prefix=ops_prefix(cfg), emails=ops.alarm_emails, load_balancer=load_balancer, target_group=target_group,
        five_xx_percent=ops.alarm_5xx_percent, latency_p99_ms=ops.alarm_latency_p99_ms, ecs_service=ecs_service,
        waf_metric_name=firewall.metric_name if firewall else None, after=after, region=cfg.region,
        partition=cfg.partition, account_id=account, tags=tags,
        alternate_target_group=alternate_target_group)
