"""`make policy`: run the policy pack's validators on a render and print policy x resource results.

`python -m tools.review.policy_report --stack dev [--stacks DIR] [--format text|markdown]`

The pack's validation functions (declared by area in policy/, assembled in policy/validators.py) are plain
functions with the signature pulumi-policy calls; here they get the same argument objects
(ResourceValidationArgs / StackValidationArgs, props behind pulumi-policy's unknown-checking proxy) built from the
rendered plan, never a `PolicyPack` (constructing one serves gRPC and blocks). A stack policy sees each
resource's inputs plus its mock `id`, with the property dependencies the render captured. A resource counts as
*checked* by a policy when the policy read its properties: every validator returns on the type before reading
anything it does not judge.

Exit status: 1 when a mandatory policy reports a violation (or fails to run), else 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from tools.render import Plan, render


class Status(StrEnum):
    PASS = "pass"
    VIOLATION = "violation"
    UNKNOWN = "not run"  # a value the policy needs is unknown (only at a real preview; never in a render)


@dataclass(frozen=True)
class Result:
    """One policy on one resource."""

    policy: str
    enforcement: str  # mandatory | advisory | remediate | disabled
    urn: str
    resource_type: str
    resource_name: str
    status: Status
    message: str = ""


@dataclass(frozen=True)
class PolicySummary:
    name: str
    description: str
    enforcement: str
    checked: int
    violations: tuple[Result, ...]


@dataclass(frozen=True)
class PolicyReport:
    stack: str
    results: tuple[Result, ...]
    policies: tuple[PolicySummary, ...]

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.status is not Status.PASS]

    @property
    def blocking(self) -> list[Result]:
        """Violations that stop `pulumi up` (mandatory policies; a policy that could not run counts)."""
        return [r for r in self.violations if r.enforcement == "mandatory"]


class _Tracked(Mapping[str, Any]):
    """Props that remember whether the validator looked at them (so the report knows what a policy checked)."""

    def __init__(self, inner: Mapping[str, Any]) -> None:
        self._inner = inner
        self.touched = False

    def __getitem__(self, key: str) -> Any:
        self.touched = True
        return self._inner[key]

    def __iter__(self) -> Iterator[str]:
        self.touched = True
        return iter(self._inner)

    def __len__(self) -> int:
        self.touched = True
        return len(self._inner)

    def __contains__(self, key: object) -> bool:
        self.touched = True
        return key in self._inner

    def get(self, key: str, default: Any = None) -> Any:
        self.touched = True
        return self._inner.get(key, default)


def _level(policy: Any) -> str:
    level = getattr(policy, "enforcement_level", None)
    return str(getattr(level, "value", level or "advisory"))


def _stack_resources(plan: Plan) -> tuple[list[Any], dict[str, _Tracked]]:
    from pulumi_policy import PolicyResource
    from pulumi_policy.proxy import unknown_checking_proxy

    tracked: dict[str, _Tracked] = {}
    by_urn: dict[str, Any] = {}
    for r in plan.resources:
        # the proxy is built of new dicts and lists: a policy never reaches the plan's own (tests/render)
        props = {**r["inputs"], **({"id": r["id"]} if r.get("id") else {})}
        tracked[r["urn"]] = _Tracked(unknown_checking_proxy(props))
        by_urn[r["urn"]] = PolicyResource(r["type"], tracked[r["urn"]], r["urn"], r["name"], opts=None,  # type: ignore[arg-type]
                                          provider=None, parent=None, dependencies=[], property_dependencies={})
    for r in plan.resources:  # link the property dependencies the render captured
        deps = {key: [by_urn[u] for u in urns if u in by_urn]
                for key, urns in (r.get("propertyDependencies") or {}).items()}
        by_urn[r["urn"]].property_dependencies = deps
    return list(by_urn.values()), tracked


def check(plan: Plan, policies: list[Any] | None = None) -> PolicyReport:
    """Every policy of the pack (or `policies`) on every registration of the plan."""
    from pulumi_policy import ResourceValidationArgs, StackValidationArgs, StackValidationPolicy
    from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

    if policies is None:
        from policy.validators import POLICIES

        policies = list(POLICIES)
    by_urn = {r["urn"]: r for r in plan.resources}
    results: list[Result] = []
    summaries: list[PolicySummary] = []
    for policy in policies:
        level = _level(policy)
        if level == "disabled":
            continue
        found: dict[str, list[str]] = {}
        unknown: set[str] = set()
        checked: list[str] = []
        if isinstance(policy, StackValidationPolicy):
            resources, tracked = _stack_resources(plan)

            def report(message: str, urn: str | None = None, found: dict[str, list[str]] = found) -> None:
                found.setdefault(urn or "", []).append(message)

            try:
                policy.validate(StackValidationArgs(resources), report)
            except UnknownValueError:
                unknown.add("")
            checked = [u for u, t in tracked.items() if t.touched]
        else:
            for r in plan.resources:
                props = _Tracked(unknown_checking_proxy(r["inputs"]))  # new dicts and lists: no alias of the plan
                args = ResourceValidationArgs(r["type"], props, r["urn"], r["name"], opts=None,  # type: ignore[arg-type]
                                              provider=None)
                messages: list[str] = []
                try:
                    policy.validate(args, lambda message, urn=None, messages=messages: messages.append(message))
                except UnknownValueError:
                    unknown.add(r["urn"])
                if messages:
                    found[r["urn"]] = messages
                if props.touched or messages or r["urn"] in unknown:
                    checked.append(r["urn"])
        mine: list[Result] = []
        for urn in dict.fromkeys([*checked, *found, *unknown]):
            r = by_urn.get(urn, {"type": "(stack)", "name": "(stack)"})
            base = dict(policy=policy.name, enforcement=level, urn=urn, resource_type=r["type"],
                        resource_name=r["name"])
            if urn in unknown:
                mine.append(Result(**base, status=Status.UNKNOWN, message="a value the policy needs is unknown"))
            elif urn in found:
                mine.append(Result(**base, status=Status.VIOLATION, message="; ".join(found[urn])))
            else:
                mine.append(Result(**base, status=Status.PASS))
        results += mine
        summaries.append(PolicySummary(name=policy.name, description=policy.description or "", enforcement=level,
                                       checked=len(mine),
                                       violations=tuple(x for x in mine if x.status is not Status.PASS)))
    return PolicyReport(stack=plan.stack, results=tuple(results), policies=tuple(summaries))


# --- output ---------------------------------------------------------------------------------------------
def _resource(r: Result) -> str:
    return f"{r.resource_type} {r.resource_name}"


def to_text(report: PolicyReport) -> str:
    """The full policy x resource table, then the totals."""
    rows = [(r.policy, _resource(r), r.status.value, r.message) for r in report.results]
    rows += [(p.name, "(no resource of its kind)", "n/a", "") for p in report.policies if p.checked == 0]
    head = ("POLICY", "RESOURCE", "RESULT", "MESSAGE")
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(3)]
    lines = [f"policy pack on stack {report.stack} (rendered under mocks)", ""]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)) + ("  " + row[3] if row[3] else "")
              for row in [head, *rows]]
    lines += ["", summary_line(report)]
    return "\n".join(lines) + "\n"


def summary_line(report: PolicyReport) -> str:
    checks = len(report.results)
    bad = report.violations
    verdict = "no violation" if not bad else f"{len(bad)} violation(s), {len(report.blocking)} mandatory"
    return f"{len(report.policies)} policies, {checks} policy x resource checks: {verdict}"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: PolicyReport, full: bool = False) -> str:
    """One row per policy (resources checked, result, every violation with its message); `full` adds the
    policy x resource table in a collapsed section."""
    icon = "✅" if not report.violations else "❌"
    lines = [f"{icon} {summary_line(report)}", "", "| policy | level | resources checked | result |",
             "|---|---|---|---|"]
    for p in report.policies:
        if not p.violations:
            result = "✅ pass" if p.checked else "– no resource of its kind"
        else:
            result = "<br>".join(f"❌ `{_md(_resource(v))}`: {_md(v.message)}" for v in p.violations)
        lines.append(f"| `{p.name}` | {p.enforcement} | {p.checked} | {result} |")
    if full:
        lines += ["", "<details><summary>every policy x resource check</summary>", "",
                  "| policy | resource | result | message |", "|---|---|---|---|"]
        lines += [f"| `{r.policy}` | `{_md(_resource(r))}` | {r.status.value} | {_md(r.message)} |"
                  for r in report.results]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--stacks", type=Path, default=None,
                        help="folder of the Pulumi.<stack>.yaml files (default: the project root)")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    args = parser.parse_args(argv)
    try:
        plan = render(args.stack, stacks=args.stacks)
    except Exception as err:
        print(f"render of stack {args.stack!r} failed:\n{err}", file=sys.stderr)
        return 2
    report = check(plan)
    print(to_text(report) if args.format == "text" else to_markdown(report, full=True), end="")
    return 1 if report.blocking else 0


if __name__ == "__main__":
    sys.exit(main())
