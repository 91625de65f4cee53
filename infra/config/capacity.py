"""Capacity fit, both runtimes: a pod or task must fit one instance of the chosen types, and the ECS service's tasks
must fit its Auto Scaling group (awsvpc: one network interface per task). Otherwise pods stay Pending and tasks in
PROVISIONING, and `pulumi up` waits for a steady state that never comes. The numbers: infra/capacity.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra import capacity

from .app import quantity
from .core import rule

if TYPE_CHECKING:
    from .stack import StackConfig

MIB = 2**20


def _eks_misfits(cpu_millicores: int, memory_mib: float, types: tuple[str, ...]) -> list[str]:
    out = []
    for t in types:
        room = capacity.eks_allocatable(t)
        if room is None:
            continue
        cpu, memory = room
        if cpu_millicores > cpu:
            out.append(f"{cpu_millicores}m CPU > {cpu}m a pod can request on a {t} node")
        if memory_mib > memory:
            out.append(f"{memory_mib:.0f} MiB > {memory} MiB a pod can request on a {t} node")
    return out


@rule("appCpuRequest", "appMemoryRequest", "nodeInstanceTypes")
def _pod_fits_a_node(cfg: StackConfig) -> str | None:
    if cfg.runtime != "eks" or cfg.app.on_fargate:  # on Fargate the app's pods use no node (infra/config/fargate.py)
        return None
    if cfg.cluster.node_provisioner == "auto-mode":  # its NodePool picks any c/m/r size; nodeInstanceTypes: the arch
        return None
    cpu, memory = quantity(cfg.app.cpu_request), quantity(cfg.app.memory_request)
    if cpu is None or memory is None:
        return None
    misfits = _eks_misfits(int(cpu * 1000), float(memory) / MIB, cfg.cluster.node_instance_types)
    if not misfits:
        return None
    return ("the app's pod fits no node, it would stay Pending (allocatable: the type's memory less 7.5 % VM "
            "overhead, EKS AL2023 kube-reserved and the 100Mi eviction threshold; infra/capacity.py): "
            + "; ".join(misfits) + ". Lower the requests or choose larger nodeInstanceTypes")


def _eks_pods_per_node(cpu_millicores: int, memory_mib: float, instance_type: str) -> int | None:
    """App pods one empty node of the type holds (its allocatable CPU and memory, and its max pods), or None."""
    room = capacity.eks_allocatable(instance_type)
    if room is None:
        return None
    bounds = [capacity.max_pods(instance_type)]
    bounds += [int(room[0] // cpu_millicores)] if cpu_millicores > 0 else []
    bounds += [int(room[1] // memory_mib)] if memory_mib > 0 else []
    return min(bounds)


@rule("appReplicas", "hpaMinReplicas", "appCpuRequest", "appMemoryRequest", "nodeInstanceTypes", "nodeMaxSize")
def _replicas_fit_the_node_group(cfg: StackConfig) -> str | None:
    """The Deployment's pods, and the one more a rolling update starts (maxSurge 1, maxUnavailable 0), must fit
    nodeMaxSize nodes of the smallest type (the group may launch only that one); else the autoscaler is at its
    maximum with pods Pending and `pulumi up` waits for a rollout that never completes. Necessary only: the
    add-ons' pods take room too. Auto Mode has no node group (its NodePool picks instance types; autoModeCpuLimit
    bounds it); Fargate pods run on no node."""
    if cfg.runtime != "eks" or cfg.app.on_fargate or cfg.cluster.node_provisioner == "auto-mode":
        return None
    cpu, memory = quantity(cfg.app.cpu_request), quantity(cfg.app.memory_request)
    if cpu is None or memory is None:
        return None
    per_node = [n for t in cfg.cluster.node_instance_types
                if (n := _eks_pods_per_node(int(cpu * 1000), float(memory) / MIB, t)) is not None]
    if not per_node or min(per_node) == 0:
        return None  # unknown types (said by not_checked) or a pod that fits no node (_pod_fits_a_node says so)
    needed = max(cfg.app.replicas, cfg.app.hpa_min_replicas) + 1
    room = min(per_node) * cfg.cluster.node_max_size
    if needed <= room:
        return None
    return (f"{needed - 1} replica(s) plus the one a rolling update adds need {needed} pod slot(s); "
            f"{cfg.cluster.node_max_size} node(s) (nodeMaxSize) hold at most {room} ({min(per_node)} per node of "
            "the smallest nodeInstanceTypes, by allocatable CPU, memory and max pods): pods would stay Pending. "
            "Raise nodeMaxSize, use larger nodes, or lower the requests or replicas")


# CPU the system pods on Auto Mode's nodes request, from the values the stack sets (infra/eks/addons.py) and the
# charts' defaults: metrics-server 2 replicas x 100m (chart 3.13.0 values.yaml `resources.requests.cpu`),
# ExternalDNS 1 replica with no request (chart 1.21.1 `resources: {}`). No LB controller, no autoscaler, no managed
# add-on pods under Auto Mode (CoreDNS and the CNI run in the node, not as pods). tests/eks/test_automode.py keeps
# this equal to the render.
AUTO_MODE_SYSTEM_CPU_MILLICORES = {"metrics-server": 2 * 100, "external-dns": 0}


@rule("autoModeCpuLimit", "appReplicas", "hpaMinReplicas", "appCpuRequest")
def _auto_mode_limit_holds_the_app(cfg: StackConfig) -> str | None:
    """The NodePool stops launching nodes at autoModeCpuLimit vCPUs (the nodes' capacity, not the pods' requests):
    the replicas, the one a rolling update adds and the system pods must be requestable within it, else pods stay
    Pending and `pulumi up` waits for a rollout that never completes. Necessary only: the nodes' own reservation
    (kube-reserved) and bin-packing take more."""
    if cfg.runtime != "eks" or cfg.cluster.node_provisioner != "auto-mode":
        return None
    cpu = quantity(cfg.app.cpu_request)
    if cpu is None:
        return None
    pods = max(cfg.app.replicas, cfg.app.hpa_min_replicas) + 1
    app = pods * int(cpu * 1000)
    system = sum(AUTO_MODE_SYSTEM_CPU_MILLICORES.values())
    limit = cfg.cluster.auto_mode_cpu_limit * 1000
    if app + system <= limit:
        return None
    return (f"{pods - 1} replica(s) (the larger of appReplicas and hpaMinReplicas) plus the one a rolling update adds, "
            f"{pods} x {int(cpu * 1000)}m (appCpuRequest) = {app}m, and the system pods' {system}m (metrics-server, "
            f"ExternalDNS) need {app + system}m; the NodePool stops at {limit}m (autoModeCpuLimit "
            f"{cfg.cluster.auto_mode_cpu_limit} vCPUs): pods would stay Pending. Raise autoModeCpuLimit to at least "
            f"{-(-(app + system) // 1000)}, or lower the requests or replicas")


@rule("ecsTaskCpu", "ecsTaskMemory", "ecsEc2InstanceType")
def _task_fits_an_instance(cfg: StackConfig) -> str | None:
    e = cfg.ecs
    if cfg.runtime != "ecs" or e.capacity != "ec2":
        return None
    room = capacity.ecs_registered(e.ec2_instance_type)
    if room is None:
        return None
    units, memory = room
    misfits = []
    if e.task_cpu > units:
        misfits.append(f"{e.task_cpu} CPU units > {units}")
    if e.task_memory > memory:
        misfits.append(f"{e.task_memory} MiB > {memory} MiB")
    if not misfits:
        return None
    return (f"the task fits no {e.ec2_instance_type} container instance ({'; '.join(misfits)} it registers: "
            "1,024 units per vCPU, the memory less 7.5 % VM overhead), it would stay in PROVISIONING. Use a smaller "
            "task or a larger ecsEc2InstanceType")


def ec2_task_slots(cfg: StackConfig) -> tuple[int, str] | None:
    """(tasks one container instance runs, what bounds it), or None when the type's data is unknown."""
    e = cfg.ecs
    enis, room = capacity.awsvpc_tasks_per_instance(e.ec2_instance_type), capacity.ecs_registered(e.ec2_instance_type)
    if enis is None or room is None:
        return None
    bounds = {f"{enis} network interfaces for tasks (awsvpc; one of {enis + 1} is the instance's)": enis,
              f"{room[0]} CPU units / {e.task_cpu}": room[0] // e.task_cpu,
              f"{room[1]} MiB / {e.task_memory}": room[1] // e.task_memory}
    why = min(bounds, key=lambda k: bounds[k])
    return bounds[why], why


@rule("ecsMaxTasks", "ecsEc2MaxSize", "ecsEc2InstanceType", "ecsDeploymentMinimumHealthyPercent")
def _tasks_fit_the_group(cfg: StackConfig) -> str | None:
    e = cfg.ecs
    if cfg.runtime != "ecs" or e.capacity != "ec2" or (slots := ec2_task_slots(cfg)) is None:
        return None
    per_instance, why = slots
    if per_instance == 0:
        return None  # the task fits no instance: _task_fits_an_instance says so
    most = max([e.max_tasks, *(s.max_tasks for s in e.scheduled_scaling)])
    room = per_instance * e.ec2_max_size
    # A rolling deployment stops tasks down to minimumHealthyPercent (rounded up) and needs one free slot to start
    # a new one: with every slot taken by healthy tasks it never progresses.
    kept = -(-most * e.minimum_healthy_percent // 100)
    if most <= room and (kept < most or kept + 1 <= room):
        return None
    return (f"{most} task(s) need {most if kept < most else most + 1} slot(s) (one free for a rolling deployment "
            f"at minimum healthy {e.minimum_healthy_percent} %), {e.ec2_max_size} x {e.ec2_instance_type} offer "
            f"{room}: {per_instance} task(s) per instance ({why}). Raise ecsEc2MaxSize, use a larger type or fewer "
            "tasks")


def not_checked(cfg: StackConfig) -> list[str]:
    """The chosen instance types the capacity checks have no data for (said at deploy time, never silently)."""
    types = cfg.cluster.node_instance_types if cfg.runtime == "eks" else (
        (cfg.ecs.ec2_instance_type,) if cfg.ecs.capacity == "ec2" else ())
    missing = [t for t in types if capacity.instance(t) is None
               or (cfg.runtime == "ecs" and capacity.network_interfaces(t) is None)]
    return [f"capacity not checked for {t}: it is not in the instance data snapshot (infra/data/aws-data.json, "
            f"ec2-eni-limits.json); make sure a pod or task fits it" for t in missing]
