"""checkov (its own virtualenv, offline) on every rendered Kubernetes manifest and on app/Dockerfile."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.render import ROOT, Plan
from tools.render.artifacts import kubernetes_objects

SKIPS: list[dict[str, str]] = yaml.safe_load((ROOT / "tests" / "data" / "checkov-skips.yaml").read_text()) or []


def checkov_binary() -> Path:
    path = Path(os.environ.get("CHECKOV") or ROOT / ".venv-checkov" / "bin" / "checkov")
    if not path.exists():
        pytest.fail(f"checkov not found at {path}: `make test` installs it (target checkov-venv)")
    return path


# checkov's Kubernetes and Dockerfile runners, run in its virtualenv's Python with the CLI's filter (frameworks,
# skipped checks): the same checks and records as `checkov --framework kubernetes dockerfile -f ...` (compared on this
# suite's files: 131 of 131), without the CLI's start-up, which imports every framework's runner (4.2 -> 2.1 s).
_RUNNERS = """
import json, sys
from checkov.dockerfile.runner import Runner as Dockerfile
from checkov.kubernetes.runner import Runner as Kubernetes
from checkov.runner_filter import RunnerFilter
skips, files = sys.argv[1], sys.argv[2:]
only = RunnerFilter(framework=["kubernetes", "dockerfile"], skip_checks=skips or None)
fields = ("check_id", "check_name", "file_path", "resource", "file_abs_path")
reports = []
for runner, paths in ((Kubernetes(), [f for f in files if not f.endswith("Dockerfile")]),
                      (Dockerfile(), [f for f in files if f.endswith("Dockerfile")])):
    report = runner.run(root_folder=None, files=paths, runner_filter=only)
    reports.append({"check_type": report.check_type, "parsing_errors": sorted(report.parsing_errors), "results": {
        kind: [{f: getattr(r, f) for f in fields} for r in getattr(report, kind)]
        for kind in ("failed_checks", "passed_checks")}})
print(json.dumps(reports))
"""


def run_checkov(*files: Path) -> list[dict[str, Any]]:
    """One checkov process over all files: a report per framework, each listing the failed and the passed checks
    with their file."""
    python = checkov_binary().parent / "python"
    result = subprocess.run([str(python), "-c", _RUNNERS, ",".join(s["id"] for s in SKIPS), *map(str, files)],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": ""})
    assert result.returncode == 0, result.stderr[-2000:]
    reports: list[dict[str, Any]] = json.loads(result.stdout)
    assert [r["parsing_errors"] for r in reports] == [[], []], "checkov could not parse a file it was given"
    return reports


BROKEN = "broken"  # the folder of the broken deployment's file


def broken_deployment(dev: Plan) -> dict[str, Any]:
    deployment = kubernetes_objects(dev)["deployment-webapp-webapp"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"] = {"privileged": True, "allowPrivilegeEscalation": True}
    return deployment


def checks(reports: list[dict[str, Any]], kind: str, *, broken: bool) -> list[dict[str, Any]]:
    """The `kind` (failed, passed) checks of the broken deployment's file, or of every other file."""
    return [dict(c, check_type=r["check_type"]) for r in reports for c in r["results"].get(f"{kind}_checks", [])
            if (Path(c["file_abs_path"]).parent.name == BROKEN) == broken]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, dev: Plan, prod: Plan) -> list[dict[str, Any]]:
    """ONE checkov run (a process costs seconds) over the dev and prod manifests, app/Dockerfile and, in a folder of
    its own, a broken deployment; the tests tell them apart by file."""
    files = []
    for plan in (dev, prod):
        folder = tmp_path_factory.mktemp(f"manifests-{plan.stack}")
        for key, obj in kubernetes_objects(plan).items():
            files.append(folder / f"{key}.yaml")
            files[-1].write_text(yaml.safe_dump(obj))
    broken = tmp_path_factory.mktemp("checkov") / BROKEN / "deployment.yaml"
    broken.parent.mkdir()
    broken.write_text(yaml.safe_dump(broken_deployment(dev)))
    return run_checkov(*files, ROOT / "app" / "Dockerfile", broken)


def test_every_skip_has_a_reason() -> None:
    for skip in SKIPS:
        assert set(skip) == {"id", "reason"} and skip["id"].startswith("CKV") and len(skip["reason"]) > 30


@pytest.mark.slow(4)
def test_checkov_finds_no_failed_check(reports: list[dict[str, Any]]) -> None:
    failed = [f"{c['check_type']}: {c['check_id']} {c['check_name']} in {c['file_path']} ({c['resource']})"
              for c in checks(reports, "failed", broken=False)]
    assert not failed, "\n".join(failed)


def test_checkov_really_ran_on_both_kinds(reports: list[dict[str, Any]]) -> None:
    passed = Counter(c["check_type"] for c in checks(reports, "passed", broken=False))
    assert passed.get("kubernetes", 0) >= 150 and passed.get("dockerfile", 0) >= 20, passed


def test_checkov_reports_a_broken_deployment(reports: list[dict[str, Any]]) -> None:
    failed = {c["check_id"] for c in checks(reports, "failed", broken=True) if c["check_type"] == "kubernetes"}
    assert {"CKV_K8S_16", "CKV_K8S_20"} <= failed  # privileged container; privilege escalation
