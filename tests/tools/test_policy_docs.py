"""`make policy-docs`: policy/README.md's table is generated from the policies' declarations and kept current."""

from __future__ import annotations

import re
from pathlib import Path

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policy.common import Area
from policy.validators import AREAS, POLICIES
from tools import policy_docs as docs

ROW = re.compile(r"^\| `(?P<name>[a-z0-9-]+)`(?P<stack> \(stack\))? \| (?P<level>\w+) \| (?P<area>.+?) \(\[\w+\.py\]")


def rows(block: str) -> list[re.Match[str]]:
    return [m for line in block.splitlines() if (m := ROW.match(line))]


def test_the_readme_table_is_current() -> None:
    assert docs.current_block(docs.README.read_text()) == docs.readme_block(docs.declared()), (
        "policy/README.md's policy table is stale: run `make policy-docs`")


def test_the_table_lists_every_policy_with_its_level_and_area() -> None:
    found = rows(docs.current_block(docs.README.read_text()))
    assert [m["name"] for m in found] == [p.name for p in POLICIES]
    levels = {p.name: p.enforcement_level.value for p in POLICIES}
    assert all(m["level"] == levels[m["name"]] for m in found)
    area_of = {p.name: a.title for a in AREAS for p in a.policies}
    assert all(m["area"] == area_of[m["name"]] for m in found)
    assert [m["name"] for m in found if m["stack"]] == [
        "eks-nodes-in-private-subnets", "eks-fargate-profile-private-subnets", "instances-in-private-subnets",
        "auto-mode-nodeclass-private", "default-security-group-managed",
        "ecs-logs-to-stack-log-group", "lb-http-listener-rules-never-serve",
        "ecs-tasks-reachable-only-from-load-balancer", "ecs-execution-role-least-privilege",
        "ecs-task-role-least-privilege", "waf-on-production", "deletion-protection-on-production"]


def test_a_policy_declared_without_regenerating_makes_the_table_stale(tmp_path: Path) -> None:
    extra = Area("Extra")

    @extra.resource("extra-policy", "Something | with a pipe.")
    def extra_policy(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        return None

    readme = tmp_path / "README.md"
    text = docs.README.read_text()
    readme.write_text(text)
    block = docs.readme_block(docs.declared((*AREAS, extra)))
    assert block != docs.current_block(text)  # what test_the_readme_table_is_current compares
    assert docs.update_readme(readme, (*AREAS, extra)) is True
    new = readme.read_text()
    assert docs.current_block(new) == block
    row = ("| `extra-policy` | mandatory | Extra ([test_policy_docs.py](test_policy_docs.py)) "
           "| Something \\| with a pipe. |")
    assert block.endswith(f"{row}\n{docs.README_END}")
    assert new.replace(block, docs.current_block(text)) == text  # nothing else of the README changed
    assert docs.update_readme(readme, (*AREAS, extra)) is False
