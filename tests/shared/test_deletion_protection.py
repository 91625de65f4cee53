"""Deletion protection (webstack:deletionProtection, on by default for prod*) on the renders: the EKS cluster, the
Ingress annotation the LB controller sets the ALB's attribute from, the ECS ALB; and the advisory policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.eks.workload import load_balancer_attributes
from tests.support.pack import BY_NAME, check_stack, renamed, stack_resource
from tools.render import Plan

EKS = "eks:index:Cluster"
LB = "aws:lb/loadBalancer:LoadBalancer"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
ATTRIBUTES = "alb.ingress.kubernetes.io/load-balancer-attributes"
POLICY = BY_NAME["deletion-protection-on-production"]


@pytest.fixture(scope="module")
def ecs_protected(variant: Callable[..., Plan]) -> Plan:
    return variant("ecs", deletionProtection=True)


def attributes(plan: Plan) -> dict[str, str]:
    text = plan.one(INGRESS)["inputs"]["metadata"]["annotations"][ATTRIBUTES]
    return dict(pair.split("=", 1) for pair in text.split(","))


def test_prod_protects_the_cluster_and_the_ingress_alb_dev_does_not(prod: Plan, dev: Plan) -> None:
    assert prod.one(EKS)["inputs"]["deletionProtection"] is True
    assert dev.one(EKS)["inputs"]["deletionProtection"] is False
    assert attributes(prod) == {"routing.http.drop_invalid_header_fields.enabled": "true",
                                "deletion_protection.enabled": "true"}
    # off is said, not left out: the controller changes only the attributes the annotation names
    assert attributes(dev)["deletion_protection.enabled"] == "false"


def test_the_ecs_alb_follows_the_key(fargate: Plan, ecs_protected: Plan) -> None:
    assert fargate.one(LB)["inputs"]["enableDeletionProtection"] is False
    assert ecs_protected.one(LB)["inputs"]["enableDeletionProtection"] is True


def test_the_annotation_names_the_attribute_both_ways() -> None:
    assert load_balancer_attributes(deletion_protection=True).endswith(",deletion_protection.enabled=true")
    assert load_balancer_attributes(deletion_protection=False).endswith(",deletion_protection.enabled=false")


def report(resources: list[dict[str, Any]]) -> list[str]:
    return [m for m, _ in check_stack(POLICY, [stack_resource(r) for r in resources])]


def test_the_policy_warns_on_an_unprotected_production_stack(prod: Plan, dev: Plan, fargate: Plan,
                                                               ecs_protected: Plan) -> None:
    assert POLICY.enforcement_level.value == "advisory"  # a deliberate teardown deploys it off first
    assert report(prod.resources) == [] and report(dev.resources) == []  # dev is not production
    assert report(renamed(ecs_protected.resources, "prod-ecs")) == []
    assert report(renamed(dev.resources, "prod-eu")) == [
        "EKS cluster 'cluster-eks': deletionProtection is off (webstack:deletionProtection)",
        f"Ingress 'webapp-ingress': no deletion_protection.enabled=true in {ATTRIBUTES} "
        "(webstack:deletionProtection)"]
    assert report(renamed(fargate.resources, "prod-ecs")) == [
        "ALB 'web-alb': enableDeletionProtection is off (webstack:deletionProtection)"]
