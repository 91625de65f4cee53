"""infra/eks/runtime.py: config -> the EKS components' Args, every setting to its own field (stand-ins for the
components whose outputs the Args take)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from infra.config import LockFile, StackConfig, load_config
from infra.config.lock import lock_name
from infra.eks.runtime import addons_args, cluster_args, webapp_args
from infra.image import app_contract
from tests.support import carried, committed_lock

# Settings of the same type set apart from each other and from their defaults, so a swap shows.
RAW = {
    "zoneName": "example.com", "hostname": "app.example.com", "publicAccessCidrs": '["203.0.113.0/24"]',
    "clusterName": "shop", "nodeInstanceTypes": '["m7g.large", "m6g.large"]', "nodeCapacityType": "SPOT",
    "nodeMinSize": "2", "nodeDesiredSize": "4", "nodeMaxSize": "8", "nodeMaxUnavailable": "3",
    "nodeDiskSizeGb": "70", "nodeLabels": '{"team": "web"}', "addonVersions": '{"coredns": "v1.11.4-eksbuild.2"}',
    "adminPrincipalArns": '["arn:aws:iam::123456789012:role/admins"]', "clusterLogRetentionDays": "30",
    "appReplicas": "3", "hpaMinReplicas": "4", "hpaMaxReplicas": "9", "hpaCpuTargetPercent": "60",
    "appCpuRequest": "250m", "appCpuLimit": "750m", "appMemoryRequest": "100Mi", "appMemoryLimit": "300Mi",
    "serviceType": "ClusterIP", "externalDnsPolicy": "upsert-only",
    # Chart pins win over the lock (metrics-server's differs from the lock's; the others allow one version each).
    "albControllerChartVersion": "3.5.0", "externalDnsChartVersion": "1.21.1", "metricsServerChartVersion": "3.12.2",
    "clusterAutoscalerChartVersion": "9.59.0",
}
LOCK = committed_lock("dev")
NETWORK: Any = SimpleNamespace(vpc_id="vpc-1", public_subnet_ids=["pub-a"], private_subnet_ids=["priv-a"],
                               private_default_routes=["route-a"])
CLUSTER: Any = SimpleNamespace(cluster_name="shop", oidc_provider_arn="arn:oidc", oidc_issuer="oidc.example",
                               provider="k8s-provider", pod_identity_agent="agent-addon")
DNS: Any = SimpleNamespace(zone_id="Z1", zone_arn="arn:zone", zone_name="example.com", certificate_arn="arn:cert")


def config(**raw: Any) -> StackConfig:
    return load_config({**RAW, **raw}, project="webstack", stack="t", region="eu-west-1",
                       lock=LockFile(Path(lock_name("t")), LOCK))


def test_cluster_args_carry_the_cluster_and_node_settings() -> None:
    cfg = config()
    args = cluster_args(cfg, NETWORK, {"project": "webstack"})
    assert set(carried(args, cfg.cluster)) == {"name", "kubernetes_version", "endpoint_public_access",
                                               "public_access_cidrs", "admin_principal_arns",
                                               "viewer_principal_arns", "log_types", "log_retention_days"}
    # Every managed add-on: the lock's version, the config's pin where there is one.
    assert args.eks_addon_versions == {**LOCK["eksAddons"], "coredns": "v1.11.4-eksbuild.2"}
    assert LOCK["eksAddons"]["coredns"] != "v1.11.4-eksbuild.2"
    nodes = args.nodes
    assert nodes.release_version == LOCK["eksNodeReleaseVersions"]["arm64"]  # the nodes' architecture's
    assert set(carried(nodes, cfg.cluster, prefix="node_")) == {
        "instance_types", "architecture", "capacity_type", "disk_size_gb", "min_size", "desired_size", "max_size",
        "max_unavailable", "labels"}
    assert (nodes.min_size, nodes.desired_size, nodes.max_size, nodes.max_unavailable) == (2, 4, 8, 3)
    assert nodes.architecture == "arm64" and nodes.labels == {"team": "web"} and nodes.name_prefix == "shop-nodes-"
    assert (args.vpc_id, args.private_subnet_ids, args.egress_ready) == ("vpc-1", ["priv-a"], ["route-a"])
    assert args.partition == "aws"


def test_addons_args_carry_the_chart_versions_and_the_clusters_identity() -> None:
    cfg = config()
    args = addons_args(cfg, CLUSTER, NETWORK, DNS, {})
    assert set(carried(args, cfg.addons)) == {
        "alb_controller_chart_version", "external_dns_chart_version", "external_dns_policy",
        "metrics_server_chart_version", "cluster_autoscaler_chart_version"}
    # webstack:workloadIdentity (default pod-identity) and what both modes need of the cluster.
    identity = args.identity
    assert identity.mode == cfg.addons.workload_identity == "pod-identity"
    assert (identity.cluster_name, identity.oidc_provider_arn, identity.oidc_issuer, identity.pod_identity_agent) == (
        "shop", "arn:oidc", "oidc.example", "agent-addon")
    assert addons_args(config(workloadIdentity="irsa"), CLUSTER, NETWORK, DNS, {}).identity.mode == "irsa"
    assert args.metrics_server_chart_version == "3.12.2" != LOCK["charts"]["metrics-server"]
    assert args.external_dns_policy == "upsert-only" and args.kubernetes_version == cfg.cluster.kubernetes_version
    assert (args.zone_arn, args.zone_name, args.provider) == ("arn:zone", "example.com", "k8s-provider")


def test_chart_versions_nobody_pins_are_the_locks() -> None:
    keys = ("albControllerChartVersion", "externalDnsChartVersion", "metricsServerChartVersion",
            "clusterAutoscalerChartVersion")
    args = addons_args(config(**dict.fromkeys(keys)), CLUSTER, NETWORK, DNS, {})
    charts = LOCK["charts"]
    assert (args.alb_controller_chart_version, args.external_dns_chart_version, args.metrics_server_chart_version,
            args.cluster_autoscaler_chart_version) == (
        charts["aws-load-balancer-controller"], charts["external-dns"], charts["metrics-server"],
        charts["cluster-autoscaler"])


def test_webapp_args_carry_the_app_settings_and_the_image_contract() -> None:
    cfg = config()
    image: Any = SimpleNamespace(repo_digest="repo@sha256:abc")
    args = webapp_args(cfg, image, CLUSTER, DNS, firewall=None, ingress_controllers=[])
    assert set(carried(args, cfg.app)) == {
        "name", "namespace", "replicas", "cpu_request", "memory_request", "cpu_limit", "memory_limit",
        "hpa_min_replicas", "hpa_max_replicas", "hpa_cpu_target_percent", "progress_deadline_seconds",
        "service_type", "target_type", "load_balancer_name", "ssl_policy", "on_fargate"}
    assert (args.replicas, args.hpa_min_replicas, args.hpa_max_replicas) == (3, 4, 9)
    assert (args.cpu_request, args.cpu_limit, args.memory_request, args.memory_limit) == (
        "250m", "750m", "100Mi", "300Mi")
    assert args.target_type == "ip" and args.architecture == "arm64"
    contract = app_contract()
    assert (args.container_port, args.health_path) == (contract["port"], contract["healthPath"])
    assert (args.image, args.hostname, args.certificate_arn) == ("repo@sha256:abc", "app.example.com", "arn:cert")
    # no firewall: the Ingress asks the controller to detach any (annotation "none"); the controller's target
    # groups are found by this cluster's name
    assert (args.waf_acl_arn, args.cluster_name) == (None, "shop")
    firewall: Any = SimpleNamespace(arn="arn:acl")
    assert webapp_args(cfg, image, CLUSTER, DNS, firewall=firewall, ingress_controllers=[]).waf_acl_arn == "arn:acl"
    # deletionProtection (off outside prod*) reaches the Ingress's ALB and the cluster alike
    protected = config(deletionProtection=True)
    assert not args.deletion_protection and not cluster_args(cfg, NETWORK, {}).deletion_protection
    assert webapp_args(protected, image, CLUSTER, DNS, firewall=None, ingress_controllers=[]).deletion_protection
    assert cluster_args(protected, NETWORK, {}).deletion_protection
