"""Cluster storage (issue 19): the EBS CSI add-on and its gp3 default class on every EKS stack that is not Auto
Mode, and with efsCsiEnabled the EFS CSI driver, file system, mount targets, access point and classes. Asserted on
the `storage` test stack's render (dev + efsCsiEnabled + storageReclaimPolicy Delete, IRSA) and on the shared
`dev` (IRSA, Retain) and `karpenter` (Pod Identity) renders: no render of its own beyond `storage`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest

from infra.config import DEFAULT_KUBERNETES_VERSION
from infra.efs import NFS_PORT
from infra.eks.ebs_csi import SERVICE_ACCOUNT as EBS_SA
from infra.eks.efs_csi import SERVICE_ACCOUNT as EFS_SA
from infra.eks.storage_class import DEFAULT_CLASS_ANNOTATION, gp3_class_spec
from tests.support.day2 import diff_actions, what_up_does
from tests.support.iam_lint import unexpected_findings
from tools.render import Plan
from tools.render.artifacts import iam_documents, kubernetes_objects
from tools.review.diff import diff_plans

ADDON = "aws:eks/addon:Addon"
SC = "kubernetes:storage.k8s.io/v1:StorageClass"
PV = "kubernetes:core/v1:PersistentVolume"
FS = "aws:efs/fileSystem:FileSystem"
MT = "aws:efs/mountTarget:MountTarget"
AP = "aws:efs/accessPoint:AccessPoint"
SG = "aws:ec2/securityGroup:SecurityGroup"
RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
MNG = "eks:index:ManagedNodeGroup"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def addon(plan: Plan, name: str) -> dict[str, Any]:
    [found] = [a for a in plan.of_type(ADDON) if a["inputs"]["addonName"] == name]
    return found


def storage_class(plan: Plan, name: str) -> dict[str, Any]:
    [found] = [r for r in plan.of_type(SC) if r["inputs"]["metadata"]["name"] == name]
    return found


def test_every_non_auto_mode_eks_stack_has_the_ebs_driver_and_one_default_class(
        dev: Plan, karpenter: Plan, storage: Plan) -> None:
    for plan in (dev, karpenter, storage):
        ebs = addon(plan, "aws-ebs-csi-driver")
        assert ebs["inputs"]["preserve"] is False  # deleting it removes the driver: nothing left unmanaged
        defaults = [r for r in plan.of_type(SC)
                    if r["inputs"]["metadata"]["annotations"][DEFAULT_CLASS_ANNOTATION] == "true"]
        assert [d["inputs"]["metadata"]["name"] for d in defaults] == ["gp3"]
    # the class is the pure spec's (Auto Mode declares the same one with its own provisioner)
    gp3 = storage_class(dev, "gp3")["inputs"]
    spec = gp3_class_spec(provisioner="ebs.csi.aws.com", reclaim_policy="Retain",
                          volume_tags={"project": "webstack", "stack": "dev"})
    assert {k: gp3[k] for k in ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode",
                                "allowVolumeExpansion")} == {k: spec[k] for k in (
                                    "provisioner", "parameters", "reclaimPolicy", "volumeBindingMode",
                                    "allowVolumeExpansion")}
    assert storage_class(storage, "gp3")["inputs"]["reclaimPolicy"] == "Delete"
    assert "aws-efs-csi-driver" not in {a["inputs"]["addonName"] for a in dev.of_type(ADDON)}


def test_storage_objects_pass_strict_kubernetes_validation(storage: Plan) -> None:
    objects = [o for o in kubernetes_objects(storage).values() if o["kind"] in ("StorageClass", "PersistentVolume")]
    assert sorted(o["metadata"]["name"] for o in objects) == ["efs", "efs-shared", "gp3"]
    for obj in objects:
        obj = json.loads(json.dumps(obj).replace('"[unknown]"', '"fs-0123456789abcdef0"'))
        kubernetes_validate.validate(obj, DEFAULT_KUBERNETES_VERSION, strict=True)


def test_identity_irsa_on_the_addon_pod_identity_by_association(storage: Plan, karpenter: Plan) -> None:
    for name, sa in (("aws-ebs-csi-driver", EBS_SA), ("aws-efs-csi-driver", EFS_SA)):
        role_arn = addon(storage, name)["inputs"]["serviceAccountRoleArn"]
        role = next(r for r in storage.of_type("aws:iam/role:Role") if r["name"] == f"{name[4:7]}-csi-irsa")
        assert f"system:serviceaccount:kube-system:{sa}" in json.dumps(role["inputs"]["assumeRolePolicy"])
        assert role_arn  # the add-on names the IRSA role
    ebs = addon(karpenter, "aws-ebs-csi-driver")
    assert not ebs["inputs"].get("serviceAccountRoleArn")  # Pod Identity: the association does it
    [assoc] = [a for a in karpenter.of_type(ASSOCIATION) if a["inputs"]["serviceAccount"] == EBS_SA]
    assert assoc["inputs"]["namespace"] == "kube-system"
    assert karpenter.depends_on(ebs["urn"], assoc["urn"])  # credentials exist before the controller starts
    policies = {r["inputs"]["policyArn"] for r in storage.of_type(ATTACHMENT) if r["name"].endswith("-csi-irsa")}
    assert policies == {"arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
                        "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"}


def test_efs_is_encrypted_tls_only_and_reachable_from_the_cluster_security_group_only(storage: Plan) -> None:
    fs = storage.one(FS)["inputs"]
    assert fs["encrypted"] is True
    mounts = storage.of_type(MT)
    assert len(mounts) == 2  # one per private subnet (azCount 2)
    assert len({m["inputs"]["subnetId"] for m in mounts}) == 2
    assert all(m["options"]["deleteBeforeReplace"] for m in mounts)  # one mount target per AZ
    [sg] = [s for s in storage.of_type(SG) if s["name"] == "efs-csi-sg"]
    assert not sg["inputs"].get("ingress") and not sg["inputs"].get("egress")
    nfs = storage.one(RULE, "efs-csi-nfs")
    assert storage.depends_on(nfs["urn"], sg["urn"])
    assert (nfs["inputs"]["ipProtocol"], nfs["inputs"]["fromPort"], nfs["inputs"]["toPort"]) == ("tcp", NFS_PORT,
                                                                                                 NFS_PORT)
    assert nfs["inputs"]["referencedSecurityGroupId"] and not nfs["inputs"].get("cidrIpv4")
    policy = json.loads(storage.one("aws:efs/fileSystemPolicy:FileSystemPolicy", "efs-csi-policy")["inputs"]["policy"])
    deny, allow = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert "elasticfilesystem:ClientRootAccess" not in allow["Action"]
    efs = storage_class(storage, "efs")["inputs"]
    assert not efs.get("mountOptions") and efs["parameters"]["provisioningMode"] == "efs-ap"
    pv = storage.one(PV)["inputs"]["spec"]
    assert not pv.get("mountOptions") and pv["persistentVolumeReclaimPolicy"] == "Retain"
    assert "volumeAttributes" not in pv["csi"]  # the driver's default, true; spec.csi is immutable (no replacement)


def test_new_iam_documents_pass_parliament(storage: Plan) -> None:
    docs = {n: d for n, d in iam_documents(storage).items() if n.startswith(("efs-csi", "ebs-csi"))}
    assert docs
    unexpected = [m for name, doc in docs.items() for m in unexpected_findings(name, doc)]
    assert not unexpected, "\n".join(unexpected)


def test_destroy_order_classes_then_drivers_then_nodes_mount_targets_then_network(storage: Plan) -> None:
    """`pulumi destroy` deletes a resource before what it depends on."""
    node_group = storage.one(MNG)["urn"]
    for name in ("aws-ebs-csi-driver", "aws-efs-csi-driver"):
        assert storage.depends_on(addon(storage, name)["urn"], node_group)
    for obj in (*storage.of_type(SC), *storage.of_type(PV)):
        driver = "aws-efs-csi-driver" if obj["name"].startswith("efs") else "aws-ebs-csi-driver"
        assert storage.depends_on(obj["urn"], addon(storage, driver)["urn"]), obj["name"]
    fs, sg = storage.one(FS)["urn"], storage.one(SG, "efs-csi-sg")["urn"]
    subnets = [s["urn"] for s in storage.of_type("aws:ec2/subnet:Subnet")]
    for mount in storage.of_type(MT):
        assert storage.depends_on(mount["urn"], fs) and storage.depends_on(mount["urn"], sg)
        assert any(storage.depends_on(mount["urn"], s) for s in subnets)
        for obj in (storage_class(storage, "efs"), storage.one(PV)):
            assert storage.depends_on(obj["urn"], mount["urn"])  # unmounted before its mount target goes
    assert storage.depends_on(storage.one(AP)["urn"], fs)
    # the app's claims (its namespace) go before the drivers, their classes and the static volume
    namespace = storage.one("kubernetes:core/v1:Namespace", "webapp-ns")["urn"]
    for obj in (*storage.of_type(SC), *storage.of_type(PV), addon(storage, "aws-ebs-csi-driver"),
                addon(storage, "aws-efs-csi-driver")):
        assert storage.depends_on(namespace, obj["urn"]), obj["name"]


def test_day2_efs_on_and_reclaim_policy_change(storage: Plan, variant: Callable[..., Plan]) -> None:
    """The storage stack before (EFS off, Retain; the lock `make bump` writes without the EFS add-on) and after:
    turning efsCsiEnabled on adds the EFS resources and replaces nothing but the gp3 class, whose reclaimPolicy is
    immutable (deleted first: its name is fixed). Turning it off removes exactly what it added. One extra render."""
    before = variant("storage", efsCsiEnabled=None, storageReclaimPolicy=None,
                     lock={"eksAddons": {"aws-efs-csi-driver": None}})
    on = what_up_does(before, storage)
    assert on["replace, delete first"] == {"StorageClass/ebs-csi"}
    assert diff_actions(before, storage)["StorageClass/ebs-csi"].reasons == ("reclaimPolicy (replaceOnChanges)",)
    assert {"FileSystem/efs-csi-fs", "MountTarget/efs-csi-mount-0", "MountTarget/efs-csi-mount-1",
            "AccessPoint/efs-csi-shared", "Addon/efs-csi", "StorageClass/efs-csi", "PersistentVolume/efs-csi-shared",
            "SecurityGroup/efs-csi-sg", "SecurityGroupIngressRule/efs-csi-nfs", "Role/efs-csi-irsa"} <= on["added"]
    assert not on["replace"] and not on["moved"] and not on["removed"] and not on["update"]
    off = what_up_does(storage, before)
    assert off["removed"] == on["added"] and not off["added"]
    # the review flags what turning it off destroys: the files (stateful) and the driver (shared)
    assert off["blocking"] == {"FileSystem/efs-csi-fs", "Addon/efs-csi"}


def test_cost_prices_claimed_gp3_and_stored_efs_gigabytes_at_the_usage_files_assumption(storage: Plan) -> None:
    from tools.review.cost import Usage, estimate, load_prices

    usage = Usage({"kubernetes:storage.k8s.io/v1:StorageClass": {"storage_gb": 100},
                   "aws:efs/fileSystem:FileSystem": {"storage_gb": 10}}, {})
    lines = {line.resource: line for line in estimate(storage, load_prices("us-east-1"), usage).lines
             if line.resource in ("ebs-csi", "efs-csi", "efs-csi-fs")}
    assert set(lines) == {"ebs-csi", "efs-csi-fs"}  # the efs class adds nothing beyond its file system's line
    assert (lines["ebs-csi"].unit_price, lines["ebs-csi"].monthly) == (0.08, pytest.approx(8.0))
    assert lines["efs-csi-fs"].monthly == pytest.approx(3.0)


def test_day2_switch_to_auto_mode_replaces_the_gp3_class_deleting_first(
        dev: Plan, variant: Callable[..., Plan]) -> None:
    """dev moved to auto-mode (the render test_automode.py's day-2 test makes): the class `gp3` passes from the EBS
    CSI driver to Auto Mode's provisioner (immutable), so Auto Mode's class claims the EbsCsi class's URN and the
    update replaces it, deleting first. Without the alias Pulumi would create Auto Mode's `gp3` while EbsCsi's still
    exists (removed resources go at the end of the update): the API server refuses the second `gp3`."""
    moved = variant("dev", lock={"charts": {"cluster-autoscaler": None, "aws-load-balancer-controller": None}},
                    nodeProvisioner="auto-mode", nodeMinSize=None, nodeDesiredSize=None, nodeMaxSize=None)
    out = what_up_does(dev, moved)
    [move] = [m for m in diff_plans(dev, moved).moved if m.change.ref.type == SC]
    assert (move.old.name, move.change.ref.name) == ("ebs-csi", "auto-mode-gp3")
    assert move.change.action and move.change.action.kind == "replace, delete first"
    assert "provisioner" in move.change.action.reasons
    # no StorageClass name is created while a removed (deleted at the end) resource still holds it
    created = {r["inputs"]["metadata"]["name"] for r in moved.of_type(SC)
               if f"StorageClass/{r['name']}" in out["added"]}
    held = {r["inputs"]["metadata"]["name"] for r in dev.of_type(SC) if f"StorageClass/{r['name']}" in out["removed"]}
    assert not created & held and "StorageClass/ebs-csi" not in out["removed"]
    assert "Addon/ebs-csi" in out["removed"] and "Addon/ebs-csi" in out["blocking"]  # docs/operations.md: claims


def test_auto_mode_gp3_class_is_replaced_deleting_first(automode: Plan) -> None:
    """storageReclaimPolicy changed on an Auto Mode stack replaces the class (reclaimPolicy is immutable): under the
    fixed name `gp3` a create-first replacement would fail, so it is built like EbsCsi's class."""
    [gp3] = automode.of_type(SC)
    assert gp3["inputs"]["metadata"]["name"] == "gp3"
    assert gp3["options"]["deleteBeforeReplace"] is True
