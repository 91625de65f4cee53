"""nodeProvisioner karpenter (issue 19 part A): the system node group, Karpenter's charts, NodePool and
EC2NodeClass (validated against the pinned CRD schemas), the controller's IAM (the published policy, parliament), the
interruption queue, no Cluster Autoscaler, and the destroy rule, asserted on the `karpenter` test stack's render."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from infra import iam
from infra.config import DEFAULT_KUBERNETES_VERSION
from infra.config.addons import KARPENTER_CHART_VERSIONS
from infra.config.lock import karpenter_ami_alias
from infra.eks.karpenter import CONTROLLER_POLICY_SPLIT, INTERRUPTION_EVENTS
from tests.support.crds import crd_schema as support_crd_schema
from tests.support.iam_lint import unexpected_findings
from tools.render import ROOT, Plan
from tools.render.artifacts import iam_documents, kubernetes_objects

CRDS = ROOT / "tests" / "data" / "crds"
RELEASE = "kubernetes:helm.sh/v3:Release"
NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
NODECLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
MNG = "eks:index:ManagedNodeGroup"
POLICY = "aws:iam/policy:Policy"
# IAM's limit on a managed policy document (characters, whitespace excluded).
MANAGED_POLICY_MAX = 6144


@pytest.fixture(scope="module")
def plan(variant: Callable[..., Plan]) -> Plan:
    return variant("karpenter")


def chart_release(plan: Plan, name: str) -> dict[str, Any]:
    [found] = [r for r in plan.of_type(RELEASE) if r["inputs"]["name"] == name]
    return found


def crd_schema(version: str, file: str) -> dict[str, Any]:
    return support_crd_schema(f"karpenter-{version}", file)


def custom_resource(plan: Plan, typ: str) -> dict[str, Any]:
    inputs = plan.one(typ)["inputs"]
    return {key: inputs[key] for key in ("apiVersion", "kind", "metadata", "spec")}


def test_crds_are_the_published_ones() -> None:
    """The CRD files are byte-for-byte the v1.14.1 tag's (SOURCE.md records the hashes)."""
    source = (CRDS / "karpenter-1.14.1" / "SOURCE.md").read_text()
    for file in ("karpenter.sh_nodepools.yaml", "karpenter.k8s.aws_ec2nodeclasses.yaml"):
        digest = hashlib.sha256((CRDS / "karpenter-1.14.1" / file).read_bytes()).hexdigest()
        assert f"| {file} | {digest} |" in source
    assert set(KARPENTER_CHART_VERSIONS) == {p.name.removeprefix("karpenter-") for p in CRDS.iterdir()}


@pytest.mark.parametrize(("typ", "file"), [(NODEPOOL, "karpenter.sh_nodepools.yaml"),
                                           (NODECLASS, "karpenter.k8s.aws_ec2nodeclasses.yaml")])
def test_custom_resources_pass_their_crd_schema(plan: Plan, typ: str, file: str) -> None:
    schema = crd_schema(KARPENTER_CHART_VERSIONS[0], file)
    obj = custom_resource(plan, typ)
    jsonschema.validate(obj, schema)
    broken = copy.deepcopy(obj)
    broken["spec"]["unknownField"] = True  # the validation refuses what the CRD does not declare
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_crd_cel_rules_that_concern_these_objects_hold(plan: Plan) -> None:
    """The x-kubernetes-validations rules jsonschema does not evaluate, checked by hand for these objects: an AMI
    alias alone, selector terms by id only, no restricted tag key, a nodeClassRef of the EC2NodeClass's group."""
    nodeclass, nodepool = custom_resource(plan, NODECLASS)["spec"], custom_resource(plan, NODEPOOL)["spec"]
    assert nodeclass["amiSelectorTerms"] == [{"alias": karpenter_ami_alias("1.35.3-20261023")}]
    assert re.fullmatch(r"al2023@v\d{8}", nodeclass["amiSelectorTerms"][0]["alias"])
    for terms in (nodeclass["subnetSelectorTerms"], nodeclass["securityGroupSelectorTerms"]):
        assert terms and all(set(term) == {"id"} for term in terms)
    restricted = re.compile(r"^(eks:eks-cluster-name|kubernetes\.io/cluster/|karpenter\.sh/nodepool|"
                            r"karpenter\.sh/nodeclaim|karpenter\.k8s\.aws/ec2nodeclass)")
    assert not [k for k in nodeclass["tags"] if restricted.match(k)]
    name = custom_resource(plan, NODECLASS)["metadata"]["name"]
    assert nodepool["template"]["spec"]["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass",
                                                            "name": name}


def test_nodeclass_is_hardened_like_the_launch_template(plan: Plan) -> None:
    spec = custom_resource(plan, NODECLASS)["spec"]
    private = {s["id"] for s in plan.of_type("aws:ec2/subnet:Subnet") if "private" in s["name"]}
    assert {t["id"] for t in spec["subnetSelectorTerms"]} == private
    assert spec["associatePublicIPAddress"] is False
    assert spec["metadataOptions"] == {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled",
                                       "httpPutResponseHopLimit": 1, "httpTokens": "required"}
    [root] = spec["blockDeviceMappings"]
    assert root["rootVolume"] and root["ebs"] == {"volumeSize": "30Gi", "volumeType": "gp3", "encrypted": True,
                                                  "deleteOnTermination": True}
    assert spec["role"] == plan.one("aws:iam/role:Role", "karpenter-node")["state"]["name"]
    [entry] = [e for e in plan.of_type("aws:eks/accessEntry:AccessEntry") if e["name"] == "karpenter-node"]
    assert entry["inputs"]["type"] == "EC2_LINUX"


def test_nodepool_carries_capacity_limits_and_disruption(plan: Plan, variant: Callable[..., Plan]) -> None:
    spec = custom_resource(plan, NODEPOOL)["spec"]
    requirements = {r["key"]: (r["operator"], r["values"]) for r in spec["template"]["spec"]["requirements"]}
    assert requirements["karpenter.sh/capacity-type"] == ("In", ["spot", "on-demand"])
    assert requirements["kubernetes.io/arch"] == ("In", ["amd64"])
    assert spec["limits"] == {"cpu": "16"}
    assert spec["disruption"] == {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m",
                                  "budgets": [{"nodes": "10%"}]}
    changed = custom_resource(variant("karpenter", karpenterCapacityTypes=["on-demand"],
                                      karpenterDisruptionBudget="1", karpenterConsolidateAfter="Never"), NODEPOOL)
    requirements = {r["key"]: r["values"] for r in changed["spec"]["template"]["spec"]["requirements"]}
    assert requirements["karpenter.sh/capacity-type"] == ["on-demand"]
    assert changed["spec"]["disruption"]["budgets"] == [{"nodes": "1"}]
    assert changed["spec"]["disruption"]["consolidateAfter"] == "Never"


def test_charts_pinned_from_the_lock_and_no_cluster_autoscaler(plan: Plan) -> None:
    crd, controller = chart_release(plan, "karpenter-crd"), chart_release(plan, "karpenter")
    for release in (crd, controller):
        assert release["inputs"]["version"] == "1.14.1"
        assert release["inputs"]["chart"].startswith("oci://public.ecr.aws/karpenter/")
        assert not release["inputs"].get("repositoryOpts")
    assert controller["inputs"]["skipCrds"] is True  # the karpenter-crd release owns (and upgrades) them
    assert plan.depends_on(controller["urn"], crd["urn"])
    settings = controller["inputs"]["values"]["settings"]
    assert settings["clusterName"] == plan.one("eks:index:Cluster")["inputs"]["name"]
    queue = plan.one("aws:sqs/queue:Queue")
    assert settings["interruptionQueue"] == queue["inputs"]["name"]
    assert {"name": "AWS_REGION", "value": "us-east-1"} in controller["inputs"]["values"]["controller"]["env"]
    names = {r["inputs"]["name"] for r in plan.of_type(RELEASE)}
    assert "cluster-autoscaler" not in names and not [r for r in plan.resources if "autoscaler" in r["name"]]
    assert len(plan.of_type(MNG)) == 1  # the system node group stays


def test_interruption_queue_and_rules_as_published(plan: Plan) -> None:
    queue = plan.one("aws:sqs/queue:Queue")["inputs"]
    assert queue["messageRetentionSeconds"] == 300 and queue["sqsManagedSseEnabled"] is True
    template = iam.karpenter_template("1.14.1")["Resources"]
    published = {(r["Properties"]["EventPattern"]["source"][0], r["Properties"]["EventPattern"]["detail-type"][0])
                 for r in template.values() if r["Type"] == "AWS::Events::Rule"}
    rules = {(json.loads(r["inputs"]["eventPattern"])["source"][0],
              json.loads(r["inputs"]["eventPattern"])["detail-type"][0])
             for r in plan.of_type("aws:cloudwatch/eventRule:EventRule")}
    assert rules == published == set(INTERRUPTION_EVENTS.values())
    targets = plan.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == len(rules)
    assert {t["inputs"]["arn"] for t in targets} == {plan.one("aws:sqs/queue:Queue")["state"]["arn"]}
    policy = json.loads(plan.one("aws:sqs/queuePolicy:QueuePolicy")["inputs"]["policy"])
    assert [s["Effect"] for s in policy["Statement"]] == ["Allow", "Deny"]


def test_controller_policy_is_the_published_one_in_two_documents(plan: Plan) -> None:
    """Every statement of the six published managed policies, once, split over two managed policies each within
    IAM's size limit; PassRole only of the Karpenter node role."""
    docs = iam_documents(plan)
    parts = [docs["karpenter-policy"], docs["karpenter-controller-more-policy"]]
    template = iam.karpenter_template("1.14.1")["Resources"]
    published = [sid for p in iam.KARPENTER_CONTROLLER_POLICIES for sid in re.findall(
        r'"Sid": "(\w+)"', template[p]["Properties"]["PolicyDocument"]["!Sub"])]
    rendered = [s["Sid"] for doc in parts for s in doc["Statement"]]
    assert sorted(rendered) == sorted(published) and len(rendered) == len(set(rendered))
    assert sorted(p for split in CONTROLLER_POLICY_SPLIT for p in split) == sorted(iam.KARPENTER_CONTROLLER_POLICIES)
    for doc in parts:
        assert "${" not in json.dumps(doc)
        assert len(re.sub(r"\s", "", json.dumps(doc))) <= MANAGED_POLICY_MAX
    [pass_role] = [s for doc in parts for s in doc["Statement"] if s["Sid"] == "AllowPassingInstanceRole"]
    assert pass_role["Resource"] == plan.one("aws:iam/role:Role", "karpenter-node")["state"]["arn"]


def test_iam_documents_pass_parliament(plan: Plan) -> None:
    docs = {n: d for n, d in iam_documents(plan).items() if n.startswith("karpenter")}
    assert len(docs) == 4
    unexpected = [message for name, doc in docs.items() for message in unexpected_findings(name, doc)]
    assert not unexpected, "\n".join(unexpected)


def test_builtin_objects_pass_strict_kubernetes_validation(plan: Plan) -> None:
    checked = 0
    for obj in kubernetes_objects(plan).values():
        if obj["apiVersion"].startswith("karpenter."):
            continue  # CRD kinds: their schemas above
        kubernetes_validate.validate(obj, DEFAULT_KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked >= 9


def test_destroy_rule_karpenter_nodes_go_before_what_they_need(plan: Plan) -> None:
    """Every in-cluster object outside Karpenter's own chain is deleted before the NodePool (its pods are gone
    before the nodes drain); the NodePool before the EC2NodeClass (whose finalizer waits for the instances); both
    before the controller, its IAM, its queue, the node role and access entry, the CRDs, the system node group, the
    NAT routes and the cluster."""
    nodepool, nodeclass = plan.one(NODEPOOL), plan.one(NODECLASS)
    own = {nodepool["urn"], nodeclass["urn"], chart_release(plan, "karpenter")["urn"],
           chart_release(plan, "karpenter-crd")["urn"]}
    others = [r for r in plan.resources if r["type"].startswith("kubernetes:") and r["urn"] not in own]
    assert len(others) >= 12
    for obj in others:
        assert plan.depends_on(obj["urn"], nodepool["urn"]), f"{obj['name']} is not deleted before the NodePool"
    assert plan.depends_on(nodepool["urn"], nodeclass["urn"])
    needs = [chart_release(plan, "karpenter"), chart_release(plan, "karpenter-crd"), plan.one(MNG),
             plan.one("aws:sqs/queue:Queue"), plan.one("aws:eks/accessEntry:AccessEntry", "karpenter-node"),
             plan.one("aws:iam/role:Role", "karpenter-pod-identity"), plan.one("eks:index:Cluster"),
             *[r for r in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
               if r["name"].startswith("karpenter-")],
             *[r for r in plan.of_type("aws:ec2/route:Route") if r["inputs"].get("natGatewayId")]]
    for need in needs:
        assert plan.depends_on(nodeclass["urn"], need["urn"]), f"EC2NodeClass not deleted before {need['name']}"


def test_day2_switching_a_stack_to_karpenter_adds_and_removes_but_replaces_nothing(
        dev: Plan, variant: Callable[..., Plan]) -> None:
    """dev moved to nodeProvisioner karpenter (with the lock `make bump` writes for it): the Cluster Autoscaler
    and its IRSA role go, Karpenter's resources come, and every resource in both renders keeps its inputs (the
    cluster, the node group, its launch template, the app: nothing updated, so nothing replaced or rolled)."""
    moved = variant("dev", lock={"charts": {"cluster-autoscaler": None, "karpenter": "1.14.1"}},
                    nodeProvisioner="karpenter")
    before, after = {r["urn"]: r for r in dev.resources}, {r["urn"]: r for r in moved.resources}
    removed = {before[u]["name"] for u in before.keys() - after.keys()}
    added = {after[u]["name"] for u in after.keys() - before.keys()}
    assert removed == {"cluster-autoscaler", "platform-cluster-autoscaler", "platform-cluster-autoscaler-irsa"}
    assert all(name.startswith("karpenter") for name in added)
    assert {"karpenter-nodepool", "karpenter-nodeclass"} <= added
    changed = [before[u]["name"] for u in before.keys() & after.keys() if before[u]["inputs"] != after[u]["inputs"]]
    assert changed == []
