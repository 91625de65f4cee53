"""Platform add-on keys: chart version pins (controller, ExternalDNS, metrics-server, Cluster Autoscaler), the
ExternalDNS policy and how the add-ons get their AWS identity. A chart version key left empty takes the stack's
version lock (Pulumi.<stack>.lock.yaml, infra/config/lock.py); set, it pins that version and wins over the lock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .core import matches, one_of, setting, when_set

# The chart versions whose published IAM policy / values schema this project ships (infra/data/).
ALB_CONTROLLER_CHART_VERSIONS = ("3.5.0",)
EXTERNAL_DNS_CHART_VERSIONS = ("1.21.1",)
# Cluster Autoscaler chart versions whose values keys the tests check (tests/data/charts/).
CLUSTER_AUTOSCALER_CHART_VERSIONS = ("9.59.0",)
CHART_VERSION = r"[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}"


class ChartPin(NamedTuple):
    """A chart the EKS runtime installs: its config key (a pin), the AddonsConfig field, and the versions this
    project supports (empty: any exact version)."""

    key: str
    attr: str
    supported: tuple[str, ...]


# By chart name (infra/eks keeps each chart's repository next to its release; a test keeps the names equal).
CHARTS = {
    "aws-load-balancer-controller": ChartPin("albControllerChartVersion", "alb_controller_chart_version",
                                             ALB_CONTROLLER_CHART_VERSIONS),
    "external-dns": ChartPin("externalDnsChartVersion", "external_dns_chart_version", EXTERNAL_DNS_CHART_VERSIONS),
    "metrics-server": ChartPin("metricsServerChartVersion", "metrics_server_chart_version", ()),
    "cluster-autoscaler": ChartPin("clusterAutoscalerChartVersion", "cluster_autoscaler_chart_version",
                                   CLUSTER_AUTOSCALER_CHART_VERSIONS),
}
_LOCKED = " Empty: the version in the stack's lock (make bump)."
WORKLOAD_IDENTITIES = ("pod-identity", "irsa")


@dataclass(frozen=True, kw_only=True)
class AddonsConfig:
    alb_controller_chart_version: str = setting(
        "albControllerChartVersion", "", "Pins the aws-load-balancer-controller chart version." + _LOCKED,
        when_set(one_of(*ALB_CONTROLLER_CHART_VERSIONS)))
    external_dns_chart_version: str = setting(
        "externalDnsChartVersion", "", "Pins the external-dns chart version." + _LOCKED,
        when_set(one_of(*EXTERNAL_DNS_CHART_VERSIONS)))
    external_dns_policy: str = setting(
        "externalDnsPolicy", "sync",
        "ExternalDNS policy: 'sync' (deletes the records it owns once their Ingress is gone) or 'upsert-only' "
        "(never deletes records).",
        one_of("upsert-only", "sync"))
    metrics_server_chart_version: str = setting(
        "metricsServerChartVersion", "", "Pins the metrics-server chart version." + _LOCKED,
        when_set(matches(CHART_VERSION, "3.13.0", "an exact chart version")))
    cluster_autoscaler_chart_version: str = setting(
        "clusterAutoscalerChartVersion", "",
        "Pins the cluster-autoscaler chart version (it scales the node group between nodeMinSize and nodeMaxSize)."
        + _LOCKED, when_set(one_of(*CLUSTER_AUTOSCALER_CHART_VERSIONS)))
    workload_identity: str = setting(
        "workloadIdentity", "pod-identity",
        "How the add-ons that call AWS (LB controller, ExternalDNS, Cluster Autoscaler) get their IAM role: "
        "'pod-identity' (an EKS Pod Identity association per service account, its role trusted by "
        "pods.eks.amazonaws.com for this cluster, namespace and service account) or 'irsa' (IAM roles for service "
        "accounts through the cluster's OIDC provider). A switch creates the new role and association before the "
        "controllers roll and the old role goes: docs/operations.md, \"Switching workloadIdentity\".",
        one_of(*WORKLOAD_IDENTITIES))
