"""The EKS runtime's wiring: cluster and node group -> image (built meanwhile) -> platform add-ons -> the app's
workload. A plain function, not a component: the resources keep the URNs they always had.

Config -> Args happens here (and only here for the EKS components): each component takes explicit plain fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from ..config import StackConfig
from ..config.cluster import EBS_CSI_ADDON, EFS_CSI_ADDON
from ..config.lock import karpenter_ami_alias
from ..dns import Dns
from ..image import AppImage, AppImageArgs, app_contract
from ..monitoring import Alarms
from ..network import Network
from ..registry import Registry
from ..waf import WebAcl
from ..wiring import account_id, alarms_args, waf_args
from .addons import PlatformAddons, PlatformAddonsArgs
from .automode import INGRESS_CLASS as AUTO_MODE_INGRESS_CLASS
from .automode import AutoMode, AutoModeArgs
from .cluster import Cluster, ClusterArgs, NodeGroupSpec
from .ebs_csi import EbsCsi, EbsCsiArgs, class_urn
from .efs_csi import EfsCsi, EfsCsiArgs
from .fargate import AppFargateProfile, AppFargateProfileArgs
from .identity import IdentityContext, cluster_arn
from .karpenter import Karpenter, KarpenterArgs
from .workload import RUN_AS, WebApp, WebAppArgs

EBS_CSI = "ebs-csi"  # the EbsCsi component's name (Auto Mode's class aliases its class's URN)


@dataclass(frozen=True, kw_only=True)
class EksRuntime:
    """What the stack exports from the EKS runtime."""

    url: str
    alb_hostname: pulumi.Output[str]
    image: AppImage
    cluster: Cluster
    alarms: Alarms
    firewall: WebAcl | None


def eks_runtime(cfg: StackConfig, *, network: Network, registry: Registry, dns: Dns,
                tags: Mapping[str, str]) -> EksRuntime:
    cluster = Cluster("cluster", cluster_args(cfg, network, tags))
    # Built and pushed while the control plane is created: the image does not depend on the cluster.
    image = AppImage("app", AppImageArgs(repository_url=registry.repository_url, registry_id=registry.registry_id,
                                         architecture=cfg.cluster.node_architecture))
    # Under Karpenter, every other in-cluster object runs on (may run on) its nodes: created after, deleted before
    # its NodePool and EC2NodeClass (infra/eks/karpenter.py, the destroy rule).
    capacity: list[pulumi.Resource] = []
    load_balancing: list[pulumi.Resource] = []
    if cfg.cluster.node_provisioner == "karpenter":
        capacity = Karpenter("karpenter", karpenter_args(cfg, cluster, network, tags)).capacity
    if cfg.cluster.node_provisioner == "auto-mode":
        auto = AutoMode("auto-mode", auto_mode_args(cfg, cluster, network, dns))
        capacity, load_balancing = auto.capacity, auto.ingress_controllers
    addons = PlatformAddons("platform", addons_args(cfg, cluster, network, dns, tags, capacity))
    if addons.alb_controller is not None:
        load_balancing = [addons.alb_controller]
    drivers = storage(cfg, cluster, network, tags, capacity)
    # appOnFargate: the app's pods run on its Fargate profile, created before and deleted after them (the add-ons
    # stay on the nodes, so `capacity` above does not include it).
    app_capacity = [*capacity, *([AppFargateProfile("app-fargate", fargate_args(cfg, cluster, network, tags)).profile]
                                 if cfg.app.on_fargate else [])]
    # The controller attaches the firewall from the Ingress: it exists first and is deleted after the Ingress.
    account = account_id()
    firewall = WebAcl("firewall", waf_args(cfg, tags, alb_arn=None, account=account)) if cfg.ops.waf else None
    app = WebApp("webapp", webapp_args(cfg, image, cluster, dns, firewall=firewall,
                                       ingress_controllers=[*load_balancing, addons.dns_drain],
                                       capacity=app_capacity, storage=drivers))
    # The alarms watch the controller's ALB: created once the Ingress has it, deleted before the Ingress.
    alarms = Alarms("alarms", alarms_args(
        cfg, tags, load_balancer=app.load_balancer_arn_suffix, target_group=app.target_group_arn_suffix,
        ecs_service=None, firewall=firewall, after=[app.ingress], account=account))
    return EksRuntime(url=app.url, alb_hostname=app.alb_hostname, image=image, cluster=cluster, alarms=alarms,
                      firewall=firewall)


def karpenter_args(cfg: StackConfig, cluster: Cluster, network: Network, tags: Mapping[str, str]) -> KarpenterArgs:
    c = cfg.cluster
    return KarpenterArgs(
        chart_version=cfg.versions.charts["karpenter"], cluster_name=c.name, cluster=cluster.cluster_name,
        cluster_endpoint=cluster.endpoint, cluster_security_group_id=cluster.cluster_security_group_id,
        private_subnet_ids=network.private_subnet_ids, region=cfg.region, partition=cfg.partition,
        architecture=c.node_architecture, capacity_types=c.karpenter_capacity_types, cpu_limit=c.karpenter_cpu_limit,
        disruption_budget=c.karpenter_disruption_budget, consolidate_after=c.karpenter_consolidate_after,
        disk_size_gb=c.node_disk_size_gb, ami_alias=karpenter_ami_alias(cfg.versions.eks_node_release),
        # Two replicas (the chart's default) on the system node group: its required anti-affinity wants two nodes.
        replicas=min(2, c.node_min_size), identity=identity_context(cfg, cluster, tags), provider=cluster.provider,
        tags=tags)


def storage(cfg: StackConfig, cluster: Cluster, network: Network, tags: Mapping[str, str],
            capacity: Sequence[pulumi.Resource]) -> list[pulumi.Resource]:
    """The CSI drivers the config's lock pins (infra/config/cluster.py, required_eks_addons): EBS under the
    managed-nodegroup and karpenter provisioners, EFS with efsCsiEnabled. Their controllers run on the node group
    (and may run on Karpenter's nodes): created after, deleted before them. Returns their components: the app's
    namespace (its claims) is created after and deleted before them."""
    drivers: list[pulumi.Resource] = []
    versions, nodes = cfg.versions.eks_addons, [cluster.node_group, *capacity]
    common = {"reclaim_policy": cfg.addons.storage_reclaim_policy, "cluster_name": cluster.cluster_name,
              "identity": identity_context(cfg, cluster, tags), "nodes": nodes, "provider": cluster.provider,
              "partition": cfg.partition, "tags": tags}
    if EBS_CSI_ADDON in versions:
        drivers.append(EbsCsi(EBS_CSI, EbsCsiArgs(
            addon_version=versions[EBS_CSI_ADDON], volume_tags={"project": cfg.project, "stack": cfg.stack},
            **common)))
    if EFS_CSI_ADDON in versions:
        drivers.append(EfsCsi("efs-csi", EfsCsiArgs(
            addon_version=versions[EFS_CSI_ADDON], vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            cluster_security_group_id=cluster.cluster_security_group_id, shared_posix_id=RUN_AS,
            shared_directory=f"/{cfg.app.name}", protect=cfg.ops.protected, **common)))
    return drivers


def auto_mode_args(cfg: StackConfig, cluster: Cluster, network: Network, dns: Dns) -> AutoModeArgs:
    c = cfg.cluster
    return AutoModeArgs(
        node_role_name=cluster.node_role_name, node_ready=cluster.node_ready,
        private_subnet_ids=network.private_subnet_ids, cluster_security_group_id=cluster.cluster_security_group_id,
        architecture=c.node_architecture, cpu_limit=c.auto_mode_cpu_limit, disk_size_gb=c.node_disk_size_gb,
        app_namespace=cfg.app.namespace, certificate_arn=dns.certificate_arn,
        reclaim_policy=cfg.addons.storage_reclaim_policy, provider=cluster.provider,
        # A stack switched from managed-nodegroup or karpenter had this class under the EBS CSI driver (storage()).
        storage_class_aliases=[class_urn(EBS_CSI)])


def fargate_args(cfg: StackConfig, cluster: Cluster, network: Network, tags: Mapping[str, str]
                 ) -> AppFargateProfileArgs:
    return AppFargateProfileArgs(
        cluster_name=cluster.cluster_name,
        cluster_arn=cluster_arn(cfg.partition, cfg.region, cluster.oidc_provider_arn, cluster.cluster_name),
        namespace=cfg.app.namespace, private_subnet_ids=network.private_subnet_ids,
        egress_ready=network.private_default_routes, partition=cfg.partition, tags=tags)


def identity_context(cfg: StackConfig, cluster: Cluster, tags: Mapping[str, str]) -> IdentityContext:
    """How every AWS-calling controller of the cluster gets its role (webstack:workloadIdentity)."""
    return IdentityContext(
        mode=cfg.addons.workload_identity, cluster_name=cluster.cluster_name,
        cluster_arn=cluster_arn(cfg.partition, cfg.region, cluster.oidc_provider_arn, cluster.cluster_name),
        oidc_provider_arn=cluster.oidc_provider_arn, oidc_issuer=cluster.oidc_issuer,
        pod_identity_agent=cluster.pod_identity_agent, tags=tags)


def cluster_args(cfg: StackConfig, network: Network, tags: Mapping[str, str]) -> ClusterArgs:
    c = cfg.cluster
    nodes = NodeGroupSpec(
        name_prefix=c.node_group_name_prefix, instance_types=c.node_instance_types, architecture=c.node_architecture,
        capacity_type=c.node_capacity_type, disk_size_gb=c.node_disk_size_gb, min_size=c.node_min_size,
        desired_size=c.node_desired_size, max_size=c.node_max_size, max_unavailable=c.node_max_unavailable,
        labels=dict(c.node_labels), release_version=cfg.versions.eks_node_release)
    return ClusterArgs(
        name=c.name, kubernetes_version=c.kubernetes_version, endpoint_public_access=c.endpoint_public_access,
        public_access_cidrs=c.public_access_cidrs, admin_principal_arns=c.admin_principal_arns,
        viewer_principal_arns=c.viewer_principal_arns,
        log_types=c.log_types, log_retention_days=c.log_retention_days,
        eks_addon_versions=dict(cfg.versions.eks_addons), nodes=nodes, vpc_id=network.vpc_id,
        public_subnet_ids=network.public_subnet_ids,
        private_subnet_ids=network.private_subnet_ids, egress_ready=network.private_default_routes,
        partition=cfg.partition, region=cfg.region, deletion_protection=cfg.ops.protected, tags=tags,
        auto_mode=c.node_provisioner == "auto-mode")


def addons_args(cfg: StackConfig, cluster: Cluster, network: Network, dns: Dns, tags: Mapping[str, str],
                capacity: Sequence[pulumi.Resource] = ()) -> PlatformAddonsArgs:
    a, charts = cfg.addons, cfg.versions.charts
    return PlatformAddonsArgs(
        alb_controller_chart_version=charts.get("aws-load-balancer-controller", ""),
        external_dns_chart_version=charts["external-dns"], external_dns_policy=a.external_dns_policy,
        metrics_server_chart_version=charts["metrics-server"],
        cluster_autoscaler_chart_version=charts.get("cluster-autoscaler", ""),
        kubernetes_version=cfg.cluster.kubernetes_version, cluster_name=cluster.cluster_name, region=cfg.region,
        partition=cfg.partition, vpc_id=network.vpc_id, identity=identity_context(cfg, cluster, tags),
        zone_id=dns.zone_id, zone_arn=dns.zone_arn, zone_name=dns.zone_name, provider=cluster.provider,
        capacity=capacity)


def webapp_args(cfg: StackConfig, image: AppImage, cluster: Cluster, dns: Dns, *, firewall: WebAcl | None,
                ingress_controllers: list[pulumi.Resource], capacity: Sequence[pulumi.Resource] = (),
                storage: Sequence[pulumi.Resource] = ()) -> WebAppArgs:
    app, contract = cfg.app, app_contract()
    return WebAppArgs(
        name=app.name, namespace=app.namespace, image=image.repo_digest, architecture=cfg.cluster.node_architecture,
        container_port=int(contract["port"]), health_path=str(contract["healthPath"]), replicas=app.replicas,
        cpu_request=app.cpu_request, memory_request=app.memory_request, cpu_limit=app.cpu_limit,
        memory_limit=app.memory_limit, hpa_min_replicas=app.hpa_min_replicas, hpa_max_replicas=app.hpa_max_replicas,
        hpa_cpu_target_percent=app.hpa_cpu_target_percent,
        progress_deadline_seconds=app.progress_deadline_seconds, service_type=app.service_type,
        target_type=app.target_type, load_balancer_name=app.load_balancer_name, ssl_policy=app.ssl_policy,
        hostname=cfg.dns.hostname, certificate_arn=dns.certificate_arn,
        waf_acl_arn=firewall.arn if firewall else None, deletion_protection=cfg.ops.protected,
        cluster_name=cluster.cluster_name, provider=cluster.provider,
        ingress_controllers=ingress_controllers, capacity=capacity, storage=storage, on_fargate=app.on_fargate,
        ingress_class=AUTO_MODE_INGRESS_CLASS if cfg.cluster.node_provisioner == "auto-mode" else "alb")
