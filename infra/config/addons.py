"""Platform add-on keys: pinned chart versions (controller, ExternalDNS, metrics-server, Cluster Autoscaler) and
the ExternalDNS policy."""

from __future__ import annotations

from dataclasses import dataclass

from .core import matches, one_of, setting

# The chart versions whose published IAM policy / values schema this project ships (infra/data/).
ALB_CONTROLLER_CHART_VERSIONS = ("3.5.0",)
EXTERNAL_DNS_CHART_VERSIONS = ("1.21.1",)
# Cluster Autoscaler chart versions whose values keys the tests check (tests/data/charts/).
CLUSTER_AUTOSCALER_CHART_VERSIONS = ("9.59.0",)


@dataclass(frozen=True, kw_only=True)
class AddonsConfig:
    alb_controller_chart_version: str = setting(
        "albControllerChartVersion", "3.5.0", "aws-load-balancer-controller chart version.",
        one_of(*ALB_CONTROLLER_CHART_VERSIONS))
    external_dns_chart_version: str = setting("externalDnsChartVersion", "1.21.1", "external-dns chart version.",
                                              one_of(*EXTERNAL_DNS_CHART_VERSIONS))
    external_dns_policy: str = setting(
        "externalDnsPolicy", "sync",
        "ExternalDNS policy: 'sync' (deletes the records it owns once their Ingress is gone) or 'upsert-only' "
        "(never deletes records).",
        one_of("upsert-only", "sync"))
    metrics_server_chart_version: str = setting(
        "metricsServerChartVersion", "3.13.0", "metrics-server chart version.",
        matches(r"[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}", "3.13.0", "an exact chart version"))
    cluster_autoscaler_chart_version: str = setting(
        "clusterAutoscalerChartVersion", CLUSTER_AUTOSCALER_CHART_VERSIONS[0],
        "cluster-autoscaler chart version (it scales the node group between nodeMinSize and nodeMaxSize).",
        one_of(*CLUSTER_AUTOSCALER_CHART_VERSIONS))
