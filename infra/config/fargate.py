"""appOnFargate: what EKS Fargate cannot do with this stack's settings, refused by name before anything is declared,
and the Fargate size an app pod gets (the cost estimate reads it too).

Sources (Amazon EKS User Guide, awsdocs/amazon-eks-user-guide @4d52b4d0): "AWS Fargate considerations" and the
"Fargate Comparison Table" (latest/ug/nodes/fargate.adoc), "Define which Pods use AWS Fargate when launched"
(fargate-profile.adoc), "Understand Fargate Pod configuration details" (fargate-pod-configuration.adoc).

What the considerations list and this stack cannot be configured to do is not refused, only documented
(docs/nodes.md, "The app on Fargate"): the app declares no DaemonSet, privileged container, hostNetwork, hostPort,
GPU or EBS volume (its one volume is a 64Mi emptyDir, within the 20 GiB of ephemeral storage a Fargate pod gets),
its service account gets no AWS identity (so Pod Identity, which Fargate pods cannot use, is never asked for), and
the Fargate profile is given the private subnets only (infra/eks/fargate.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .app import quantity
from .core import rule

if TYPE_CHECKING:
    from .stack import StackConfig

MIB = 2**20
GUIDE = "Amazon EKS User Guide"
# "Fargate adds 256 MB to each Pod's memory reservation for the required Kubernetes components (kubelet,
# kube-proxy, and containerd)", then "rounds up to the following compute configuration that most closely matches
# the sum of vCPU and memory requests" (fargate-pod-configuration.adoc). Its GB are GiB, as Fargate bills them (ECS
# task sizes in MiB: 512, 1024...). (vCPU, the memory choices in GiB).
POD_OVERHEAD_MIB = 256
POD_SIZES: tuple[tuple[float, tuple[float, ...]], ...] = (
    (0.25, (0.5, 1, 2)),
    (0.5, (1, 2, 3, 4)),
    (1, (2, 3, 4, 5, 6, 7, 8)),
    (2, tuple(float(g) for g in range(4, 17))),
    (4, tuple(float(g) for g in range(8, 31))),
    (8, tuple(float(g) for g in range(16, 61, 4))),
    (16, tuple(float(g) for g in range(32, 121, 8))),
)
LARGEST = "16 vCPU and 120 GB"


@dataclass(frozen=True)
class PodSize:
    vcpu: float
    memory_gib: float

    @property
    def millicores(self) -> int:
        return round(self.vcpu * 1000)

    @property
    def memory_mib(self) -> int:
        return round(self.memory_gib * 1024)


def pod_size(cpu_millicores: float, memory_mib: float) -> PodSize | None:
    """The Fargate size of a pod requesting this much: its requests plus 256 MiB, rounded up to the smallest
    combination holding both (1 vCPU and 8 GiB requested is provisioned as 2 vCPU and 9 GiB, the guide's example);
    None when no combination is large enough."""
    memory = memory_mib + POD_OVERHEAD_MIB
    for vcpu, memories in POD_SIZES:
        if cpu_millicores > vcpu * 1000:
            continue
        fitting = [m for m in memories if m * 1024 >= memory]
        if fitting:
            return PodSize(vcpu, fitting[0])
    return None


def app_pod_size(cfg: StackConfig) -> PodSize | None:
    """The size one app pod gets on Fargate (one container: its requests), or None (too large, or unparsed)."""
    cpu, memory = quantity(cfg.app.cpu_request), quantity(cfg.app.memory_request)
    if cpu is None or memory is None:
        return None
    return pod_size(float(cpu) * 1000, float(memory) / MIB)


def _on_fargate(cfg: StackConfig) -> bool:
    return cfg.runtime == "eks" and cfg.app.on_fargate


@rule("appOnFargate", "serviceType")
def _fargate_needs_ip_targets(cfg: StackConfig) -> str | None:
    if not _on_fargate(cfg) or cfg.app.service_type == "ClusterIP":
        return None
    return (f"\"Application Load Balancers (ALBs) can be used with Fargate with IP targets only\" ({GUIDE}, \"AWS "
            "Fargate considerations\"); a NodePort Service is reached through EC2 nodes (target type instance): set "
            "serviceType to ClusterIP (target type ip), or appOnFargate to false")


@rule("appOnFargate", "nodeInstanceTypes")
def _fargate_runs_x86_only(cfg: StackConfig) -> str | None:
    if not _on_fargate(cfg) or cfg.cluster.node_architecture == "amd64":
        return None
    return (f"EKS Fargate cannot \"run workloads that require Arm processors\" ({GUIDE}, \"Fargate Comparison "
            f"Table\") and the app image is built for the nodes' architecture ({cfg.cluster.node_architecture}): "
            "choose x86_64 nodeInstanceTypes, or set appOnFargate to false")


@rule("appOnFargate", "aws:region")
def _fargate_not_in_govcloud(cfg: StackConfig) -> str | None:
    if not _on_fargate(cfg) or cfg.partition != "aws-us-gov":
        return None
    return (f"\"AWS Fargate with Amazon EKS isn't available in AWS GovCloud (US-East) and AWS GovCloud (US-West)\" "
            f"({GUIDE}, \"Define which Pods use AWS Fargate when launched\"): set appOnFargate to false")


@rule("appOnFargate", "appCpuRequest", "appMemoryRequest", "appCpuLimit", "appMemoryLimit")
def _fargate_size_holds_the_pod(cfg: StackConfig) -> str | None:
    """A Fargate pod gets exactly its size ("Pods can use more hardware and memory than requested: No", the
    comparison table): requests beyond the largest size never run, and a limit above the size is never granted
    (the container is throttled or OOM-killed at the size, not at the limit it declares)."""
    if not _on_fargate(cfg):
        return None
    cpu_limit, memory_limit = quantity(cfg.app.cpu_limit), quantity(cfg.app.memory_limit)
    if cpu_limit is None or memory_limit is None:
        return None
    size = app_pod_size(cfg)
    sizing = (f"Fargate provisions the requests plus {POD_OVERHEAD_MIB} MiB for kubelet, kube-proxy and containerd, "
              f"rounded up to a vCPU/memory combination ({GUIDE}, \"Understand Fargate Pod configuration details\")")
    if size is None:
        return f"the requests exceed the largest Fargate pod ({LARGEST}): {sizing}; lower them"
    usable_mib = size.memory_mib - POD_OVERHEAD_MIB
    over = []
    if float(cpu_limit) * 1000 > size.millicores:
        over.append(f"appCpuLimit {cfg.app.cpu_limit} > the {size.vcpu:g} vCPU")
    if float(memory_limit) / MIB > usable_mib:
        over.append(f"appMemoryLimit {cfg.app.memory_limit} > the {usable_mib} MiB left of {size.memory_gib:g} GiB")
    if not over:
        return None
    return (f"a Fargate pod never gets more than its size ({size.vcpu:g} vCPU, {size.memory_gib:g} GiB for these "
            f"requests): {'; '.join(over)}. {sizing}: raise the requests or lower the limits to the size")


def warnings(cfg: StackConfig) -> list[str]:
    """What Fargate leaves undone for this config, said on every `pulumi up` (nothing silently off)."""
    if not _on_fargate(cfg):
        return []
    return [f"appOnFargate: the app's NetworkPolicy ({cfg.app.namespace}/{cfg.app.name}) is not enforced on Fargate "
            "pods (\"you can apply the policies to Amazon EC2 Linux nodes only. You can't apply the policies to "
            f"Fargate\", {GUIDE}, Amazon VPC CNI network policies): each pod is isolated by its own micro-VM and "
            "reached through the cluster security group (docs/nodes.md, \"The app on Fargate\")"]

