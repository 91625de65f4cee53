"""webstack: an HTTPS web app on EKS or ECS, fed from a private ECR registry, in one `pulumi up`.

Reads like the architecture: config -> network, registry, DNS/TLS (shared) -> the runtime `webstack:runtime`
picks (EKS: cluster, image, platform add-ons, firewall, workload, alarms; ECS: cluster, image, ALB, firewall,
alarms, task, service, scaling) -> outputs. No resource is declared here directly.
"""

import pulumi_aws as aws

from infra.config import from_pulumi
from infra.dns import Dns
from infra.ecs.runtime import ecs_runtime
from infra.eks.runtime import eks_runtime
from infra.network import Network
from infra.outputs import export
from infra.registry import Registry
from infra.tags import common_tags
from infra.wiring import dns_args, network_args, registry_args

cfg = from_pulumi()  # validates everything first: a bad config declares nothing
tags = common_tags(cfg)

network = Network("network", network_args(cfg, tags, aws.get_caller_identity_output().account_id))
registry = Registry("registry", registry_args(cfg, tags))
dns = Dns("dns", dns_args(cfg, tags))

if cfg.runtime == "ecs":
    ecs = ecs_runtime(cfg, network=network, registry=registry, dns=dns, tags=tags)
    url, alb_hostname, cluster_name, image = ecs.url, ecs.alb_hostname, ecs.cluster_name, ecs.image
    alarms, firewall = ecs.alarms, ecs.firewall
    export("service_name", ecs.service_name,
           "ECS runtime: the service's name (for `aws ecs update-service`, ECS Exec).")
    export("task_definition_arn", ecs.task_definition_arn,
           "ECS runtime: ARN of the app's current task definition revision.")
    export("log_group_name", ecs.log_group_name, "ECS runtime: CloudWatch Logs group of the app's containers.")
else:
    eks = eks_runtime(cfg, network=network, registry=registry, dns=dns, tags=tags)
    url, alb_hostname, cluster_name, image = eks.url, eks.alb_hostname, eks.cluster.cluster_name, eks.image
    alarms, firewall = eks.alarms, eks.firewall
    cluster = eks.cluster
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
export("alarm_topic_arn", alarms.topic_arn, "SNS topic the alarms notify (alarmEmails are subscribed; add others).")
export("alarm_dashboard_url", alarms.dashboard_url, "CloudWatch dashboard of the app's ALB, targets and alarms.")
export("web_acl_arn", firewall.arn if firewall else None,
       "The WAF web ACL in front of the ALB (null when wafEnabled is off).")
