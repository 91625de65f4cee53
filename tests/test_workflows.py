"""GitHub Actions workflows: valid against the published schema, and the guarantees they must keep."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.render import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))


def check_jsonschema() -> str:
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    assert Path(exe).exists(), "check-jsonschema is in requirements-dev.txt"
    return exe


def load(name: str) -> dict[str, Any]:
    # PyYAML reads the `on:` key as True.
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job["steps"]


def uses(job: dict[str, Any], action: str) -> dict[str, Any]:
    found = [s for s in steps(job) if str(s.get("uses", "")).startswith(action + "@")]
    assert len(found) == 1, f"{action} used {len(found)} times"
    return found[0]


def test_the_three_workflows_exist() -> None:
    assert [f.name for f in FILES] == ["ci.yml", "deploy.yml", "preview.yml"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_workflow_passes_the_github_workflow_schema(path: Path) -> None:
    result = subprocess.run([check_jsonschema(), "--builtin-schema", "vendor.github-workflows", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = load("ci.yml")
    broken["jobs"]["test"]["runs-on"] = None
    broken["jobs"]["test"]["timeout-minutes"] = "soon"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    result = subprocess.run([check_jsonschema(), "--builtin-schema", "vendor.github-workflows", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0


def test_ci_runs_make_test_on_311_and_312() -> None:
    ci = load("ci.yml")
    assert set(ci["on"]) == {"pull_request", "push"}
    job = ci["jobs"]["test"]
    assert job["strategy"]["matrix"]["python-version"] == ["3.11", "3.12"]
    assert any(s.get("run") == "make test" for s in steps(job))
    assert ci["permissions"] == {"contents": "read"}


def test_preview_uses_oidc_least_privilege_policy_pack_and_comments() -> None:
    wf = load("preview.yml")
    assert list(wf["on"]) == ["pull_request"]
    assert wf["permissions"] == {"id-token": "write", "contents": "read", "pull-requests": "write"}
    assert "github.event.pull_request.number" in wf["concurrency"]["group"]
    job = wf["jobs"]["preview"]
    aws = uses(job, "aws-actions/configure-aws-credentials")["with"]
    assert aws["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(aws)
    pulumi = uses(job, "pulumi/actions")["with"]
    assert pulumi["command"] == "preview" and pulumi["stack-name"] == "dev"
    assert pulumi["diff"] is True and pulumi["comment-on-pr"] is True and pulumi["policyPacks"] == "policy"
    uses(job, "docker/setup-buildx-action")


def test_deploy_runs_dev_then_prod_behind_an_environment() -> None:
    wf = load("deploy.yml")
    assert wf["on"] == {"push": {"branches": ["main"]}}
    assert wf["permissions"] == {"id-token": "write", "contents": "read"}
    assert wf["concurrency"]["cancel-in-progress"] is False
    dev, prod = wf["jobs"]["dev"], wf["jobs"]["prod"]
    assert prod["needs"] == ["runner", "dev"] and prod["environment"] == "production"
    for job, stack in ((dev, "dev"), (prod, "prod")):
        pulumi = uses(job, "pulumi/actions")["with"]
        assert (pulumi["command"], pulumi["stack-name"], pulumi["policyPacks"]) == ("up", stack, "policy")
        assert not {"aws-access-key-id", "aws-secret-access-key"} & set(
            uses(job, "aws-actions/configure-aws-credentials")["with"])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_long_lived_aws_keys_anywhere(path: Path) -> None:
    text = path.read_text()
    assert "AWS_ACCESS_KEY_ID" not in text and "AWS_SECRET_ACCESS_KEY" not in text


# --- finding 1: the jobs that reach the cluster run on a runner named by a repository variable ---

CLUSTER_JOBS = {"preview.yml": {"preview": ("dev", "PULUMI_RUNS_ON")},
                "deploy.yml": {"dev": ("dev", "PULUMI_RUNS_ON"), "prod": ("prod", "PULUMI_PROD_RUNS_ON")}}


@pytest.mark.parametrize("name", sorted(CLUSTER_JOBS))
def test_jobs_that_reach_the_cluster_never_run_on_github_hosted_runners(name: str) -> None:
    wf = load(name)
    picker = wf["jobs"]["runner"]
    assert picker["permissions"] == {} and "secrets." not in json.dumps(picker)  # no cloud access needed to pick
    env = picker["steps"][0]["env"]
    for job_name, (stack, var) in CLUSTER_JOBS[name].items():
        job = wf["jobs"][job_name]
        assert job["runs-on"] == f"${{{{ fromJSON(needs.runner.outputs.{stack}) }}}}", job_name
        assert "runner" in ([job["needs"]] if isinstance(job["needs"], str) else job["needs"])
        assert f"{stack}={var}" in env["STACK_RUNNERS"].split() and env[var] == f"${{{{ vars.{var} }}}}"
        assert picker["outputs"][stack] == f"${{{{ steps.pick.outputs.{stack} }}}}"
    # the only job on a GitHub-hosted runner is the picker itself
    assert [j for j, job in wf["jobs"].items() if "ubuntu" in str(job["runs-on"])] == ["runner"]


def pick(tmp_path: Path, **variables: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    step = load("deploy.yml")["jobs"]["runner"]["steps"][0]
    out = tmp_path / "github_output"
    out.write_text("")
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(out), "GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "2",
           "STACK_RUNNERS": step["env"]["STACK_RUNNERS"], **variables}
    result = subprocess.run(["bash", "-e", "-c", step["run"]], capture_output=True, text=True, env=env, timeout=60)
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines())
    return result, outputs


def test_runner_picker_accepts_self_hosted_codebuild_and_static_egress_runners(tmp_path: Path) -> None:
    result, outputs = pick(tmp_path, PULUMI_RUNS_ON='["self-hosted", "linux", "webstack-dev"]',
                           PULUMI_PROD_RUNS_ON="codebuild-webstack-prod-{run_id}-{run_attempt}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(outputs["dev"]) == ["self-hosted", "linux", "webstack-dev"]
    assert json.loads(outputs["prod"]) == "codebuild-webstack-prod-4242-2"
    result, outputs = pick(tmp_path, PULUMI_RUNS_ON='{"group": "static-egress", "labels": ["ubuntu-24.04-4core"]}',
                           PULUMI_PROD_RUNS_ON='["self-hosted", "webstack-prod"]')
    assert result.returncode == 0 and json.loads(outputs["dev"])["group"] == "static-egress"


def test_runner_picker_refuses_missing_variables_and_standard_hosted_runners(tmp_path: Path) -> None:
    result, outputs = pick(tmp_path, PULUMI_RUNS_ON="ubuntu-latest")
    assert result.returncode == 1 and not outputs
    assert "PULUMI_RUNS_ON = ubuntu-latest: a standard GitHub-hosted runner" in result.stdout
    assert "PULUMI_PROD_RUNS_ON is not set (prod stack)" in result.stdout
    assert "::error title=No runner that can reach the cluster::" in result.stdout


def test_ci_setup_makes_the_ci_roles_cluster_admins() -> None:
    """EKS makes only the cluster's creator admin (pulumi-eks sets bootstrapClusterCreatorAdminPermissions): when the
    first deploy ran from `make up`, every CI `pulumi up` reaches the Kubernetes API as the CI role and is refused
    unless the one-time setup lists that role in the stack's adminPrincipalArns."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    setup = readme[readme.index("One-time setup:"):readme.index("### CI runners that can reach the cluster")]
    items = re.split(r"\n(?=\d+\. )", setup)[1:]  # the numbered steps, each with its continuation lines
    admin = [item for item in items if "adminPrincipalArns" in item]
    assert len(admin) == 1, "no setup step makes the CI roles cluster admins"
    assert "AWS_ROLE_ARN" in admin[0] and "AWS_PROD_ROLE_ARN" in admin[0]
