"""The cloud identities CI uses, read from .github/workflows/*.yml.

For every job that may request an OIDC token (`permissions: id-token: write`, on the job or inherited from the
workflow), the subject GitHub puts in the token (`sub`) follows from the job and its triggers
(docs.github.com, "OpenID Connect reference", subject claims; /work/shared/notes/domain-facts.md):

- a job with `environment: <name>`: `repo:<owner>/<repo>:environment:<name>` (whatever the event), trusted by
  that environment's own role: read-only for `READ_ONLY_ENVIRONMENTS`, a deploy role for every other;
- otherwise a `pull_request` run: `repo:<owner>/<repo>:pull_request`;
- otherwise a push to a branch: `repo:<owner>/<repo>:ref:refs/heads/<branch>`.

Rules that keep every subject exact (no wildcard in any trust policy): a job outside `pull_request` must name a
literal environment (the environment is the deploy role's identity and its approval gate); branch patterns,
expression-valued environments, `pull_request_target`, `workflow_run` and reusable-workflow callers that pass
`id-token` are refused with the job named. The role the job assumes is read from its `role-to-assume` input
(`${{ vars.NAME }}`), so the bootstrap can say which repository variable gets which role's ARN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
ACTIONS = REPO_ROOT / ".github" / "actions"
PREVIEW = "preview"  # the role kind of pull-request jobs; deploy roles are named by their environment
ROLE_VARIABLE = re.compile(r"^\$\{\{\s*vars\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
ENVIRONMENT_NAME = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
BRANCH_NAME = re.compile(r"^[A-Za-z0-9._/-]+$")
UNSUPPORTED_EVENTS = ("pull_request_target", "workflow_run")
# Environments whose jobs only read the cloud: each gets a read-only role of its own (one role per subject), never a
# deploy role (bump.yml's weekly `make bump`: EKS add-on versions and AWS's public AMI parameters).
READ_ONLY_ENVIRONMENTS = ("versions",)
PULUMI_ACTION = "pulumi/actions"


class WorkflowError(ValueError):
    """A credentialed job whose token subject cannot be derived exactly."""


@dataclass(frozen=True)
class JobIdentity:
    """One job that requests an OIDC token: where it is, the subject(s) of its token, and what it assumes."""

    workflow: str
    job: str
    claim: str
    """What follows `repo:<owner>/<repo>:` in the token's subject: `pull_request`, `environment:<name>` ..."""
    role: str
    """`preview` for pull-request jobs, else the environment's name (one role per environment)."""
    role_variable: str | None
    """The repository variable the job's `role-to-assume` reads (`AWS_ROLE_ARN`), if it names one."""
    stacks: tuple[str, ...] = ()
    """The stacks the job's pulumi/actions steps name (`stack-name`): whose state the role reads."""

    def subject(self, repository: str) -> str:
        return f"repo:{repository}:{self.claim}"


def load_workflow(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text()) or {}
    doc["on"] = doc.pop(True, doc.get("on"))  # PyYAML reads the bare `on:` key as True
    return doc


def events(doc: dict[str, Any]) -> dict[str, Any]:
    on = doc.get("on") or {}
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {e: None for e in on}
    return dict(on)


def requests_token(doc: dict[str, Any], job: dict[str, Any]) -> bool:
    perms = job["permissions"] if "permissions" in job else doc.get("permissions")
    if perms == "write-all":
        return True
    return isinstance(perms, dict) and perms.get("id-token") == "write"


def environment_of(job: dict[str, Any]) -> str | None:
    env = job.get("environment")
    return env.get("name") if isinstance(env, dict) else env


def role_variable(job: dict[str, Any]) -> str | None:
    """The `vars.NAME` the job's credential step assumes (`role-to-assume` of any step)."""
    names = {m.group(1) for step in job.get("steps") or []
             if (m := ROLE_VARIABLE.match(str((step.get("with") or {}).get("role-to-assume", ""))))}
    if len(names) > 1:
        raise WorkflowError(f"assumes roles from several variables: {sorted(names)}")
    return next(iter(names), None)


def stacks_of(job: dict[str, Any]) -> tuple[str, ...]:
    """The literal `stack-name`s of the job's pulumi/actions steps."""
    names = [str((step.get("with") or {}).get("stack-name")) for step in job.get("steps") or []
             if str(step.get("uses", "")).split("@")[0] == PULUMI_ACTION]
    dynamic = [n for n in names if "${{" in n or n == "None"]
    if dynamic:
        raise WorkflowError(f"runs pulumi/actions without a literal stack-name ({dynamic}): its state is unknown")
    return tuple(sorted(set(names)))


def claims(doc: dict[str, Any], job: dict[str, Any]) -> list[tuple[str, str]]:
    """(claim, role kind) pairs of the tokens this job can get, one per triggering event that yields a
    different subject; raises WorkflowError when a subject is not exact."""
    env = environment_of(job)
    if env is not None:
        if not isinstance(env, str) or not ENVIRONMENT_NAME.match(env):
            raise WorkflowError(f"environment {env!r} is not a literal name: its token subject is unknown")
        return [(f"environment:{env}", env)]
    found: list[tuple[str, str]] = []
    for event, spec in events(doc).items():
        if event in UNSUPPORTED_EVENTS:
            raise WorkflowError(f"runs on {event} with an OIDC token: refused (it runs base-branch code with "
                                "secrets for untrusted input)")
        if event == "pull_request":
            found.append(("pull_request", PREVIEW))
        elif event == "workflow_call":
            continue  # the caller's context decides; callers are checked where they are
        else:
            branches = (spec or {}).get("branches") if event == "push" else None
            raise WorkflowError(f"requests an OIDC token on {event}"
                                + (f" (branches {branches})" if branches else "")
                                + " without an environment: name a literal `environment:` so one deploy role, "
                                "trusted for exactly that environment, can be derived")
    return found


def job_identities(folder: Path = WORKFLOWS) -> list[JobIdentity]:
    """Every (job, subject) pair of the workflows in `folder`, in file and job order."""
    out: list[JobIdentity] = []
    problems: list[str] = []
    for path in sorted(folder.glob("*.yml")):
        doc = load_workflow(path)
        for name, job in (doc.get("jobs") or {}).items():
            where = f"{path.name}: job {name}"
            if not requests_token(doc, job):
                continue
            try:
                if "uses" in job:
                    raise WorkflowError("calls a reusable workflow with id-token: write: give the permission to "
                                        "the called job instead, whose environment then names its subject")
                variable = role_variable(job)
                stacks = stacks_of(job)
                out += [JobIdentity(path.name, name, claim, role, variable, stacks)
                        for claim, role in claims(doc, job)]
            except WorkflowError as err:
                problems.append(f"{where} {err}")
    for variable in sorted({i.role_variable for i in out if i.role_variable}):
        kinds = sorted({i.role for i in out if i.role_variable == variable})
        if len(kinds) > 1:
            problems.append(f"vars.{variable} is the role of jobs needing different roles ({', '.join(kinds)}): "
                            "give each role its own repository variable")
    if problems:
        raise WorkflowError("cannot derive the CI identities from the workflows:\n  - " + "\n  - ".join(problems))
    return out


def roles(identities: list[JobIdentity]) -> dict[str, list[JobIdentity]]:
    """Role kind (`preview`, or an environment) -> the job identities it must trust."""
    out: dict[str, list[JobIdentity]] = {}
    for ident in identities:
        out.setdefault(ident.role, []).append(ident)
    return out
