"""The stack's version lock (infra/config/lock.py): read with the config, checked against it, every problem at once,
each naming the entry and `make bump`; config pins win. Plain data: no render here but the one engine test."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from infra.config import ConfigError, LockError, LockFile, load_config, lock_path, read_lock
from infra.config import lock as lock_module
from tests.support import committed_lock
from tools.render import TEST_STACKS, lock_file
from tools.render import engine as render_engine

EKS_RAW = {"zoneName": "example.com", "hostname": "app.example.com", "publicAccessCidrs": ["203.0.113.0/24"]}
FARGATE_RAW = {"runtime": "ecs", "zoneName": "example.com", "hostname": "app.example.com"}
EC2_RAW = {**FARGATE_RAW, "ecsCapacity": "ec2", "ecsCpuArchitecture": "arm64", "ecsEc2InstanceType": "m7g.large"}
BUMP = "make bump STACK=t"
NAME = lock_module.lock_name("t")  # Pulumi.t.lock.yaml, in folders of no stack file


def load(raw: dict[str, Any], lock: Any, region: str = "us-east-1") -> Any:
    return load_config(raw, project="webstack", stack="t", region=region,
                       lock=LockFile(lock_module.PROJECT_ROOT / NAME, lock))


def problems(raw: dict[str, Any], lock: Any, region: str = "us-east-1") -> list[str]:
    with pytest.raises(LockError) as err:
        load(raw, lock, region)
    assert BUMP in str(err.value)  # whatever the problem, the message names the command that fixes it
    return err.value.problems


def eks_lock(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(committed_lock("dev"))
    for key, value in changes.items():
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    return doc


def test_the_lock_gives_every_version_of_an_eks_stack() -> None:
    cfg = load(EKS_RAW, eks_lock())
    lock = committed_lock("dev")
    v = cfg.versions
    assert (v.kubernetes, dict(v.eks_addons), v.eks_node_release, dict(v.charts)) == (
        "1.35", lock["eksAddons"], lock["eksNodeReleaseVersions"]["amd64"], lock["charts"])
    arm = load({**EKS_RAW, "nodeInstanceTypes": ["m7g.large"]}, eks_lock())
    assert arm.versions.eks_node_release == lock["eksNodeReleaseVersions"]["arm64"]  # the nodes' architecture's
    assert (v.fargate_platform, v.ecs_ami_id) == ("", "")


def test_config_pins_win_over_the_lock() -> None:
    cfg = load({**EKS_RAW, "addonVersions": {"coredns": "v1.11.4-eksbuild.2"}, "metricsServerChartVersion": "3.12.2"},
               eks_lock())
    assert cfg.versions.eks_addons["coredns"] == "v1.11.4-eksbuild.2"
    assert cfg.versions.charts["metrics-server"] == "3.12.2"
    assert cfg.versions.eks_addons["vpc-cni"] == committed_lock("dev")["eksAddons"]["vpc-cni"]
    # a pinned entry need not be in the lock at all
    pinned = load({**EKS_RAW, "addonVersions": {"coredns": "v1.11.4-eksbuild.2"}},
                  eks_lock(eksAddons={k: v for k, v in committed_lock("dev")["eksAddons"].items() if k != "coredns"}))
    assert pinned.versions.eks_addons["coredns"] == "v1.11.4-eksbuild.2"
    fargate = load({**FARGATE_RAW, "ecsPlatformVersion": "1.4.0"}, {"region": "us-east-1"})
    assert fargate.versions.fargate_platform == "1.4.0"


def test_a_missing_lock_names_the_file_and_the_command() -> None:
    path = lock_module.PROJECT_ROOT / "no-such-folder" / NAME
    with pytest.raises(LockError) as err:
        load_config(EKS_RAW, project="webstack", stack="t", region="us-east-1", lock=read_lock(path))
    text = str(err.value)
    assert f"{NAME} is missing" in text and "make bump STACK=t STACKS=no-such-folder" in text
    assert isinstance(err.value, ConfigError)  # refused like a config error, before any resource


def test_a_lock_for_another_kubernetes_minor_is_refused() -> None:
    found = problems({**EKS_RAW, "kubernetesVersion": "1.36"}, eks_lock())
    assert found == [f"kubernetesVersion = '1.35': the add-on versions and node AMI releases were resolved for "
                     f"Kubernetes 1.35, but webstack:kubernetesVersion = '1.36': run `{BUMP}` and commit the lock "
                     "with the config change"]
    release = eks_lock(eksNodeReleaseVersions={"amd64": "1.34.2-20261023", "arm64": "1.35.3-20261023"})
    assert problems(EKS_RAW, release) == [
        f"eksNodeReleaseVersions.amd64 = '1.34.2-20261023': not a release for Kubernetes 1.35: run `{BUMP}`"]


def test_every_problem_is_reported_at_once() -> None:
    doc = eks_lock(kubernetesVersion=1.35, typo="x", charts={"metrics-server": "3.x", "aws-load-balancer-controller":
                                                            "3.6.0", "external-dns": "1.21.1", "helm": "1"})
    doc["eksAddons"] = {"coredns": "1.12", "vpc-cni": "v1.20.4-eksbuild.1", "kube-proxy": "v1.35.0-eksbuild.2"}
    found = problems(EKS_RAW, doc)
    assert found == [
        "typo: unknown entry; known are region, kubernetesVersion, eksAddons, eksNodeReleaseVersions, charts, "
        "fargatePlatformVersion, ecsAmis, wafRuleGroups",
        "kubernetesVersion = 1.35: allowed: 1.32, 1.33, 1.34, 1.35, 1.36",
        "eksAddons.coredns = '1.12': must be an EKS add-on version such as 'v1.11.4-eksbuild.2' (a quoted string)",
        "charts.helm: unknown entry; known are aws-load-balancer-controller, external-dns, metrics-server, "
        "cluster-autoscaler, karpenter",
        "charts.metrics-server = '3.x': must be an exact chart version such as '3.13.0' (a quoted string)",
        f"eksAddons.eks-pod-identity-agent is missing (webstack:addonVersions does not pin it): run `{BUMP}`",
        f"eksAddons.aws-ebs-csi-driver is missing (webstack:addonVersions does not pin it): run `{BUMP}`",
        "charts.aws-load-balancer-controller = '3.6.0': this project supports 3.5.0 only (infra/config/addons.py): "
        f"run `{BUMP}`",
        f"charts.cluster-autoscaler is missing (webstack:clusterAutoscalerChartVersion does not pin it): run `{BUMP}`"]


@pytest.mark.parametrize("lock", [[], "x", 3, ["region"]])
def test_a_lock_that_is_not_a_map_is_refused(lock: Any) -> None:
    (found,) = problems(EKS_RAW, lock)
    assert found.startswith("must be a YAML map of region, kubernetesVersion, eksAddons")


def test_an_empty_lock_lists_everything_the_stack_needs() -> None:
    found = problems(EKS_RAW, {})
    assert found[0] == f"kubernetesVersion is missing: run `{BUMP}`"
    assert len(found) == 1 + 5 + 1 + 4  # the minor, 5 add-ons (the EBS CSI driver too), the node release, 4 charts


def test_ecs_fargate_needs_the_platform_version_only() -> None:
    assert load(FARGATE_RAW, {"region": "us-east-1", "fargatePlatformVersion": "1.4.0"}).versions.fargate_platform \
        == "1.4.0"
    assert problems(FARGATE_RAW, {"region": "us-east-1"}) == [
        f"fargatePlatformVersion is missing (webstack:ecsPlatformVersion does not pin it): run `{BUMP}`"]
    assert problems(FARGATE_RAW, {"fargatePlatformVersion": "LATEST"}) == [
        "fargatePlatformVersion = 'LATEST': allowed: 1.4.0"]


def test_ecs_ec2_needs_the_ami_of_its_region_and_architecture() -> None:
    lock = committed_lock("ecs-ec2")
    cfg = load(EC2_RAW, lock, region="us-gov-west-1")
    assert cfg.versions.ecs_ami_id == lock["ecsAmis"]["arm64"] and cfg.versions.fargate_platform == ""
    assert problems(EC2_RAW, lock, region="us-gov-east-1") == [
        "region = 'us-gov-west-1': the ECS AMI ids were resolved in us-gov-west-1, the stack runs in us-gov-east-1 "
        f"(AMI ids are regional): run `{BUMP}`"]
    assert problems(EC2_RAW, {"region": "us-gov-west-1", "ecsAmis": {"amd64": lock["ecsAmis"]["amd64"]}},
                    region="us-gov-west-1") == [f"ecsAmis.arm64 is missing: run `{BUMP}`"]
    assert problems(EC2_RAW, {**lock, "ecsAmis": {"arm64": "ami-XYZ", "riscv": "ami-0123456789abcdef0"}},
                    region="us-gov-west-1") == [
        "ecsAmis.riscv: unknown entry; known are amd64, arm64",
        "ecsAmis.arm64 = 'ami-XYZ': must be an AMI id such as 'ami-0123456789abcdef0' (a quoted string)"]


def test_the_lock_is_checked_against_a_valid_config_only() -> None:
    with pytest.raises(ConfigError) as err:
        load({**EKS_RAW, "natStrategy": "both"}, None)
    assert not isinstance(err.value, LockError) and "webstack:natStrategy" in str(err.value)


def test_a_config_loaded_without_its_lock_has_no_versions() -> None:
    cfg = load_config(EKS_RAW, project="webstack", stack="t", region="us-east-1")
    with pytest.raises(RuntimeError, match="loaded without its version lock"):
        cfg.versions  # noqa: B018 - the property raises


@pytest.mark.project_root  # names the root lock file (never opens it)
def test_the_program_reads_the_lock_beside_the_stack_file_or_where_the_render_points(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(lock_module.LOCK_FILE_ENV, raising=False)
    assert lock_path("dev") == lock_module.PROJECT_ROOT / "Pulumi.dev.lock.yaml"
    assert lock_path("dev", TEST_STACKS) == lock_file("dev", stacks=TEST_STACKS)
    monkeypatch.setenv(lock_module.LOCK_FILE_ENV, "/elsewhere/Pulumi.dev.lock.yaml")
    assert lock_path("dev") == Path("/elsewhere/Pulumi.dev.lock.yaml")
    # the engine imports nothing of the program: the two names are kept equal here
    assert render_engine.LOCK_FILE_ENV == lock_module.LOCK_FILE_ENV
    assert lock_file("dev").name == lock_module.lock_name("dev")


def test_the_render_restores_the_environment_and_applies_lock_changes(tmp_path: Path) -> None:
    before = os.environ.get(lock_module.LOCK_FILE_ENV)
    path = tmp_path / NAME
    path.write_text("region: us-east-1\neksAddons:\n  coredns: v1.0.0-eksbuild.1\n  vpc-cni: v1.0.0-eksbuild.1\n")
    with render_engine._locked_versions(path, {"region": None, "eksAddons": {"coredns": "v2.0.0-eksbuild.1"}}):
        seen = read_lock(Path(os.environ[lock_module.LOCK_FILE_ENV])).data
    assert seen == {"eksAddons": {"coredns": "v2.0.0-eksbuild.1", "vpc-cni": "v1.0.0-eksbuild.1"}}
    assert os.environ.get(lock_module.LOCK_FILE_ENV) == before


@pytest.mark.parametrize("stack", ["dev", "prod", "govcloud", "ecs", "ecs-spot", "ecs-ec2"])
def test_every_test_stack_has_a_lock_the_program_accepts(stack: str) -> None:
    from tools.render import stack_config

    config = stack_config(stack, stacks=TEST_STACKS)
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("webstack:")}
    cfg = load_config(raw, project="webstack", stack=stack, region=config["aws:region"],
                      lock=read_lock(lock_path(stack, TEST_STACKS)))
    assert cfg.versions.eks_addons or cfg.versions.fargate_platform or cfg.versions.ecs_ami_id



WAF_GROUPS = {"AWSManagedRulesCommonRuleSet": "Version_1.19", "AWSManagedRulesKnownBadInputsRuleSet": "Version_1.8"}


def test_with_the_firewall_the_lock_pins_the_versioned_waf_rule_groups() -> None:
    raw = {**FARGATE_RAW, "wafEnabled": True}
    lock = {"fargatePlatformVersion": "1.4.0", "wafRuleGroups": WAF_GROUPS}
    assert dict(load(raw, lock).versions.waf_rule_groups) == WAF_GROUPS
    # `unpinned`: AWS's default version (None: the web ACL names no version), said so at every plan (infra/waf.py)
    unpinned = {**WAF_GROUPS, "AWSManagedRulesKnownBadInputsRuleSet": "unpinned"}
    assert load(raw, {**lock, "wafRuleGroups": unpinned}).versions.waf_rule_groups == {
        "AWSManagedRulesCommonRuleSet": "Version_1.19", "AWSManagedRulesKnownBadInputsRuleSet": None}
    # without the firewall nothing is needed (prod* stacks have it by default: their locks hold them)
    assert load(FARGATE_RAW, {"fargatePlatformVersion": "1.4.0"}).versions.waf_rule_groups == {}
    missing = problems(raw, {"fargatePlatformVersion": "1.4.0"})
    assert sorted(missing) == [f"wafRuleGroups.{g} is missing: run `{BUMP}`" for g in sorted(WAF_GROUPS)]


def test_a_waf_rule_group_version_must_be_a_static_version_or_unpinned() -> None:
    raw = {**FARGATE_RAW, "wafEnabled": True}
    bad = {"AWSManagedRulesCommonRuleSet": "1.19", "AWSManagedRulesKnownBadInputsRuleSet": "latest",
           "AWSManagedRulesAmazonIpReputationList": "Version_1.0"}
    found = problems(raw, {"fargatePlatformVersion": "1.4.0", "wafRuleGroups": bad})
    assert any(p.startswith("wafRuleGroups.AWSManagedRulesAmazonIpReputationList: unknown entry") for p in found)
    assert any(p.startswith("wafRuleGroups.AWSManagedRulesCommonRuleSet = '1.19': must be a static version")
               for p in found), found
    assert any(p.startswith("wafRuleGroups.AWSManagedRulesKnownBadInputsRuleSet = 'latest'") and "'unpinned'" in p
               for p in found), found

def test_karpenter_needs_its_chart_and_not_the_autoscalers() -> None:
    """Under nodeProvisioner karpenter the lock holds the karpenter chart (its CRDs chart has the same version)
    and no cluster-autoscaler entry: each problem named, with the command that fixes it."""
    raw = {**EKS_RAW, "nodeProvisioner": "karpenter"}
    assert problems(raw, eks_lock()) == [
        "charts.cluster-autoscaler: nodeProvisioner 'karpenter' does not install this chart (an entry nothing "
        f"deploys): run `{BUMP}`",
        f"charts.karpenter is missing (webstack:karpenterChartVersion does not pin it): run `{BUMP}`"]
    charts = {k: v for k, v in committed_lock("dev")["charts"].items() if k != "cluster-autoscaler"}
    assert load(raw, eks_lock(charts={**charts, "karpenter": "1.14.1"})).versions.charts["karpenter"] == "1.14.1"
    assert problems(raw, eks_lock(charts={**charts, "karpenter": "1.15.0"})) == [
        f"charts.karpenter = '1.15.0': this project supports 1.14.1 only (infra/config/addons.py): run `{BUMP}`"]
    assert problems({**EKS_RAW}, eks_lock(charts={**committed_lock("dev")["charts"], "karpenter": "1.14.1"})) == [
        f"charts.karpenter: nodeProvisioner 'managed-nodegroup' does not install this chart (an entry nothing "
        f"deploys): run `{BUMP}`"]


def test_auto_mode_needs_only_its_charts() -> None:
    """Under nodeProvisioner auto-mode the lock needs no EKS add-on and no node AMI release (EKS Auto Mode runs
    them) and holds neither the LB controller's nor the autoscaler's chart."""
    raw = {**EKS_RAW, "nodeProvisioner": "auto-mode"}
    assert problems(raw, eks_lock()) == [
        f"charts.{name}: nodeProvisioner 'auto-mode' does not install this chart (an entry nothing deploys): run "
        f"`{BUMP}`" for name in ("aws-load-balancer-controller", "cluster-autoscaler")]
    charts = {k: v for k, v in committed_lock("dev")["charts"].items()
              if k not in ("cluster-autoscaler", "aws-load-balancer-controller")}
    versions = load(raw, {"kubernetesVersion": committed_lock("dev")["kubernetesVersion"], "charts": charts}).versions
    assert versions.eks_addons == {} and versions.eks_node_release == "" and set(versions.charts) == set(charts)


def test_the_ami_alias_is_the_locked_node_release() -> None:
    assert lock_module.karpenter_ami_alias("1.35.3-20261023") == "al2023@v20261023"
