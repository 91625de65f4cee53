"""WebApp: the app's Namespace, ServiceAccount, Deployment, Service, ALB Ingress (TLS from ACM, name from
ExternalDNS), PodDisruptionBudget, HorizontalPodAutoscaler and NetworkPolicy."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..config import AppConfig
from ..image import app_contract

TYPE = "webstack:workload:WebApp"
ALB = "alb.ingress.kubernetes.io/"
# The UID/GID the pod runs as: unprivileged, above the host's range (the image serves any UID).
RUN_AS = 10101


def ingress_annotations(cfg: AppConfig, hostname: str, certificate_arn: str, health_path: str) -> dict[str, str]:
    return {
        f"{ALB}scheme": "internet-facing",
        f"{ALB}load-balancer-name": cfg.load_balancer_name,
        f"{ALB}target-type": cfg.target_type,
        f"{ALB}healthcheck-path": health_path,
        f"{ALB}healthcheck-port": "traffic-port",
        f"{ALB}healthcheck-protocol": "HTTP",
        f"{ALB}healthcheck-interval-seconds": "15",
        f"{ALB}healthcheck-timeout-seconds": "5",
        f"{ALB}healthy-threshold-count": "2",
        f"{ALB}unhealthy-threshold-count": "2",
        f"{ALB}success-codes": "200",
        f"{ALB}listen-ports": json.dumps([{"HTTPS": 443}, {"HTTP": 80}], separators=(",", ":")),
        f"{ALB}ssl-redirect": "443",
        f"{ALB}certificate-arn": certificate_arn,
        f"{ALB}ssl-policy": cfg.ssl_policy,
        f"{ALB}load-balancer-attributes": "routing.http.drop_invalid_header_fields.enabled=true",
        "external-dns.alpha.kubernetes.io/hostname": hostname,
    }


@dataclass(frozen=True, kw_only=True)
class WebAppArgs:
    config: AppConfig
    image: pulumi.Input[str]
    """Image by digest (`repo@sha256:...`)."""
    architecture: str
    """The image's CPU architecture (amd64 | arm64): pods run only on nodes of it."""
    hostname: str
    certificate_arn: pulumi.Input[str]
    provider: k8s.Provider
    ingress_controllers: Sequence[pulumi.Resource]
    """What the Service and Ingress need running (created after, deleted before them): the LB controller release
    and ExternalDNS's drain (itself deleted before ExternalDNS)."""


class WebApp(pulumi.ComponentResource):
    url: str
    alb_hostname: pulumi.Output[str]

    def __init__(self, name: str, args: WebAppArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        cfg = args.config
        contract = app_contract()
        port, health = int(contract["port"]), str(contract["healthPath"])
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        after_controllers = pulumi.ResourceOptions.merge(
            k8s_opts, pulumi.ResourceOptions(depends_on=list(args.ingress_controllers)))
        labels = {"app.kubernetes.io/name": cfg.name, "app.kubernetes.io/part-of": "webstack",
                  "app.kubernetes.io/managed-by": "pulumi"}
        selector = {"app.kubernetes.io/name": cfg.name}

        def meta(obj_name: str, **extra: Any) -> dict[str, Any]:
            return {"name": obj_name, "namespace": cfg.namespace, "labels": labels, **extra}

        namespace = k8s.core.v1.Namespace(
            f"{name}-ns", metadata={"name": cfg.namespace, "labels": {
                **labels, "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest"}},
            opts=k8s_opts)
        in_ns = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[namespace]))
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata=meta(cfg.name), automount_service_account_token=False, opts=in_ns)

        probe = {"httpGet": {"path": health, "port": "http", "scheme": "HTTP"}, "timeoutSeconds": 2}
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta(cfg.name),
            spec={
                "replicas": cfg.replicas,
                "revisionHistoryLimit": 5,
                "selector": {"matchLabels": selector},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": account.metadata.name,
                        "automountServiceAccountToken": False,
                        "enableServiceLinks": False,
                        # During an architecture switch old and new nodes coexist: a new image must never land on
                        # a node of the other architecture (exec format error).
                        "nodeSelector": {"kubernetes.io/arch": args.architecture},
                        "terminationGracePeriodSeconds": 30,
                        "securityContext": {
                            "runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
                            "seccompProfile": {"type": "RuntimeDefault"},
                        },
                        "topologySpreadConstraints": [
                            {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
                             "labelSelector": {"matchLabels": selector}}
                            for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
                        ],
                        "containers": [{
                            "name": cfg.name,
                            "image": args.image,
                            "imagePullPolicy": "Always",
                            "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
                            "resources": {
                                "requests": {"cpu": cfg.cpu_request, "memory": cfg.memory_request},
                                "limits": {"cpu": cfg.cpu_limit, "memory": cfg.memory_limit},
                            },
                            "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 30},
                            "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 3},
                            "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 3},
                            "securityContext": {
                                "runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS,
                                "allowPrivilegeEscalation": False, "privileged": False,
                                "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]},
                                "seccompProfile": {"type": "RuntimeDefault"},
                            },
                            # nginx writes its pid, temp files and caches under /tmp only.
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        }],
                        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                    },
                },
            },
            # The HPA owns the replica count once running.
            opts=pulumi.ResourceOptions.merge(in_ns, pulumi.ResourceOptions(ignore_changes=["spec.replicas"])),
        )

        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=meta(cfg.name, annotations={f"{ALB}healthcheck-path": health}),
            spec={
                "type": cfg.service_type,
                "selector": selector,
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
            opts=pulumi.ResourceOptions.merge(after_controllers, pulumi.ResourceOptions(depends_on=[namespace])),
        )

        ingress = k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata=meta(cfg.name, annotations=pulumi.Output.from_input(args.certificate_arn).apply(
                lambda arn: ingress_annotations(cfg, args.hostname, arn, health))),
            spec={
                "ingressClassName": "alb",
                "rules": [{"host": args.hostname, "http": {"paths": [{
                    "path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": service.metadata.name, "port": {"name": "http"}}},
                }]}}],
            },
            # Depends on the controllers: created after their webhooks answer, and deleted (with its ALB)
            # before them, the node group and the network on `pulumi destroy`.
            opts=pulumi.ResourceOptions.merge(after_controllers, pulumi.ResourceOptions(depends_on=[service])),
        )

        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata=meta(cfg.name),
            spec={"minAvailable": 1, "selector": {"matchLabels": selector}}, opts=in_ns)
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa", metadata=meta(cfg.name),
            spec={
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment.metadata.name},
                "minReplicas": cfg.hpa_min_replicas,
                "maxReplicas": cfg.hpa_max_replicas,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                    "type": "Utilization", "averageUtilization": cfg.hpa_cpu_target_percent}}}],
            },
            opts=in_ns)
        # Only HTTP in on the app port; no egress at all (a static site calls nothing, not even DNS).
        k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol", metadata=meta(cfg.name),
            spec={"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress", "Egress"],
                  "ingress": [{"ports": [{"protocol": "TCP", "port": port}]}], "egress": []},
            opts=in_ns)

        self.url = f"https://{args.hostname}"
        self.alb_hostname = ingress.status.apply(
            lambda s: s.load_balancer.ingress[0].hostname if s and s.load_balancer and s.load_balancer.ingress
            else "")
        self.register_outputs({"url": self.url, "alb_hostname": self.alb_hostname})
