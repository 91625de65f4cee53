"""webstack: an HTTPS web app on EKS or ECS, fed from a private ECR registry, in one `pulumi up`.

Reads like the architecture: config -> network, registry, DNS/TLS -> cluster, image ->
platform add-ons -> workload -> outputs. No resource is declared here directly.
`webstack:runtime` picks the runtime: `eks` (default) or `ecs`; the first four parts are shared.
"""

import pulumi_aws as aws

from infra.config import from_pulumi
from infra.dns import Dns, DnsArgs
from infra.eks.addons import PlatformAddons, PlatformAddonsArgs
from infra.eks.cluster import Cluster, ClusterArgs
from infra.eks.workload import WebApp, WebAppArgs
from infra.image import APP_UID, AppImage, AppImageArgs
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

if cfg.runtime == "ecs":
    # ECS: no EKS or Kubernetes resource at all. Cluster -> image -> task -> ALB -> service -> scaling.
    from infra.config import alb_name
    from infra.config.ecs import ecs_cluster_name
    from infra.ecs.autoscaling import ScheduledCapacity, ServiceAutoScaling, ServiceAutoScalingArgs
    from infra.ecs.cluster import Ec2CapacitySpec, EcsCluster, EcsClusterArgs
    from infra.ecs.efs import AppFileSystem, AppFileSystemArgs
    from infra.ecs.loadbalancer import AppLoadBalancer, AppLoadBalancerArgs
    from infra.ecs.scheduled import ScheduledTask, ScheduledTaskArgs
    from infra.ecs.service import AppService, AppServiceArgs
    from infra.ecs.task import AppTask, AppTaskArgs, ContainerSpec
    from infra.image import app_contract

    ecs, contract, ecs_name = cfg.ecs, app_contract(), ecs_cluster_name(cfg)
    account_id = aws.get_caller_identity_output().account_id
    ec2 = ecs.capacity == "ec2"
    ecs_cluster = EcsCluster("ecs", EcsClusterArgs(
        name=ecs_name, container_insights=ecs.container_insights, fargate_base=ecs.fargate_base,
        fargate_weight=ecs.fargate_weight, fargate_spot_weight=ecs.fargate_spot_weight,
        ec2=Ec2CapacitySpec(instance_type=ecs.ec2_instance_type, min_size=ecs.ec2_min_size,
                            max_size=ecs.ec2_max_size, disk_size_gb=ecs.ec2_disk_size_gb,
                            target_capacity_percent=ecs.ec2_target_capacity_percent) if ec2 else None,
        vpc_id=network.vpc_id, private_subnet_ids=network.private_subnet_ids, architecture=ecs.cpu_architecture,
        partition=cfg.partition, tags=tags))
    image = AppImage("app", AppImageArgs(repository_url=registry.repository_url, registry_id=registry.registry_id,
                                         architecture=ecs.cpu_architecture))

    lb = AppLoadBalancer("web", AppLoadBalancerArgs(
        # Not the EKS Ingress's ALB name: switching runtimes creates this ALB before that one is deleted.
        name=alb_name(ecs_name, "ecs"), vpc_id=network.vpc_id, vpc_cidr=cfg.network.vpc_cidr,
        public_subnet_ids=network.public_subnet_ids, container_port=contract["port"],
        health_path=contract["healthPath"], certificate_arn=dns.certificate_arn, ssl_policy=cfg.app.ssl_policy,
        hostname=cfg.dns.hostname, zone_id=dns.zone_id, deletion_protection=ecs.alb_deletion_protection,
        nfs_egress=ecs.efs_enabled, tags=tags))

    files = None
    if ecs.efs_enabled:
        files = AppFileSystem("files", AppFileSystemArgs(
            vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids,
            task_security_group_id=lb.task_security_group_id, posix_uid=APP_UID, posix_gid=APP_UID,
            root_directory=ecs.efs_root_directory, transition_to_ia=ecs.efs_transition_to_ia,
            protect=ecs.efs_protect, tags=tags))

    task = AppTask("app", AppTaskArgs(
        family=f"{ecs_name}-{cfg.app.name}",
        container=ContainerSpec(
            name=cfg.app.name, port=contract["port"], health_path=contract["healthPath"], user=str(APP_UID),
            environment=ecs.environment, secrets=ecs.secrets,
            # Fargate Spot warns 2 minutes ahead: let nginx finish its requests (default stopTimeout is 30 s).
            stop_timeout=120 if ecs.spot else None, init_process=ecs.exec_enabled,
            extra_mount=("files", ecs.efs_mount_path) if files else None),
        image=image.repo_digest, repository_arn=registry.repository_arn, cpu=ecs.task_cpu, memory=ecs.task_memory,
        architecture=ecs.cpu_architecture, compatibility="EC2" if ec2 else "FARGATE",
        log_retention_days=ecs.log_retention_days, secrets_kms_key_arn=ecs.secrets_kms_key_arn,
        exec_enabled=ecs.exec_enabled, region=cfg.region, partition=cfg.partition, account_id=account_id,
        extra_volumes=[files.volume("files")] if files else [],
        extra_task_policies=[("efs", files.client_policy(writable=True))] if files else [],
        tags=tags))

    service = AppService("app", AppServiceArgs(
        name=cfg.app.name, cluster_arn=ecs_cluster.cluster_arn, task_definition_arn=task.task_definition_arn,
        strategy=ecs_cluster.strategy, platform_version=None if ec2 else ecs.platform_version,
        subnet_ids=network.private_subnet_ids, security_group_ids=[lb.task_security_group_id],
        target_group_arn=lb.target_group_arn, container_name=task.container_name, container_port=contract["port"],
        desired_count=ecs.min_tasks, autoscaled=True, minimum_healthy_percent=ecs.minimum_healthy_percent,
        maximum_percent=ecs.maximum_percent, health_check_grace_period_seconds=ecs.health_check_grace_period_seconds,
        architecture=ecs.cpu_architecture, ec2_placement=ec2, exec_enabled=ecs.exec_enabled,
        after=[*lb.listeners, lb.target_group, ecs_cluster.association, *(files.mount_targets if files else [])],
        tags=tags))

    ServiceAutoScaling("app", ServiceAutoScalingArgs(
        cluster_name=ecs_name, service_name=service.service_name, min_tasks=ecs.min_tasks,
        max_tasks=ecs.max_tasks, cpu_percent=ecs.scale_on_cpu_percent or None,
        memory_percent=ecs.scale_on_memory_percent or None,
        requests_per_target=ecs.scale_on_requests_per_target or None, alb_arn_suffix=lb.alb_arn_suffix,
        target_group_arn_suffix=lb.target_group_arn_suffix,
        scheduled=[ScheduledCapacity(name=s.name, schedule=s.schedule, timezone=s.timezone, min_tasks=s.min_tasks,
                                     max_tasks=s.max_tasks) for s in ecs.scheduled_scaling],
        tags=tags))

    if ecs.scheduled_task_schedule:
        ScheduledTask("job", ScheduledTaskArgs(
            cluster_arn=ecs_cluster.cluster_arn, task_definition_arn=task.task_definition_arn,
            task_definition_family=task.family, container_name=task.container_name,
            command=ecs.scheduled_task_command, schedule_expression=ecs.scheduled_task_schedule,
            schedule_timezone=ecs.scheduled_task_timezone, subnet_ids=network.private_subnet_ids,
            security_group_ids=[lb.task_security_group_id], capacity_provider_strategy=ecs_cluster.strategy,
            task_role_arn=task.task_role_arn, execution_role_arn=task.execution_role_arn, tags=tags))

    url, alb_hostname, cluster_name = lb.url, lb.dns_name, ecs_cluster.cluster_name
    export("service_name", service.service_name,
           "ECS runtime: the service's name (for `aws ecs update-service`, ECS Exec).")
    export("task_definition_arn", task.task_definition_arn,
           "ECS runtime: ARN of the app's current task definition revision.")
    export("log_group_name", task.log_group_name, "ECS runtime: CloudWatch Logs group of the app's containers.")
else:
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

    url, alb_hostname, cluster_name = app.url, app.alb_hostname, cluster.cluster_name
    export("cluster_endpoint", cluster.endpoint, "EKS runtime: URL of the cluster's Kubernetes API server.")
    export("kubeconfig", cluster.kubeconfig,
           "EKS runtime: kubeconfig of the cluster; it authenticates with `aws eks get-token` (AWS CLI on PATH).")
    export("oidc_provider_arn", cluster.oidc_provider_arn,
           "EKS runtime: the cluster's IAM OIDC provider, for IRSA trust policies.")
    export("node_role_arn", cluster.node_role_arn, "EKS runtime: IAM role of the managed node group's instances.")
    export("node_security_group_id", cluster.node_security_group_id, "EKS runtime: security group of the worker nodes.")

export("url", url, "The app's address, `https://<hostname>`.")
export("alb_hostname", alb_hostname, "DNS name of the app's ALB (the hostname's record aliases it).")
export("cluster_name", cluster_name, "The EKS or ECS cluster's name, as `webstack:runtime` picks.")
export("vpc_id", network.vpc_id, "The VPC everything runs in.")
export("public_subnet_ids", network.public_subnet_ids, "Public subnets (load balancers, NAT gateways), one per AZ.")
export("private_subnet_ids", network.private_subnet_ids, "Private subnets (nodes, pods, ECS tasks), one per AZ.")
export("registry_url", registry.repository_url, "URL of the ECR repository the app image is pushed to.")
export("image_digest", image.repo_digest, "The deployed image, `<repository>@sha256:<digest>`.")
export("zone_name_servers", dns.name_servers,
       "Name servers of the public zone: with createZone, set them as NS records at your registrar.")
export("certificate_arn", dns.certificate_arn, "ARN of the validated ACM certificate the ALB serves.")
