"""App keys: the workload's Kubernetes names, size, scaling and its load balancer."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from .core import Check, between, matches, one_of, rule, setting, when_set

if TYPE_CHECKING:
    from .stack import StackConfig

# Modern ALB TLS policies (TLS 1.2+; the TLS13 family also offers 1.3).
ALB_SSL_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
)
# Services need DNS-1035 labels (start with a letter); namespaces DNS-1123 labels (Kubernetes "Object Names").
DNS_1035 = r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?"
DNS_1123 = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
# Namespaces every cluster already has, the kube- prefix Kubernetes reserves, and the one the add-ons create
# (infra/eks/addons.py): the app's Namespace object cannot be any of them.
TAKEN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "external-dns")
# ELBv2 CreateLoadBalancer Name: at most 32 alphanumerics or hyphens, not starting or ending with a hyphen,
# not starting with "internal-" (botocore elbv2 model, CreateLoadBalancerInput.Name).
ALB_NAME = r"(?!internal-)[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?"
ALB_NAME_MAX = 32
# Chosen bounds (not AWS/Kubernetes limits): replicas and resources a single web app on this stack can use.
REPLICAS_MAX = 1000
CPU_MAX_CORES = 1000
MEMORY_MIN, MEMORY_MAX = 2**20, 2**44  # 1Mi .. 16Ti

# Kubernetes resource.Quantity: <number><suffix>, suffix binary SI, decimal SI or an exponent (no sign here).
_QUANTITY = re.compile(r"(?P<num>[0-9]{1,18}(\.[0-9]{0,9})?|\.[0-9]{1,9})(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[mkMGTPE]|"
                       r"[eE][+-]?[0-9]{1,2})?", re.ASCII)
_SCALE = {"": 1, "m": Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def quantity(text: str) -> Decimal | None:
    """A Kubernetes quantity's value (cores or bytes), or None when it is not one."""
    m = _QUANTITY.fullmatch(text)
    if not m:
        return None
    suffix = m.group("suffix") or ""
    try:
        number = Decimal(m.group("num"))
        if suffix[:1] in ("e", "E"):
            return number.scaleb(int(suffix[1:]))
        return number * _SCALE[suffix]
    except InvalidOperation:
        return None


def cpu_check(text: str) -> str | None:
    value = quantity(text)
    if value is None or not re.fullmatch(r"[0-9.]+m?", text, re.ASCII):
        return "must be a CPU quantity such as 500m, 0.5 or 2"
    if value <= 0 or value > CPU_MAX_CORES or (value * 1000) % 1:
        return f"must be 1m to {CPU_MAX_CORES} cores, in whole millicores (Kubernetes: no finer than 1m)"
    return None


def memory_check(text: str) -> str | None:
    value = quantity(text)
    if value is None or re.search(r"[eEm]", text):
        return "must be a memory quantity such as 128Mi, 128M or 1G"
    if not MEMORY_MIN <= value <= MEMORY_MAX or value % 1:
        return "must be whole bytes from 1Mi to 16Ti"
    return None


def namespace_check(name: str) -> str | None:
    if name in TAKEN_NAMESPACES or name.startswith("kube-"):
        return f"must not be {', '.join(TAKEN_NAMESPACES)} or start with kube- (they exist or are reserved)"
    return None


def alb_name(cluster: str, app: str) -> str:
    """<cluster>-<app> when it fits ALB's 32 characters, else a cut plus a stable 6-hex hash of the full name, so
    two long names differing only at the end never collide."""
    full = f"{cluster}-{app}".replace("_", "-")
    if len(full) <= ALB_NAME_MAX:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:6]
    return f"{full[:ALB_NAME_MAX - 7].rstrip('-')}-{digest}"


_NAMES: Check = matches(DNS_1035, "webapp", "a DNS-1035 label (a lowercase letter, then letters, digits, '-'; <= 63)")


# A rollout step waits for one new pod to be ready: up to the startup probe's 60 s, plus the scheduling and image
# pull, plus a new node when the Cluster Autoscaler must add one (a few minutes). Kubernetes' default is 600 s.
PROGRESS_DEADLINE_MIN, PROGRESS_DEADLINE_MAX = 120, 3600


@dataclass(frozen=True, kw_only=True)
class AppConfig:
    name: str = setting("appName", "webapp", "Name of the app's Kubernetes objects (a DNS-1035 label).", _NAMES)
    namespace: str = setting(
        "appNamespace", "webapp", "Namespace of the app (created by the stack).",
        matches(DNS_1123, "webapp", "a DNS-1123 label (lowercase letters, digits, '-'; <= 63)"), namespace_check)
    replicas: int = setting("appReplicas", 2, "Deployment replicas (at least 2).", between(2, REPLICAS_MAX))
    cpu_request: str = setting("appCpuRequest", "500m", "Container CPU request.", cpu_check)
    memory_request: str = setting("appMemoryRequest", "128Mi", "Container memory request.", memory_check)
    cpu_limit: str = setting("appCpuLimit", "1000m", "Container CPU limit.", cpu_check)
    memory_limit: str = setting("appMemoryLimit", "256Mi", "Container memory limit.", memory_check)
    service_type: str = setting("serviceType", "NodePort",
                                "'NodePort' (ALB target type instance) or 'ClusterIP' (target type ip).",
                                one_of("NodePort", "ClusterIP"))
    hpa_min_replicas: int = setting("hpaMinReplicas", 2, "HPA minimum replicas.", between(2, REPLICAS_MAX))
    hpa_max_replicas: int = setting("hpaMaxReplicas", 6, "HPA maximum replicas.", between(2, REPLICAS_MAX))
    hpa_cpu_target_percent: int = setting("hpaCpuTargetPercent", 70, "HPA target CPU utilisation (%).",
                                          between(1, 100))
    progress_deadline_seconds: int = setting(
        "appProgressDeadlineSeconds", 600, "Seconds a rollout may go without progress before the Deployment reports "
        "ProgressDeadlineExceeded; `pulumi up` gives up 120 s later and fails (docs/operations.md).",
        between(PROGRESS_DEADLINE_MIN, PROGRESS_DEADLINE_MAX))
    load_balancer_name: str = setting(
        "loadBalancerName", "",
        "ALB name (default: <cluster>-<app>, long names cut with a hash suffix to 32 characters).",
        when_set(matches(ALB_NAME, "webstack-dev-webapp",
                         "1-32 letters, digits or '-', not starting or ending with '-' nor starting 'internal-',")))
    ssl_policy: str = setting("sslPolicy", ALB_SSL_POLICIES[0], "ALB TLS security policy.", one_of(*ALB_SSL_POLICIES))
    on_fargate: bool = setting(
        "appOnFargate", False,
        "Run the app's pods on EKS Fargate (a Fargate profile for its namespace, private subnets, one micro-VM per "
        "pod) instead of the nodes: needs serviceType ClusterIP, x86 nodeInstanceTypes, limits within the Fargate "
        "size, not GovCloud (docs/nodes.md, \"The app on Fargate\").")

    @property
    def target_type(self) -> str:
        # NodePort services are reached through the nodes (instance mode); ClusterIP needs pod IPs.
        return "instance" if self.service_type == "NodePort" else "ip"


@rule("appCpuRequest", "appCpuLimit")
def _cpu_request_within_limit(cfg: StackConfig) -> str | None:
    req, lim = quantity(cfg.app.cpu_request), quantity(cfg.app.cpu_limit)
    return "appCpuRequest must not exceed appCpuLimit" if req is not None and lim is not None and req > lim else None


@rule("appMemoryRequest", "appMemoryLimit")
def _memory_request_within_limit(cfg: StackConfig) -> str | None:
    req, lim = quantity(cfg.app.memory_request), quantity(cfg.app.memory_limit)
    if req is not None and lim is not None and req > lim:
        return "appMemoryRequest must not exceed appMemoryLimit"
    return None


@rule("hpaMaxReplicas", "hpaMinReplicas")
def _hpa_ordered(cfg: StackConfig) -> str | None:
    if cfg.app.hpa_max_replicas < cfg.app.hpa_min_replicas:
        return "hpaMaxReplicas must be at least hpaMinReplicas"
    return None


@rule("loadBalancerName", "clusterName", "appName")
def _load_balancer_name(cfg: StackConfig) -> str | None:
    if not re.fullmatch(ALB_NAME, cfg.app.load_balancer_name, re.ASCII):
        return "must be 1-32 letters, digits or '-', not starting or ending with '-' nor starting 'internal-'"
    return None
