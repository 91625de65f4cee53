"""The pull request review comment: plan diff, cost change and policy table for every example stack, as ONE
Markdown body (`make review`, run by .github/workflows/review.yml without any cloud credential).

`python -m tools.review.review --base <sha> --out build/review/` writes
- `comment.md`: the comment, starting with the marker the poster (review-comment.yml) finds it by, at most
  GitHub's 65,536 characters (long diffs and cost tables are cut, and the comment says so);
- `full-<stack>.md`: each stack's uncut section;
- `diagrams/`: the committed architecture pictures (docs/architecture-*.png) this change modifies, if any;
- `blocking`: the number of blocking findings: mandatory policy violations and replacements or deletions of
  stateful or shared resources that no `Allow-Replace:` commit trailer acknowledges (the workflow fails on a
  non-zero count after upload).

Destructive changes (what each stack's plan diff replaces or deletes) and large cost increases are lifted to the
top of the comment, before the overview, so a reviewer reads them first.

The diff and the cost come from `python -m tools.review.diff` / `python -m tools.review.cost` (same arguments
as `make diff` / `make cost`), the policy table from tools.review.policy_report on this tree's render.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from tools.markers import Block
from tools.render import ROOT, Plan, render

from .cost import COST_FLAG
from .diff import BLOCKED_EXIT, BLOCKING_MARK, DESTROYS_BEGIN, DESTROYS_END, default_base, example_stacks, git
from .policy_report import PolicyReport, check, summary_line, to_markdown

MARKER = "<!-- webstack-review -->"
LIMIT = 65_536  # GitHub's maximum comment body, in characters
DIFF_MODULE, COST_MODULE = "tools.review.diff", "tools.review.cost"  # `make diff` / `make cost`


class ToolRun(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


Runner = Callable[[list[str]], ToolRun]


def run_module(args: list[str]) -> ToolRun:
    """`python -m <args>` in this tree, as `make diff` / `make cost` run it."""
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    return ToolRun(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class StackReview:
    stack: str
    diff: str  # Markdown
    cost: str  # Markdown
    policy: PolicyReport | None
    policy_error: str = ""


def _tool_markdown(name: str, run: ToolRun, ok: tuple[int, ...] = (0,)) -> str:
    if run.returncode in ok and run.stdout.strip():
        return run.stdout.rstrip() + "\n"
    detail = (run.stderr or run.stdout).strip().splitlines()[-15:]
    return f"**{name} failed** (exit {run.returncode}):\n\n```\n" + "\n".join(detail) + "\n```\n"


def review_stack(stack: str, base: str, *, stacks: str | None = None, runner: Runner = run_module,
                 plan: Plan | None = None) -> StackReview:
    """One stack's review. `stacks`: folder of the stack files relative to the root (default: the root's
    Pulumi.<stack>.yaml, the ones a pull request edits); `plan`: this tree's render if already made."""
    extra = ["--stacks", stacks] if stacks else []
    # make diff exits BLOCKED_EXIT on a blocking replacement: its Markdown says so, the composer counts it
    diff = _tool_markdown("make diff", runner([DIFF_MODULE, "--stack", stack, "--base", base,
                                               "--format", "markdown", *extra]), ok=(0, BLOCKED_EXIT))
    cost = _tool_markdown("make cost", runner([COST_MODULE, "--stack", stack, "--base", base,
                                               "--format", "markdown", *extra]))
    try:
        plan = plan or render(stack, stacks=ROOT / stacks if stacks else None)
    except Exception as err:  # a broken program is a review finding, not a crash of the review
        return StackReview(stack, diff, cost, None, f"{type(err).__name__}: {err}")
    return StackReview(stack, diff, cost, check(plan))


# --- composing ------------------------------------------------------------------------------------------
def cut_markdown(text: str, budget: int, note: str) -> str:
    """`text` cut at a line boundary to at most `budget` characters (note included), closing an open code fence
    and open <details> so the rest of the comment still renders."""
    if len(text) <= budget:
        return text
    kept: list[str] = []
    size = len(note) + 40
    for line in text.splitlines():
        if size + len(line) + 1 > budget:
            break
        kept.append(line)
        size += len(line) + 1
    fence = sum(1 for line in kept if line.lstrip().startswith("```")) % 2 == 1
    open_details = sum(line.count("<details") for line in kept) - sum(line.count("</details>") for line in kept)
    tail = (["```"] if fence else []) + ["", note] + ["", "</details>"] * max(open_details, 0)
    return "\n".join(kept + tail) + "\n"


def _fair_shares(sizes: list[int], total: int) -> list[int]:
    """Split `total` characters among parts of these sizes: small parts whole, the rest equally (water-filling)."""
    shares = [0] * len(sizes)
    left, todo = total, sorted(range(len(sizes)), key=lambda i: sizes[i])
    while todo:
        each = left // len(todo)
        i = todo[0]
        if sizes[i] <= each:
            shares[i], left = sizes[i], left - sizes[i]
            todo.pop(0)
        else:
            for j in todo:
                shares[j] = each
            break
    return shares


def _headline(markdown: str) -> str:
    """The first bold sentence of a tool's Markdown (its summary), for the overview table."""
    found = re.search(r"\*\*(.+?)\*\*", markdown)
    return found.group(1).replace("|", "\\|") if found else "see below"


def _policy_markdown(r: StackReview) -> str:
    if r.policy is None:
        return f"**Policies not run: the render failed.**\n\n```\n{r.policy_error}\n```\n"
    return to_markdown(r.policy)


def _policy_cell(r: StackReview) -> str:
    if r.policy is None:
        return "❌ render failed"
    return ("✅ " if not r.policy.violations else "❌ ") + summary_line(r.policy).split(": ", 1)[1]


TOP_ROWS = 12  # rows of each stack's destroyed table at the top of the comment (the stack's section has more)


def destroys_table(r: StackReview, rows: int = TOP_ROWS) -> list[str]:
    """The table of replacements and deletions `make diff` put between its markers (none: [])."""
    text = r.diff
    if DESTROYS_BEGIN not in text or DESTROYS_END not in text:
        return []
    lines = [line for line in text[text.index(DESTROYS_BEGIN) + len(DESTROYS_BEGIN):text.index(DESTROYS_END)]
             .strip().splitlines()]
    table = [i for i, line in enumerate(lines) if line.startswith("| ") and not line.startswith("| |")]
    if len(table) > rows + 1:  # header row + `rows` rows
        more = len(table) - 1 - rows
        lines = [*lines[:table[rows] + 1], f"| | | _{more} more in the stack's section below_ | | |"]
    return lines


def blocking_count(r: StackReview) -> int:
    found = BLOCKING_MARK.search(r.diff)
    return int(found.group(1)) if found else 0


def cost_flag(r: StackReview) -> str:
    return next((line.replace(COST_FLAG, "").strip() for line in r.cost.splitlines() if COST_FLAG in line), "")


def read_first(reviews: list[StackReview]) -> list[str]:
    """What the reviewer must see before anything else: destroyed resources and large cost increases."""
    out: list[str] = []
    destroys = [(r, destroys_table(r)) for r in reviews]
    if any(table for _, table in destroys):
        out += ["## ⚠️ Read first: what this change destroys", ""]
        for r, table in destroys:
            if table:
                out += [f"**Stack `{r.stack}`**: " + table[0].replace("**", ""), "", *table[1:], ""]
        if any(blocking_count(r) for r in reviews):
            out += ["⛔ Blocking: a stateful or shared resource is replaced or deleted. If that is intended, add a "
                    "commit trailer `Allow-Replace: <resource name>` (one per resource, globs allowed) and push.", ""]
    flags = [(r.stack, cost_flag(r)) for r in reviews if cost_flag(r)]
    if flags:
        out += ["## 💸 Large cost increase", "", *[f"- `{stack}`: {flag}" for stack, flag in flags], ""]
    return out


def stack_section(r: StackReview, diff: str | None = None, cost: str | None = None) -> str:
    return "\n".join([f"## Stack `{r.stack}`", "", r.diff if diff is None else diff, r.cost if cost is None else cost,
                      "### Policies", "",
                      _policy_markdown(r)])


def compose(reviews: list[StackReview], *, base: str, head: str, limit: int = LIMIT, run_url: str = "",
            diagrams: list[str] | None = None) -> str:
    """The whole comment, at most `limit` characters: when too long, the diffs and cost tables share what is
    left after the fixed parts, each cut one saying so."""
    where = f" ([full report and artifacts]({run_url}))" if run_url else ""
    lines = [MARKER, f"# Infrastructure review: `{head}` against `{base}`", "",
             "Rendered under mocks from this pull request's code, with no cloud credentials: nothing was deployed "
             f"or previewed{where}.", "",
             "| stack | plan diff | monthly cost | policies |", "|---|---|---|---|"]
    lines += [f"| `{r.stack}` | {_headline(r.diff)} | {_headline(r.cost)} | {_policy_cell(r)} |" for r in reviews]
    if diagrams:
        lines += ["", "🖼️ The architecture diagram changed: " + ", ".join(f"`{d}`" for d in diagrams)
                  + " (artifact `architecture-diagram` of this run)."]
    first = read_first(reviews)
    if first:
        lines = [*lines[:5], *first, *lines[5:]]
    header = "\n".join(lines) + "\n\n"
    body = "\n".join(stack_section(r) for r in reviews)
    if len(header) + len(body) <= limit:
        return header + body
    parts = [text for r in reviews for text in (r.diff, r.cost)]
    fixed = len(header) + sum(len(stack_section(r, "", "")) for r in reviews) + 300 * len(parts)
    shares = _fair_shares([len(p) for p in parts], max(limit - fixed, 0))
    sections = []
    for i, r in enumerate(reviews):
        cut = [cut_markdown(parts[2 * i + k], shares[2 * i + k],
                            f"_✂️ {what} of `{r.stack}` truncated to fit GitHub's {LIMIT:,}-character comment limit: "
                            f"see `full-{r.stack}.md` in the review artifact, or run `make {what}` locally._")
               for k, what in enumerate(("diff", "cost"))]
        sections.append(stack_section(r, *cut))
    text = header + "\n".join(sections)
    if len(text) > limit:  # the fixed parts alone are too long (many stacks): cut the end
        text = cut_markdown(text, limit, "_✂️ comment truncated to GitHub's comment limit._")
    return text


# --- inputs -------------------------------------------------------------------------------------------------
def changed_diagrams(base: str, out: Path, repo: Path = ROOT) -> list[str]:
    """Copy the committed architecture pictures that differ from `base` into `out` (their names)."""
    names = git(repo, "diff", "--name-only", base, "--", "docs/").splitlines()
    pictures = [n for n in names if re.fullmatch(r"docs/architecture-[\w.-]+\.(png|svg)", n) and (repo / n).exists()]
    if pictures:
        out.mkdir(parents=True, exist_ok=True)
        for name in pictures:
            shutil.copyfile(repo / name, out / Path(name).name)
    return pictures


def write_review(reviews: list[StackReview], out: Path, *, base: str, head: str, run_url: str = "",
                 diagrams: list[str] | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for r in reviews:
        (out / f"full-{r.stack}.md").write_text(stack_section(r))
    comment = out / "comment.md"
    comment.write_text(compose(reviews, base=base, head=head, run_url=run_url, diagrams=diagrams))
    blocking = sum((len(r.policy.blocking) if r.policy else 1) + blocking_count(r) for r in reviews)
    (out / "blocking").write_text(f"{blocking}\n")
    return comment


# --- the sample comment in docs/ --------------------------------------------------------------------------
SAMPLE = Block("<!-- review-sample:begin (make review-sample) -->", "<!-- review-sample:end -->")
SAMPLE_BEGIN, SAMPLE_END = SAMPLE
SAMPLE_FILE = ROOT / "docs" / "review-sample.md"  # the page that shows the sample (`make review-sample`)
# What the sample's pull request changes in the dev stack: one NAT gateway per AZ (an addition and an update) and
# a new repository name (a replacement of a stateful resource: blocking).
SAMPLE_CHANGE = {"webstack:natStrategy": "per-az", "webstack:repositoryName": "webapp-v2"}


class SamplePair(NamedTuple):
    stack: str
    base: Plan
    head: Plan


def plans_review(pair: SamplePair, base_label: str) -> StackReview:
    """A stack's review from two plans already rendered, with the functions behind `make diff` / `make cost`
    (whose CLIs render git trees)."""
    from . import cost, diff

    d = diff.format_markdown(diff.diff_plans(pair.base, pair.head),
                             f"Plan diff of stack {pair.stack}: {base_label} -> pull request")
    usage = cost.load_usage(None)
    head = cost.estimate(pair.head, cost.load_prices(pair.head.region), usage)
    base = cost.estimate(pair.base, cost.load_prices(pair.base.region), usage)
    c = cost.format_markdown(head) + "\n" + cost.format_delta(base, head, base_label, markdown=True,
                                                               budget=cost.budget_of(pair.head))
    return StackReview(pair.stack, d, c, check(pair.head))


def sample_block(pairs: list[SamplePair]) -> str:
    text = compose([plans_review(p, "main") for p in pairs], base="main", head="pull request")
    return SAMPLE.wrap(f"<details><summary>The sample comment, as GitHub shows it</summary>\n\n{text}\n</details>")


def sample_pairs() -> list[SamplePair]:
    """dev with SAMPLE_CHANGE against dev, prod unchanged: the test stacks, as the tests render them."""
    from tools.render import TEST_STACKS

    dev, prod = render("dev", stacks=TEST_STACKS), render("prod", stacks=TEST_STACKS)
    return [SamplePair("dev", dev, render("dev", SAMPLE_CHANGE, stacks=TEST_STACKS)), SamplePair("prod", prod, prod)]


def update_sample(page: Path, block: str) -> bool:
    """Replace the sample block between its markers in `page`; True if it changed."""
    return SAMPLE.rewrite(page, block)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=None, help="git ref to compare with (default: merge base with main)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "review")
    parser.add_argument("--stacks", default=None,
                        help="folder of the Pulumi.<stack>.yaml files relative to the root (default: the root's)")
    parser.add_argument("--stack", action="append", help="review only this stack (repeatable)")
    parser.add_argument("--sample", action="store_true",
                        help="regenerate the sample comment in docs/review-sample.md from the test stacks, then exit")
    args = parser.parse_args(argv)
    if args.sample:
        changed = update_sample(SAMPLE_FILE, sample_block(sample_pairs()))
        print(f"{SAMPLE_FILE.relative_to(ROOT)} sample comment " + ("updated" if changed else "already current"))
        return 0
    base = args.base or default_base(ROOT)[0]
    base_sha, head_sha = git(ROOT, "rev-parse", "--short=12", base), git(ROOT, "rev-parse", "--short=12", "HEAD")
    stacks = args.stack or example_stacks(ROOT / args.stacks if args.stacks else ROOT)
    if args.out.exists():
        shutil.rmtree(args.out)
    reviews = []
    for stack in stacks:
        print(f"reviewing stack {stack} against {base_sha}", file=sys.stderr)
        reviews.append(review_stack(stack, base, stacks=args.stacks))
    diagrams = changed_diagrams(base, args.out / "diagrams")
    server, repo, run = (os.environ.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    run_url = f"{server}/{repo}/actions/runs/{run}" if server and repo and run else ""
    comment = write_review(reviews, args.out, base=base_sha, head=head_sha, run_url=run_url, diagrams=diagrams)
    blocking = (args.out / "blocking").read_text().strip()
    print(f"{comment} ({len(comment.read_text()):,} characters) for {', '.join(stacks)}; "
          f"{blocking} blocking finding(s) (mandatory policy violations, unacknowledged replacements)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
