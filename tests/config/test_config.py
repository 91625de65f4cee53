"""Typed config: defaults, every validation rule, all problems at once, and Pulumi.yaml kept in step."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from infra.config import ConfigError, StackConfig, load_config, schema, settings
from infra.instances import instance_architecture
from infra.subnets import plan_subnets
from tools.render import ROOT, TEST_STACKS, RenderError, render, stack_config

VALID = {
    "zoneName": "example.com",
    "hostname": "app.example.com",
    "publicAccessCidrs": '["203.0.113.0/24"]',
}


def load(region: str | None = "us-east-1", **raw: Any) -> StackConfig:
    return load_config({**VALID, **raw}, project="webstack", stack="t", region=region)


def problems_of(region: str | None = "us-east-1", **raw: Any) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load(region, **raw)
    return err.value.problems


# (raw overrides, the key the error must name, a fragment of what is allowed)
BAD_INPUTS: list[tuple[dict[str, Any], str, str]] = [
    ({"vpcCidr": "10.0.0.1/16"}, "vpcCidr", "no host bits"),
    ({"vpcCidr": "not-a-cidr"}, "vpcCidr", "IPv4 CIDR"),
    ({"vpcCidr": "8.8.0.0/16"}, "vpcCidr", "private range"),
    ({"vpcCidr": "10.0.0.0/8"}, "vpcCidr", "/16 to /24"),
    ({"azCount": "1"}, "azCount", "2 to 6"),
    ({"azCount": "7"}, "azCount", "2 to 6"),
    ({"azCount": "three"}, "azCount", "whole number"),
    ({"vpcCidr": "10.0.0.0/20", "privateSubnetPrefixLength": "20"}, "privateSubnetPrefixLength",
     "longer than the VPC prefix"),
    ({"vpcCidr": "10.0.0.0/20", "privateSubnetPrefixLength": "22", "azCount": "6"},
     "vpcCidr/azCount/privateSubnetPrefixLength/publicSubnetPrefixLength", "do not fit"),
    ({"publicSubnetPrefixLength": "29"}, "publicSubnetPrefixLength", "16 to 27"),
    ({"natStrategy": "none"}, "natStrategy", "allowed: single, per-az"),
    ({"flowLogsRetentionDays": "10"}, "flowLogsRetentionDays", "allowed: 1, 3, 5"),
    ({"flowLogsEnabled": "yes"}, "flowLogsEnabled", "true or false"),
    ({"hostname": "app.other.org"}, "hostname", "inside zoneName"),
    ({"hostname": "App_Name.example.com"}, "hostname", "DNS name"),
    ({"zoneName": "-bad-.com"}, "zoneName", "DNS name"),
    ({"certificateExtraNames": '["www.other.org"]'}, "certificateExtraNames", "inside zoneName"),
    ({"nodeMinSize": "4", "nodeDesiredSize": "3", "nodeMaxSize": "5"}, "nodeMinSize/nodeDesiredSize/nodeMaxSize",
     "min <= desired <= max"),
    ({"nodeMinSize": "0", "nodeDesiredSize": "0", "nodeMaxSize": "0"}, "nodeMaxSize", "1 to 450"),
    ({"kubernetesVersion": "1.23"}, "kubernetesVersion", "allowed: 1.32"),
    ({"kubernetesVersion": "1.29"}, "kubernetesVersion", "1.35"),
    ({"kubernetesVersion": "1.31"}, "kubernetesVersion", "allowed: 1.32"),
    ({"publicAccessCidrs": '["10.0.0.300/32"]'}, "publicAccessCidrs", "CIDR"),
    ({"publicAccessCidrs": '["0.0.0.0/0"]'}, "publicAccessCidrs", "whole internet"),
    ({"publicAccessCidrs": "[]"}, "publicAccessCidrs", "endpointPublicAccess"),
    ({"endpointPublicAccess": "false"}, "publicAccessCidrs", "only allowed when endpointPublicAccess"),
    ({"nodeInstanceTypes": '["m6i.large", "m7g.large"]'}, "nodeInstanceTypes", "one CPU architecture"),
    ({"nodeInstanceTypes": '["large"]'}, "nodeInstanceTypes", "EC2 instance type"),
    ({"nodeInstanceTypes": '"m6i.large"'}, "nodeInstanceTypes", "list of strings"),
    ({"nodeCapacityType": "RESERVED"}, "nodeCapacityType", "allowed: ON_DEMAND, SPOT"),
    ({"nodeDiskSizeGb": "8"}, "nodeDiskSizeGb", "20 to 16384"),
    ({"adminPrincipalArns": '["arn:aws:iam::123:root"]'}, "adminPrincipalArns", "IAM role or user ARN"),
    ({"clusterLogTypes": '["api", "everything"]'}, "clusterLogTypes", "allowed: api, audit"),
    ({"addonVersions": '{"istio": "v1.0.0-eksbuild.1"}'}, "addonVersions", "add-on must be one of"),
    ({"addonVersions": '{"coredns": "latest"}'}, "addonVersions", "v1.2.3-eksbuild.1"),
    ({"nodeLabels": '{"bad key!": "x"}'}, "nodeLabels", "label keys"),
    ({"registryEncryption": "DES"}, "registryEncryption", "allowed: AES256, KMS"),
    ({"registryKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/abc"}, "registryKmsKeyArn",
     "only allowed with registryEncryption"),
    ({"repositoryName": "Web App"}, "repositoryName", "lowercase"),
    ({"imagesToKeep": "0"}, "imagesToKeep", "1 to 10000"),
    ({"albControllerChartVersion": "1.8.0"}, "albControllerChartVersion", "allowed: 3.5.0"),
    ({"externalDnsChartVersion": "1.15.0"}, "externalDnsChartVersion", "1.21.1"),
    ({"externalDnsPolicy": "create-only"}, "externalDnsPolicy", "allowed: upsert-only, sync"),
    ({"metricsServerChartVersion": "latest"}, "metricsServerChartVersion", "exact chart version"),
    ({"appReplicas": "1"}, "appReplicas", "2 to 1000"),
    ({"appCpuRequest": "2", "appCpuLimit": "1000m"}, "appCpuRequest", "must not exceed appCpuLimit"),
    ({"appMemoryLimit": "256MB"}, "appMemoryLimit", "quantity"),
    ({"serviceType": "LoadBalancer"}, "serviceType", "allowed: NodePort, ClusterIP"),
    ({"hpaMinReplicas": "4", "hpaMaxReplicas": "3"}, "hpaMaxReplicas", "at least hpaMinReplicas"),
    ({"hpaCpuTargetPercent": "150"}, "hpaCpuTargetPercent", "1 to 100"),
    ({"appNamespace": "Web_App"}, "appNamespace", "DNS-1123"),
    ({"loadBalancerName": "a-name-that-is-far-too-long-for-an-alb"}, "loadBalancerName", "1-32"),
    ({"sslPolicy": "ELBSecurityPolicy-2016-08"}, "sslPolicy", "allowed: ELBSecurityPolicy-TLS13"),
    ({"extraTags": '{"aws:owner": "me"}'}, "extraTags", "not start with 'aws:'"),
    ({"zoneName": None}, "zoneName", "is not set"),
    ({"clusterNam": "typo"}, "clusterNam", "unknown key"),
]


@pytest.mark.parametrize(("raw", "key", "allowed"), BAD_INPUTS, ids=[f"{k}-{i}" for i, (_, k, _) in
                                                                     enumerate(BAD_INPUTS)])
def test_each_bad_input_names_its_key_and_what_is_allowed(raw: dict[str, Any], key: str, allowed: str) -> None:
    problems = problems_of(**raw)
    matching = [p for p in problems if p.startswith(f"webstack:{key}")]
    assert matching, f"no problem names webstack:{key}: {problems}"
    assert any(allowed in p for p in matching), f"{allowed!r} not explained in {matching}"


def test_there_are_at_least_20_distinct_bad_inputs_over_at_least_20_keys() -> None:
    assert len(BAD_INPUTS) >= 20
    assert len({key for _, key, _ in BAD_INPUTS}) >= 20


def test_region_is_required_and_checked() -> None:
    assert any(p.startswith("aws:region is not set") for p in problems_of(region=None))
    assert any(p.startswith("aws:region = 'mars-1'") for p in problems_of(region="mars-1"))


def test_all_problems_are_reported_at_once() -> None:
    problems = problems_of(azCount="9", natStrategy="x", appReplicas="1", sslPolicy="old", hostname="a.b.org")
    named = {p.split(" ")[0].split("/")[0] for p in problems}
    assert {"webstack:azCount", "webstack:natStrategy", "webstack:appReplicas", "webstack:sslPolicy",
            "webstack:hostname"} <= named
    assert str(len(problems)) in str(ConfigError(problems))


def test_defaults_are_the_safe_production_choice() -> None:
    cfg = load()
    assert cfg.network.nat_strategy == "per-az" and cfg.network.az_count == 3
    assert cfg.network.flow_logs_enabled
    assert cfg.registry.force_delete is False and cfg.registry.encryption in ("AES256", "KMS")
    assert cfg.cluster.endpoint_public_access is True and cfg.cluster.public_access_cidrs == ("203.0.113.0/24",)
    assert {"api", "audit", "authenticator"} <= set(cfg.cluster.log_types)
    assert cfg.cluster.kubernetes_version == "1.35"
    assert cfg.app.replicas >= 2 and cfg.app.service_type == "NodePort" and cfg.app.target_type == "instance"
    assert cfg.addons.external_dns_policy == "sync"
    assert cfg.cluster.name == "webstack-t"


def test_required_log_types_cannot_be_switched_off() -> None:
    cfg = load(clusterLogTypes='["scheduler"]')
    assert cfg.cluster.log_types == ("api", "audit", "authenticator", "scheduler")


def test_values_arrive_as_cli_strings_or_yaml_values() -> None:
    as_strings = load(azCount="2", flowLogsEnabled="false", nodeLabels='{"tier": "web"}')
    as_values = load(azCount=2, flowLogsEnabled=False, nodeLabels={"tier": "web"})
    assert as_strings == as_values
    assert as_values.cluster.node_labels == (("tier", "web"),)


def test_private_endpoint_needs_no_allow_list() -> None:
    cfg = load(endpointPublicAccess="false", publicAccessCidrs=None)
    assert cfg.cluster.endpoint_public_access is False and cfg.cluster.public_access_cidrs == ()


@pytest.mark.parametrize(("itype", "arch"), [("m6i.large", "amd64"), ("t3.medium", "amd64"), ("m7g.large", "arm64"),
                                             ("c6gn.xlarge", "arm64"), ("t4g.small", "arm64"), ("a1.large", "arm64"),
                                             ("g5.xlarge", "amd64"), ("m6a.large", "amd64")])
def test_instance_architecture(itype: str, arch: str) -> None:
    assert instance_architecture(itype) == arch


def test_subnet_plan_is_deterministic_aligned_and_disjoint() -> None:
    import ipaddress

    private, public = plan_subnets("10.0.0.0/16", 3, 19, 24)
    assert private == ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]
    assert public == ["10.0.96.0/24", "10.0.97.0/24", "10.0.98.0/24"]
    nets = [ipaddress.ip_network(c) for c in private + public]
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
    with pytest.raises(ValueError):
        plan_subnets("10.0.0.0/20", 6, 22, 24)


@pytest.mark.project_root
def test_pulumi_yaml_config_block_is_the_generated_one_key_by_key() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}
    declared, generated = project["config"], schema()
    assert list(declared) == list(generated), "run `make config-schema`"
    for decl in settings():
        entry = declared[decl.key]
        assert entry.get("description") == decl.description, decl.key
        assert entry.get("type") == generated[decl.key].get("type"), decl.key
        assert entry.get("default") == generated[decl.key].get("default"), decl.key
        if "default" in entry:  # the YAML default is the code default
            default = decl.default
            assert entry["default"] == (list(default) if isinstance(default, tuple) else default), decl.key


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_hold_only_known_valid_keys(stack: str) -> None:
    config = stack_config(stack, stacks=TEST_STACKS)
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("webstack:")}
    cfg = load_config(raw, project="webstack", stack=stack, region=config["aws:region"])
    assert {k.split(":")[0] for k in config} <= {"aws", "webstack"}
    if stack == "dev":
        assert cfg.network.az_count == 2 and cfg.network.nat_strategy == "single"
        assert cfg.dns.zone_name == "example.com"
    else:
        assert cfg.network.az_count == 3 and cfg.network.nat_strategy == "per-az" and cfg.network.flow_logs_enabled


def test_a_bad_config_declares_nothing() -> None:
    with pytest.raises(RenderError) as err:
        render("dev", {"webstack:natStrategy": "both", "webstack:azCount": "1"}, stacks=TEST_STACKS)
    assert isinstance(err.value.__cause__, ConfigError)
    assert "webstack:natStrategy" in str(err.value) and "webstack:azCount" in str(err.value)
    assert err.value.registered == []


@pytest.mark.project_root
def test_readme_mentions_every_stack_file() -> None:
    # The example stacks the project ships (same names as the test stacks'); a user's own extra stack files at the
    # root are theirs and need no README entry.
    readme = (ROOT / "README.md").read_text()
    for name in ("dev", "prod"):
        assert f"Pulumi.{name}.yaml" in readme


def test_make_config_schema_leaves_pulumi_yaml_unchanged() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "tools" / "config_schema.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_section_field_is_a_declared_key_and_every_key_is_declared_once() -> None:
    import dataclasses

    from infra.config.stack import SECTIONS

    for cls in SECTIONS.values():
        assert cls.__dataclass_params__.frozen, cls.__name__  # type: ignore[attr-defined]
        assert all("setting" in f.metadata and f.kw_only for f in dataclasses.fields(cls)), cls.__name__
    keys = [d.key for d in settings()]
    assert len(keys) == len(set(keys))
    assert all(d.description.endswith(".") for d in settings())


def test_pulumi_yaml_defaults_passed_explicitly_give_the_same_config() -> None:
    """A real `pulumi up` hands the program Pulumi.yaml's defaults as config values (the mocks do not):
    each default must pass its own checks and mean what the code default means, as YAML value or CLI string."""
    defaults = {key: entry["default"] for key, entry in schema().items() if "default" in entry and key not in VALID}
    as_strings = {k: v if isinstance(v, str) else json.dumps(v) for k, v in defaults.items()}
    assert load(**defaults) == load() == load(**as_strings)


def test_a_custom_parser_that_breaks_on_an_unexpected_value_is_still_a_refusal_by_name() -> None:
    """parse= functions (ECS scheduled scaling...) raise Invalid for what they expect; anything else they raise on
    a value they did not foresee is reported against the key instead of crashing the loader."""
    import dataclasses

    from infra.config.core import Invalid, declared, read, setting

    def parse_pairs(value: Any) -> tuple[tuple[str, int], ...]:
        if value == "invalid":
            raise Invalid("must be name=count pairs")
        return tuple((k, int(v)) for k, v in value.items())  # AttributeError/ValueError on other shapes

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Custom:
        pairs: tuple[tuple[str, int], ...] = setting("pairs", (), "Pairs.", parse=parse_pairs)

    decl = declared(Custom, "custom")[0]
    assert decl.kind == "custom"
    assert read(decl, {"pairs": {"a": "1"}}) == ((("a", 1),), None)
    assert read(decl, {"pairs": "invalid"})[1] == "webstack:pairs = 'invalid': must be name=count pairs"
    for value in (["x"], {"a": "one"}, 5):
        typed, why = read(decl, {"pairs": value})
        assert typed == () and why is not None and why.startswith("webstack:pairs = ") and "could not be read" in why
