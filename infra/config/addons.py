"""Platform add-on keys: chart version pins (controller, ExternalDNS, metrics-server, Cluster Autoscaler), the
ExternalDNS policy, how the add-ons get their AWS identity and the cluster's storage (storageReclaimPolicy,
efsCsiEnabled: docs/nodes.md, "Storage"). A chart version key left empty takes the stack's
version lock (Pulumi.<stack>.lock.yaml, infra/config/lock.py); set, it pins that version and wins over the lock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from .core import matches, one_of, rule, setting, when_set

if TYPE_CHECKING:
    from .stack import StackConfig

# The chart versions whose published IAM policy / values schema this project ships (infra/data/).
ALB_CONTROLLER_CHART_VERSIONS = ("3.5.0",)
EXTERNAL_DNS_CHART_VERSIONS = ("1.21.1",)
# Cluster Autoscaler chart versions whose values keys the tests check (tests/data/charts/).
CLUSTER_AUTOSCALER_CHART_VERSIONS = ("9.59.0",)
# Karpenter chart versions whose published IAM policy (infra/data/) and CRD schemas (tests/data/crds/) this project
# ships. Each supports these Kubernetes minors (the upstream compatibility matrix,
# hack/docs/compatibilitymatrix_gen/compatibility.yaml: 1.14.x runs on 1.26 to 1.36).
KARPENTER_CHART_VERSIONS = ("1.14.1",)
KARPENTER_KUBERNETES = {"1.14.1": ("1.26", "1.36")}
CHART_VERSION = r"[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}"


class ChartPin(NamedTuple):
    """A chart the EKS runtime installs: its config key (a pin), the AddonsConfig field, the versions this
    project supports (empty: any exact version) and the node provisioners that install it."""

    key: str
    attr: str
    supported: tuple[str, ...]
    provisioners: tuple[str, ...] = ("managed-nodegroup", "karpenter", "auto-mode")


# By chart name (infra/eks keeps each chart's repository next to its release; a test keeps the names equal).
CHARTS = {
    # EKS Auto Mode runs its own load balancing (IngressClass controller eks.amazonaws.com/alb): no controller.
    "aws-load-balancer-controller": ChartPin("albControllerChartVersion", "alb_controller_chart_version",
                                             ALB_CONTROLLER_CHART_VERSIONS, ("managed-nodegroup", "karpenter")),
    "external-dns": ChartPin("externalDnsChartVersion", "external_dns_chart_version", EXTERNAL_DNS_CHART_VERSIONS),
    "metrics-server": ChartPin("metricsServerChartVersion", "metrics_server_chart_version", ()),
    "cluster-autoscaler": ChartPin("clusterAutoscalerChartVersion", "cluster_autoscaler_chart_version",
                                   CLUSTER_AUTOSCALER_CHART_VERSIONS, ("managed-nodegroup",)),
    # The karpenter and karpenter-crd charts are released together with the same version: one entry.
    "karpenter": ChartPin("karpenterChartVersion", "karpenter_chart_version", KARPENTER_CHART_VERSIONS,
                          ("karpenter",)),
}


def charts_of(provisioner: str) -> dict[str, ChartPin]:
    """The charts a stack with this node provisioner installs (the lock must hold exactly those)."""
    return {name: pin for name, pin in CHARTS.items() if provisioner in pin.provisioners}


_LOCKED = " Empty: the version in the stack's lock (make bump)."
WORKLOAD_IDENTITIES = ("pod-identity", "irsa")
# A StorageClass's reclaimPolicy (Recycle is deprecated and refused by the CSI provisioners).
RECLAIM_POLICIES = ("Retain", "Delete")


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
    karpenter_chart_version: str = setting(
        "karpenterChartVersion", "",
        "Pins the karpenter (and karpenter-crd) chart version, nodeProvisioner 'karpenter' only." + _LOCKED,
        when_set(one_of(*KARPENTER_CHART_VERSIONS)))
    workload_identity: str = setting(
        "workloadIdentity", "pod-identity",
        "How the add-ons that call AWS (LB controller, ExternalDNS, Cluster Autoscaler or Karpenter, the CSI drivers) "
        "get their IAM "
        "role: 'pod-identity' (an EKS Pod Identity association per service account, its role trusted by "
        "pods.eks.amazonaws.com for this cluster, namespace and service account) or 'irsa' (IAM roles for service "
        "accounts through the cluster's OIDC provider). A switch creates the new role and association before the "
        "controllers roll and the old role goes: docs/operations.md, \"Switching workloadIdentity\".",
        one_of(*WORKLOAD_IDENTITIES))
    storage_reclaim_policy: str = setting(
        "storageReclaimPolicy", "Retain",
        "What the cluster's StorageClasses (gp3, and efs with efsCsiEnabled) do with a volume once its "
        "PersistentVolumeClaim is deleted: 'Retain' (the safe production default: the EBS volume or EFS access point "
        "stays, and is billed, until deleted by hand) or 'Delete' (it goes with the claim; for dev stacks). A change "
        "replaces the classes (a StorageClass's reclaimPolicy is immutable), not the volumes: docs/nodes.md, "
        "\"Storage\".",
        one_of(*RECLAIM_POLICIES))
    efs_csi_enabled: bool = setting(
        "efsCsiEnabled", False,
        "Adds the EFS CSI driver (managed add-on), an encrypted EFS file system (TLS only, backed up) with a mount "
        "target in every private subnet (NFS from the cluster's security group only), an access point with its "
        "static PersistentVolume 'efs-shared' (what Fargate pods can mount) and the StorageClass 'efs' (an access "
        "point per claim, EC2 nodes only). Turning it off deletes them (the file system too, unless protected).")


def _pin_needs_its_provisioner(chart: str, pin: ChartPin) -> None:
    @rule(pin.key, "nodeProvisioner")
    def check(cfg: StackConfig) -> str | None:
        if not getattr(cfg.addons, pin.attr) or cfg.cluster.node_provisioner in pin.provisioners:
            return None
        return (f"pins the {chart} chart, which nodeProvisioner {cfg.cluster.node_provisioner!r} does not install "
                f"(only {', '.join(pin.provisioners)}): remove it")


for _chart, _pin in CHARTS.items():
    if _pin.provisioners != ChartPin._field_defaults["provisioners"]:
        _pin_needs_its_provisioner(_chart, _pin)
