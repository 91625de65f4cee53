"""`make bump` (tools/bump.py) against recorded AWS answers (botocore's Stubber: no network, no credentials) and
recorded chart indexes: what it picks and why, what it writes, and that a failure writes nothing.

What only a real account proves: that AWS's public parameter names and DescribeAddonVersions answer as recorded
here (shapes checked against botocore's models by the Stubber), and the read-only role's IAM (docs/operations.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import yaml
from botocore.stub import Stubber

from infra.config import LockError
from infra.config.addons import CHARTS
from infra.config.lock import lock_name
from tests.support import committed_lock
from tools import bump as bump_module
from tools.bump import (
    CHART_REPOSITORIES,
    ECS_AMI_PARAMETERS,
    BumpError,
    Clients,
    bump,
    kube_version_allows,
    lock_text,
)
from tools.preflight import stack_file
from tools.render import ROOT, TEST_STACKS, lock_file

# the order bump asks for them (the EBS CSI driver: every non-Auto-Mode EKS stack installs it)
ADDONS = ("vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver")
RELEASE = "/aws/service/eks/optimized-ami/1.35/amazon-linux-2023/{}/standard/recommended/release_version"
BOTH = ["amd64", "arm64"]


def addon_version(version: str, minors: list[str], arch: list[str] = BOTH, default: bool = False) -> dict[str, Any]:
    return {"addonVersion": version, "architecture": arch, "requiresConfiguration": False,
            "compatibilities": [{"clusterVersion": m, "platformVersions": ["*"], "defaultVersion": default}
                                for m in minors]}


def addons_page(name: str, versions: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"addons": [{"addonName": name, "type": "networking", "addonVersions": versions,
                                        "owner": "aws", "publisher": "eks"}]}
    if token:
        page["nextToken"] = token
    return page


def parameter(name: str, value: str, region: str = "us-east-1") -> dict[str, Any]:
    return {"Name": name, "Type": "String", "Value": value, "Version": 7, "DataType": "text",
            "ARN": f"arn:aws:ssm:{region}::parameter{name}"}


def index(name: str, entries: list[dict[str, Any]]) -> bytes:
    return yaml.safe_dump({"apiVersion": "v1", "entries": {name: entries}}).encode()


# What AWS and the repositories answer in the "new versions" case (the test lock holds the older ones).
NEW = {"vpc-cni": "v1.20.5-eksbuild.1", "coredns": "v1.12.4-eksbuild.1", "kube-proxy": "v1.35.1-eksbuild.1",
       "eks-pod-identity-agent": "v1.3.10-eksbuild.1", "aws-ebs-csi-driver": "v1.59.0-eksbuild.1"}
NEW_RELEASE = "1.35.3-20261106"


def chart_indexes(metrics_server: str = "3.13.1") -> dict[str, bytes]:
    repo = {n: CHART_REPOSITORIES[n].rstrip("/") + "/index.yaml" for n in CHARTS if n != "karpenter"}
    return {
        repo["aws-load-balancer-controller"]: index("aws-load-balancer-controller", [
            {"version": "3.6.0", "kubeVersion": ">= 1.22.0-0"}, {"version": "3.5.0", "kubeVersion": ">= 1.22.0-0"},
            {"version": "3.4.2"}]),
        repo["external-dns"]: index("external-dns", [{"version": "1.21.1"}, {"version": "1.22.0-rc.1"}]),
        repo["metrics-server"]: index("metrics-server", [
            {"version": "3.14.0", "kubeVersion": ">=1.36.0-0"},  # not for 1.35
            {"version": metrics_server, "kubeVersion": ">=1.19.0-0"},
            {"version": "3.13.0", "kubeVersion": ">=1.19.0-0"}, {"version": "4.0.0", "deprecated": True}]),
        repo["cluster-autoscaler"]: index("cluster-autoscaler", [{"version": "9.60.0"}, {"version": "9.59.0"}]),
    }


class Recorded:
    """Stubbed EKS and SSM clients of one region; every call must be one that was recorded, in order."""

    def __init__(self, region: str = "us-east-1"):
        session = botocore.session.get_session()
        keys = {"aws_access_key_id": "recorded", "aws_secret_access_key": "recorded"}
        self.clients = Clients(eks=session.create_client("eks", region_name=region, **keys),
                               ssm=session.create_client("ssm", region_name=region, **keys),
                               wafv2=session.create_client("wafv2", region_name=region, **keys))
        self.eks, self.ssm = Stubber(self.clients.eks), Stubber(self.clients.ssm)
        self.wafv2 = Stubber(self.clients.wafv2)
        self.region = region

    def addons(self, versions: dict[str, list[dict[str, Any]]]) -> Recorded:
        for name in ADDONS:
            self.eks.add_response("describe_addon_versions", addons_page(name, versions[name]),
                                  {"addonName": name, "kubernetesVersion": "1.35"})
        return self

    def releases(self, amd64: str, arm64: str) -> Recorded:
        names = [RELEASE.format("x86_64"), RELEASE.format("arm64")]
        answer = {"Parameters": [parameter(names[0], amd64), parameter(names[1], arm64)]}
        self.ssm.add_response("get_parameters", answer, {"Names": names})
        return self

    def waf_defaults(self, defaults: dict[str, str | None]) -> Recorded:
        """ListAvailableManagedRuleGroupVersions for each group, in the order bump asks (WAF_VERSIONED_GROUPS);
        the request is checked against botocore's model by the Stubber."""
        for name, default in defaults.items():
            answer: dict[str, Any] = {"Versions": [
                {"Name": "Version_1.18", "LastUpdateTimestamp": datetime(2025, 6, 2, tzinfo=UTC)},
                {"Name": "Version_1.19", "LastUpdateTimestamp": datetime(2025, 8, 14, tzinfo=UTC)}]}
            if default is not None:
                answer["CurrentDefaultVersion"] = default
            self.wafv2.add_response("list_available_managed_rule_group_versions", answer,
                                    {"VendorName": "AWS", "Name": name, "Scope": "REGIONAL"})
        return self

    def __enter__(self) -> Clients:
        for stub in (self.eks, self.ssm, self.wafv2):
            stub.activate()
        return self.clients

    def __exit__(self, *exc: object) -> None:
        for stub in (self.eks, self.ssm, self.wafv2):
            stub.deactivate()
        if exc[0] is None:  # every recorded answer was asked for
            for stub in (self.eks, self.ssm, self.wafv2):
                stub.assert_no_pending_responses()


def single(version: str) -> list[dict[str, Any]]:
    return [addon_version(version, ["1.35"])]


@pytest.fixture
def stacks(tmp_path: Path) -> Iterator[Path]:
    """A folder with copies of the test stacks and their locks (bump rewrites them there)."""
    for stack in ("dev", "ecs", "ecs-ec2"):
        for path in (stack_file(stack, TEST_STACKS), lock_file(stack, stacks=TEST_STACKS)):
            shutil.copy2(path, tmp_path / path.name)
    yield tmp_path


def fetcher(indexes: dict[str, bytes]) -> Any:
    return lambda url: indexes[url]


def test_new_versions_are_written_with_why(stacks: Path) -> None:
    recorded = Recorded().addons({n: single(v) for n, v in NEW.items()}).releases(NEW_RELEASE, NEW_RELEASE)
    with recorded as clients:
        report = bump("dev", stacks=stacks, clients=clients, fetch=fetcher(chart_indexes()), today="2026-11-09")
    old = committed_lock("dev")
    written = yaml.safe_load((stacks / lock_name("dev")).read_text())
    assert written == {**old, "eksAddons": dict(sorted(NEW.items())),
                       "eksNodeReleaseVersions": {"amd64": NEW_RELEASE, "arm64": NEW_RELEASE},
                       "charts": {**old["charts"], "metrics-server": "3.13.1"}}
    assert (stacks / lock_name("dev")).read_text() == lock_text("dev", written, "2026-11-09")
    assert report.written and [c.line() for c in report.changes] == [
        "charts.metrics-server: 3.13.0 -> 3.13.1",
        "eksAddons.kube-proxy: v1.35.0-eksbuild.2 -> v1.35.1-eksbuild.1",
        "eksAddons.vpc-cni: v1.20.4-eksbuild.1 -> v1.20.5-eksbuild.1",
        f"eksNodeReleaseVersions.amd64: 1.35.3-20261023 -> {NEW_RELEASE}",
        f"eksNodeReleaseVersions.arm64: 1.35.3-20261023 -> {NEW_RELEASE}"]
    assert report.why["eksAddons.vpc-cni"] == "newest of 1 versions EKS lists for Kubernetes 1.35 (amd64+arm64)"
    assert RELEASE.format("x86_64") in report.why["eksNodeReleaseVersions.amd64"]
    assert "3.6.0 (supporting one is a code change)" in report.why["charts.aws-load-balancer-controller"]
    text = "\n".join(report.lines())
    assert "5 change(s), written" in text and "why: newest of 2 releases in https://kubernetes-sigs.github.io/" \
                                                "metrics-server/index.yaml that admit Kubernetes 1.35" in text
    assert "| `eksAddons.vpc-cni` | v1.20.4-eksbuild.1 | v1.20.5-eksbuild.1 |" in report.markdown()


def test_nothing_new_leaves_the_lock_untouched(stacks: Path) -> None:
    old = committed_lock("dev")
    path = stacks / lock_name("dev")
    before = path.read_bytes()
    recorded = Recorded().addons({n: single(v) for n, v in old["eksAddons"].items()}).releases(
        old["eksNodeReleaseVersions"]["amd64"], old["eksNodeReleaseVersions"]["arm64"])
    with recorded as clients:
        report = bump("dev", stacks=stacks, clients=clients, fetch=fetcher(chart_indexes(metrics_server="3.13.0")))
    assert report.changes == [] and not report.written
    assert path.read_bytes() == before  # not even the date line
    assert report.lines() == [f"{lock_name('dev')}: nothing new"]


def test_only_versions_for_the_clusters_minor_and_both_architectures_are_picked(stacks: Path) -> None:
    vpc_cni = [addon_version("v1.21.0-eksbuild.1", ["1.36"]),  # newer, but for 1.36 only
               addon_version("v1.20.9-eksbuild.1", ["1.35"], arch=["amd64"]),  # no arm64 build
               addon_version("v1.20.5-eksbuild.2", ["1.34", "1.35"]),
               addon_version("v1.20.5-eksbuild.10", ["1.35"]),  # eksbuild 10 > 2: numbers, not text
               addon_version("v1.19.0-eksbuild.1", ["1.35"], default=True)]
    recorded = Recorded()
    # the answer comes in two pages: the paginator asks again with the token
    recorded.eks.add_response("describe_addon_versions", addons_page("vpc-cni", vpc_cni[:2], token="page-2"),
                              {"addonName": "vpc-cni", "kubernetesVersion": "1.35"})
    recorded.eks.add_response("describe_addon_versions", addons_page("vpc-cni", vpc_cni[2:]),
                              {"addonName": "vpc-cni", "kubernetesVersion": "1.35", "nextToken": "page-2"})
    for name in ADDONS[1:]:
        recorded.eks.add_response("describe_addon_versions", addons_page(name, single(NEW[name])),
                                  {"addonName": name, "kubernetesVersion": "1.35"})
    recorded.releases(NEW_RELEASE, NEW_RELEASE)
    with recorded as clients:
        report = bump("dev", stacks=stacks, clients=clients, fetch=fetcher(chart_indexes()), write=False)
    assert {c.entry: c.new for c in report.changes}["eksAddons.vpc-cni"] == "v1.20.5-eksbuild.10"
    assert report.why["eksAddons.vpc-cni"] == ("newest of 3 versions EKS lists for Kubernetes 1.35 (amd64+arm64); "
                                               "EKS's default is v1.19.0-eksbuild.1")
    assert not report.written and (stacks / lock_name("dev")).read_text() == (
        TEST_STACKS / lock_name("dev")).read_text()  # --dry-run


def test_a_failure_midway_leaves_the_lock_untouched(stacks: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = stacks / lock_name("dev")
    before = path.read_bytes()
    # the add-ons resolve, then SSM has no arm64 release parameter for this minor
    recorded = Recorded().addons({n: single(v) for n, v in NEW.items()})
    names = [RELEASE.format("x86_64"), RELEASE.format("arm64")]
    recorded.ssm.add_response("get_parameters", {"Parameters": [parameter(names[0], NEW_RELEASE)],
                                                 "InvalidParameters": [names[1]]}, {"Names": names})
    with recorded as clients, pytest.raises(BumpError, match=r"SSM has no parameter .*arm64/standard"):
        bump("dev", stacks=stacks, clients=clients, fetch=fetcher(chart_indexes()))
    assert path.read_bytes() == before
    # an AWS error (AccessDenied on the read-only role) through the command: exit 1, the lock as it was
    denied = Recorded()
    denied.eks.add_client_error("describe_addon_versions", "AccessDeniedException", "not authorized", 403)
    with denied as clients:
        monkeypatch.setattr(bump_module, "aws_clients", lambda region: clients)
        assert bump_module.main(["--stack", "dev", "--stacks", str(stacks)]) == 1
    err = capsys.readouterr().err
    assert "AccessDeniedException" in err and "The lock was not changed." in err
    assert path.read_bytes() == before


def test_a_chart_repository_that_fails_writes_nothing(stacks: Path) -> None:
    path = stacks / lock_name("dev")
    before = path.read_bytes()
    indexes = chart_indexes()
    del indexes[CHART_REPOSITORIES["cluster-autoscaler"] + "/index.yaml"]  # the last chart asked for

    def fetch(url: str) -> bytes:
        if url not in indexes:
            raise OSError(f"{url}: connection reset")
        return indexes[url]

    recorded = Recorded().addons({n: single(v) for n, v in NEW.items()}).releases(NEW_RELEASE, NEW_RELEASE)
    with recorded as clients, pytest.raises(OSError, match="connection reset"):
        bump("dev", stacks=stacks, clients=clients, fetch=fetch)
    assert path.read_bytes() == before


def test_what_bump_would_write_passes_the_programs_own_check_first(stacks: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """bump runs the program's lock check on the new lock before writing it: one the program would refuse (here an
    entry missing) raises that LockError and writes nothing."""
    before = (stacks / lock_name("dev")).read_bytes()
    real = bump_module.resolve

    def lacking(*args: Any) -> dict[str, Any]:
        return {k: v for k, v in real(*args).items() if k != "charts.cluster-autoscaler"}

    monkeypatch.setattr(bump_module, "resolve", lacking)
    recorded = Recorded().addons({n: single(v) for n, v in NEW.items()}).releases(NEW_RELEASE, NEW_RELEASE)
    with recorded as clients, pytest.raises(LockError, match="charts.cluster-autoscaler is missing"):
        bump("dev", stacks=stacks, clients=clients, fetch=fetcher(chart_indexes()))
    assert (stacks / lock_name("dev")).read_bytes() == before


def test_ecs_on_ec2_locks_the_regions_recommended_amis(stacks: Path) -> None:
    recorded = Recorded("us-gov-west-1")
    meta = {arch: json.dumps({"image_id": f"ami-0{i}{'a' * 15}", "image_name": f"al2023-ami-ecs-hvm-{arch}",
                              "ecs_agent_version": "1.99.0", "schema_version": 1})
            for i, arch in enumerate(("amd64", "arm64"))}
    names = list(ECS_AMI_PARAMETERS.values())
    recorded.ssm.add_response("get_parameters", {"Parameters": [
        parameter(ECS_AMI_PARAMETERS[a], meta[a], "us-gov-west-1") for a in ("amd64", "arm64")]}, {"Names": names})
    with recorded as clients:
        report = bump("ecs-ec2", stacks=stacks, clients=clients, fetch=fetcher({}))
    written = yaml.safe_load((stacks / lock_name("ecs-ec2")).read_text())
    assert written == {"region": "us-gov-west-1",
                       "ecsAmis": {"amd64": "ami-00aaaaaaaaaaaaaaa", "arm64": "ami-01aaaaaaaaaaaaaaa"}}
    assert "al2023-ami-ecs-hvm-arm64" in report.why["ecsAmis.arm64"] and "us-gov-west-1" in report.why["ecsAmis.arm64"]


def test_ecs_on_fargate_asks_aws_nothing(stacks: Path) -> None:
    with Recorded() as clients:  # nothing recorded: any AWS call would fail the test
        report = bump("ecs", stacks=stacks, clients=clients, fetch=fetcher({}))
    assert report.changes == [] and report.why["fargatePlatformVersion"].startswith("newest Linux Fargate platform")


@pytest.fixture
def waf_stack(stacks: Path) -> str:
    """`ecs-waf`: the ecs test stack with the firewall on, its lock the ecs one (no wafRuleGroups yet)."""
    text = stack_file("ecs", stacks).read_text()
    stack_file("ecs-waf", stacks).write_text(text.rstrip("\n") + '\n  webstack:wafEnabled: "true"\n')
    shutil.copy2(stacks / lock_name("ecs"), stacks / lock_name("ecs-waf"))
    return "ecs-waf"


def test_with_the_firewall_the_rule_groups_are_pinned_to_awss_default_version(stacks: Path, waf_stack: str) -> None:
    recorded = Recorded().waf_defaults({"AWSManagedRulesKnownBadInputsRuleSet": "Version_1.24",
                                        "AWSManagedRulesCommonRuleSet": "Version_1.19"})
    with recorded as clients:
        report = bump(waf_stack, stacks=stacks, clients=clients, fetch=fetcher({}))
    written = yaml.safe_load((stacks / lock_name(waf_stack)).read_text())
    assert written["wafRuleGroups"] == {"AWSManagedRulesCommonRuleSet": "Version_1.19",
                                        "AWSManagedRulesKnownBadInputsRuleSet": "Version_1.24"}
    assert [c.line() for c in report.changes] == [
        "wafRuleGroups.AWSManagedRulesCommonRuleSet: Version_1.19 (new entry)",
        "wafRuleGroups.AWSManagedRulesKnownBadInputsRuleSet: Version_1.24 (new entry)"]
    why = report.why["wafRuleGroups.AWSManagedRulesCommonRuleSet"]
    assert "current default version" in why and "ListAvailableManagedRuleGroupVersions" in why
    # an `unpinned` group (the shipped prod lock's known bad inputs) is pinned by the bump
    lock = stacks / lock_name(waf_stack)
    lock.write_text(lock.read_text().replace("Version_1.24", "unpinned"))
    with Recorded().waf_defaults({"AWSManagedRulesKnownBadInputsRuleSet": "Version_1.24",
                                  "AWSManagedRulesCommonRuleSet": "Version_1.19"}) as clients:
        again = bump(waf_stack, stacks=stacks, clients=clients, fetch=fetcher({}))
    assert [c.line() for c in again.changes] == [
        "wafRuleGroups.AWSManagedRulesKnownBadInputsRuleSet: unpinned -> Version_1.24"]


def test_a_rule_group_without_a_default_version_writes_nothing(stacks: Path, waf_stack: str) -> None:
    before = (stacks / lock_name(waf_stack)).read_bytes()
    recorded = Recorded().waf_defaults({"AWSManagedRulesKnownBadInputsRuleSet": None})
    with recorded as clients, pytest.raises(BumpError, match="no default static version of "
                                                             "AWSManagedRulesKnownBadInputsRuleSet in us-east-1"):
        bump(waf_stack, stacks=stacks, clients=clients, fetch=fetcher({}))
    assert (stacks / lock_name(waf_stack)).read_bytes() == before


@pytest.mark.parametrize(("constraint", "minor", "allowed"), [
    (">=1.21.0-0", "1.35", True), (">= 1.19.0-0 < 1.35.0-0", "1.35", False), (">=1.19.0-0, <1.36.0-0", "1.35", True),
    ("^1.25.0-0", "1.35", True), ("~1.34.0-0", "1.35", False), ("~1.35.0-0", "1.35", True),
    (">=1.36.0-0 || <1.20.0-0", "1.35", False), (">=1.36.0-0 || >=1.30.0-0", "1.35", True),
    (">=1.35.0-0", "1.35", True), (">1.35.0-0", "1.35", True), ("<=1.34.99-0", "1.35", False),
    ("1.35.x", "1.35", None), ("", "1.35", None)])
def test_kube_version_constraints(constraint: str, minor: str, allowed: bool | None) -> None:
    assert kube_version_allows(constraint, minor) is allowed


@pytest.mark.parametrize("constraint", [">=1.21.0", ">= 1.19 < 1.36", "^1.25", "~1.35.0", ">=1.19.0-0, <1.36",
                                        "=1.35.0", ">=1.36.0-0 || >=1.30"])
def test_a_constraint_without_a_prerelease_refuses_eks_as_helm_does(constraint: str) -> None:
    """EKS's server version is a pre-release (v1.35.2-eks-3025e55); Helm's semver library never lets a term without
    a pre-release admit one, so `helm install` of such a chart fails on EKS ("incompatible with Kubernetes")."""
    assert kube_version_allows(constraint, "1.35") is False


def test_bump_reads_the_charts_where_the_program_installs_them() -> None:
    from infra.eks.addons import ALB_CHART, EXTERNAL_DNS_CHART, METRICS_SERVER_CHART
    from infra.eks.autoscaler import CHART
    from infra.eks.karpenter import CHART as KARPENTER_CHART

    installed = {c.name: c.repo for c in (ALB_CHART, EXTERNAL_DNS_CHART, METRICS_SERVER_CHART, CHART,
                                          KARPENTER_CHART)}
    assert installed == CHART_REPOSITORIES and set(installed) == set(CHARTS)


def test_only_read_only_aws_operations_are_called() -> None:
    """The operations bump's code calls, each a read in botocore's model (no Create/Update/Delete/Put)."""
    source = (ROOT / "tools" / "bump.py").read_text()
    import re

    called = set(re.findall(r"\.(describe_\w+|get_\w+|list_\w+)\(", source)) | set(re.findall(
        r'get_paginator\("(\w+)"\)', source))
    assert called == {"describe_addon_versions", "get_parameters", "get_paginator", "get_session",
                      "list_available_managed_rule_group_versions"}
    assert not re.search(r"\.(create|update|delete|put|tag)_\w+\(", source.replace("create_client", ""))


@pytest.mark.project_root  # runs make (a dry run that reads no stack file)
def test_make_bump_runs_the_tool() -> None:
    done = subprocess.run(["make", "-n", "bump", "STACK=prod", "STACKS=tests/stacks", "DRY_RUN=1"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    assert "-m tools.bump --stack prod --stacks tests/stacks --dry-run" in done.stdout


def access_level(action: str) -> str:
    import parliament

    service, name = action.split(":")
    [privilege] = [p for s in parliament.iam_definition if s["prefix"] == service for p in s["privileges"]
                   if p["privilege"] == name]
    return str(privilege["access_level"])


def test_the_read_only_policy_is_what_the_docs_show_and_lints_clean() -> None:
    import re

    from tests.support.iam_lint import unexpected_findings
    from tools.bump import READ_ONLY_POLICY

    page = (ROOT / "docs" / "operations.md").read_text()
    (shown,) = re.findall(r"```json\n(.*?)```", page.split("### `make bump`", 1)[1].split("### ", 1)[0], re.S)
    assert json.loads(shown) == READ_ONLY_POLICY
    assert unexpected_findings("bump-read-only", READ_ONLY_POLICY) == []
    actions = {a for st in READ_ONLY_POLICY["Statement"] for a in ([st["Action"]] if isinstance(st["Action"], str)
                                                                   else st["Action"])}
    assert all(a.split(":")[1].startswith(("Describe", "Get", "List")) for a in actions)  # reads only
    # and each a Read or List action in the IAM service authorization reference (parliament's copy)
    assert {a: access_level(a) for a in actions} == {a: "List" if ":List" in a else "Read" for a in actions}
