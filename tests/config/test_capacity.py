"""Review finding 3: pods and tasks that fit no instance, and ECS services whose tasks cannot all be placed, are
refused by key with the numbers; the instance data comes from snapshots with their sources (tests/config/
test_aws_data.py keeps them equal to those)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import capacity
from infra.config import ConfigError, load_config
from infra.config.capacity import not_checked

EKS: dict[str, Any] = {"zoneName": "example.com", "hostname": "app.example.com",
                       "publicAccessCidrs": '["203.0.113.0/24"]', "nodeInstanceTypes": '["t3.medium"]'}
ECS: dict[str, Any] = {"zoneName": "example.com", "hostname": "app.example.com", "runtime": "ecs",
                       "ecsCapacity": "ec2", "ecsEc2InstanceType": "t3.medium"}


def problems(base: dict[str, Any], **raw: Any) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config({**base, **raw}, project="webstack", stack="t", region="us-east-1")
    return err.value.problems


def loads(base: dict[str, Any], **raw: Any) -> None:
    load_config({**base, **raw}, project="webstack", stack="t", region="us-east-1")


def test_the_numbers_follow_the_sources() -> None:
    # t3.medium: 2 vCPUs, 4 GiB (Price List); 3 interfaces x 6 IPv4 addresses (VPC CNI): 17 pods.
    assert capacity.instance("t3.medium") == capacity.Instance(vcpus=2, memory_mib=4096)
    assert (capacity.network_interfaces("t3.medium"), capacity.max_pods("t3.medium")) == (3, 17)
    # kube-reserved CPU: 6 % of the first core + 1 % of the second = 70m; 16 vCPUs: 60 + 10 + 10 + 30 = 110m.
    assert capacity.kube_reserved_cpu_millicores(2) == 70 and capacity.kube_reserved_cpu_millicores(16) == 110
    # memory: 4096 less 7.5 % = 3788; less 11 x 17 + 255 = 442 kube-reserved and 100 eviction = 3246.
    assert capacity.eks_allocatable("t3.medium") == (1930, 3246)
    assert capacity.ecs_registered("t3.medium") == (2048, 3788)
    assert capacity.awsvpc_tasks_per_instance("t3.medium") == 2


def test_a_pod_bigger_than_a_node_is_refused_with_the_numbers() -> None:
    [line] = problems(EKS, appCpuRequest="64", appCpuLimit="64")
    assert line.startswith("webstack:appCpuRequest/appMemoryRequest/nodeInstanceTypes = '64'/'128Mi'/['t3.medium']")
    assert "64000m CPU > 1930m a pod can request on a t3.medium node" in line
    [memory] = problems(EKS, appMemoryRequest="4Gi", appMemoryLimit="4Gi")
    assert "4096 MiB > 3246 MiB a pod can request on a t3.medium node" in memory
    # every type of the group must take it: EKS or the autoscaler may launch any of them
    [mixed] = problems(EKS, nodeInstanceTypes='["m6i.large", "t3.medium"]', appMemoryRequest="5Gi",
                       appMemoryLimit="5Gi")
    assert "t3.medium node" in mixed and "m6i.large" not in mixed.split(": ", 1)[1]
    loads(EKS, appCpuRequest="1900m", appCpuLimit="1900m", appMemoryRequest="3Gi", appMemoryLimit="3Gi")


def test_replicas_that_fit_no_node_group_at_its_maximum_are_refused() -> None:
    """Review: one pod fitting one node is not enough: 4 replicas of 1500m (one per t3.medium, 1930m allocatable)
    and the surge pod need 5 nodes, nodeMaxSize 3 holds 3: the fourth stays Pending with the autoscaler at max."""
    big = dict(appCpuRequest="1500m", appCpuLimit="1500m", nodeMaxSize=3, nodeDesiredSize=2, nodeMinSize=2)
    [line] = problems(EKS, appReplicas=4, hpaMinReplicas=4, **big)
    assert line.startswith("webstack:appReplicas/hpaMinReplicas/appCpuRequest/appMemoryRequest/nodeInstanceTypes/"
                           "nodeMaxSize = 4/4/'1500m'/'128Mi'/['t3.medium']/3: 4 replica(s) plus the one a rolling "
                           "update adds need 5 pod slot(s); 3 node(s) (nodeMaxSize) hold at most 3 (1 per node"), line
    loads(EKS, appReplicas=2, hpaMinReplicas=2, **big)  # 3 slots: fits
    loads(EKS, appReplicas=4, hpaMinReplicas=4, **{**big, "nodeMaxSize": 5})
    # max pods bounds it too: 17 per t3.medium (tiny requests), 2 nodes hold 34
    [pods] = problems(EKS, appReplicas=40, hpaMinReplicas=40, hpaMaxReplicas=40, appCpuRequest="10m",
                      appCpuLimit="10m", nodeMaxSize=2, nodeDesiredSize=2, nodeMinSize=2)
    assert "hold at most 34 (17 per node" in pods


def test_a_task_bigger_than_the_instance_type_is_refused_with_the_numbers() -> None:
    [line] = problems(ECS, ecsTaskCpu="2048", ecsTaskMemory="8192")
    assert line.startswith("webstack:ecsTaskCpu/ecsTaskMemory/ecsEc2InstanceType = 2048/8192/'t3.medium': "
                           "the task fits no t3.medium container instance (8192 MiB > 3788 MiB")
    [cpu] = problems(ECS, ecsTaskCpu="4096", ecsTaskMemory="8192", ecsEc2InstanceType="r6i.large")  # 16 GiB
    assert "4096 CPU units > 2048 it registers" in cpu and "MiB >" not in cpu
    [nominal] = problems(ECS, ecsTaskCpu="2048", ecsTaskMemory="8192", ecsEc2InstanceType="m6i.large")  # 8 GiB
    assert "8192 MiB > 7577 MiB" in nominal  # an 8 GiB instance does not register 8,192 MiB
    loads(ECS, ecsTaskCpu="2048", ecsTaskMemory="4096", ecsEc2InstanceType="m6i.large", ecsEc2MaxSize="7")
    fargate = {k: v for k, v in ECS.items() if k not in ("ecsCapacity", "ecsEc2InstanceType")}
    loads(fargate, ecsTaskCpu="4096", ecsTaskMemory="8192")  # Fargate sizes its own capacity


def test_awsvpc_tasks_are_bounded_by_the_network_interfaces() -> None:
    # t3.medium: 3 interfaces, 2 for tasks; 3 instances: 6 slots. 6 tasks at minimum healthy 100 % need a 7th.
    [line] = problems(ECS, ecsEc2MaxSize="3", ecsMaxTasks="6")
    assert line == ("webstack:ecsMaxTasks/ecsEc2MaxSize/ecsEc2InstanceType/ecsDeploymentMinimumHealthyPercent = "
                    "6/3/'t3.medium'/100: 6 task(s) need 7 slot(s) (one free for a rolling deployment at minimum "
                    "healthy 100 %), 3 x t3.medium offer 6: 2 task(s) per instance (2 network interfaces for tasks "
                    "(awsvpc; one of 3 is the instance's)). Raise ecsEc2MaxSize, use a larger type or fewer tasks")
    loads(ECS, ecsEc2MaxSize="3", ecsMaxTasks="6", ecsDeploymentMinimumHealthyPercent="50")
    loads(ECS, ecsEc2MaxSize="4", ecsMaxTasks="6")
    # scheduled scaling's maxima count too
    [scheduled] = problems(ECS, ecsEc2MaxSize="4", ecsScheduledScaling=json.dumps(
        [{"name": "peak", "schedule": "cron(0 8 ? * MON-FRI *)", "minTasks": 2, "maxTasks": 9}]))
    assert "9 task(s) need 10 slot(s)" in scheduled


def test_a_type_without_data_is_said_not_checked() -> None:
    assert capacity.instance("c8i.large") is None  # newer than the Price List snapshot
    cfg = load_config({**EKS, "nodeInstanceTypes": '["c8i.large"]', "appCpuRequest": "64", "appCpuLimit": "64"},
                      project="webstack", stack="t", region="us-east-1")
    assert not_checked(cfg) == ["capacity not checked for c8i.large: it is not in the instance data snapshot "
                                "(infra/data/aws-data.json, ec2-eni-limits.json); make sure a pod or task fits it"]
    assert not_checked(load_config(EKS, project="webstack", stack="t", region="us-east-1")) == []


def test_auto_mode_cpu_limit_must_hold_the_replicas_the_surge_pod_and_the_system_pods() -> None:
    """The NodePool stops at autoModeCpuLimit vCPUs: 3 replicas of 1 vCPU, the surge pod and metrics-server's 200m
    need 4.2 vCPUs, a limit of 4 leaves a pod Pending. hpaMinReplicas counts when it is the larger."""
    auto = {**EKS, "nodeProvisioner": "auto-mode", "nodeInstanceTypes": '["m7i.large"]'}
    one = dict(appCpuRequest="1", appCpuLimit="1", appReplicas=3)
    [line] = problems(auto, autoModeCpuLimit=4, **one)
    assert line.startswith("webstack:autoModeCpuLimit/appReplicas/hpaMinReplicas/appCpuRequest = 4/3/")
    assert "4 x 1000m (appCpuRequest) = 4000m" in line and "need 4200m" in line and "at least 5" in line
    loads(auto, autoModeCpuLimit=5, **one)
    [hpa] = problems(auto, autoModeCpuLimit=5, hpaMinReplicas=4, hpaMaxReplicas=6, **one)
    assert "4 replica(s)" in hpa and "need 5200m" in hpa
