"""`make diff`: the plan diff engine on crafted pairs, on dev vs prod, and end to end on a temporary git repository."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.support import copy_bytecode, rendered
from tests.support.programs import network, program
from tools.render import ROOT, SECRET, TEST_STACKS, Plan, lock_file, render, secret_digests, stack_config
from tools.render.fakes import FakeCloud
from tools.render.isolated import plan_text
from tools.review import diff as diff_module
from tools.review.diff import (
    PlanDiff,
    StackDiff,
    default_base,
    diff_all,
    diff_plans,
    diff_values,
    find_moves,
    format_all,
    format_markdown,
    format_text,
    plan_from_output,
    render_pair,
    render_trees,
)

OPTIONS = {"protect": False, "retainOnDelete": False, "deleteBeforeReplace": False, "ignoreChanges": [],
           "transforms": 0}


def res(name: str, typ: str = "aws:ec2/subnet:Subnet", inputs: dict[str, Any] | None = None, *,
        rid: str | None = None, state: dict[str, Any] | None = None, digests: dict[str, str] | None = None,
        stack: str = "s") -> dict[str, Any]:
    r = {"urn": f"urn:pulumi:{stack}::webstack::{typ}::{name}", "type": typ, "name": name, "custom": True,
         "id": rid or f"{name}-id", "parent": None, "provider": None, "dependencies": [], "propertyDependencies": {},
         "options": dict(OPTIONS), "inputs": inputs or {}, "state": {**(inputs or {}), **(state or {})}}
    if digests:
        r["secretDigests"] = digests
    return r


def plan(*resources: dict[str, Any], stack: str = "s") -> Plan:
    return Plan(stack=stack, resources=list(resources), invokes=[], outputs={})


def paths(d: PlanDiff) -> dict[str, list[str]]:
    return {c.ref.name: [ch.path for ch in c.changes] for c in d.changed}


# --- crafted pairs -------------------------------------------------------------------------------------------------

def test_added_and_removed_resources_by_urn() -> None:
    d = diff_plans(plan(res("a"), res("b")), plan(res("a"), res("c")))
    assert [r.name for r in d.added] == ["c"] and [r.name for r in d.removed] == ["b"] and not d.changed
    assert d.added[0].key == "aws:ec2/subnet:Subnet::c"  # the URN without its stack and project
    text = format_text(d)
    assert "+ aws:ec2/subnet:Subnet  aws:ec2/subnet:Subnet::c" in text
    assert "- aws:ec2/subnet:Subnet  aws:ec2/subnet:Subnet::b" in text
    assert "1 to add, 1 to remove, 0 to change." in text


def test_nested_change_in_a_list_of_objects_is_matched_by_name() -> None:
    app = {"name": "app", "image": "web:1", "ports": [{"containerPort": 8080}]}
    sidecar = {"name": "log", "image": "fluent:2"}
    base = res("dep", "kubernetes:apps/v1:Deployment",
               {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "ns"},
                "spec": {"template": {"spec": {"containers": [app, sidecar]}}}})
    head = json.loads(json.dumps(base))
    head["inputs"]["spec"]["template"]["spec"]["containers"] = [sidecar, {**app, "image": "web:2"}]  # and reordered
    d = diff_plans(plan(base), plan(head))
    assert paths(d) == {"dep": ["inputs.spec.template.spec.containers[name=app].image"]}
    change = d.changed[0].changes[0]
    assert (change.kind, change.old, change.new) == ("changed", "web:1", "web:2")
    # A Kubernetes object also gets its YAML diff, and the text shows that instead of repeating the paths.
    yaml_lines = d.changed[0].yaml_diff.splitlines()
    assert [line for line in yaml_lines if line[:1] in "+-" and line[:3] not in ("---", "+++")] == [
        "-      - image: web:1", "+      - image: web:2"]  # the reorder is no noise there either
    text = format_text(d)
    assert "containers[name=app].image" not in text and "+      - image: web:2" in text


def test_reorder_of_a_set_like_list_is_not_a_change_but_of_an_ordered_one_is() -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                                                       "Resource": "*"}]}
    flipped = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"],
                                                        "Resource": "*"}]}
    base = res("x", inputs={"subnetIds": ["subnet-a", "subnet-b"], "policy": json.dumps(policy),
                            "args": ["--a", "--b"]})
    head = res("x", inputs={"subnetIds": ["subnet-b", "subnet-a"], "policy": json.dumps(flipped),
                            "args": ["--b", "--a"]})
    d = diff_plans(plan(base), plan(head))
    assert paths(d) == {"x": ["inputs.args"]}  # container args are ordered; ids and IAM actions are sets
    grown = res("x", inputs={"subnetIds": ["subnet-b", "subnet-a", "subnet-c"], "policy": json.dumps(policy),
                             "args": ["--a", "--b"]})
    change = diff_plans(plan(base), plan(grown)).changed[0].changes
    assert [(c.path, c.kind, c.new) for c in change] == [("inputs.subnetIds[]", "added", "subnet-c")]


def test_json_documents_in_strings_are_compared_as_data() -> None:
    old = json.dumps({"rules": [{"rulePriority": 1, "selection": {"countNumber": 14}}]})
    new = json.dumps({"rules": [{"rulePriority": 1, "selection": {"countNumber": 7}}]}, indent=2)
    changes = diff_values({"policy": old}, {"policy": new})
    assert [(c.path, c.old, c.new) for c in changes] == [("policy.rules[0].selection.countNumber", 14, 7)]


def test_mock_ids_that_only_move_do_not_show() -> None:
    # The same program in two stacks: the fakes make up different ids, every reference follows them.
    def stack(vpc_id: str, target: str = "net") -> Plan:
        vpc = res("net", "aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16"}, rid=vpc_id,
                  state={"arn": f"arn:aws:ec2:r:123456789012:vpc/{vpc_id}"})
        other = res("other", "aws:ec2/vpc:Vpc", {"cidrBlock": "10.1.0.0/16"}, rid=vpc_id[:-1] + "9",
                    state={"arn": f"arn:aws:ec2:r:123456789012:vpc/{vpc_id[:-1]}9"})
        ids = {"net": vpc_id, "other": vpc_id[:-1] + "9"}
        subnet = res("sub", inputs={"vpcId": ids[target], "note": f"in {ids[target]}"})
        return plan(vpc, other, subnet)

    assert diff_plans(stack("vpc-0123456789abcdef0"), stack("vpc-0fedcba9876543210")).empty
    moved = diff_plans(stack("vpc-0123456789abcdef0"), stack("vpc-0fedcba9876543210", target="other"))
    assert [(c.path, c.old, c.new) for c in moved.changed[0].changes] == [
        ("inputs.note", "in <net.id>", "in <other.id>"), ("inputs.vpcId", "<net.id>", "<other.id>")]


def test_a_secret_change_shows_as_changed_without_the_value() -> None:
    a, b = "hmac-sha256:" + "a" * 64, "hmac-sha256:" + "b" * 64
    base = res("k8s", "pulumi:providers:kubernetes", {"kubeconfig": SECRET}, digests={"kubeconfig": a})
    same = res("k8s", "pulumi:providers:kubernetes", {"kubeconfig": SECRET}, digests={"kubeconfig": a})
    changed = res("k8s", "pulumi:providers:kubernetes", {"kubeconfig": SECRET}, digests={"kubeconfig": b})
    unknown = res("k8s", "pulumi:providers:kubernetes", {"kubeconfig": SECRET})
    assert diff_plans(plan(base), plan(same)).empty
    assert diff_plans(plan(base), plan(unknown)).empty  # no digest on one side: nothing can be said
    d = diff_plans(plan(base), plan(changed))
    assert paths(d) == {"k8s": ["inputs.kubeconfig"]}
    for out in (format_text(d), format_markdown(d)):
        assert "[secret] changed (value not shown)" in out
        assert "a" * 64 not in out and "b" * 64 not in out and "hmac" not in out


def test_render_records_salted_digests_of_secret_inputs_never_the_values(dev: Plan) -> None:
    salt = b"0123456789abcdef"
    salted = render("dev", stacks=TEST_STACKS, secret_salt=salt)
    provider = salted.one("pulumi:providers:kubernetes")
    assert provider["inputs"]["kubeconfig"] == SECRET
    kubeconfig = FakeCloud("us-east-1")._cluster_outputs({"name": "webstack-dev"})["kubeconfigJson"]
    expected = hmac.new(salt, json.dumps(kubeconfig).encode(), hashlib.sha256).hexdigest()
    assert provider["secretDigests"] == {"kubeconfig": f"hmac-sha256:{expected}"}
    assert set(salted.one("docker:index/image:Image")["secretDigests"]) == {"registry"}
    assert "mock-ecr-password" not in json.dumps(salted.resources)
    # Another salt, another digest: the salt (random per diff run, never written) keeps digests unguessable.
    wrapped = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": kubeconfig}
    assert secret_digests({"kubeconfig": wrapped}, salt) == provider["secretDigests"]
    assert secret_digests({"kubeconfig": wrapped}, b"another salt") != provider["secretDigests"]
    # Nothing but the digests differs from an unsalted render of the same config.
    assert [{k: v for k, v in r.items() if k != "secretDigests"} for r in salted.resources] == dev.resources


# --- dev vs prod ---------------------------------------------------------------------------------------------------

# Mock resource ids and ARNs; an account-wide ARN pattern (`arn:aws:logs:<region>:<account>:*`, a policy
# condition built from the config) is not a resource's mock ARN.
MOCK_NOISE = re.compile(r"\b(vpc|subnet|nat|rtb|eipalloc|igw|sg|lt|vpce|fl|r|rtbassoc)-[0-9a-f]{17}\b"
                        r"|urn:pulumi:|arn:aws:(kms|acm):|arn:aws:logs:(?![a-z0-9-]+:[0-9]{12}:\*)"
                        r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                        # the fake's EC2 ARNs; not the program's own pattern in the flow logs role's trust
                        r"|arn:aws:ec2:(?![a-z0-9-]+:[0-9]{12}:vpc-flow-log/\*\")"
                        r"|elb\.amazonaws\.com|hmac-sha256")


@pytest.fixture(scope="module")
def dev_prod(dev: Plan, prod: Plan) -> PlanDiff:
    return diff_plans(dev, prod)


CONTROLLERS = ("alb-controller", "external-dns", "cluster-autoscaler")


def test_dev_vs_prod_adds_and_removes_exactly_the_expected_resources(dev_prod: PlanDiff) -> None:
    added = {(r.type.split(":")[-1], r.name) for r in dev_prod.added}
    assert added == {
        # a third AZ
        ("Subnet", "network-public-2"), ("Subnet", "network-private-2"),
        ("RouteTableAssociation", "network-public-2"), ("RouteTableAssociation", "network-private-2"),
        ("RouteTable", "network-private-rt-2"), ("Route", "network-private-default-2"),
        # one NAT gateway per AZ instead of a single one
        ("Eip", "network-nat-1"), ("NatGateway", "network-nat-1"), ("Eip", "network-nat-2"),
        ("NatGateway", "network-nat-2"),
        # flow logs
        ("LogGroup", "network-flow-logs"), ("Role", "network-flow-logs"), ("RolePolicy", "network-flow-logs"),
        ("FlowLog", "network-flow-log"),
        # a created zone and the certificate's names in it
        ("Zone", "dns-zone"), ("Record", "dns-validation-www.prod.example.com"),
        ("Record", "dns-validation-prod.example.com"),
        # workloadIdentity irsa (dev) -> pod-identity (prod, the default): per controller a new role and its
        # attachment, the association and its propagation wait; the permissions (the policy) are the same resource
        *((kind, f"{c}{suffix}") for c in (*(f"platform-{c}" for c in CONTROLLERS), "ebs-csi")
          for kind, suffix in (("Role", "-pod-identity"), ("RolePolicyAttachment", "-pod-identity"),
                               ("PodIdentityAssociation", ""), ("Command", "-pod-identity-settle"))),
        # the firewall (on by default on prod* stacks) and its log group; the alarms' e-mail subscription
        ("WebAcl", "firewall"), ("WebAcl", "firewall-acl"), ("LogGroup", "firewall-logs"),
        ("LogResourcePolicy", "firewall-log-delivery"), ("WebAclLoggingConfiguration", "firewall-logging"),
        ("TopicSubscription", "alarms-email-d11be87d59"),
    }
    assert {(r.type.split(":")[-1], r.name) for r in dev_prod.removed} == {
        ("Record", "dns-validation-app.example.com"),
        *((kind, f"platform-{c}-irsa") for c in CONTROLLERS for kind in ("Role", "RolePolicyAttachment")),
        ("Role", "ebs-csi-irsa"), ("RolePolicyAttachment", "ebs-csi-irsa")}


def test_dev_vs_prod_property_changes_are_the_config_differences(dev_prod: PlanDiff) -> None:
    changes = {c.ref.name: {ch.path: (ch.old, ch.new) for ch in c.changes} for c in dev_prod.changed}
    tags_only = {"inputs.tags.cost-center", "inputs.tags.stack"}
    assert set(changes["network-vpc"]) == tags_only  # its mock id and ARN differ, and do not show
    assert set(changes["network-nat-0"]) == tags_only
    # per-AZ NAT: the second AZ's default route moves to its own gateway
    assert changes["network-private-default-1"]["inputs.natGatewayId"] == ("<network-nat-0.id>", "<network-nat-1.id>")
    assert changes["network-private-0"]["inputs.availabilityZone"] == ("us-east-1c", "eu-west-1a")  # use1-az1, euw1-az1
    # one instance type lives in the launch template (dev); several stay on the node group (prod)
    template = next(c for c in dev_prod.changed if c.ref.name == "cluster-nodes" and "LaunchTemplate" in c.ref.type)
    assert {ch.path: (ch.old, ch.new) for ch in template.changes}["inputs.instanceType"] == ("t3.medium", None)
    nodes = next(c for c in dev_prod.changed if c.ref.name == "cluster-nodes" and "ManagedNodeGroup" in c.ref.type)
    nodes = {ch.path: (ch.old, ch.new) for ch in nodes.changes}
    assert nodes["inputs.instanceTypes"] == (None, ["m6i.large", "m6a.large"])
    assert nodes["inputs.scalingConfig.maxSize"] == (3, 9)
    assert changes["cluster-control-plane"]["inputs.retentionInDays"] == (90, 365)
    assert "network-public-default" not in changes  # same inputs in both stacks
    # Kubernetes objects and Helm values come as YAML diffs
    deployment = next(c for c in dev_prod.changed if c.ref.name == "webapp-deployment")
    assert "-  replicas: 2\n+  replicas: 3" in deployment.yaml_diff
    external_dns = next(c for c in dev_prod.changed if c.ref.name == "external-dns")
    assert "-- --zone-id-filter=<getZone(name=example.com,privateZone=False).id>" in external_dns.yaml_diff
    assert "+- --zone-id-filter=<dns-zone.id>" in external_dns.yaml_diff


def test_dev_vs_prod_iam_changes_are_called_out(dev_prod: PlanDiff) -> None:
    iam = {c.document: c for c in dev_prod.iam}
    assert set(iam) == {"network-flow-logs-policy", "network-flow-logs-trust", "platform-external-dns-policy",
                        "platform-cluster-autoscaler-policy", "firewall-log-delivery-log-policy",
                        # the alarm topic's policy names the stack's alarms (region, prefix); its key's policy names
                        # only the account (CloudWatch's statement is unconditioned: infra/iam.py)
                        "alarms-topic-policy-topic-policy",
                        *(f"platform-{c}-{mode}-trust" for c in CONTROLLERS for mode in ("irsa", "pod-identity")),
                        "ebs-csi-irsa-trust", "ebs-csi-pod-identity-trust"}
    assert not iam["firewall-log-delivery-log-policy"].removed
    trust = iam["platform-alb-controller-pod-identity-trust"]
    assert {g.action for g in trust.added} == {"sts:AssumeRole", "sts:TagSession"} and not trust.removed
    # the autoscaler's scope follows the cluster (name and region): the same actions on other resources
    scaler = iam["platform-cluster-autoscaler-policy"]
    assert {g.action for g in scaler.added} == {g.action for g in scaler.removed} >= {"autoscaling:SetDesiredCapacity"}
    assert all(":eu-west-1:" in g.target for g in scaler.added)
    assert all(":us-east-1:" in g.target for g in scaler.removed)
    assert "arn:aws:eks:eu-west-1:123456789012:nodegroup/webstack-prod/*/*" in {g.target for g in scaler.added}
    assert {(g.action, g.target) for g in iam["network-flow-logs-policy"].added} >= {
        ("logs:PutLogEvents", "<network-flow-logs.arn>")}
    assert not iam["network-flow-logs-policy"].removed
    dns = iam["platform-external-dns-policy"]  # the created zone replaces the looked-up one
    assert {g.target for g in dns.added} == {"<dns-zone.arn>"}
    assert {g.target for g in dns.removed} == {"<getZone(name=example.com,privateZone=False).arn>"}
    assert {g.action for g in dns.added} == {g.action for g in dns.removed} >= {"route53:ChangeResourceRecordSets"}
    text = format_text(dev_prod)
    assert "IAM permissions:" in text
    assert "+ Allow route53:ChangeResourceRecordSets, route53:ListResourceRecordSets " \
           "on <dns-zone.arn>" in text


def test_dev_vs_prod_has_no_mock_noise_and_the_markdown_is_collapsible(dev_prod: PlanDiff) -> None:
    text, markdown = format_text(dev_prod), format_markdown(dev_prod)
    assert MOCK_NOISE.findall(text) == [] and MOCK_NOISE.findall(markdown) == []
    assert markdown.count("<details>") == markdown.count("</details>") >= len(dev_prod.changed)
    assert "<summary>39 to add</summary>" in markdown and "```diff" in markdown
    assert f"<details><summary>{len(dev_prod.changed)} to change</summary>" in markdown
    short = format_markdown(dev_prod, limit=4000)  # a comment has a size limit: sections are left out, said so
    assert len(short) < 4400 and short.count("<details>") == short.count("</details>")
    assert "left out to fit a comment: run `make diff` for all of it." in short


def test_the_same_plan_twice_is_no_change(dev: Plan) -> None:
    d = diff_plans(dev, dev)
    assert d.empty and "No changes." in format_text(d) and "No changes." in format_markdown(d)


# --- end to end: python -m tools.review.diff on a temporary copy of the repository --------------------------------

def test_two_trees_rendered_in_one_interpreter_never_share_a_program_module(tmp_path: Path) -> None:
    """Each tree's own `infra` package is used for its render, with this tree's engine (the trees have none)."""
    trees = []
    for label in ("tree-a", "tree-b"):
        tree = tmp_path / label
        (tree / "infra").mkdir(parents=True)
        (tree / "infra" / "__init__.py").write_text("")
        (tree / "infra" / "thing.py").write_text(f"VALUE = {label!r}\n")
        (tree / "Pulumi.yaml").write_text("name: isolation\nruntime: python\n")
        (tree / "__main__.py").write_text("import pulumi\nfrom infra.thing import VALUE\n\n"
                                          "pulumi.CustomResource('test:index:Thing', 'thing', {'value': VALUE})\n")
        trees.append(tree)
    a, b = render_trees(trees, "dev", str(TEST_STACKS), tmp_path, salt="00")  # an absolute folder of stacks
    assert a.one("test:index:Thing")["inputs"]["value"] == "tree-a"
    assert b.one("test:index:Thing")["inputs"]["value"] == "tree-b"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          check=True, capture_output=True, text=True).stdout


def _repo_copy(dst: Path) -> Path:
    """The working tree's files (tracked and new, not ignored) committed on `main` of a fresh repository."""
    listed = _git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)
    copy_bytecode(ROOT, dst)  # ignored by git: the commit is the same
    _git(dst, "init", "-q", "-b", "main")
    _git(dst, "add", "-A")
    _git(dst, "commit", "-q", "-m", "base")
    return dst


def _cli(repo: Path, module: Any, stack: str, *args: str) -> subprocess.Popen[str]:
    """`python -m <module> --stack <stack>` on the copy's test stacks, started."""
    stacks = str(TEST_STACKS.relative_to(ROOT))
    return subprocess.Popen([sys.executable, "-m", module.__name__, "--stack", stack, "--stacks", stacks, *args],
                            cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class CliRun(NamedTuple):
    repo: Path
    returncode: int
    stdout: str
    stderr: str


def _stack_config(folder: Path) -> tuple[dict[str, Any], str]:
    """(config map, lock text) of the dev test stack in `folder`."""
    return stack_config("dev", stacks=folder), lock_file("dev", stacks=folder).read_text()


def _program_digest(tree: Path) -> str:
    """The program a render of `tree` runs: every file but the test stacks, which the cached render takes apart."""
    listed = _git(tree, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    digest = hashlib.sha256()
    for rel in sorted(r for r in listed if r and not r.startswith("tests/stacks/") and (tree / r).is_file()):
        digest.update(rel.encode() + b"\0" + (tree / rel).read_bytes())
    return digest.hexdigest()


def _cached_render_trees(trees: list[Path], stack: str, stacks: str | None, workdir: Path, salt: str) -> list[Plan]:
    """In place of `render_trees` (a process of its own, two renders) for the in-process CLI runs: a copy's program
    is this tree's (asserted by content), so its render is the session's cached render of this tree with the copy's
    stack file as config overrides (the suite renders dev and most variants anyway). No secret differs in these
    runs, so the salt's digests are not needed. The end-to-end subprocess (`clean`) renders for real."""
    assert (stack, stacks) == ("dev", "tests/stacks"), (stack, stacks)
    committed, committed_lock = _stack_config(TEST_STACKS)
    plans = []
    for tree in trees:
        assert _program_digest(tree) == _program_digest(ROOT), f"{tree} runs another program than this tree's"
        config, lock = _stack_config(tree / stacks)
        assert lock == committed_lock, "a lock change needs rendered(..., lock=...)"
        overrides = {k: v for k, v in config.items() if committed.get(k) != v}
        overrides.update({k: None for k in committed.keys() - config.keys()})
        plans.append(rendered("dev", **overrides))
    return plans


def _in_process(repo: Path, *args: str) -> CliRun:
    """`python -m tools.review.diff --stack dev --stacks tests/stacks <args>` run in this process on `repo`."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(out), redirect_stderr(err):
        patch.setattr(diff_module, "render_trees", _cached_render_trees)
        code = diff_module.main(["--stack", "dev", "--stacks", "tests/stacks", *args], repo=repo)
    return CliRun(repo, code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CliRun]:
    """Copies of the repository diffed by the CLI: `clean` against HEAD, end to end (`python -m tools.review.diff`,
    one render: the working tree is the base's; of the ECS stack, whose interpreter imports no Kubernetes SDK, a
    second less than dev's); in this process on the session's renders, `one-key` on a branch
    whose commit changes one config key, against the default base, and `vpc-cidr` with the working tree's stack
    file edited, against HEAD."""
    clean = _repo_copy(tmp_path_factory.mktemp("clean") / "webstack")
    proc = _cli(clean, diff_module, "ecs", "--base", "HEAD")
    changed = _repo_copy(tmp_path_factory.mktemp("one-key") / "webstack")
    _git(changed, "checkout", "-q", "-b", "feature")
    dev_stack = next(p for p in TEST_STACKS.glob("*.yaml") if p.stem.endswith(".dev"))
    stack = changed / dev_stack.relative_to(ROOT)  # the copy's test stack, never a root stack file
    stack.write_text(stack.read_text().replace("webstack:nodeDesiredSize: 2", "webstack:nodeDesiredSize: 3"))
    _git(changed, "commit", "-q", "-am", "one more node")
    # the acceptance check of a replacement: on a clean tree, vpcCidr edited in the stack file (not committed)
    edited = _repo_copy(tmp_path_factory.mktemp("vpc-cidr") / "webstack")
    stack = edited / dev_stack.relative_to(ROOT)
    assert "vpcCidr" not in stack.read_text()  # the default 10.0.0.0/16
    stack.write_text(stack.read_text().replace("config:\n", "config:\n  webstack:vpcCidr: 10.1.0.0/16\n", 1))
    runs = {"one-key": _in_process(changed),  # default base: the merge base with main
            "vpc-cidr": _in_process(edited, "--base", "HEAD")}
    out, err = proc.communicate(timeout=300)
    runs["clean"] = CliRun(clean, proc.returncode, out, err)
    return runs


def test_a_tree_unchanged_since_the_base_renders_once_and_any_change_to_what_a_render_reads_renders_both(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make diff` on a clean tree renders once: the base's render would be the working tree's. Each way the base
    can differ from what a render reads (a tracked file edited, a new file, a commit since the base, a stack file
    git ignores, so the base has none) renders both trees again."""
    calls: list[list[Path]] = []

    def counted(trees: list[Path], stack: str, stacks: str | None, workdir: Path, salt: str) -> list[Plan]:
        calls.append([Path(t) for t in trees])
        return [plan(res("net"), stack=stack) for _ in trees]

    monkeypatch.setattr(diff_module, "render_trees", counted)
    repo = program(tmp_path / "repo", network(), stacks=("dev", "tests/stacks/dev"))
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "base")):
        _git(repo, *args)

    def trees_rendered(stack: str = "dev", base: str = "HEAD", stacks: str | None = None) -> int:
        calls.clear()
        base_plan, head_plan, _ = render_pair(stack, base, repo, stacks)
        assert len(calls) == 1 and calls[0][-1] == repo and (base_plan is head_plan) == (len(calls[0]) == 1)
        return len(calls[0])

    assert trees_rendered() == 1 and trees_rendered(stacks="tests/stacks") == 1
    calls.clear()
    assert [r.label for r in diff_all("HEAD", repo)[0]] == ["dev", "tests/stacks/dev"] and calls == [[repo]] * 2
    main = (repo / "__main__.py").read_text()
    (repo / "__main__.py").write_text(main + "# edited\n")  # a tracked file edited, not committed
    assert trees_rendered() == 2
    (repo / "__main__.py").write_text(main)
    (repo / "infra.json").write_text("{}")  # a new file the program could read
    assert trees_rendered() == 2
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "data")
    assert trees_rendered() == 1 and trees_rendered(base="HEAD~1") == 2  # a commit since the base
    (stack_file,) = [p.name for p in repo.glob("*.yaml") if p.name != "Pulumi.yaml"]  # the copy's, not ours
    (repo / ".gitignore").write_text(stack_file + "\n")  # the user keeps the stack file out of git
    _git(repo, "rm", "-q", "--cached", stack_file)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "stack file ignored")
    calls.clear()
    base_plan, _, _ = render_pair("dev", "HEAD", repo)  # the base has no stack file: all added
    assert calls == [[repo]] and diff_module.is_absent(base_plan)
    assert trees_rendered(stacks="tests/stacks") == 1


def test_default_base_is_the_merge_base_with_main_else_says_it_fell_back_to_head(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "trunk")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    ref, description = default_base(repo)
    assert ref == "HEAD" and "no main or origin/main" in description
    _git(repo, "branch", "main")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "two")
    ref, description = default_base(repo)
    assert ref == _git(repo, "rev-parse", "main").strip() and description == "merge base with main"


@pytest.mark.slow(6)
def test_diff_against_head_on_a_clean_tree_prints_no_changes(cli_runs: dict[str, CliRun]) -> None:
    run = cli_runs["clean"]
    assert run.returncode == 0, run.stderr
    assert "No changes." in run.stdout
    assert len(_git(run.repo, "worktree", "list").splitlines()) == 1  # the base worktree is gone again


def test_a_commit_changing_one_config_key_shows_exactly_that_change(cli_runs: dict[str, CliRun]) -> None:
    run = cli_runs["one-key"]
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("Plan diff of stack dev: merge base with main (")
    assert "0 to add, 0 to remove, 1 to change." in lines
    assert [line for line in lines if line[:2] in ("+ ", "- ", "~ ")] == [
        "~ eks:index:ManagedNodeGroup  webstack:cluster:Cluster$eks:index:ManagedNodeGroup::cluster-nodes  [update]"]
    assert [line.strip() for line in lines if line.startswith("    ")] == ["inputs.scalingConfig.desiredSize: 2 -> 3"]


def test_a_new_vpc_range_in_the_stack_file_reports_the_vpc_and_subnets_replaced_and_blocks(
        cli_runs: dict[str, CliRun]) -> None:
    run = cli_runs["vpc-cidr"]
    assert run.returncode == 3, run.stderr  # guarded replacements, not acknowledged: `make diff` fails
    lines = run.stdout.splitlines()
    vpc = [line for line in lines if line.startswith("~ aws:ec2/vpc:Vpc ")]
    assert len(vpc) == 1 and vpc[0].endswith("[replace (cidrBlock)]"), vpc
    subnets = [line for line in lines if line.startswith("~ aws:ec2/subnet:Subnet ")]
    assert len(subnets) == 4 and all("[replace (cidrBlock" in line for line in subnets), subnets
    destroys = lines[lines.index(next(line for line in lines if line.startswith("Destroys ("))):]
    assert any("network-vpc" in line and "BLOCKING" in line for line in destroys), destroys[:12]


# --- moves: a new URN whose aliases claim a removed one --------------------------------------------------------------

def moved_pair(cidr: str = "10.0.0.0/16") -> tuple[Plan, Plan]:
    """A VPC renamed `vpc-old` -> `vpc-new` with an alias (the fakes give it another mock id), and a subnet that
    references it by id and depends on it."""
    def stack(name: str, vpc_id: str, aliases: list[str], cidr: str) -> Plan:
        vpc = res(name, "aws:ec2/vpc:Vpc", {"cidrBlock": cidr}, rid=vpc_id)
        vpc["aliases"] = aliases
        subnet = res("sub", inputs={"vpcId": vpc_id})
        subnet["dependencies"] = [vpc["urn"]]
        return plan(vpc, subnet)

    old_urn = "urn:pulumi:s::webstack::aws:ec2/vpc:Vpc::vpc-old"
    return (stack("vpc-old", "vpc-0123456789abcdef0", [], "10.0.0.0/16"),
            stack("vpc-new", "vpc-0fedcba9876543210", [old_urn], cidr))


def test_a_resource_claiming_a_removed_urn_by_alias_is_moved_not_replaced() -> None:
    d = diff_plans(*moved_pair())
    assert not d.added and not d.removed and not d.changed  # the subnet's id and dependency follow the move
    ((old, change),) = [(m.old.key, m.change) for m in d.moved]
    assert (old, change.ref.key, change.changes) == ("aws:ec2/vpc:Vpc::vpc-old", "aws:ec2/vpc:Vpc::vpc-new", ())
    text = format_text(d)
    assert "0 to add, 0 to remove, 0 to change, 1 moved." in text
    assert "> aws:ec2/vpc:Vpc  aws:ec2/vpc:Vpc::vpc-old -> aws:ec2/vpc:Vpc::vpc-new (moved)" in text
    markdown = format_markdown(d)
    assert "<summary>1 moved (aliases: same cloud resources, new URNs)</summary>" in markdown
    assert "- `aws:ec2/vpc:Vpc` `aws:ec2/vpc:Vpc::vpc-old` -> `aws:ec2/vpc:Vpc::vpc-new`" in markdown


def test_a_moved_resource_shows_its_property_changes_too() -> None:
    d = diff_plans(*moved_pair(cidr="10.9.0.0/16"))
    assert not d.changed and [(c.path, c.old, c.new) for c in d.moved[0].change.changes] == [
        ("inputs.cidrBlock", "10.0.0.0/16", "10.9.0.0/16")]
    assert "    inputs.cidrBlock: 10.0.0.0/16 -> 10.9.0.0/16" in format_text(d)
    markdown = format_markdown(d)
    assert ("<summary>moved <code>aws:ec2/vpc:Vpc</code> vpc-new (1 change(s)): <b>replace</b> (<code>cidrBlock"
            "</code>)</summary>") in markdown
    assert "<summary>0 to change, 1 moved with changes</summary>" in markdown


def test_an_alias_claims_only_a_removed_urn_of_its_own_stack_once() -> None:
    base, head = moved_pair()
    twin = json.loads(json.dumps(head.resources[0]))
    twin.update(urn=twin["urn"].replace("vpc-new", "vpc-twin"), name="vpc-twin")  # claims the same old URN, later
    elsewhere = res("vpc-x", "aws:ec2/vpc:Vpc")
    elsewhere["aliases"] = ["urn:pulumi:other::webstack::aws:ec2/subnet:Subnet::sub-gone"]  # another stack
    gone = res("sub-gone")
    d = diff_plans(plan(*base.resources, gone), plan(*head.resources, twin, elsewhere))
    assert [m.change.ref.name for m in d.moved] == ["vpc-new"]
    assert {r.name for r in d.added} == {"vpc-twin", "vpc-x"} and [r.name for r in d.removed] == ["sub-gone"]
    assert find_moves(base, base) == {}  # the same plan: nothing to claim


def _stack_diff(label: str, d: PlanDiff | None, error: str = "") -> StackDiff:
    return StackDiff(label, d, error)


def test_the_all_stacks_report_ends_with_one_line_a_script_can_test() -> None:
    same = diff_plans(*moved_pair())
    clean = format_all([_stack_diff("dev", diff_plans(plan(), plan())),
                        _stack_diff("tests/stacks/dev", diff_plans(plan(), plan()))], "HEAD")
    assert clean.splitlines()[-3:] == ["dev               No changes.", "tests/stacks/dev  No changes.",
                                       "All 2 stacks: No changes."]
    mixed = format_all([_stack_diff("dev", same), _stack_diff("prod", None, "boom")], "HEAD").splitlines()
    assert "Plan diff of stack prod failed:" in mixed and "boom" in mixed
    assert mixed[-3:] == ["dev   0 to add, 0 to remove, 0 to change, 1 moved.", "prod  render failed",
                          "2 of 2 stacks change or failed: dev, prod."]


def _render_tiny_trees(trees: list[Path], stack: str, stacks: str | None, workdir: Path, salt: str) -> list[Plan]:
    """In place of `render_trees` for the tiny programs (tests/support/programs.py): the same engine and the same
    JSON hand-back, in this process rather than a fresh interpreter per stack (whose SDK import was most of these
    tests' time). Safe here because such a program is one `__main__.py` importing only the Pulumi SDK: no program
    module (`infra`, `tools`) two trees could share, asserted. That renders are isolated is tested above, and end to
    end by the `clean` CLI run."""
    plans = []
    for tree in trees:
        root = Path(tree).resolve()
        assert not (root / "infra").exists() and not (root / "tools").exists(), root
        assert "import pulumi\n" in (main := (root / "__main__.py").read_text()) and "infra" not in main, root
        path = list(sys.path)
        try:  # the engine puts the tree on sys.path
            result = render(stack, root=root, stacks=root / stacks if stacks else None,
                            secret_salt=bytes.fromhex(salt) or None)
        finally:
            sys.path[:] = path
        plans.append(plan_from_output(root, plan_text(result)))
    return plans


@pytest.fixture
def tiny_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diff_module, "render_trees", _render_tiny_trees)


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small program whose component type is renamed in the working tree, with and without an alias: `make diff
    STACK=all` with the alias (a root stack and two test stacks), `make diff` of one stack without."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diff_module, "render_trees", _render_tiny_trees)
        return _renamed(tmp_path_factory)


def _renamed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = program(tmp_path_factory.mktemp("renamed") / "repo", network(),
                   stacks=("dev", "tests/stacks/dev", "tests/stacks/prod"))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    (repo / "__main__.py").write_text(network("test:index:Net", '[pulumi.Alias(type_="test:index:Network")]'))
    everything, _ = diff_all("HEAD", repo)
    (repo / "__main__.py").write_text(network("test:index:Net"))
    base, head, _ = render_pair("dev", "HEAD", repo)
    return {"all": everything, "without alias": diff_plans(base, head), "repo": repo}


def test_a_component_type_renamed_with_an_alias_moves_it_and_its_children(renamed: dict[str, Any]) -> None:
    results: list[StackDiff] = renamed["all"]
    assert [r.label for r in results] == ["dev", "tests/stacks/dev", "tests/stacks/prod"]
    for r in results:
        assert r.diff is not None and not r.diff.added and not r.diff.removed and not r.diff.changed, r.label
        assert [(m.old.key, m.change.ref.key) for m in r.diff.moved] == [
            ("test:index:Network::net", "test:index:Net::net"),
            ("test:index:Network$test:index:Vpc::net-vpc", "test:index:Net$test:index:Vpc::net-vpc"),
            ("test:index:Network$test:index:Subnet::net-subnet", "test:index:Net$test:index:Subnet::net-subnet")]
    text = format_all(results, "HEAD")
    assert [line for line in text.splitlines() if line.startswith(("+ ", "- ", "~ "))] == []
    assert text.count("(moved)") == 9 and text.splitlines()[-1] == (
        "3 of 3 stacks change or failed: dev, tests/stacks/dev, tests/stacks/prod.")
    assert len(_git(renamed["repo"], "worktree", "list").splitlines()) == 1  # the one base worktree is gone


def test_the_same_rename_without_an_alias_deletes_and_creates(renamed: dict[str, Any]) -> None:
    d: PlanDiff = renamed["without alias"]
    assert not d.moved
    # what depends on the component now waits for new resources (with the alias, this change did not show)
    assert {c.ref.name: {ch.path for ch in c.changes} for c in d.changed} == {"peer": {"dependencies[]"}}
    assert [r.key for r in d.removed] == ["test:index:Network::net", "test:index:Network$test:index:Vpc::net-vpc",
                                          "test:index:Network$test:index:Subnet::net-subnet"]
    assert [r.key for r in d.added] == [k.replace("Network", "Net") for k in (r.key for r in d.removed)]
    assert "3 to add, 3 to remove, 1 to change." in format_text(d)


def test_a_stack_file_new_since_the_base_is_all_added_not_a_failure(tmp_path: Path, tiny_renders: None) -> None:
    """`make diff STACK=all` (and `make diff STACK=x`) on a branch adding a stack: the base has no stack file to
    render, so every resource of the new stack is an addition."""
    repo = program(tmp_path / "repo", network(), stacks=("dev", "tests/stacks/dev"))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    program(repo, network(), stacks=("staging", "tests/stacks/qa"))  # two new stack files, not committed
    results, _ = diff_all("HEAD", repo)
    by_label = {r.label: r for r in results}
    assert sorted(by_label) == ["dev", "staging", "tests/stacks/dev", "tests/stacks/qa"]
    for label in ("staging", "tests/stacks/qa"):
        new = by_label[label]
        assert new.error == "" and new.diff is not None, new.error
        assert [r.key for r in new.diff.added] == [
            "test:index:Network::net", "test:index:Network$test:index:Vpc::net-vpc",
            "test:index:Network$test:index:Subnet::net-subnet", "test:index:Peer::peer"]
        assert not new.diff.removed and not new.diff.changed and new.new
    assert by_label["dev"].diff is not None and by_label["dev"].diff.empty and not by_label["dev"].new
    text = format_all(results, "HEAD").splitlines()
    assert "Plan diff of stack staging: new stack, no stack file at HEAD -> working tree" in text
    assert text[-1] == "2 of 4 stacks change or failed: staging, tests/stacks/qa."
    assert "staging           new stack: 4 to add, 0 to remove, 0 to change." in text
    base, head, _ = render_pair("staging", "HEAD", repo)  # one stack, as `make diff STACK=staging` renders it
    assert base.resources == [] and len(head.resources) == 4
