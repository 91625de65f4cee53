"""The EKS components' pure specs (plain data in, plain data out), without a render: what holds for any input."""

from __future__ import annotations

import json

import pytest

from infra.eks.addons import (
    ALB_SERVICE_ACCOUNT,
    EXTERNAL_DNS_SERVICE_ACCOUNT,
    alb_controller_values,
    external_dns_values,
)
from infra.eks.cluster import NodeGroupSpec, launch_template_spec, single_instance_type
from infra.eks.identity import IDENTITY_POD_ANNOTATION, IRSA_ANNOTATION, identity_annotations
from infra.eks.workload import (
    ALB,
    RUN_AS,
    app_labels,
    app_selector,
    container_spec,
    deployment_spec,
    hpa_spec,
    ingress_annotations,
    ingress_spec,
)


def container(**changes: object) -> dict:
    args = {"name": "shop", "image": "repo@sha256:abc", "port": 8080, "health_path": "/healthz",
            "requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}}
    return container_spec(**{**args, **changes})  # type: ignore[arg-type]


def deployment(**changes: object) -> dict:
    args = {"name": "shop", "replicas": 3, "service_account": "shop", "architecture": "arm64",
            "container": container(), "progress_deadline_seconds": 600}
    return deployment_spec(**{**args, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["shop", "webapp", "a" * 63])
def test_the_deployment_selects_exactly_its_own_pods(name: str) -> None:
    spec = deployment(name=name, container=container(name=name))
    selector = spec["selector"]["matchLabels"]
    labels = spec["template"]["metadata"]["labels"]
    assert selector == app_selector(name) and selector.items() <= labels.items()  # else the API server refuses it
    assert labels == app_labels(name)
    for constraint in spec["template"]["spec"]["topologySpreadConstraints"]:
        assert constraint["labelSelector"] == {"matchLabels": selector}
    assert [c["topologyKey"] for c in spec["template"]["spec"]["topologySpreadConstraints"]] == [
        "topology.kubernetes.io/zone", "kubernetes.io/hostname"]


@pytest.mark.parametrize("architecture", ["amd64", "arm64"])
def test_pods_run_only_on_nodes_of_the_images_architecture(architecture: str) -> None:
    pod = deployment(architecture=architecture)["template"]["spec"]
    assert pod["nodeSelector"] == {"kubernetes.io/arch": architecture}


def test_a_rollout_never_drops_below_the_replica_count() -> None:
    spec = deployment(replicas=4)
    assert spec["replicas"] == 4
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}


def test_the_pod_runs_as_the_unprivileged_user_with_its_service_account_and_no_token() -> None:
    pod = deployment(service_account="sa-from-output")["template"]["spec"]
    assert pod["serviceAccountName"] == "sa-from-output" and pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsUser"] == RUN_AS != 0 and pod["securityContext"]["runAsNonRoot"] is True
    assert pod["containers"] == [container()]


def test_every_mount_of_the_container_is_a_volume_of_the_pod() -> None:
    pod = deployment()["template"]["spec"]
    volumes = {v["name"] for v in pod["volumes"]}
    [c] = pod["containers"]
    assert c["volumeMounts"] and {m["name"] for m in c["volumeMounts"]} <= volumes


def test_the_probes_ask_the_health_path_on_the_declared_port() -> None:
    c = container(port=9090, health_path="/ready")
    assert c["ports"] == [{"name": "http", "containerPort": 9090, "protocol": "TCP"}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"path": "/ready", "port": "http", "scheme": "HTTP"}
    assert c["resources"] == {"requests": {"cpu": "250m", "memory": "64Mi"},
                              "limits": {"cpu": "500m", "memory": "128Mi"}}
    assert c["securityContext"]["readOnlyRootFilesystem"] is True and c["securityContext"]["runAsUser"] == RUN_AS


def test_the_ingress_routes_the_hostname_to_the_services_http_port_through_the_alb_class() -> None:
    spec = ingress_spec("shop.example.com", "shop-svc")
    assert spec["ingressClassName"] == "alb"  # never a default IngressClass
    [rule] = spec["rules"]
    assert rule["host"] == "shop.example.com"
    [path] = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    assert path["backend"] == {"service": {"name": "shop-svc", "port": {"name": "http"}}}


def test_ingress_annotations_carry_the_load_balancer_settings() -> None:
    a = ingress_annotations(load_balancer_name="lb", target_type="ip", ssl_policy="pol", hostname="h.example.com",
                            certificate_arn="arn:cert", health_path="/hz", deletion_protection=False)
    assert (a[f"{ALB}load-balancer-name"], a[f"{ALB}target-type"], a[f"{ALB}ssl-policy"]) == ("lb", "ip", "pol")
    assert a[f"{ALB}certificate-arn"] == "arn:cert" and a[f"{ALB}healthcheck-path"] == "/hz"
    assert a["external-dns.alpha.kubernetes.io/hostname"] == "h.example.com"
    assert json.loads(a[f"{ALB}listen-ports"]) == [{"HTTPS": 443}, {"HTTP": 80}] and a[f"{ALB}ssl-redirect"] == "443"


def test_the_hpa_scales_the_deployment_on_cpu() -> None:
    spec = hpa_spec(deployment_name="shop", min_replicas=2, max_replicas=7, cpu_target_percent=55)
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop"}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 7)
    [metric] = spec["metrics"]
    assert metric["resource"] == {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 55}}


def nodes(**changes: object) -> NodeGroupSpec:
    args = {"name_prefix": "c-nodes-", "instance_types": ("m6i.large",), "architecture": "amd64",
            "capacity_type": "ON_DEMAND", "disk_size_gb": 80, "min_size": 1, "desired_size": 2, "max_size": 3,
            "max_unavailable": 1, "labels": {}, "release_version": "1.35.0-20260108"}
    return NodeGroupSpec(**{**args, **changes})  # type: ignore[arg-type]


def test_one_instance_type_lives_in_the_launch_template_several_on_the_node_group() -> None:
    assert single_instance_type(["m6i.large"]) == "m6i.large"
    assert single_instance_type(["m6i.large", "m6a.large"]) is None
    assert launch_template_spec("c", nodes(), {})["instance_type"] == "m6i.large"
    assert launch_template_spec("c", nodes(instance_types=("m6i.large", "m6a.large")), {})["instance_type"] is None


def test_the_launch_template_hardens_the_nodes_and_names_them() -> None:
    tags = {"project": "webstack"}
    spec = launch_template_spec("prod-eks", nodes(disk_size_gb=120), tags)
    assert spec["metadata_options"] == {"http_endpoint": "enabled", "http_tokens": "required",
                                        "http_put_response_hop_limit": 1, "instance_metadata_tags": "disabled"}
    [disk] = spec["block_device_mappings"]
    assert disk["ebs"] == {"volume_size": 120, "volume_type": "gp3", "encrypted": "true",
                           "delete_on_termination": "true"}
    assert {t["resource_type"] for t in spec["tag_specifications"]} == {"instance", "volume", "network-interface"}
    assert all(t["tags"] == {"project": "webstack", "Name": "prod-eks-node"} for t in spec["tag_specifications"])
    assert spec["tags"] == tags == {"project": "webstack"}  # the caller's tags are not changed
    assert spec["update_default_version"] is True and "prod-eks" in spec["description"]


def test_the_alb_controller_is_told_what_imds_would_not_tell_it() -> None:
    v = alb_controller_values(cluster_name="c", region="eu-west-1", vpc_id="vpc-1",
                              identity=identity_annotations("irsa", "arn:role"))
    assert (v["clusterName"], v["region"], v["vpcId"]) == ("c", "eu-west-1", "vpc-1")
    # The IRSA role trusts exactly this service account.
    assert v["serviceAccount"] == {"create": True, "name": ALB_SERVICE_ACCOUNT.name,
                                   "annotations": {IRSA_ANNOTATION: "arn:role"}}
    assert v["podAnnotations"] == {IDENTITY_POD_ANNOTATION: "irsa"}
    assert v["enableServiceMutatorWebhook"] is False and v["ingressClass"] == "alb"


def test_external_dns_stays_in_its_zone_with_its_own_service_account() -> None:
    v = external_dns_values(policy="upsert-only", cluster_name="c", region="eu-west-1", zone_name="example.com",
                            zone_id="Z1", identity=identity_annotations("irsa", "arn:role"))
    assert v["policy"] == "upsert-only" and v["domainFilters"] == ["example.com"] and v["registry"] == "txt"
    assert "--aws-zone-type=public" in v["extraArgs"]
    assert v["serviceAccount"]["name"] == EXTERNAL_DNS_SERVICE_ACCOUNT.name
    assert v["serviceAccount"]["annotations"] == {IRSA_ANNOTATION: "arn:role"}
    assert v["env"] == [{"name": "AWS_DEFAULT_REGION", "value": "eu-west-1"}]


def test_pod_identity_leaves_the_service_account_alone_and_marks_the_pods() -> None:
    """Pod Identity needs no service account annotation (the association names it); the pod annotation differs
    between the modes, so a switch rolls every controller's pods (the credential webhooks act on pod creation)."""
    pod_identity, irsa = identity_annotations("pod-identity", "arn:role"), identity_annotations("irsa", "arn:role")
    assert pod_identity.service_account == {} and irsa.service_account == {IRSA_ANNOTATION: "arn:role"}
    assert pod_identity.pod != irsa.pod
    v = external_dns_values(policy="sync", cluster_name="c", region="r", zone_name="z", zone_id="Z1",
                            identity=pod_identity)
    assert v["serviceAccount"]["annotations"] == {} and v["podAnnotations"] == {IDENTITY_POD_ANNOTATION: "pod-identity"}
