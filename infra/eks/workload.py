"""WebApp: the app's Namespace, ServiceAccount, Deployment, Service, ALB Ingress (TLS from ACM, name from
ExternalDNS), PodDisruptionBudget, HorizontalPodAutoscaler and NetworkPolicy."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .fargate import FARGATE_LABEL

TYPE = "webstack:workload:WebApp"
ALB = "alb.ingress.kubernetes.io/"
# The LB controller attaches no web ACL when the annotation is absent but leaves an attached one in place; "none"
# detaches it (v3.5.0 pkg/ingress/model_build_load_balancer_addons.go), so turning the firewall off detaches it
# before the web ACL is deleted.
WAF_NONE = "none"
# pulumi-kubernetes (provider/pkg/await/deployment.go) does not stop at ProgressDeadlineExceeded: it logs it as a
# warning and waits until its timeout (10 minutes unless `pulumi.com/timeoutSeconds` or customTimeouts say otherwise),
# then fails with it. The timeout is the deadline plus this margin, for the controller to post the condition.
AWAIT_MARGIN_SECONDS = 120
TIMEOUT_ANNOTATION = "pulumi.com/timeoutSeconds"
# The UID/GID the pod runs as: unprivileged, above the host's range (the image serves any UID).
RUN_AS = 10101
# With ip targets the ALB sends to pod IPs, so a rollout must not stop an old pod before its successor is healthy in
# the target group, nor kill a pod the ALB still sends to (aws-load-balancer-controller #1603, #1604):
# - the LB controller's pod readiness gate: its pod mutating webhook (chart 3.5.0 templates/webhook.yaml,
#   mpod.elbv2.k8s.aws, pods CREATE) adds it to pods of namespaces with this label, so a new pod is Ready only once
#   healthy in the target group. The webhook's failurePolicy is Ignore (values.yaml podMutatorWebhookConfig): a pod
#   created while the controller is down silently gets no gate, so the Deployment waits for the controller release;
# - a preStop sleep: the pod keeps serving while the controller deregisters it and the ALB stops sending new
#   requests, then nginx gets SIGTERM. Kubernetes' native `sleep` action (beta and on by default since 1.30, every
#   supported version: SUPPORTED_KUBERNETES_VERSIONS starts at 1.32) needs no binary in the image.
READINESS_GATE_LABEL = ("elbv2.k8s.aws/pod-readiness-gate-inject", "enabled")
PRESTOP_SLEEP_SECONDS = 15
TERMINATION_GRACE_SECONDS = 30


def load_balancer_attributes(*, deletion_protection: bool) -> str:
    """The ALB attributes the controller sets. Deletion protection is always named, `false` too: the controller
    (v3.5.0 pkg/deploy/elbv2/load_balancer_attributes_reconciler.go) changes only the attributes the annotation
    names, so dropping it would leave a protected ALB protected. While the annotation says `true`, deleting the
    Ingress fails in the controller ("deletion_protection is enabled, cannot delete the ingress",
    pkg/ingress/model_builder.go) and its finalizer stays: `pulumi destroy` would wait on it (docs/operations.md)."""
    return (f"routing.http.drop_invalid_header_fields.enabled=true,"
            f"deletion_protection.enabled={str(deletion_protection).lower()}")


def ingress_annotations(*, load_balancer_name: str, target_type: str, ssl_policy: str, hostname: str,
                        certificate_arn: str, health_path: str, deletion_protection: bool,
                        waf_acl_arn: str = WAF_NONE) -> dict[str, str]:
    return {
        f"{ALB}scheme": "internet-facing",
        f"{ALB}load-balancer-name": load_balancer_name,
        f"{ALB}target-type": target_type,
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
        f"{ALB}ssl-policy": ssl_policy,
        f"{ALB}load-balancer-attributes": load_balancer_attributes(deletion_protection=deletion_protection),
        f"{ALB}wafv2-acl-arn": waf_acl_arn,
        "external-dns.alpha.kubernetes.io/hostname": hostname,
    }


# The tag keys of a target group made for an Ingress, the lookup asks for all of them: the LB controller's (v3.5.0,
# pkg/deploy/tracking/provider.go) and EKS Auto Mode's. Auto Mode's keys are confirmed (AmazonEKSLoadBalancingPolicy
# allows tagging with exactly eks:eks-cluster-name, ingress.eks.amazonaws.com/stack and .../resource), and so is the
# stack value `<namespace>/<ingress>` (public Terraform looks Auto Mode's ALBs up by it). The value Auto Mode puts in
# the target group's `resource` tag is found nowhere: it is left out (None), and the cluster + stack tags find the
# one target group of the Ingress's single backend; `controller_target_group_problem` still checks it against the
# ALB. Only a real cluster shows the tags Auto Mode writes.
TARGET_GROUP_TAG_KEYS: dict[str, tuple[str, str, str | None]] = {
    "alb": ("elbv2.k8s.aws/cluster", "ingress.k8s.aws/stack", "ingress.k8s.aws/resource"),
    "eks-auto-alb": ("eks:eks-cluster-name", "ingress.eks.amazonaws.com/stack", None),
}


def controller_target_group_tags(*, cluster_name: str, namespace: str, ingress: str, service: str,
                                  port: str, ingress_class: str = "alb") -> dict[str, str]:
    """The tags the LB controller (v3.5.0, pkg/deploy/tracking/provider.go) puts on the target group it makes for
    one Ingress backend: the cluster, the stack (`<namespace>/<ingress>` for an Ingress in no group) and the
    resource (`<namespace>/<ingress>-<service>:<port>`, buildTargetGroupResourceID). Together they name exactly
    this app's target group, whatever other clusters share the account. Auto Mode's IngressClass: its cluster and
    stack tags only (see TARGET_GROUP_TAG_KEYS)."""
    cluster_key, stack_key, resource_key = TARGET_GROUP_TAG_KEYS[ingress_class]
    tags = {cluster_key: cluster_name, stack_key: f"{namespace}/{ingress}"}
    if resource_key:
        tags[resource_key] = f"{namespace}/{ingress}-{service}:{port}"
    return tags


# Who makes the ALB for each IngressClass, and the docs/operations.md section a second `pulumi up` is explained in.
TARGET_GROUP_MAKERS = {
    "alb": ("the AWS Load Balancer Controller", "a new serviceType or loadBalancerName",
            "Changing the ALB name or the Service type on EKS"),
    "eks-auto-alb": ("EKS Auto Mode", "a new serviceType or loadBalancerName, or the switch to auto-mode, whose "
                     "ALB Auto Mode creates only after the old one is gone",
                     "Switching `nodeProvisioner` to or from `auto-mode`"),
}


def controller_target_group_problem(*, target_group_arn: str, target_type: str, load_balancer_arns: list[str],
                                    want_target_type: str, alb_arn: str, alb_name: str,
                                    ingress_class: str = "alb") -> str | None:
    """Why the target group found by the controller's tags is not the one the Ingress now asks for, or None.
    After `pulumi up` changes the Service type (so the target type) or the ALB name, the Ingress update returns
    before the controller has reconciled: the tags then still find the old target group (the controller makes a
    new one and deletes the old, tagged alike), or the new one not yet attached to the new ALB. Alarms on it would
    watch nothing: fail instead, and say that a second run finds the right one."""
    wrong = []
    if target_type != want_target_type:
        wrong.append(f"its target type is {target_type!r}, the Ingress asks for {want_target_type!r}")
    if alb_arn not in load_balancer_arns:
        wrong.append(f"it is not attached to the ALB {alb_name} ({alb_arn}); it serves "
                     f"{', '.join(load_balancer_arns) or 'no load balancer'}")
    if not wrong:
        return None
    maker, changes, section = TARGET_GROUP_MAKERS[ingress_class]
    return (f"the target group {maker} made for the Ingress ({target_group_arn}) is not "
            f"the one the alarms must watch: {'; '.join(wrong)}. {maker[0].upper()}{maker[1:]} is still reconciling "
            f"the Ingress change ({changes}): run `pulumi up` again in a minute "
            f"(docs/operations.md, \"{section}\").")


def app_labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "webstack",
            "app.kubernetes.io/managed-by": "pulumi"}


def app_selector(name: str) -> dict[str, str]:
    """Selects the app's pods: the one label of theirs that never changes."""
    return {"app.kubernetes.io/name": name}


def container_spec(*, name: str, image: pulumi.Input[str], port: int, health_path: str,
                   requests: Mapping[str, str], limits: Mapping[str, str]) -> dict[str, Any]:
    """The app container: non-root, read-only root filesystem, no capabilities, probed on its health path."""
    probe = {"httpGet": {"path": health_path, "port": "http", "scheme": "HTTP"}, "timeoutSeconds": 2}
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "Always",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "resources": {"requests": dict(requests), "limits": dict(limits)},
        "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 30},
        "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 3},
        "lifecycle": {"preStop": {"sleep": {"seconds": PRESTOP_SLEEP_SECONDS}}},
        "securityContext": {
            "runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS,
            "allowPrivilegeEscalation": False, "privileged": False,
            "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        # nginx writes its pid, temp files and caches under /tmp only.
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def rollout_timeout_seconds(progress_deadline_seconds: int) -> int:
    """How long `pulumi up` waits for the Deployment: until just after it reports ProgressDeadlineExceeded."""
    return progress_deadline_seconds + AWAIT_MARGIN_SECONDS


def deployment_spec(*, name: str, replicas: int, service_account: pulumi.Input[str], architecture: str,
                    container: Mapping[str, Any], progress_deadline_seconds: int,
                    on_fargate: bool = False) -> dict[str, Any]:
    """The Deployment's spec: rolling updates that never drop below the replica count and report a stuck rollout
    after the progress deadline, pods spread over zones and nodes, on nodes of the image's architecture only, with
    the restricted Pod Security profile. On Fargate (`on_fargate`) the pods carry the label the Fargate profile
    selects, and neither the node selector nor the spread constraints: Fargate runs x86 only (the config refuses
    arm64), runs one pod per micro-VM spread over the profile's subnets, and "does not currently support Kubernetes
    topologySpreadConstraints" (EKS User Guide, "Define which Pods use AWS Fargate when launched")."""
    spec = _deployment_spec(name=name, replicas=replicas, service_account=service_account,
                            architecture=architecture, container=container,
                            progress_deadline_seconds=progress_deadline_seconds)
    if on_fargate:
        template = spec["template"]
        template["metadata"]["labels"][FARGATE_LABEL[0]] = FARGATE_LABEL[1]
        del template["spec"]["nodeSelector"], template["spec"]["topologySpreadConstraints"]
    return spec


def _deployment_spec(*, name: str, replicas: int, service_account: pulumi.Input[str], architecture: str,
                     container: Mapping[str, Any], progress_deadline_seconds: int) -> dict[str, Any]:
    selector = app_selector(name)
    return {
        "replicas": replicas,
        "progressDeadlineSeconds": progress_deadline_seconds,
        "revisionHistoryLimit": 5,
        "selector": {"matchLabels": selector},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {
            "metadata": {"labels": app_labels(name)},
            "spec": {
                "serviceAccountName": service_account,
                "automountServiceAccountToken": False,
                "enableServiceLinks": False,
                # During an architecture switch old and new nodes coexist: a new image must never land on
                # a node of the other architecture (exec format error).
                "nodeSelector": {"kubernetes.io/arch": architecture},
                "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
                "securityContext": {
                    "runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "topologySpreadConstraints": [
                    {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
                     "labelSelector": {"matchLabels": selector}}
                    for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
                ],
                "containers": [dict(container)],
                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
            },
        },
    }


def ingress_spec(hostname: str, service_name: pulumi.Input[str], ingress_class: str = "alb") -> dict[str, Any]:
    """One rule: every path of the hostname to the Service's http port, through the ALB IngressClass (set
    explicitly: never rely on a default IngressClass): the LB controller's `alb` or EKS Auto Mode's."""
    return {
        "ingressClassName": ingress_class,
        "rules": [{"host": hostname, "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": service_name, "port": {"name": "http"}}},
        }]}}],
    }


def hpa_spec(*, deployment_name: pulumi.Input[str], min_replicas: int, max_replicas: int,
             cpu_target_percent: int) -> dict[str, Any]:
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment_name},
        "minReplicas": min_replicas,
        "maxReplicas": max_replicas,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": cpu_target_percent}}}],
    }


@dataclass(frozen=True, kw_only=True)
class WebAppArgs:
    name: str
    """Name of the app's Kubernetes objects."""
    namespace: str
    """Created by the component."""
    image: pulumi.Input[str]
    """Image by digest (`repo@sha256:...`)."""
    architecture: str
    """The image's CPU architecture (amd64 | arm64): pods run only on nodes of it."""
    container_port: int
    health_path: str
    replicas: int
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str
    hpa_min_replicas: int
    hpa_max_replicas: int
    hpa_cpu_target_percent: int
    progress_deadline_seconds: int
    """The Deployment's progressDeadlineSeconds; `pulumi up` waits for the rollout until just after it."""
    service_type: str
    """NodePort (ALB target type instance) | ClusterIP (target type ip)."""
    target_type: str
    load_balancer_name: str
    ssl_policy: str
    hostname: str
    certificate_arn: pulumi.Input[str]
    waf_acl_arn: pulumi.Input[str] | None
    """The web ACL the controller attaches to the ALB; None detaches any (annotation "none")."""
    deletion_protection: bool
    """The controller sets the ALB's deletion protection from the Ingress annotation."""
    cluster_name: pulumi.Input[str]
    """The cluster the LB controller tags its target groups with (to find this app's)."""
    provider: k8s.Provider
    ingress_controllers: Sequence[pulumi.Resource]
    """What the Service and Ingress need running (created after, deleted before them): the LB controller release
    and ExternalDNS's drain (itself deleted before ExternalDNS)."""
    capacity: Sequence[pulumi.Resource] = ()
    """What the pods run on beyond the node group (Karpenter's NodePool and EC2NodeClass, the app's Fargate
    profile, Auto Mode's NodePool and NodeClass): the namespace, so every object in it, is created after and deleted
    before them (the app's pods are gone before their nodes drain or their profile goes)."""
    storage: Sequence[pulumi.Resource] = ()
    """The CSI drivers' components (EbsCsi, EfsCsi: add-on, classes): the namespace, so every claim in it, is
    created after and deleted before them (a claim's volume is detached and, under reclaim policy Delete, deleted
    by its driver, which must still run)."""
    on_fargate: bool = False
    """The pods carry the label the app's Fargate profile selects (infra/eks/fargate.py); target_type must be ip."""
    ingress_class: str = "alb"
    """`alb` (the LB controller's) or `eks-auto-alb` (EKS Auto Mode's, infra/eks/automode.py)."""

    def __post_init__(self) -> None:
        if self.on_fargate and self.target_type != "ip":
            raise ValueError(f"WebAppArgs.target_type={self.target_type!r}: Fargate pods are ALB targets by IP only")


class WebApp(pulumi.ComponentResource):
    url: str
    alb_hostname: pulumi.Output[str]
    ingress: k8s.networking.v1.Ingress
    load_balancer_arn_suffix: pulumi.Output[str]
    """The ALB the controller made from the Ingress (CloudWatch's LoadBalancer dimension), looked up once the
    Ingress exists: read, never written (the controller owns it)."""
    target_group_arn_suffix: pulumi.Output[str]

    def __init__(self, name: str, args: WebAppArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        gate = dict([READINESS_GATE_LABEL]) if args.target_type == "ip" else {}
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns", metadata={"name": args.namespace, "labels": {
                **app_labels(args.name), "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest", **gate}},
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(
                depends_on=[*args.capacity, *args.storage])))
        in_ns = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[namespace]))
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata=self._meta(args), automount_service_account_token=False, opts=in_ns)
        container = container_spec(
            name=args.name, image=args.image, port=args.container_port, health_path=args.health_path,
            requests={"cpu": args.cpu_request, "memory": args.memory_request},
            limits={"cpu": args.cpu_limit, "memory": args.memory_limit})
        timeout = rollout_timeout_seconds(args.progress_deadline_seconds)
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment", metadata=self._meta(args, annotations={TIMEOUT_ANNOTATION: str(timeout)}),
            spec=deployment_spec(name=args.name, replicas=args.replicas, service_account=account.metadata.name,
                                 architecture=args.architecture, container=container,
                                 progress_deadline_seconds=args.progress_deadline_seconds,
                                 on_fargate=args.on_fargate),
            # The HPA owns the replica count once running. Its pods are created once the LB controller's webhook
            # answers (READINESS_GATE_LABEL).
            opts=pulumi.ResourceOptions.merge(in_ns, pulumi.ResourceOptions(
                ignore_changes=["spec.replicas"], depends_on=list(args.ingress_controllers))),
        )
        ingress = self._service_and_ingress(name, args, namespace)

        selector = app_selector(args.name)
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata=self._meta(args),
            spec={"minAvailable": 1, "selector": {"matchLabels": selector}}, opts=in_ns)
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa", metadata=self._meta(args),
            spec=hpa_spec(deployment_name=deployment.metadata.name, min_replicas=args.hpa_min_replicas,
                          max_replicas=args.hpa_max_replicas, cpu_target_percent=args.hpa_cpu_target_percent),
            opts=in_ns)
        # Only HTTP in on the app port; no egress at all (a static site calls nothing, not even DNS).
        k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol", metadata=self._meta(args),
            spec={"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress", "Egress"],
                  "ingress": [{"ports": [{"protocol": "TCP", "port": args.container_port}]}], "egress": []},
            opts=in_ns)

        self.ingress = ingress
        self.load_balancer_arn_suffix, self.target_group_arn_suffix = self._controller_made(args, ingress)
        self.url = f"https://{args.hostname}"
        self.alb_hostname = ingress.status.apply(
            lambda s: s.load_balancer.ingress[0].hostname if s and s.load_balancer and s.load_balancer.ingress
            else "")
        self.register_outputs({"url": self.url, "alb_hostname": self.alb_hostname})

    def _controller_made(self, args: WebAppArgs, ingress: k8s.networking.v1.Ingress
                         ) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """The ALB and target group the controller created for the Ingress, by the ALB's name and the target
        group's tags. The lookups wait for the Ingress: pulumi-kubernetes returns once the Ingress has a load
        balancer address, which on an update may still be the old one (the awaiter does not wait for the
        controller to reconcile the change), so the target group found is checked against this Ingress's target
        type and ALB (`controller_target_group_problem`). Cost of the target group lookup: the data source lists
        every target group of the region and reads their tags (DescribeTargetGroups, DescribeTags in 20s), on
        every preview and up. At the first preview both are unknown."""
        after = pulumi.InvokeOutputOptions(parent=self, depends_on=[ingress])
        alb = aws.lb.get_load_balancer_output(name=args.load_balancer_name, opts=after)
        tags = pulumi.Output.from_input(args.cluster_name).apply(lambda cluster: controller_target_group_tags(
            cluster_name=cluster, namespace=args.namespace, ingress=args.name, service=args.name, port="http",
            ingress_class=args.ingress_class))
        target_group = aws.lb.get_target_group_output(tags=tags, opts=after)

        def checked(found: list[Any]) -> str:
            alb_arn, group = found
            problem = controller_target_group_problem(
                target_group_arn=group.arn, target_type=group.target_type,
                load_balancer_arns=list(group.load_balancer_arns or []), want_target_type=args.target_type,
                alb_arn=alb_arn, alb_name=args.load_balancer_name, ingress_class=args.ingress_class)
            if problem:
                raise ValueError(problem)
            return str(group.arn_suffix)

        return alb.arn_suffix, pulumi.Output.all(alb.arn, target_group).apply(checked)

    @staticmethod
    def _meta(args: WebAppArgs, **extra: Any) -> dict[str, Any]:
        return {"name": args.name, "namespace": args.namespace, "labels": app_labels(args.name), **extra}

    def _service_and_ingress(self, name: str, args: WebAppArgs,
                             namespace: k8s.core.v1.Namespace) -> k8s.networking.v1.Ingress:
        """Both created after the controllers' webhooks answer, and deleted (the Ingress with its ALB) before them,
        the node group and the network on `pulumi destroy`."""
        after_controllers = pulumi.ResourceOptions(parent=self, provider=args.provider,
                                                   depends_on=list(args.ingress_controllers))
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=self._meta(args, annotations={f"{ALB}healthcheck-path": args.health_path}),
            spec={
                "type": args.service_type,
                "selector": app_selector(args.name),
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
            opts=pulumi.ResourceOptions.merge(after_controllers, pulumi.ResourceOptions(depends_on=[namespace])),
        )
        annotations = pulumi.Output.all(args.certificate_arn, args.waf_acl_arn or WAF_NONE).apply(
            lambda arns: ingress_annotations(
                load_balancer_name=args.load_balancer_name, target_type=args.target_type,
                ssl_policy=args.ssl_policy, hostname=args.hostname, certificate_arn=arns[0],
                health_path=args.health_path, waf_acl_arn=arns[1], deletion_protection=args.deletion_protection))
        return k8s.networking.v1.Ingress(
            f"{name}-ingress", metadata=self._meta(args, annotations=annotations),
            spec=ingress_spec(args.hostname, service.metadata.name, args.ingress_class),
            opts=pulumi.ResourceOptions.merge(after_controllers, pulumi.ResourceOptions(depends_on=[service])),
        )
