"""`make policy`: the pack's validators on the render, as a policy x resource table with an exit status."""

from __future__ import annotations

import pytest

from policy.validators import POLICIES
from tests.support.crafted_plans import broken
from tools.render import TEST_STACKS, Plan
from tools.review import policy_report as pr


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_rendered_stacks_are_clean(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    report = pr.check(plan)
    assert report.violations == [] and report.blocking == []
    assert [p.name for p in report.policies] == [p.name for p in POLICIES]
    text = pr.to_text(report)
    assert "no violation" in text and "violation  " not in text
    # a row per policy x checked resource, naming the resource
    assert "ecr-immutable-tags" in text and "aws:ecr/repository:Repository" in text
    md = pr.to_markdown(report)
    assert md.count("| `") == len(POLICIES) and "❌" not in md


def test_checked_resources_are_the_ones_a_policy_judges(dev: Plan) -> None:
    report = pr.check(dev)
    by_policy = {p.name: {r.resource_type for r in report.results if r.policy == p.name} for p in report.policies}
    assert by_policy["ecr-immutable-tags"] == {"aws:ecr/repository:Repository"}
    assert by_policy["kms-key-rotation"] == {"aws:kms/key:Key"}
    assert by_policy["helm-chart-pinned"] == {"kubernetes:helm.sh/v3:Release"}
    # the stack policy reads the node group and the subnets it could sit in
    assert {"eks:index:ManagedNodeGroup", "aws:ec2/subnet:Subnet"} <= by_policy["eks-nodes-in-private-subnets"]
    # aws-common-tags judges every taggable AWS resource of the plan, never Kubernetes objects
    tags = by_policy["aws-common-tags"]
    assert "aws:ec2/vpc:Vpc" in tags and not any(t.startswith("kubernetes:") for t in tags)
    assert "aws:ec2/route:Route" not in tags  # untaggable
    assert by_policy["security-group-no-world-ingress"] == set()
    assert "(no resource of its kind)" in pr.to_text(report)


def test_crafted_violation_shows_and_blocks(dev: Plan) -> None:
    report = pr.check(broken(dev))
    assert [(r.policy, r.resource_name, r.status) for r in report.violations] == [
        ("ecr-immutable-tags", dev.one("aws:ecr/repository:Repository")["name"], pr.Status.VIOLATION)]
    assert report.blocking == report.violations
    assert "imageTagMutability is MUTABLE" in report.violations[0].message
    text = pr.to_text(report)
    row = next(line for line in text.splitlines() if line.startswith("ecr-immutable-tags"))
    assert "violation" in row and "imageTagMutability is MUTABLE" in row
    assert "1 violation(s), 1 mandatory" in text
    md = pr.to_markdown(report, full=True)
    assert "❌ `aws:ecr/repository:Repository" in md and "| violation | imageTagMutability is MUTABLE" in md


def test_advisory_violations_do_not_block(dev: Plan) -> None:
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

    def no_vpc(args, report_violation) -> None:  # type: ignore[no-untyped-def]
        if args.resource_type == "aws:ec2/vpc:Vpc":
            report_violation(f"cidr {args.props['cidrBlock']}")

    advisory = ResourceValidationPolicy(name="advice", description="d.", validate=no_vpc,
                                        enforcement_level=EnforcementLevel.ADVISORY)
    report = pr.check(dev, [advisory])
    assert [r.enforcement for r in report.violations] == ["advisory"] and report.blocking == []


def test_exit_status_follows_mandatory_violations(dev: Plan, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # the CLI renders a stack file; hand it the real dev plan, then the crafted one
    monkeypatch.setattr(pr, "render", lambda stack, stacks=None: dev)
    assert pr.main(["--stack", "dev", "--stacks", str(TEST_STACKS)]) == 0
    assert "no violation" in capsys.readouterr().out
    monkeypatch.setattr(pr, "render", lambda stack, stacks=None: broken(dev))
    assert pr.main(["--stack", "dev", "--stacks", str(TEST_STACKS), "--format", "markdown"]) == 1
    assert "imageTagMutability is MUTABLE" in capsys.readouterr().out
