"""The review comment composer (tools/review/review.py) on the dev/prod test stacks.

The plan diff and the cost come from other modules' CLIs (`python -m tools.review.diff|cost`); here their output
is supplied by a recording runner, so these tests cover the composition: the marker, one section per stack, the
cost change, the real policy tables, the size limit and its truncation note, and the arguments passed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.crafted_plans import broken
from tools.render import ROOT, Plan
from tools.review import review as rv


class Recorder:
    """Answers `python -m tools.review.diff|cost ...` with canned Markdown and records the arguments."""

    def __init__(self, diff: str = "", cost: str = "", fail: str = "") -> None:
        self.calls: list[list[str]] = []
        self.diff, self.cost, self.fail = diff, cost, fail

    def __call__(self, args: list[str]) -> rv.ToolRun:
        self.calls.append(args)
        stack = args[args.index("--stack") + 1]
        if args[0] == self.fail:
            return rv.ToolRun(1, "", "Traceback ...\nRuntimeError: git worktree add failed")
        if args[0] == rv.DIFF_MODULE:
            return rv.ToolRun(0, self.diff or f"### Plan diff of stack {stack}\n\n**No changes.**\n", "")
        return rv.ToolRun(0, self.cost or f"### Monthly cost: stack {stack}\n\n**$123.45 per month**\n\n"
                                          "**Monthly cost change against abc: +$32.85 ($90.60 -> $123.45)**\n", "")


def reviews(dev: Plan, prod: Plan, runner: Recorder) -> list[rv.StackReview]:
    return [rv.review_stack(s, "abc123", runner=runner, plan=p) for s, p in (("dev", dev), ("prod", prod))]


def test_comment_has_marker_sections_cost_and_policy_tables(dev: Plan, prod: Plan) -> None:
    runner = Recorder()
    text = rv.compose(reviews(dev, prod, runner), base="abc123", head="def456")
    assert text.startswith(rv.MARKER + "\n") and text.count(rv.MARKER) == 1
    assert "`def456` against `abc123`" in text and "Rendered under mocks" in text
    assert [line for line in text.splitlines() if line.startswith("## Stack")] == ["## Stack `dev`",
                                                                                    "## Stack `prod`"]
    # overview row per stack: the tools' headlines and the policy verdict
    assert "| `dev` | No changes. | $123.45 per month | ✅ no violation |" in text
    assert text.count("Monthly cost change against abc: +$32.85") == 2
    # the policy table of each stack, a row per policy
    assert text.count("| `ecr-immutable-tags` | mandatory | 1 | ✅ pass |") == 2
    # the exact CLI interface of make diff / make cost
    assert runner.calls[:2] == [
        [rv.DIFF_MODULE, "--stack", "dev", "--base", "abc123", "--format", "markdown"],
        [rv.COST_MODULE, "--stack", "dev", "--base", "abc123", "--format", "markdown"]]
    assert rv.review_stack("dev", "b", runner=runner, plan=dev, stacks="tests/stacks") and \
        runner.calls[-1][-2:] == ["--stacks", "tests/stacks"]


def test_violations_and_tool_failures_show(dev: Plan, prod: Plan, tmp_path: Path) -> None:
    runner = Recorder(fail=rv.COST_MODULE)
    items = [rv.review_stack("dev", "abc", runner=runner, plan=broken(dev)),
             rv.review_stack("prod", "abc", runner=runner, plan=prod)]
    text = rv.compose(items, base="abc", head="def")
    assert "❌ 1 violation(s), 1 mandatory" in text and "imageTagMutability is MUTABLE" in text
    assert "**make cost failed** (exit 1)" in text and "git worktree add failed" in text
    rv.write_review(items, tmp_path, base="abc", head="def")
    assert (tmp_path / "blocking").read_text() == "1\n"
    assert (tmp_path / "comment.md").read_text() == text
    assert (tmp_path / "full-dev.md").read_text().startswith("## Stack `dev`")


def test_render_failure_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def fail(stack: str, stacks: Path | None = None) -> Plan:
        raise RuntimeError("invalid stack configuration (1 problem(s))")

    monkeypatch.setattr(rv, "render", fail)
    item = rv.review_stack("dev", "abc", runner=Recorder())
    assert item.policy is None
    assert "Policies not run" in rv.compose([item], base="a", head="b")
    rv.write_review([item], tmp_path, base="a", head="b")
    assert (tmp_path / "blocking").read_text() == "1\n"  # a stack that cannot render blocks


def test_long_comment_is_cut_to_the_limit_and_says_so(dev: Plan, prod: Plan) -> None:
    block = "<details><summary>~ big</summary>\n\n```diff\n" + "+ line of yaml\n" * 3000 + "```\n\n</details>\n"
    huge = "### Plan diff\n\n**3 to change.**\n\n" + block * 4  # ~190,000 characters per stack
    items = reviews(dev, prod, Recorder(diff=huge))
    text = rv.compose(items, base="abc", head="def")
    assert len(text) <= rv.LIMIT and len(text) > rv.LIMIT - 5000  # uses the room it has
    assert text.count("diff of `dev` truncated to fit GitHub's 65,536-character comment limit") == 1
    assert "diff of `prod` truncated" in text and "`full-prod.md`" in text
    assert "cost of `dev` truncated" not in text  # short parts stay whole
    assert text.count("```") % 2 == 0  # every code fence closed
    assert text.count("<details") == text.count("</details>")
    assert text.count("| `ecr-immutable-tags` |") == 2  # the policy tables survive
    assert "| `dev` | 3 to change. |" in text


def test_cut_markdown_keeps_short_text_and_closes_blocks() -> None:
    assert rv.cut_markdown("short\n", 100, "cut") == "short\n"
    cut = rv.cut_markdown("<details>\n```\n" + "x\n" * 100, 60, "_cut_")
    assert len(cut) <= 60 and cut.endswith("_cut_\n\n</details>\n") and cut.count("```") == 2
    assert rv._fair_shares([10, 1000, 1000], 610) == [10, 300, 300]


@pytest.mark.project_root  # lists the root stack files
def test_example_stacks_are_the_root_stack_files(tmp_path: Path) -> None:
    for name in ("staging", "prod", "ecs", "dev"):
        (tmp_path / f"Pulumi.{name}.yaml").write_text("config: {}\n")
        (tmp_path / f"Pulumi.{name}.lock.yaml").write_text("region: us-east-1\n")  # its version lock: not a stack
    (tmp_path / "Pulumi.yaml").write_text("name: x\n")
    assert rv.example_stacks(tmp_path) == ["dev", "prod", "ecs", "staging"]
    assert rv.example_stacks()[:2] == ["dev", "prod"]  # this repository's root


def test_changed_diagrams_are_collected(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                       check=True, capture_output=True)

    git("init", "-q")
    (repo / "docs" / "architecture-dev.png").write_bytes(b"\x89PNG one")
    (repo / "docs" / "architecture-dev.json").write_text("{}")
    (repo / "docs" / "other.png").write_bytes(b"x")
    git("add", "-A")
    git("commit", "-qm", "base")
    assert rv.changed_diagrams("HEAD", tmp_path / "out", repo=repo) == []
    (repo / "docs" / "architecture-dev.png").write_bytes(b"\x89PNG two")
    (repo / "docs" / "other.png").write_bytes(b"y")
    git("commit", "-qam", "change")
    assert rv.changed_diagrams("HEAD~1", tmp_path / "out", repo=repo) == ["docs/architecture-dev.png"]
    assert (tmp_path / "out" / "architecture-dev.png").read_bytes() == b"\x89PNG two"
    text = rv.compose([], base="a", head="b", diagrams=["docs/architecture-dev.png"])
    assert "architecture diagram changed" in text and "`architecture-diagram`" in text


def test_sample_comment_is_current(dev: Plan, prod: Plan, variant) -> None:  # type: ignore[no-untyped-def]
    """docs/review-sample.md's sample comment is the composer's output for the test stacks (`make review-sample`)."""
    changed = variant("dev", **{k.split(":")[1]: v for k, v in rv.SAMPLE_CHANGE.items()})
    block = rv.sample_block([rv.SamplePair("dev", dev, changed), rv.SamplePair("prod", prod, prod)])
    assert rv.SAMPLE_FILE == ROOT / "docs" / "review-sample.md"
    page = rv.SAMPLE_FILE.read_text()
    assert rv.SAMPLE.current(page) == block, "stale sample: run `make review-sample`"
    # what a reviewer must find in it
    assert rv.MARKER in block and "## Stack `dev`" in block and "## Stack `prod`" in block
    assert "| `eks-nodes-in-private-subnets` |" in block and "Monthly cost change against main" in block


def test_make_review_sample_rewrites_a_stale_sample_then_finds_it_current(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variant) -> None:  # type: ignore[no-untyped-def]
    """`make review-sample` (main --sample) on a page whose sample is stale writes the committed one back, then
    says it is current; its renders of the test stacks are the session's."""
    monkeypatch.setattr(rv, "render", lambda stack, overrides=None, stacks=None: variant(stack, **(overrides or {})))
    committed = rv.SAMPLE_FILE.read_text()
    page = tmp_path / "docs" / "review-sample.md"
    page.parent.mkdir()
    page.write_text(committed.replace("## Stack `prod`", "## Stack `production`"))
    monkeypatch.setattr(rv, "SAMPLE_FILE", page)
    monkeypatch.setattr(rv, "ROOT", tmp_path)
    assert rv.main(["--sample"]) == 0 and "sample comment updated" in capsys.readouterr().out
    assert page.read_text() == committed
    assert rv.main(["--sample"]) == 0 and "already current" in capsys.readouterr().out


@pytest.mark.parametrize("module", [rv.DIFF_MODULE, rv.COST_MODULE])
def test_the_tools_accept_the_arguments_the_composer_passes(module: str) -> None:
    """The composer runs `python -m tools.review.diff|cost --stack S --base REF --format markdown [--stacks DIR]`."""
    done = rv.run_module([module, "--help"])
    assert done.returncode == 0, done.stderr
    for flag in ("--stack ", "--base ", "--format ", "--stacks "):
        assert flag in done.stdout, (module, flag)
    assert "markdown" in done.stdout


def test_destroyed_resources_and_large_cost_increases_come_first_and_block(dev: Plan, prod: Plan,
                                                                           tmp_path: Path) -> None:
    from tools.review.cost import COST_FLAG
    from tools.review.diff import diff_plans, format_markdown

    vpc = "aws:ec2/vpc:Vpc"
    base = Plan("dev", [dict(dev.one(vpc))], [], {})
    head = Plan("dev", [dict(dev.one(vpc), inputs={**dev.one(vpc)["inputs"], "cidrBlock": "10.9.0.0/16"})], [], {})
    diff = format_markdown(diff_plans(base, head), "Plan diff of stack dev")
    cost = ("### Monthly cost\n\n**$500.00 per month**\n\n**Monthly cost change against abc: +$300.00**\n\n"
            f"**⚠️ Large cost increase: +$300.00 a month (+150%), over the threshold** {COST_FLAG}\n")
    runner = Recorder(diff=diff, cost=cost)
    runner_exit = lambda args: rv.ToolRun(3, diff, "") if args[0] == rv.DIFF_MODULE else runner(args)  # noqa: E731
    items = [rv.review_stack("dev", "abc", runner=runner_exit, plan=dev)]
    text = rv.compose(items, base="abc", head="def")
    top = text[:text.index("| stack | plan diff |")]  # before the overview table
    assert "## ⚠️ Read first: what this change destroys" in top and "`aws:ec2/vpc:Vpc` network-vpc" in top
    assert "⛔ Blocking" in top and "Allow-Replace: <resource name>" in top
    assert "## 💸 Large cost increase" in top and "- `dev`: **⚠️ Large cost increase: +$300.00" in top
    assert "**make diff failed**" not in text  # exit 3 is make diff's blocking verdict, not a failure
    rv.write_review(items, tmp_path, base="abc", head="def")
    assert (tmp_path / "blocking").read_text() == "1\n"  # no policy violation: the blocking replacement counts
    quiet = rv.compose(reviews(dev, prod, Recorder()), base="abc", head="def")
    assert "Read first" not in quiet and "Large cost increase" not in quiet
