"""`make down` (tools/down.sh, tools/down.py): refuses a deletion-protected stack before anything is deleted, runs
`pulumi destroy` through `make up`'s backend, then lists what is left with the command to remove each.

The AWS answers are botocore Stubber responses shaped as the API returns them: the Stubber checks each request
against botocore's service model (the client validates the parameters) and each response against the output shape,
and the expected parameters are asserted. The CLIs are recording shims; nothing is deployed or deleted."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from tools import down
from tools.render import ROOT, Plan

pytestmark = pytest.mark.project_root  # runs the project's down.sh (in a folder of its own)
REGION = "eu-west-1"
ACCOUNT = "123456789012"
VPC_ID = "vpc-0a1b2c3d4e5f60718"


def state_of(plan: Plan, **child_outputs: Any) -> dict[str, Any]:
    """A `pulumi stack export` of the render: its URNs, types, ids, inputs and outputs; with pulumi-eks's
    aws:eks/cluster:Cluster child (the mocks render the component only) when `child_outputs` are given."""
    rs = [{"urn": r["urn"], "type": r["type"], "id": r.get("id"), "inputs": r.get("inputs") or {},
           "outputs": r.get("state") or {}} for r in plan.resources]
    if child_outputs:
        urn = f"urn:pulumi:{plan.stack}::webstack::eks:index:Cluster$aws:eks/cluster:Cluster::cluster-eks-eksCluster"
        rs.append({"urn": urn, "type": down.EKS_CLUSTER, "id": child_outputs["name"], "outputs": child_outputs})
    return {"version": 3, "deployment": {"resources": rs}}


def test_a_protected_prod_stack_is_refused_with_the_teardown_steps(prod: Plan, dev: Plan) -> None:
    found = down.protected(state_of(prod))
    assert found == [
        "EKS cluster webstack-prod: deletionProtection is on (EKS refuses DeleteCluster)",
        "Ingress webapp-ingress: its ALB is protected through alb.ingress.kubernetes.io/load-balancer-attributes "
        "(the Load Balancer Controller refuses to delete the Ingress, so `pulumi destroy` would wait on its "
        "finalizer)"]
    # the deployed child is what counts once it is in the state: turned off there, only the Ingress is left
    off = down.protected(state_of(prod, name="webstack-prod", deletionProtection=False))
    assert [line.split(":")[0] for line in off] == ["Ingress webapp-ingress"]
    assert down.protected(state_of(dev, name="webstack-dev", deletionProtection=False)) == []


def test_the_ecs_alb_is_checked_as_deployed(fargate: Plan) -> None:
    state = state_of(fargate)
    assert down.protected(state) == []
    alb = next(r for r in down.resources(state) if r["type"] == down.LOAD_BALANCER)
    alb["outputs"] = {**alb["outputs"], "enableDeletionProtection": True, "name": "webstack-ecs-ecs"}
    assert down.protected(state) == ["load balancer webstack-ecs-ecs: deletion protection is on (ELB refuses "
                                     "DeleteLoadBalancer)"]


def test_the_target_names_the_stack_its_vpc_and_clusters(dev: Plan, fargate: Plan) -> None:
    t = down.target(state_of(dev, name="webstack-dev"))
    vpc = dev.one("aws:ec2/vpc:Vpc")["id"]
    assert (t.project, t.stack, t.vpc_ids, t.eks_clusters, t.ecs_clusters) == (
        "webstack", "dev", (vpc,), ("webstack-dev",), ())
    e = down.target(state_of(fargate))
    assert (e.eks_clusters, e.ecs_clusters) == ((), ("webstack-ecs",))


# --- the listing, on stubbed AWS answers ----------------------------------------------------------------------------
def client(service: str) -> Any:
    return botocore.session.get_session().create_client(
        service, region_name=REGION, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")


@pytest.fixture
def aws() -> Iterator[dict[str, tuple[Any, Stubber]]]:
    clients = {name: client(name) for name in ("resourcegroupstaggingapi", "kms", "ec2", "logs")}
    stubs = {name: (c, Stubber(c)) for name, c in clients.items()}
    for _, stub in stubs.values():
        stub.activate()
    yield stubs
    for _, stub in stubs.values():
        stub.assert_no_pending_responses()  # every call the test recorded was made
        stub.deactivate()


TARGET = down.Target(project="webstack", stack="dev", vpc_ids=(VPC_ID,), eks_clusters=("webstack-dev",),
                     ecs_clusters=())
ALB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/webstack-dev-webapp/50dc6c495c0c9188"
TG_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/k8s-webapp-webapp-1a2b3c4d5e/6d0ecf831eec9f09"
SG_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-0123456789abcdef0"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ZONE_ARN = "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"


def mapping(*arns: str) -> dict[str, Any]:
    return {"ResourceTagMappingList": [{"ResourceARN": a, "Tags": [{"Key": "stack", "Value": "dev"}]} for a in arns],
            "PaginationToken": ""}


def record_tag_searches(stub: Stubber, answers: dict[str, dict[str, Any]]) -> None:
    """The stack's tags first, then each controller tag of the cluster, in that order."""
    stub.add_response("get_resources", answers.get("stack", mapping()), {"TagFilters": [
        {"Key": "project", "Values": ["webstack"]}, {"Key": "stack", "Values": ["dev"]}]})
    for key in down.CONTROLLER_TAG_KEYS:
        stub.add_response("get_resources", answers.get(key, mapping()),
                          {"TagFilters": [{"Key": key, "Values": ["webstack-dev"]}]})


def record_nothing_else(ec2: Stubber, logs: Stubber) -> None:
    where = [{"Name": "vpc-id", "Values": [VPC_ID]}]
    ec2.add_response("describe_network_interfaces", {"NetworkInterfaces": []}, {"Filters": where})
    ec2.add_response("describe_security_groups", {"SecurityGroups": [
        {"GroupId": "sg-0default000000000", "GroupName": "default", "VpcId": VPC_ID}]}, {"Filters": where})
    ec2.add_response("describe_volumes", {"Volumes": []}, {"Filters": [
        {"Name": "tag-key", "Values": ["kubernetes.io/cluster/webstack-dev"]},
        {"Name": "status", "Values": ["available"]}]})
    for prefix in ("/aws/eks/webstack-dev/", "/aws/containerinsights/webstack-dev/"):
        logs.add_response("describe_log_groups", {"logGroups": []}, {"logGroupNamePrefix": prefix})


def clients(aws: dict[str, tuple[Any, Stubber]]) -> dict[str, Any]:
    return {name: c for name, (c, _) in aws.items()}


def test_nothing_left_is_said_and_exits_zero(aws: dict[str, tuple[Any, Stubber]]) -> None:
    record_tag_searches(aws["resourcegroupstaggingapi"][1], {})
    record_nothing_else(aws["ec2"][1], aws["logs"][1])
    assert down.leftovers(clients(aws), TARGET) == []
    assert down.report([], TARGET).startswith("make down: nothing of webstack/dev is left")


def test_what_the_controller_left_is_listed_with_its_command(aws: dict[str, tuple[Any, Stubber]]) -> None:
    """The LB controller's ALB, target group and security group (an Ingress deleted without the controller);
    the KMS key waiting out its deletion window and the protected zone the stack keeps are not left over."""
    tagging, kms, ec2, logs = (aws[n][1] for n in ("resourcegroupstaggingapi", "kms", "ec2", "logs"))
    record_tag_searches(tagging, {"stack": mapping(KEY_ARN, ZONE_ARN),
                                  "elbv2.k8s.aws/cluster": mapping(ALB_ARN, TG_ARN, SG_ARN)})
    kms.add_response("describe_key", {"KeyMetadata": {"KeyId": KEY_ARN.rsplit("/", 1)[-1], "Arn": KEY_ARN,
                                                      "KeyState": "PendingDeletion"}}, {"KeyId": KEY_ARN})
    where = [{"Name": "vpc-id", "Values": [VPC_ID]}]
    ec2.add_response("describe_network_interfaces", {"NetworkInterfaces": [
        {"NetworkInterfaceId": "eni-0aaa1111bbbb2222c", "Status": "available", "VpcId": VPC_ID,
         "Description": "ELB app/webstack-dev-webapp/50dc6c495c0c9188", "InterfaceType": "interface"},
        {"NetworkInterfaceId": "eni-0ddd3333eeee4444f", "Status": "in-use", "VpcId": VPC_ID,
         "Description": "aws-K8S-i-0123456789abcdef0", "InterfaceType": "interface"}]}, {"Filters": where})
    ec2.add_response("describe_security_groups", {"SecurityGroups": [
        {"GroupId": "sg-0default000000000", "GroupName": "default", "VpcId": VPC_ID},
        {"GroupId": "sg-0123456789abcdef0", "GroupName": "k8s-webapp-webapp-1a2b3c4d5e", "VpcId": VPC_ID}]},
        {"Filters": where})
    ec2.add_response("describe_volumes", {"Volumes": [{"VolumeId": "vol-0123456789abcdef0", "Size": 20,
                                                       "State": "available"}]}, {"Filters": [
        {"Name": "tag-key", "Values": ["kubernetes.io/cluster/webstack-dev"]},
        {"Name": "status", "Values": ["available"]}]})
    logs.add_response("describe_log_groups", {"logGroups": [{"logGroupName": "/aws/eks/webstack-dev/cluster"}]},
                      {"logGroupNamePrefix": "/aws/eks/webstack-dev/"})
    logs.add_response("describe_log_groups", {"logGroups": []},
                      {"logGroupNamePrefix": "/aws/containerinsights/webstack-dev/"})

    items = down.leftovers(clients(aws), TARGET, kept=frozenset({"Z0123456789ABCDEFGHIJ"}))
    assert [i.command for i in items] == [
        f"aws elbv2 delete-load-balancer --load-balancer-arn {ALB_ARN}",
        f"aws elbv2 delete-target-group --target-group-arn {TG_ARN}",
        "aws ec2 delete-security-group --group-id sg-0123456789abcdef0",  # once, found twice
        "aws ec2 delete-network-interface --network-interface-id eni-0aaa1111bbbb2222c",
        "in use (interface): delete what it belongs to first, then aws ec2 delete-network-interface "
        "--network-interface-id eni-0ddd3333eeee4444f",
        "aws ec2 delete-volume --volume-id vol-0123456789abcdef0 (snapshot it first if the data matters)",
        "aws logs delete-log-group --log-group-name /aws/eks/webstack-dev/cluster"]
    assert items[0].why == "tagged elbv2.k8s.aws/cluster=webstack-dev"
    text = down.report(items, TARGET)
    assert text.splitlines()[0] == "make down: 7 thing(s) of webstack/dev still exist; remove each with:"


@pytest.mark.parametrize(("arn", "command"), [
    (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/webstack-ecs/app:*",
     "aws logs delete-log-group --log-group-name /ecs/webstack-ecs/app"),
    (f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/fs-0123456789abcdef0",
     "aws efs delete-file-system --file-system-id fs-0123456789abcdef0 (its mount targets and access points first: "
     "aws efs describe-access-points --file-system-id fs-0123456789abcdef0, aws efs delete-access-point "
     "--access-point-id <fsap-id>; the data goes with it, its AWS Backup recovery points stay)"),
    (f"arn:aws:ec2:{REGION}:{ACCOUNT}:natgateway/nat-0123456789abcdef0",
     "aws ec2 delete-nat-gateway --nat-gateway-id nat-0123456789abcdef0"),
    (f"arn:aws:sns:{REGION}:{ACCOUNT}:webstack-dev-alarms",
     "delete it in the sns console or CLI (it is not one this tool knows the command of)"),
])
def test_each_kind_gets_its_delete_command(arn: str, command: str) -> None:
    assert down._arn_command(arn) == command


# --- down.sh, with recording shims ------------------------------------------------------------------------------
def shim(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\necho \"{name} $*\" >> \"$CALLS\"\n{body}\n")
    path.chmod(0o755)


def run_down(tmp_path: Path, state: dict[str, Any], *, destroy_rc: int = 0, left_rc: int = 0,
             confirm: str | None = "prod", stdin: Any = subprocess.DEVNULL
             ) -> tuple[subprocess.CompletedProcess[str], str]:
    folder = tmp_path / "project"
    (folder / "tools").mkdir(parents=True)
    for name in ("down.sh", "backend.sh"):
        shutil.copy2(ROOT / "tools" / name, folder / "tools" / name)
    (tmp_path / "state.json").write_text(json.dumps(state))
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    shim(bin_, "aws", "exit 0")
    shim(bin_, "pulumi", f"""case "$1 $2" in
  "stack export") cat "{tmp_path}/state.json" ;;
  "config get") echo {REGION} ;;
  destroy*) exit {destroy_rc} ;;
esac
exit 0""")
    # python: the real one for `protected`; `leftovers` (AWS calls) only records its arguments
    shim(bin_, "py", f"""if [ "$3" = "leftovers" ]; then exit {left_rc}; fi
exec "{sys.executable}" "$@\"""")
    env = {"PATH": os.pathsep.join([str(bin_), "/usr/bin", "/bin"]), "HOME": str(tmp_path), "STACK": "prod",
           "CALLS": str(tmp_path / "calls.log"), "PY": str(bin_ / "py"), "PYTHONPATH": str(ROOT),
           "PULUMI_CONFIG_PASSPHRASE": "x"}
    if confirm is not None:
        env["CONFIRM_DESTROY"] = confirm
    result = subprocess.run(["bash", str(folder / "tools" / "down.sh")], capture_output=True, text=True, env=env,
                            timeout=60, cwd=tmp_path, stdin=stdin)
    calls = tmp_path / "calls.log"
    return result, calls.read_text() if calls.exists() else ""


def test_make_down_refuses_a_protected_stack_before_destroying_anything(tmp_path: Path, prod: Plan) -> None:
    result, calls = run_down(tmp_path, state_of(prod))
    assert result.returncode == down.PROTECTED_EXIT
    assert "pulumi destroy" not in calls and "leftovers" not in calls
    assert "make down: prod is deletion-protected" in result.stderr
    for step in ("pulumi config set webstack:deletionProtection false --stack prod", "make up STACK=prod",
                 "make down STACK=prod"):
        assert step in result.stderr, step


def unprotected(plan: Plan) -> dict[str, Any]:
    """The prod state after the first two teardown steps (deletionProtection false, `make up`)."""
    state = copy.deepcopy(state_of(plan, name="webstack-prod", deletionProtection=False))
    for r in down.resources(state):
        annotations = (r["outputs"].get("metadata") or {}).get("annotations") or {}
        if down.LB_ATTRIBUTES in annotations:
            annotations[down.LB_ATTRIBUTES] = annotations[down.LB_ATTRIBUTES].replace("=true", "=false")
        if r["type"] == "eks:index:Cluster":
            r["inputs"]["deletionProtection"] = False
    return state


def test_make_down_destroys_through_the_backend_then_lists(tmp_path: Path, prod: Plan) -> None:
    result, calls = run_down(tmp_path, unprotected(prod), left_rc=1)
    lines = calls.splitlines()
    destroy = "pulumi destroy --stack prod --exclude-protected --yes"  # CONFIRM_DESTROY=prod: no question
    assert "pulumi stack select prod" in lines and destroy in lines
    assert not any(line.startswith("pulumi stack init") for line in lines)
    [listing] = [line for line in lines if "leftovers" in line]
    assert f"--state build/down/prod-before.json --kept build/down/prod-after.json --region {REGION}" in listing
    assert lines.index(destroy) < lines.index(listing)
    assert result.returncode == 1  # something is left
    assert f"file://{tmp_path}/project/.pulumi-state" in result.stdout  # make up's local backend


def test_without_a_terminal_or_confirmation_nothing_is_asked_or_deleted(tmp_path: Path, prod: Plan) -> None:
    """`pulumi destroy` without a terminal cannot ask, deletes nothing and fails; the listing then described the
    whole stack as left. Now refused before any call, with the way to confirm."""
    result, calls = run_down(tmp_path, unprotected(prod), confirm=None)
    assert result.returncode == 4 and "pulumi" not in calls  # only the credentials check ran
    assert "make down: cannot tear down prod, nothing was done" in result.stderr
    assert "make down STACK=prod CONFIRM_DESTROY=prod" in result.stderr


def test_a_confirmation_naming_another_stack_is_refused(tmp_path: Path, prod: Plan) -> None:
    result, calls = run_down(tmp_path, unprotected(prod), confirm="dev")
    assert result.returncode == 4 and "pulumi destroy" not in calls
    assert "CONFIRM_DESTROY is 'dev', STACK is 'prod'" in result.stderr


def test_from_a_terminal_pulumi_asks_as_usual(tmp_path: Path, prod: Plan) -> None:
    import pty
    parent, child = pty.openpty()
    try:
        result, calls = run_down(tmp_path, unprotected(prod), confirm=None, stdin=child)
    finally:
        os.close(parent)
        os.close(child)
    assert "pulumi destroy --stack prod --exclude-protected" in calls.splitlines()  # no --yes: pulumi asks
    assert result.returncode == 0


def test_a_failed_destroy_still_lists_and_exits_with_its_code(tmp_path: Path, prod: Plan) -> None:
    result, calls = run_down(tmp_path, unprotected(prod), destroy_rc=255)
    assert "leftovers" in calls and result.returncode == 255
    assert "pulumi destroy failed (exit 255)" in result.stderr


def test_a_listing_that_cannot_ask_aws_exits_2_not_1(tmp_path: Path, prod: Plan, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Review: a failed AWS call (no credentials, AccessDenied) was a traceback and exit 1, which reads as
    "something is left"; it is exit 2, said in one line."""
    from botocore.exceptions import NoCredentialsError

    def no_credentials(region: str) -> dict[str, Any]:
        raise NoCredentialsError()

    monkeypatch.setattr(down, "_clients", no_credentials)
    state = tmp_path / "state.json"
    state.write_text(json.dumps(unprotected(prod)))
    assert down.main(["leftovers", "--state", str(state), "--region", REGION]) == down.CHECK_FAILED_EXIT == 2
    assert "could not list what is left (Unable to locate credentials)" in capsys.readouterr().err
