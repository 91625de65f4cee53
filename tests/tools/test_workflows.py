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

from tests.support.workflows import (
    ACTION_FILES,
    ACTIONS,
    FILES,
    WORKFLOWS,
    load,
    load_action,
    schema_check,
    step_lists,
    steps,
    uses,
)
from tools.render import ROOT

SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"
SETUP = "./.github/actions/pulumi-setup"  # the composite action every Pulumi job starts with
PICKER = "./.github/workflows/pick-runner.yml"  # the reusable workflow that picks the cluster jobs' runners


def test_the_workflows_exist() -> None:
    assert [f.name for f in FILES] == ["bump.yml", "ci.yml", "deploy.yml", "pick-runner.yml", "preview.yml",
                                       "review-comment.yml", "review.yml"]
    assert [f.parent.name for f in ACTION_FILES] == ["pulumi-setup"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_workflow_passes_the_github_workflow_schema(path: Path) -> None:
    result = schema_check("vendor.github-workflows", path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", ACTION_FILES, ids=lambda p: p.parent.name)
def test_composite_action_passes_the_github_action_schema(path: Path) -> None:
    result = schema_check("vendor.github-actions", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_action(tmp_path: Path) -> None:
    broken = load_action("pulumi-setup")
    broken["runs"]["using"] = "compozite"
    broken["inputs"]["aws-region"]["required"] = "yes"
    path = tmp_path / "action.yml"
    path.write_text(yaml.safe_dump(broken))
    assert schema_check("vendor.github-actions", path).returncode != 0


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = load("ci.yml")
    broken["jobs"]["test"]["runs-on"] = None
    broken["jobs"]["test"]["timeout-minutes"] = "soon"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    assert schema_check("vendor.github-workflows", path).returncode != 0


def test_ci_runs_make_test_on_311_and_312() -> None:
    """ci.yml runs .ci/run (the Debian packages, then `make test`: test_ci_without_copies.py runs it against stubs)
    with the matrix Python as make's PYTHON."""
    ci = load("ci.yml")
    assert set(ci["on"]) == {"pull_request", "push"}
    job = ci["jobs"]["test"]
    assert job["strategy"]["matrix"]["python-version"] == ["3.11", "3.12"]
    assert uses(job, "actions/setup-python")["with"]["python-version"] == "${{ matrix.python-version }}"
    (run,) = [s for s in steps(job) if "run" in s]
    assert run["run"].strip() == ".ci/run" and run["env"] == {"PYTHON": "python"}
    assert ci["permissions"] == {"contents": "read"}


def test_preview_uses_oidc_least_privilege_policy_pack_and_comments() -> None:
    wf = load("preview.yml")
    assert list(wf["on"]) == ["pull_request"]
    assert wf["permissions"] == {"contents": "read"}
    assert "github.event.pull_request.number" in wf["concurrency"]["group"]
    job = wf["jobs"]["preview"]
    # the token and the comment permission belong to this job alone, and only for branches of this repository
    assert job["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    assert job["if"] == SAME_REPOSITORY and wf["jobs"]["runner"]["if"] == SAME_REPOSITORY
    # the read-only preview role (bootstrap/), never a deploy role
    assert uses(job, SETUP)["with"] == {"role-to-assume": "${{ vars.AWS_PREVIEW_ROLE_ARN }}",
                                        "aws-region": "${{ vars.AWS_REGION }}", "session-name": "pulumi-preview"}
    pulumi = uses(job, "pulumi/actions")["with"]
    assert pulumi["command"] == "preview" and pulumi["stack-name"] == "dev"
    assert pulumi["diff"] is True and pulumi["comment-on-pr"] is True and pulumi["policyPacks"] == "policy"
    assert [s.get("uses", "").split("@")[0] for s in steps(job)] == ["actions/checkout", SETUP, "pulumi/actions"]
    assert uses(job, "actions/checkout")["with"] == {"persist-credentials": False}


def test_the_setup_action_gets_aws_credentials_through_oidc_and_docker_buildx() -> None:
    """Every Pulumi job's set-up: the role comes in as an input and is assumed with GitHub's OIDC token (the action
    takes no key inputs and names no secret), then QEMU and buildx for pulumi-docker."""
    action = load_action("pulumi-setup")
    runs = action["runs"]
    aws = uses(runs, "aws-actions/configure-aws-credentials")["with"]
    assert aws == {"role-to-assume": "${{ inputs.role-to-assume }}", "aws-region": "${{ inputs.aws-region }}",
                   "role-session-name": "${{ inputs.session-name }}-${{ github.run_id }}",
                   "role-duration-seconds": "${{ inputs.role-duration-seconds }}"}
    assert set(action["inputs"]) == {"role-to-assume", "aws-region", "session-name", "role-duration-seconds",
                                     "python-version"}
    assert "secrets." not in (ACTIONS / "pulumi-setup" / "action.yml").read_text()
    assert [s.get("uses", "run").split("@")[0] for s in runs["steps"]] == [
        "actions/setup-python", "run", "aws-actions/configure-aws-credentials", "docker/setup-qemu-action",
        "docker/setup-buildx-action"]


def test_deploy_runs_dev_then_prod_behind_an_environment() -> None:
    wf = load("deploy.yml")
    assert wf["on"] == {"push": {"branches": ["main"]}}
    assert wf["permissions"] == {"contents": "read"}
    assert wf["concurrency"]["cancel-in-progress"] is False
    dev, prod = wf["jobs"]["dev"], wf["jobs"]["prod"]
    assert dev["permissions"] == prod["permissions"] == {"contents": "read", "id-token": "write"}
    assert prod["needs"] == ["runner", "dev"] and prod["environment"] == "production"
    assert dev["environment"] == "development"
    for job, stack, prefix in ((dev, "dev", "AWS"), (prod, "prod", "AWS_PROD")):
        pulumi = uses(job, "pulumi/actions")["with"]
        assert (pulumi["command"], pulumi["stack-name"], pulumi["policyPacks"]) == ("up", stack, "policy")
        assert uses(job, SETUP)["with"] == {"role-to-assume": f"${{{{ vars.{prefix}_ROLE_ARN }}}}",
                                            "aws-region": f"${{{{ vars.{prefix}_REGION }}}}",
                                            "session-name": f"pulumi-up-{stack}", "role-duration-seconds": "14400"}


def test_a_deploy_may_last_as_long_as_its_role_allows() -> None:
    """A Kubernetes upgrade or a first certificate validation outlasts an hour: the job's timeout and the session
    it asks for are the bootstrap roles' maximum session (IAM refuses a longer one)."""
    from ci_bootstrap.identity import MAX_SESSION_SECONDS

    for job in load("deploy.yml")["jobs"].values():
        if "steps" in job:
            assert int(uses(job, SETUP)["with"]["role-duration-seconds"]) == MAX_SESSION_SECONDS
            assert job["timeout-minutes"] * 60 == MAX_SESSION_SECONDS


def test_prod_s_passphrase_is_an_environment_secret_no_pull_request_sees() -> None:
    """Pull-request code gets dev's passphrase only; prod's is read only by the job behind `production`."""
    deploy, preview = load("deploy.yml")["jobs"], load("preview.yml")["jobs"]["preview"]
    assert preview["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_DEV_CONFIG_PASSPHRASE }}"
    assert deploy["dev"]["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_DEV_CONFIG_PASSPHRASE }}"
    assert deploy["prod"]["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_PROD_CONFIG_PASSPHRASE }}"
    for path in FILES:
        if path.name != "deploy.yml":
            assert "secrets.PULUMI_PROD_CONFIG_PASSPHRASE" not in path.read_text(), path.name


@pytest.mark.parametrize("path", FILES + ACTION_FILES, ids=lambda p: str(p.relative_to(ROOT / ".github")))
def test_no_long_lived_aws_keys_anywhere(path: Path) -> None:
    text = path.read_text()
    assert "AWS_ACCESS_KEY_ID" not in text and "AWS_SECRET_ACCESS_KEY" not in text


# --- review without credentials (review.yml runs the PR's code, review-comment.yml posts) -----------------------
def pinned_versions() -> dict[str, set[str]]:
    """action -> the versions the workflows and the composite actions pin it to (local ./ paths: no version)."""
    out: dict[str, set[str]] = {}
    for step_list in step_lists().values():
        for step in step_list:
            if "uses" in step and not str(step["uses"]).startswith("./"):
                action, version = str(step["uses"]).split("@")
                out.setdefault(action, set()).add(version)
    return out


# The commits the major tags pointed to when pinned (`git rev-parse <tag>^{commit}` in each action's repository);
# the workflows ran these same commits through the major tags before.
PINS = {
    "actions/checkout": ("11d5960a326750d5838078e36cf38b85af677262", "v4.4.0"),
    "actions/setup-python": ("a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"),
    "actions/cache": ("0057852bfaa89a56745cba8c7296529d2fc39830", "v4.3.0"),
    "actions/upload-artifact": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/download-artifact": ("d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
    "actions/github-script": ("f28e40c7f34bde8b3046d885e986cb6290c5673b", "v7.1.0"),
    "pulumi/actions": ("8582a9e8cc630786854029b4e09281acd6794b58", "v6.6.1"),
    "aws-actions/configure-aws-credentials": ("7474bc4690e29a8392af63c5b98e7449536d5c3a", "v4.3.1"),
    "docker/setup-qemu-action": ("c7c53464625b32c7a7e944ae62b3e17d2b600130", "v3.7.0"),
    "docker/setup-buildx-action": ("8d2750c68a42422c14e847fe6c8ac0403b4cbd6f", "v3.12.0"),
    "peter-evans/create-pull-request": ("22a9089034f40e5a961c8808d113e2c98fb63676", "v7.0.11"),
}
USES_LINE = re.compile(r"^\s*(?:- )?uses:\s*(\S+)(.*)$")


def uses_lines() -> list[tuple[str, str, str]]:
    """(file, reference, rest of the line) of every `uses:` line outside the local ./ references."""
    out = []
    for path in [*FILES, *ACTION_FILES]:
        for line in path.read_text().splitlines():
            if (m := USES_LINE.match(line)) and not m.group(1).startswith("./"):
                out.append((path.name, m.group(1), m.group(2)))
    return out


def test_every_action_is_pinned_by_commit_with_its_tag_in_a_comment() -> None:
    pins = pinned_versions()
    assert set(pins) == set(PINS)
    for action, versions in pins.items():
        assert versions == {PINS[action][0]}, (action, versions)  # one commit per action everywhere
    lines = uses_lines()
    assert len(lines) >= 20
    for name, ref, rest in lines:
        action, sha = ref.split("@")
        assert re.fullmatch(r"[0-9a-f]{40}", sha), (name, ref)
        assert re.fullmatch(rf"\s+# {re.escape(PINS[action][1])}", rest), (name, ref, rest)


def test_the_pin_check_rejects_a_tag_and_a_missing_comment(tmp_path: Path) -> None:
    assert not re.fullmatch(r"[0-9a-f]{40}", "v4")
    m = USES_LINE.match("      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262")
    assert m and not re.fullmatch(r"\s+# v4.4.0", m.group(2))


def test_workflows_grant_nothing_beyond_contents_read_at_workflow_level() -> None:
    for path in FILES:
        assert load(path.name)["permissions"] in ({"contents": "read"}, {}), path.name


def test_credentialed_jobs_of_pull_requests_run_only_for_this_repository() -> None:
    """A job that gets an OIDC token or a write token on a pull_request never runs for a fork's pull request."""
    seen = 0
    for path in FILES:
        wf = load(path.name)
        if "pull_request" not in wf["on"]:
            continue
        for name, job in wf["jobs"].items():
            perms = job.get("permissions", wf["permissions"])
            if any(v == "write" for v in perms.values()) or "secrets." in json.dumps(job):
                assert job.get("if") == SAME_REPOSITORY, f"{path.name}:{name}"
                seen += 1
    assert seen == 1  # preview.yml's preview job


def zizmor() -> str:
    exe = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    assert Path(exe).exists(), "zizmor is pinned in requirements-dev.txt"
    return exe


def run_zizmor(target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([zizmor(), "--offline", "--no-progress", "--format", "plain", str(target)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})


def test_zizmor_finds_nothing_unjustified() -> None:
    """zizmor's offline audits: no finding, except those ignored inline with `# zizmor: ignore[rule]` and a why."""
    result = run_zizmor(ROOT / ".github")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr
    for path in [*FILES, *ACTION_FILES]:
        for line in path.read_text().splitlines():
            if "zizmor: ignore[" in line:
                assert re.search(r"zizmor: ignore\[[a-z-]+\] \S.{10,}", line), f"{path.name}: {line.strip()}"


def test_zizmor_reports_an_unpinned_action(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    text = (WORKFLOWS / "deploy.yml").read_text()
    text = re.sub(r"pulumi/actions@[0-9a-f]{40} # v6.6.1", "pulumi/actions@v6", text)
    (folder / "deploy.yml").write_text(text)
    result = run_zizmor(tmp_path / ".github")
    assert result.returncode != 0
    assert "error[unpinned-uses]" in result.stdout and "pulumi/actions@v6" in result.stdout, result.stdout


def test_local_actions_and_reusable_workflows_exist() -> None:
    """A ./ reference is read from the checked-out tree (actions) or the workflow's commit (reusable workflows)."""
    local = {str(s["uses"]) for sl in step_lists().values() for s in sl if str(s.get("uses", "")).startswith("./")}
    local |= {str(job["uses"]) for path in FILES for job in load(path.name)["jobs"].values() if "uses" in job}
    assert local == {SETUP, PICKER}
    assert all((ROOT / ref).exists() for ref in local)
    assert load(PICKER.rsplit("/", 1)[1])["on"].keys() == {"workflow_call"}  # never triggered on its own


def test_review_runs_the_pr_code_read_only_without_secrets() -> None:
    wf = load("review.yml")
    assert list(wf["on"]) == ["pull_request"]
    assert wf["permissions"] == {"contents": "read"}
    assert wf["concurrency"] == {"group": "review-${{ github.event.pull_request.number }}",
                                 "cancel-in-progress": True}
    text = (WORKFLOWS / "review.yml").read_text()
    assert "secrets." not in text and "id-token" not in text and "aws-actions" not in text
    (job,) = wf["jobs"].values()
    assert "permissions" not in job  # the workflow's read-only token, never widened
    checkout = uses(job, "actions/checkout")["with"]
    assert checkout["fetch-depth"] == 0 and checkout["persist-credentials"] is False
    run = next(s for s in steps(job) if ".ci/run review" in str(s.get("run", "")))
    # the base commit reaches the shell through the environment, never pasted into the script
    assert run["env"]["BASE"] == "${{ github.event.pull_request.base.sha }}" and "${{" not in run["run"]
    assert all("${{" not in str(s.get("run", "")) for s in steps(job))
    uploads = [s for s in steps(job) if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert [u["with"]["name"] for u in uploads] == ["review-comment", "architecture-diagram"]
    assert "build/review/comment.md" in uploads[0]["with"]["path"]
    assert "build/review/pr-number" in uploads[0]["with"]["path"]
    assert uploads[1]["if"] == "hashFiles('build/review/diagrams/*') != ''"
    # the policy gate comes after the uploads, so a failing review still gets its comment
    names = [s.get("name", s.get("uses")) for s in steps(job)]
    assert names.index(next(n for n in names if str(n).startswith("Fail on mandatory"))) == len(names) - 1


def test_review_comment_posts_without_running_pr_code() -> None:
    wf = load("review-comment.yml")
    assert wf["on"] == {"workflow_run": {"workflows": ["review"], "types": ["completed"]}}
    assert wf["permissions"] == {}
    assert "workflow_run.head_branch" in wf["concurrency"]["group"]
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert "github.event.workflow_run.event == 'pull_request'" in job["if"]
    actions = [str(s.get("uses", "")).split("@")[0] for s in steps(job)]
    assert actions == ["actions/download-artifact", "actions/github-script"]  # no checkout, no run step
    assert not any("run" in s for s in steps(job))
    download = uses(job, "actions/download-artifact")["with"]
    assert download["run-id"] == "${{ github.event.workflow_run.id }}" and download["name"] == "review-comment"
    script = uses(job, "actions/github-script")["with"]["script"]
    assert "${{" not in script  # event data reaches the script through env, never interpolated into code
    assert "<!-- webstack-review -->" in script and "65536" in script


def test_both_sides_agree_on_marker_and_limit() -> None:
    from tools.review.review import LIMIT, MARKER

    script = uses(load("review-comment.yml")["jobs"]["comment"], "actions/github-script")["with"]["script"]
    assert f"'{MARKER}'" in script and f"LIMIT = {LIMIT};" in script


# The poster's script, run by node with a recording stand-in for the GitHub API (skipped without node).
POSTER_HARNESS = r"""
const fs = require('fs');
const [script, scenario] = [fs.readFileSync(process.argv[2], 'utf8'), JSON.parse(fs.readFileSync(process.argv[3]))];
const calls = [];
const github = {
  paginate: async (fn, args) => { calls.push(['list', args.issue_number]); return scenario.comments; },
  rest: {
    issues: {
      listComments: 'listComments',
      updateComment: async (a) => { calls.push(['update', a.comment_id, a.body.length, a.body.slice(0, 40)]); },
      createComment: async (a) => { calls.push(['create', a.issue_number, a.body.length, a.body.slice(0, 40)]);
                                     return { data: { id: 99 } }; },
    },
    pulls: { get: async (a) => { calls.push(['get', a.pull_number]);
                                 return { data: { state: scenario.state, head: { sha: scenario.head } } }; } },
  },
};
const core = { setFailed: (m) => calls.push(['failed', m]), notice: (m) => calls.push(['notice', m]),
               info: () => {} };
const context = { repo: { owner: 'o', repo: 'r' } };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('github', 'context', 'core', 'require', script)(github, context, core, require)
  .then(() => console.log(JSON.stringify(calls)), (e) => console.log(JSON.stringify([...calls, ['error', e.message]])));
"""


def run_poster(tmp_path: Path, pr_number: str, body: str, comments: list[dict[str, Any]] | None = None,
               head: str = "abc", state: str = "open") -> list[list[Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    review = tmp_path / "review"
    review.mkdir(exist_ok=True)
    (review / "pr-number").write_text(pr_number)
    (review / "comment.md").write_text(body)
    script = uses(load("review-comment.yml")["jobs"]["comment"], "actions/github-script")["with"]["script"]
    (tmp_path / "script.js").write_text(script)
    (tmp_path / "harness.js").write_text(POSTER_HARNESS)
    (tmp_path / "scenario.json").write_text(json.dumps({"comments": comments or [], "head": head, "state": state}))
    done = subprocess.run([node, str(tmp_path / "harness.js"), str(tmp_path / "script.js"),
                           str(tmp_path / "scenario.json")], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "REVIEW_DIR": str(review), "HEAD_SHA": "abc"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


MARK = "<!-- webstack-review -->"


def test_poster_creates_then_updates_the_one_comment(tmp_path: Path) -> None:
    calls = run_poster(tmp_path, "12\n", f"{MARK}\n# review\n")
    assert calls[:2] == [["get", 12], ["list", 12]] and calls[2][:3] == ["create", 12, len(MARK) + 10]
    mine = {"id": 7, "user": {"login": "github-actions[bot]"}, "body": f"{MARK}\nold"}
    theirs = {"id": 8, "user": {"login": "mallory"}, "body": f"{MARK}\nlook like the bot"}
    calls = run_poster(tmp_path, "12", f"{MARK}\n# new review\n", comments=[theirs, mine])
    assert [c[:2] for c in calls[2:]] == [["update", 7]]  # never another user's comment


@pytest.mark.parametrize("number", ["12; rm -rf /", "0", "-3", "1e3", "", "12 13", "99999999999"])
def test_poster_rejects_a_bad_pr_number(tmp_path: Path, number: str) -> None:
    calls = run_poster(tmp_path, number, f"{MARK}\nbody")
    assert calls == [["failed", "pr-number in the artifact is not a pull request number"]]


def test_poster_checks_the_pr_is_the_reviewed_one(tmp_path: Path) -> None:
    assert [c[0] for c in run_poster(tmp_path, "12", f"{MARK}\nbody", head="other")] == ["get", "notice"]
    assert [c[0] for c in run_poster(tmp_path, "12", f"{MARK}\nbody", state="closed")] == ["get", "notice"]


def test_poster_caps_the_body_and_adds_the_marker(tmp_path: Path) -> None:
    calls = run_poster(tmp_path, "5", "no marker " + "x" * 100_000)
    create = calls[-1]
    assert create[0] == "create" and create[2] == 65536 and create[3].startswith(MARK)
    calls = run_poster(tmp_path, "5", "x" * 300_000)  # larger than any comment composer output
    assert calls[-1][0] == "error" and "at most" in calls[-1][1]


# --- finding 1: the jobs that reach the cluster run on a runner named by a repository variable ---

CLUSTER_JOBS = {"preview.yml": {"preview": ("dev", "PULUMI_RUNS_ON")},
                "deploy.yml": {"dev": ("dev", "PULUMI_RUNS_ON"), "prod": ("prod", "PULUMI_PROD_RUNS_ON")}}


def picker() -> tuple[dict[str, Any], dict[str, Any]]:
    """pick-runner.yml and its one job."""
    wf = load(PICKER.rsplit("/", 1)[1])
    (job,) = wf["jobs"].values()
    return wf, job


@pytest.mark.parametrize("name", sorted(CLUSTER_JOBS))
def test_jobs_that_reach_the_cluster_never_run_on_github_hosted_runners(name: str) -> None:
    wf = load(name)
    caller = wf["jobs"]["runner"]
    assert caller["uses"] == PICKER and caller["permissions"] == {} and "secrets" not in caller
    assert "secrets." not in json.dumps(caller)  # no cloud access needed to pick
    called, job_of_picker = picker()
    assert called["permissions"] == {} and job_of_picker["permissions"] == {} and "secrets." not in json.dumps(called)
    env = job_of_picker["steps"][0]["env"]
    assert env["STACK_RUNNERS"] == "${{ inputs.stacks }}"
    for job_name, (stack, var) in CLUSTER_JOBS[name].items():
        job = wf["jobs"][job_name]
        assert job["runs-on"] == f"${{{{ fromJSON(needs.runner.outputs.{stack}) }}}}", job_name
        assert "runner" in ([job["needs"]] if isinstance(job["needs"], str) else job["needs"])
        # the caller names the variable and passes its value; the picker reads the input of that name
        assert f"{stack}={var}" in caller["with"]["stacks"].split() and caller["with"][var] == f"${{{{ vars.{var} }}}}"
        assert env[var] == f"${{{{ inputs.{var} }}}}" and var in called["on"]["workflow_call"]["inputs"]
        assert called["on"]["workflow_call"]["outputs"][stack]["value"] == f"${{{{ jobs.pick.outputs.{stack} }}}}"
        assert job_of_picker["outputs"][stack] == f"${{{{ steps.pick.outputs.{stack} }}}}"
    # the only job on a GitHub-hosted runner is the picker itself (the called workflow's job)
    runs_on = {j: job_of_picker["runs-on"] if job.get("uses") == PICKER else job["runs-on"]
               for j, job in wf["jobs"].items()}
    assert [j for j, r in runs_on.items() if "ubuntu" in str(r)] == ["runner"]


def pick(tmp_path: Path, **variables: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run the picker's script as deploy.yml calls it: its stacks, the variables' values in the environment."""
    step = picker()[1]["steps"][0]
    out = tmp_path / "github_output"
    out.write_text("")
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(out), "GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "2",
           "STACK_RUNNERS": load("deploy.yml")["jobs"]["runner"]["with"]["stacks"], **variables}
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
    page = (ROOT / "docs" / "ci.md").read_text()
    setup = page[page.index("Steps, once per account:"):page.index("### CI runners that can reach the cluster")]
    items = re.split(r"\n(?=\d+\. )", setup)[1:]  # the numbered steps, each with its continuation lines
    admin = [item for item in items if "adminPrincipalArns" in item]
    assert len(admin) == 1, "no setup step makes the CI roles cluster admins"
    assert "AWS_ROLE_ARN" in admin[0] and "AWS_PROD_ROLE_ARN" in admin[0]


# --- the weekly version bump ----------------------------------------------------------------------------------------
def test_bump_runs_weekly_per_stack_with_a_read_only_role_and_no_write_token() -> None:
    """`make bump` of each example stack with the read-only role (OIDC), each job with what it needs only: the jobs
    that hold AWS credentials cannot push, the job that pushes holds no AWS credentials."""
    from tools.review.diff import STACK_ORDER

    wf = load("bump.yml")
    assert set(wf["on"]) == {"schedule", "workflow_dispatch"}
    (schedule,) = wf["on"]["schedule"]
    minute, hour, day, month, weekday = schedule["cron"].split()
    assert (day, month) == ("*", "*") and weekday.isdigit()  # once a week
    assert wf["permissions"] == {}  # nothing by default: each job says what it needs
    resolve, pull_request = wf["jobs"]["resolve"], wf["jobs"]["pull-request"]
    assert resolve["permissions"] == {"id-token": "write", "contents": "read"}
    assert pull_request["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert tuple(resolve["strategy"]["matrix"]["stack"]) == STACK_ORDER  # the example stacks
    aws = uses(resolve, "aws-actions/configure-aws-credentials")["with"]
    # the read-only versions role (the bootstrap's role for the `versions` environment alone), never a deploy role
    assert aws["role-to-assume"] == "${{ vars.AWS_VERSIONS_ROLE_ARN }}" and resolve["environment"] == "versions"
    (run,) = [s for s in steps(resolve) if "make bump" in str(s.get("run", ""))]
    assert run["env"] == {"STACK": "${{ matrix.stack }}"} and "${{" not in run["run"]  # no expression in the script
    assert uses(resolve, "actions/checkout")["with"]["persist-credentials"] is False
    assert "aws-actions" not in str(pull_request) and "id-token" not in str(pull_request)
    assert pull_request["needs"] == "resolve"


def test_bump_opens_one_pull_request_with_the_locks_only() -> None:
    from infra.config.lock import lock_name

    job = load("bump.yml")["jobs"]["pull-request"]
    pr = uses(job, "peter-evans/create-pull-request")["with"]
    assert pr["add-paths"] == lock_name("*") and pr["branch"] == "bump/versions"  # every stack's lock, nothing else
    assert pr["body-path"] == "build/bump/body.md" and pr["delete-branch"] is True
    # a pull request opened with GITHUB_TOKEN starts no workflow (no review comment): a token of its own first
    assert pr["token"] == "${{ secrets.BUMP_PR_TOKEN || github.token }}"
    assert any("BUMP_PR_TOKEN" in str(s.get("env", "")) and "::warning::" in s["run"] for s in steps(job) if "run" in s)
    download = uses(job, "actions/download-artifact")["with"]
    assert download["pattern"] == "lock-*" and download["merge-multiple"] is True


@pytest.mark.parametrize("name", ["ci.yml", "review.yml"])
def test_make_fills_the_virtualenvs_from_a_cached_uv_cache(name: str) -> None:
    """The Makefile bootstraps uv with pip (requirements-uv.txt) and uv installs everything else: the uv cache is
    what is worth keeping between runs, keyed on every requirements file."""
    (job,) = load(name)["jobs"].values()
    assert uses(job, "actions/setup-python")["with"]["cache-dependency-path"] == "requirements-uv.txt"
    cache = uses(job, "actions/cache")["with"]
    assert cache["path"] == "~/.cache/uv"
    assert "hashFiles('requirements*.txt', 'policy/requirements.txt')" in cache["key"]
    assert cache["key"].startswith(cache["restore-keys"])
