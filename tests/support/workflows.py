"""The GitHub Actions files as data: workflows, the local composite actions, and their steps wherever they are."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from tools.render import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONS = ROOT / ".github" / "actions"
FILES = sorted(WORKFLOWS.glob("*.yml"))
ACTION_FILES = sorted(ACTIONS.glob("*/action.yml"))


def schema_check(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema (requirements-dev.txt) against one of its vendored schemas (vendor.github-workflows,
    vendor.github-actions): its command line, run in this interpreter (a process per file cost half a second)."""
    from check_jsonschema import main
    from click.testing import CliRunner

    args = ["--builtin-schema", schema, str(path)]
    result = CliRunner().invoke(main, args)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["check-jsonschema", *args], result.exit_code, result.stdout, result.stderr)


def load(name: str) -> dict[str, Any]:
    # PyYAML reads the `on:` key as True.
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def load_action(name: str) -> dict[str, Any]:
    return yaml.safe_load((ACTIONS / name / "action.yml").read_text())


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job["steps"]


def uses(job: dict[str, Any], action: str) -> dict[str, Any]:
    """The one step of `job` (or of a composite action's `runs`) that uses `action` (`owner/name`, or `./path`)."""
    found = [s for s in steps(job) if str(s.get("uses", "")).split("@")[0] == action]
    assert len(found) == 1, f"{action} used {len(found)} times"
    return found[0]


def step_lists() -> dict[str, list[dict[str, Any]]]:
    """Every list of steps: each workflow job's (jobs that call a reusable workflow have none) and each composite
    action's, keyed `file:job`."""
    out = {f"{path.name}:{name}": job["steps"] for path in FILES
           for name, job in load(path.name)["jobs"].items() if "steps" in job}
    for path in ACTION_FILES:
        out[f"{path.parent.name}/action.yml"] = yaml.safe_load(path.read_text())["runs"]["steps"]
    return out


# --- the OIDC subjects GitHub issues, derived here independently of bootstrap/ci_bootstrap/workflows.py ---
def token_subjects(repository: str, folder: Path = WORKFLOWS) -> dict[str, set[str]]:
    """`file:job` -> the `sub` claims of the tokens the job can request (docs.github.com "OpenID Connect
    reference": an environment names the subject whatever the event; else pull_request, else the pushed ref)."""
    out: dict[str, set[str]] = {}
    for path in sorted(folder.glob("*.yml")):
        doc = yaml.safe_load(path.read_text())
        on = doc.pop(True, doc.get("on")) or {}
        triggers = {on: None} if isinstance(on, str) else dict.fromkeys(on) if isinstance(on, list) else on
        for name, job in doc["jobs"].items():
            perms = job.get("permissions", doc.get("permissions")) or {}
            if not isinstance(perms, dict) or perms.get("id-token") != "write":
                continue
            env = job.get("environment")
            env = env.get("name") if isinstance(env, dict) else env
            subjects: set[str] = set()
            if env:
                subjects.add(f"repo:{repository}:environment:{env}")
            else:
                for event, spec in triggers.items():
                    if event == "pull_request":
                        subjects.add(f"repo:{repository}:pull_request")
                    elif event == "push":
                        subjects |= {f"repo:{repository}:ref:refs/heads/{b}" for b in (spec or {}).get("branches", [])}
            out[f"{path.name}:{name}"] = subjects
    return out
