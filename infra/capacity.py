"""What one instance of a type can run: EKS node allocatable resources and ECS task slots.

The data: vCPUs and memory from the AWS Price List API as apache-libcloud ships it (infra/data/aws-data.json,
`make aws-data`); network interfaces from aws/amazon-vpc-cni-k8s's table generated from EC2 DescribeInstanceTypes
(infra/data/ec2-eni-limits.json, with its source and date). A type missing from one of them cannot be checked: the
functions return None and the config says so.

The numbers are a conservative estimate (the 7.5 % VM overhead may put a type some tens of MiB below what it
really allocates) and necessary conditions only: a pod or task bigger than one empty instance never runs, whatever the
autoscaler does; one that fits may still wait for room beside the add-ons' pods or other tasks.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from .instances import aws_data

ENI_LIMITS = Path(__file__).resolve().parent / "data" / "ec2-eni-limits.json"
# The memory an instance's OS sees is less than its type's nominal memory (hypervisor, kernel): Karpenter reserves
# `vmMemoryOverheadPercent`, default 7.5 %, for it (karpenter.sh settings). The same conservative share here.
VM_MEMORY_OVERHEAD = 0.075
# EKS AL2023 nodes (awslabs/amazon-eks-ami nodeadm/internal/kubelet/config.go): kube-reserved memory is
# 11 MiB per pod the node may run plus 255 MiB (getMemoryMebibytesToReserve); kube-reserved CPU is 6 % of the
# first core, 1 % of the second, 0.5 % of the third and fourth, 0.25 % of the others (getCPUMillicoresToReserve,
# in 1/10000); kubelet's evictionHard memory.available is 100Mi.
RESERVED_MIB_PER_POD, RESERVED_MIB_BASE, EVICTION_MIB = 11, 255, 100
_CPU_RANGES = ((0, 1000, 600), (1000, 2000, 100), (2000, 4000, 50), (4000, None, 25))
# Pods per node when the VPC CNI's limits are unknown: Kubernetes' default (the larger reserve: conservative).
DEFAULT_MAX_PODS = 110
# Fargate/EC2 task CPU units per vCPU (ECS registers 1,024 per vCPU on a container instance).
CPU_UNITS_PER_VCPU = 1024


@dataclass(frozen=True)
class Instance:
    vcpus: int
    memory_mib: int


@functools.cache
def _eni_limits() -> dict[str, tuple[int, int]]:
    data = json.loads(ENI_LIMITS.read_text())
    return {name: (enis, ips) for name, (enis, ips) in data["limits"].items()}


def instance(instance_type: str) -> Instance | None:
    """vCPUs and nominal memory of the type (None: not in the Price List snapshot)."""
    found = aws_data().get("instanceSpecs", {}).get(instance_type)
    return Instance(vcpus=found[0], memory_mib=found[1]) if found else None


def network_interfaces(instance_type: str) -> int | None:
    """The most network interfaces one instance takes (None: not in the VPC CNI's table)."""
    found = _eni_limits().get(instance_type)
    return found[0] if found else None


def max_pods(instance_type: str) -> int:
    """The VPC CNI's pods per node: interfaces x (IPv4 addresses per interface - 1) + 2 (the formula nodeadm uses
    by default without prefix delegation), or Kubernetes' 110 when unknown."""
    found = _eni_limits().get(instance_type)
    return found[0] * (found[1] - 1) + 2 if found else DEFAULT_MAX_PODS


def os_memory_mib(nominal_mib: int) -> int:
    return int(nominal_mib * (1 - VM_MEMORY_OVERHEAD))


def kube_reserved_cpu_millicores(vcpus: int) -> int:
    total, reserved = vcpus * 1000, 0
    for start, end, per_10000 in _CPU_RANGES:
        if total > start:
            reserved += (min(total, end or total) - start) * per_10000 // 10000
    return reserved


def eks_allocatable(instance_type: str) -> tuple[int, int] | None:
    """(CPU millicores, memory MiB) a pod can request on an empty EKS AL2023 node of this type, or None."""
    spec = instance(instance_type)
    if spec is None:
        return None
    memory = os_memory_mib(spec.memory_mib) - (RESERVED_MIB_PER_POD * max_pods(instance_type) + RESERVED_MIB_BASE) \
        - EVICTION_MIB
    return spec.vcpus * 1000 - kube_reserved_cpu_millicores(spec.vcpus), memory


def ecs_registered(instance_type: str) -> tuple[int, int] | None:
    """(CPU units, memory MiB) an ECS container instance of this type offers tasks, or None. The agent registers
    1,024 units per vCPU and the memory the OS reports (ECS Developer Guide, "Reserving Amazon ECS Linux container
    instance memory": an 8 GiB instance does not register 8,192 MiB); ECS_RESERVED_MEMORY is left at 0."""
    spec = instance(instance_type)
    if spec is None:
        return None
    return spec.vcpus * CPU_UNITS_PER_VCPU, os_memory_mib(spec.memory_mib)


def awsvpc_tasks_per_instance(instance_type: str) -> int | None:
    """awsvpc tasks one container instance runs: one network interface each, the primary one is the instance's own
    (ECS Developer Guide, "Amazon ECS task networking options for EC2": ENI trunking, not used here, raises it)."""
    enis = network_interfaces(instance_type)
    return enis - 1 if enis is not None else None
