"""Values accepted on purpose, limits met exactly, derived values (partition, names) and the shared data sources."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.config import StackConfig, alb_name, load_config, partition_of
from infra.config.app import ALB_NAME, TAKEN_NAMESPACES
from infra.config.stack import EXTRA_TAGS_MAX, TAGS_PER_RESOURCE
from infra.instances import instance_architecture, instance_types
from tools.render import TEST_STACKS, Plan, stack_config

BASE: dict[str, Any] = {"zoneName": "example.com", "hostname": "app.example.com",
                        "publicAccessCidrs": ["203.0.113.0/24"]}


def load(region: str = "us-east-1", stack: str = "t", **raw: Any) -> StackConfig:
    return load_config({**BASE, **raw}, project="webstack", stack=stack, region=region)


# (overrides, attribute path, the value the config holds): each of these was refused or mis-read before, or is a
# value a user may reasonably write.
ACCEPTED: list[tuple[dict[str, Any], str, Any]] = [
    ({"vpcCidr": "100.64.0.0/16"}, "network.vpc_cidr", "100.64.0.0/16"),  # RFC 6598: AWS allows it
    ({"vpcCidr": "172.31.0.0/16"}, "network.vpc_cidr", "172.31.0.0/16"),
    ({"vpcCidr": "192.168.0.0/16", "azCount": 2}, "network.vpc_cidr", "192.168.0.0/16"),
    ({"appMemoryRequest": "128M"}, "app.memory_request", "128M"),
    ({"appProgressDeadlineSeconds": 120}, "app.progress_deadline_seconds", 120),
    ({"appProgressDeadlineSeconds": "3600"}, "app.progress_deadline_seconds", 3600),
    ({"appMemoryLimit": "1G"}, "app.memory_limit", "1G"),
    ({"appMemoryLimit": "1.5Gi"}, "app.memory_limit", "1.5Gi"),
    ({"appCpuRequest": "0.5"}, "app.cpu_request", "0.5"),
    ({"appCpuRequest": 0.5}, "app.cpu_request", "0.5"),  # a YAML float
    ({"appCpuRequest": 1, "appCpuLimit": 2}, "app.cpu_limit", "2"),  # YAML integers
    ({"appCpuRequest": "1m", "appCpuLimit": "1m"}, "app.cpu_request", "1m"),
    ({"nodeInstanceTypes": ["u-6tb1.metal"]}, "cluster.node_instance_types", ("u-6tb1.metal",)),
    ({"nodeInstanceTypes": ["c8g.metal-48xl", "m7g.large"]}, "cluster.node_architecture", "arm64"),
    ({"nodeInstanceTypes": ["t4g.small"]}, "cluster.node_architecture", "arm64"),
    ({"azCount": "2"}, "network.az_count", 2),  # the CLI's strings
    ({"azCount": 2.0}, "network.az_count", 2),  # the mock wire format's floats
    ({"flowLogsEnabled": "False"}, "network.flow_logs_enabled", False),
    ({"zoneName": "Example.COM."}, "dns.zone_name", "example.com"),  # case and the root dot normalised
    ({"hostname": "app.example.com."}, "dns.hostname", "app.example.com"),
    ({"hostname": "example.com"}, "dns.hostname", "example.com"),  # the zone apex
    ({"certificateExtraNames": ["*.example.com"]}, "dns.certificate_extra_names", ("*.example.com",)),
    ({"publicAccessCidrs": ["198.51.100.7/32"]}, "cluster.public_access_cidrs", ("198.51.100.7/32",)),
    ({"publicAccessCidrs": ["1.0.0.0/8"]}, "cluster.public_access_cidrs", ("1.0.0.0/8",)),  # exactly one /8
    ({"endpointPublicAccess": False, "publicAccessCidrs": None}, "cluster.public_access_cidrs", ()),
    ({"nodeLabels": {"node.kubernetes.io/pool": "web"}}, "cluster.node_labels", (("node.kubernetes.io/pool", "web"),)),
    ({"nodeLabels": '{"tier": "web_1.a"}'}, "cluster.node_labels", (("tier", "web_1.a"),)),
    ({"clusterLogTypes": ["scheduler"]}, "cluster.log_types", ("api", "audit", "authenticator", "scheduler")),
    ({"nodeMinSize": 1, "nodeDesiredSize": 1, "nodeMaxSize": 1}, "cluster.node_max_size", 1),
    ({"repositoryName": "team/web--app_x.y"}, "registry.repository_name", "team/web--app_x.y"),  # ECR pattern
    ({"registryEncryption": "KMS", "registryKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:alias/ecr"},
     "registry.kms_key_arn", "arn:aws:kms:us-east-1:123456789012:alias/ecr"),
    ({"extraTags": {"Kostenstelle": "Büro München", "owner": "ops@example.com", "empty": ""}}, "extra_tags",
     (("Kostenstelle", "Büro München"), ("empty", ""), ("owner", "ops@example.com"))),
    ({"extraTags": {"Project": "x"}}, "extra_tags", (("Project", "x"),)),  # tag keys are case sensitive
    ({"appNamespace": "kubernetes-apps"}, "app.namespace", "kubernetes-apps"),
    ({"kubernetesVersion": 1.34}, "cluster.kubernetes_version", "1.34"),
    ({"loadBalancerName": "Web-ALB-1"}, "app.load_balancer_name", "Web-ALB-1"),
]


def _get(cfg: Any, path: str) -> Any:
    for part in path.split("."):
        cfg = getattr(cfg, part)
    return cfg


@pytest.mark.parametrize(("raw", "path", "expected"), ACCEPTED, ids=[p for _, p, _ in ACCEPTED])
def test_valid_values_are_accepted(raw: dict[str, Any], path: str, expected: Any) -> None:
    assert _get(load(**raw), path) == expected


@pytest.mark.parametrize(("region", "partition"), [("us-east-1", "aws"), ("eu-west-1", "aws"),
                                                   ("cn-north-1", "aws-cn"), ("cn-northwest-1", "aws-cn"),
                                                   ("us-gov-west-1", "aws-us-gov")])
def test_partition_is_derived_from_the_region(region: str, partition: str) -> None:
    assert partition_of(region) == partition
    admin = f"arn:{partition}:iam::123456789012:role/admins"
    cfg = load(region=region, adminPrincipalArns=[admin], azCount=2)
    assert cfg.partition == partition and cfg.cluster.admin_principal_arns == (admin,)


def test_cluster_name_defaults_to_project_and_stack_and_must_leave_room_for_the_node_group() -> None:
    assert load(stack="dev").cluster.name == "webstack-dev"
    from infra.config import ConfigError

    with pytest.raises(ConfigError) as err:
        load(stack="s" * 22)  # webstack-sss... is 31 characters: the node group name prefix would be 38
    assert any(p.startswith("webstack:clusterName = ") and "at most 30" in p for p in err.value.problems)
    with pytest.raises(ConfigError) as err:
        load(stack="my.stack")
    assert any(p.startswith("webstack:clusterName") and "set clusterName" in p for p in err.value.problems)


def test_long_alb_names_get_a_stable_hash_suffix_so_two_clusters_never_collide() -> None:
    short = load(clusterName="dev").app.load_balancer_name
    assert short == "dev-webapp"
    base = "platform-team-production"
    eu1 = load(clusterName=f"{base}-eu1").app.load_balancer_name
    eu2 = load(clusterName=f"{base}-eu2").app.load_balancer_name
    assert eu1 != eu2
    for name in (eu1, eu2):
        assert len(name) <= 32 and re.fullmatch(ALB_NAME, name)
        assert name.startswith(f"{base}-webapp"[:25].rstrip("-"))
    assert eu1 == alb_name(f"{base}-eu1", "webapp") == load(clusterName=f"{base}-eu1").app.load_balancer_name
    assert alb_name("a_b", "c") == "a-b-c"  # EKS allows '_', ALB does not


def test_the_limits_stack_loads_with_every_key_at_its_limit() -> None:
    config = stack_config("limits", stacks=TEST_STACKS / "config")
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("webstack:")}
    cfg = load_config(raw, project="webstack", stack="limits", region=config["aws:region"])
    assert len(cfg.cluster.node_group_name_prefix) == 63 - 26
    assert len(cfg.dns.hostname) == 64 and len(cfg.dns.certificate_extra_names) == 9
    assert len(cfg.extra_tags) == EXTRA_TAGS_MAX and len(cfg.cluster.public_access_cidrs) == 40
    assert len(cfg.cluster.node_instance_types) == 20 and cfg.cluster.node_max_size == 450
    assert len(cfg.app.load_balancer_name) == 32 and cfg.network.vpc_cidr.startswith("100.64.")
    assert cfg.network.az_count == 5  # every usable us-east-1 zone


def test_extra_tags_leave_room_for_the_stacks_own_tags_on_every_resource(prod: Plan) -> None:
    """The most-tagged resource of the render, with the most extraTags allowed, stays within AWS's 50."""
    extra = dict(load_config({**BASE, "extraTags": {"cost-center": "platform"}}, project="webstack", stack="prod",
                             region="eu-west-1").extra_tags)
    own = max(len(set(tags) - set(extra)) for r in prod.resources
              if isinstance(tags := (r["inputs"] or {}).get("tags"), dict))
    assert own + EXTRA_TAGS_MAX <= TAGS_PER_RESOURCE
    assert own + EXTRA_TAGS_MAX + 1 > TAGS_PER_RESOURCE  # and the bound is not needlessly low


def test_app_namespace_refuses_the_namespace_the_addons_create() -> None:
    from infra.eks.addons import EXTERNAL_DNS_SERVICE_ACCOUNT

    assert EXTERNAL_DNS_SERVICE_ACCOUNT[0] in TAKEN_NAMESPACES


def test_instance_types_are_botocores_ec2_enum_and_each_has_an_architecture() -> None:
    import botocore.session

    enum = botocore.session.get_session().get_service_model("ec2").shape_for("InstanceType").enum
    assert instance_types() == frozenset(enum) and "u-6tb1.metal" in enum and "m6i.huge2" not in enum
    archs = {t: instance_architecture(t) for t in enum}
    assert set(archs.values()) == {"amd64", "arm64"}
    assert {t for t, a in archs.items() if a == "arm64" and t.startswith(("m6i", "c5", "u-", "t3."))} == set()
    assert all(archs[t] == "arm64" for t in enum if re.match(r"(m|c|r|t)[6-9]g[a-z]*\.", t))
