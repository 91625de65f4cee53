"""infra/wiring.py for the operations components: config -> the firewall's and the alarms' Args, every setting to
its own field (settings of one type set apart, so a swap shows)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from infra.config import LockFile, StackConfig, load_config
from infra.config.lock import lock_name
from infra.monitoring import EcsServiceMetrics
from infra.wiring import alarms_args, waf_args

RAW = {"zoneName": "example.com", "hostname": "app.example.com", "publicAccessCidrs": '["203.0.113.0/24"]',
       "alarmEmails": '["a@example.com", "b@example.com"]', "alarm5xxPercent": "7", "alarmLatencyP99Ms": "450",
       "wafEnabled": "true", "wafRateLimit": "600", "wafLogRetentionDays": "30"}


VERSIONS = {"AWSManagedRulesCommonRuleSet": "Version_1.19", "AWSManagedRulesKnownBadInputsRuleSet": "unpinned"}
LOCK = {"region": "eu-west-1", "kubernetesVersion": "1.35",
        "eksAddons": {"aws-ebs-csi-driver": "v1.59.0-eksbuild.1", "coredns": "v1.12.4-eksbuild.1",
                      "eks-pod-identity-agent": "v1.3.10-eksbuild.1",
                      "kube-proxy": "v1.35.0-eksbuild.2", "vpc-cni": "v1.20.4-eksbuild.1"},
        "eksNodeReleaseVersions": {"amd64": "1.35.3-20261023", "arm64": "1.35.3-20261023"},
        "charts": {"aws-load-balancer-controller": "3.5.0", "cluster-autoscaler": "9.59.0", "external-dns": "1.21.1",
                   "metrics-server": "3.13.0"},
        "wafRuleGroups": VERSIONS}


def config() -> StackConfig:
    return load_config(RAW, project="webstack", stack="shop", region="eu-west-1",
                       lock=LockFile(Path(lock_name("shop")), LOCK))


def test_waf_args_carry_the_firewall_settings() -> None:
    cfg, tags = config(), {"project": "webstack"}
    eks = waf_args(cfg, tags, alb_arn=None, account="210987654321")
    assert (eks.name, eks.rate_limit, eks.log_retention_days) == ("webstack-shop-app", 600, 30)
    # the lock's versions, `unpinned` as None (AWS's default version)
    assert eks.group_versions == {"AWSManagedRulesCommonRuleSet": "Version_1.19",
                                  "AWSManagedRulesKnownBadInputsRuleSet": None}
    assert (eks.alb_arn, eks.region, eks.partition, eks.account_id, eks.tags) == (
        None, "eu-west-1", "aws", "210987654321", tags)
    assert waf_args(cfg, tags, alb_arn="arn:alb", account="1").alb_arn == "arn:alb"


def test_alarms_args_carry_the_alarm_settings() -> None:
    cfg, tags = config(), {"project": "webstack"}
    firewall: Any = SimpleNamespace(metric_name="webstack-shop-app")
    service = EcsServiceMetrics(cluster_name="c", service_name="s", container_insights=True)
    args = alarms_args(cfg, tags, load_balancer="app/lb/1", target_group="targetgroup/tg/2", ecs_service=service,
                       firewall=firewall, after=[], account="210987654321")
    assert (args.prefix, tuple(args.emails), args.five_xx_percent, args.latency_p99_ms) == (
        "webstack-shop", ("a@example.com", "b@example.com"), 7, 450)
    assert (args.load_balancer, args.target_group, args.ecs_service, args.waf_metric_name) == (
        "app/lb/1", "targetgroup/tg/2", service, "webstack-shop-app")
    assert (args.region, args.partition, args.account_id, args.tags) == ("eu-west-1", "aws", "210987654321", tags)
    assert alarms_args(cfg, tags, load_balancer="x", target_group="y", ecs_service=None, firewall=None, after=[],
                       account="1").waf_metric_name is None
