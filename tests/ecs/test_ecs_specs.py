"""The ECS components' pure specs, without a render, and where they must agree with the EKS runtime's."""

from __future__ import annotations

import base64

from infra.ecs.capacity import launch_template_spec
from infra.ecs.loadbalancer import target_health_check
from infra.eks import cluster as eks_cluster
from infra.eks.workload import ALB, ingress_annotations


def test_the_target_group_checks_health_as_the_eks_ingress_asks_its_alb_to() -> None:
    check = target_health_check("/ready")
    a = ingress_annotations(load_balancer_name="lb", target_type="ip", ssl_policy="p", hostname="h",
                            certificate_arn="c", health_path="/ready", deletion_protection=False)
    assert check["enabled"] is True and check["path"] == a[f"{ALB}healthcheck-path"] == "/ready"
    assert (check["port"], check["protocol"], check["matcher"]) == (
        a[f"{ALB}healthcheck-port"], a[f"{ALB}healthcheck-protocol"], a[f"{ALB}success-codes"])
    assert [str(check[k]) for k in ("interval", "timeout", "healthy_threshold", "unhealthy_threshold")] == [
        a[f"{ALB}{k}"] for k in ("healthcheck-interval-seconds", "healthcheck-timeout-seconds",
                                 "healthy-threshold-count", "unhealthy-threshold-count")]


def test_container_instances_join_their_cluster_with_imdsv2_and_an_encrypted_disk() -> None:
    tags = {"project": "webstack"}
    spec = launch_template_spec("shop-ecs", "m7g.large", 60, tags)
    user_data = base64.b64decode(spec["user_data"]).decode()
    assert user_data.startswith("#!/bin/bash\n") and "ECS_CLUSTER=shop-ecs\n" in user_data
    assert spec["instance_type"] == "m7g.large"
    [disk] = spec["block_device_mappings"]
    assert disk["ebs"]["volume_size"] == 60 and disk["ebs"]["encrypted"] == "true"
    assert all(t["tags"] == {"project": "webstack", "Name": "shop-ecs-ecs"} for t in spec["tag_specifications"])
    assert spec["tags"] == tags == {"project": "webstack"}  # the caller's tags are not changed


def test_both_runtimes_harden_instance_metadata_and_root_volumes_alike() -> None:
    nodes = eks_cluster.NodeGroupSpec(
        name_prefix="c-nodes-", instance_types=("m6i.large",), architecture="amd64", capacity_type="ON_DEMAND",
        disk_size_gb=60, min_size=1, desired_size=1, max_size=1, max_unavailable=1, labels={},
        release_version="1.35.0-20260108")
    eks = eks_cluster.launch_template_spec("c", nodes, {})
    ecs = launch_template_spec("c", "m6i.large", 60, {})
    assert ecs["metadata_options"] == eks["metadata_options"]
    assert ecs["metadata_options"]["http_tokens"] == "required"
    assert ecs["metadata_options"]["http_put_response_hop_limit"] == 1
    assert ecs["block_device_mappings"] == eks["block_device_mappings"]
