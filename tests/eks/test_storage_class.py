"""The StorageClass specs (infra/eks/storage_class.py): plain data, strictly valid Kubernetes objects, encrypted."""

from __future__ import annotations

import kubernetes_validate
import pytest

from infra.config import DEFAULT_KUBERNETES_VERSION
from infra.eks.storage_class import (
    AUTO_MODE_EBS_PROVISIONER,
    DEFAULT_CLASS_ANNOTATION,
    EBS_CSI_PROVISIONER,
    efs_class_spec,
    gp3_class_spec,
    storage_class_spec,
)


@pytest.mark.parametrize("provisioner", [EBS_CSI_PROVISIONER, AUTO_MODE_EBS_PROVISIONER])
def test_gp3_is_the_encrypted_default_class_made_where_its_pod_runs(provisioner: str) -> None:
    spec = gp3_class_spec(provisioner=provisioner, reclaim_policy="Retain")
    kubernetes_validate.validate(spec, DEFAULT_KUBERNETES_VERSION, strict=True)
    assert spec["provisioner"] == provisioner
    assert spec["parameters"] == {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"}
    assert spec["metadata"]["annotations"][DEFAULT_CLASS_ANNOTATION] == "true"
    assert (spec["volumeBindingMode"], spec["allowVolumeExpansion"], spec["reclaimPolicy"]) == (
        "WaitForFirstConsumer", True, "Retain")


def test_gp3_takes_a_customer_key() -> None:
    spec = gp3_class_spec(provisioner=EBS_CSI_PROVISIONER, reclaim_policy="Delete",
                          kms_key_id="arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert spec["parameters"]["kmsKeyId"].startswith("arn:aws:kms:")
    assert spec["reclaimPolicy"] == "Delete"


def test_efs_class_makes_an_access_point_per_claim_over_tls() -> None:
    spec = efs_class_spec(file_system_id="fs-0123456789abcdef0", reclaim_policy="Retain")
    kubernetes_validate.validate(spec, DEFAULT_KUBERNETES_VERSION, strict=True)
    assert spec["parameters"]["provisioningMode"] == "efs-ap"
    assert "mountOptions" not in spec  # `tls` is deprecated: the driver adds it for every access point mount
    assert spec["metadata"]["annotations"][DEFAULT_CLASS_ANNOTATION] == "false"
    assert spec["allowVolumeExpansion"] is False


@pytest.mark.parametrize("bad", [{"reclaim_policy": "Recycle"}, {"binding_mode": "Later"}])
def test_refuses_what_the_api_refuses(bad: dict[str, str]) -> None:
    args = {"name": "x", "provisioner": EBS_CSI_PROVISIONER, "parameters": {}, "reclaim_policy": "Delete",
            "binding_mode": "Immediate", "default": False, "expandable": False} | bad
    with pytest.raises(ValueError, match=next(iter(bad))):
        storage_class_spec(**args)  # type: ignore[arg-type]


def test_gp3_refuses_a_provisioner_that_is_not_ebs() -> None:
    with pytest.raises(ValueError, match="provisioner"):
        gp3_class_spec(provisioner="efs.csi.aws.com", reclaim_policy="Delete")


def test_gp3_tags_its_volumes_with_the_stacks_tags_and_refuses_the_drivers_keys() -> None:
    spec = gp3_class_spec(provisioner=EBS_CSI_PROVISIONER, reclaim_policy="Retain",
                          volume_tags={"stack": "dev", "project": "webstack"})
    assert {k: v for k, v in spec["parameters"].items() if k.startswith("tag")} == {
        "tagSpecification_1": "project=webstack", "tagSpecification_2": "stack=dev"}
    with pytest.raises(ValueError, match="kubernetes.io"):
        gp3_class_spec(provisioner=EBS_CSI_PROVISIONER, reclaim_policy="Retain",
                       volume_tags={"kubernetes.io/cluster/x": "owned"})


@pytest.mark.parametrize("tags", [
    {"CSIVolumeName": "x"}, {"CSIVolumeSnapshotName": "x"}, {"ebs.csi.aws.com/cluster": "true"},
    {"ebs.csi.aws.com/cluster-name": "c"}, {"aws:cloudformation:stack-name": "s"}, {"stack": "{{ .PVCName }}"},
    {"a=b": "c"}])
def test_gp3_refuses_every_key_the_ebs_driver_reserves_and_template_values(tags: dict[str, str]) -> None:
    """pkg/driver/validation.go and pkg/cloud (the driver's own tags; `aws:` is AWS's); tagSpecification values are
    Go templates to the driver (docs/tagging.md): `{{` would be interpolated, not written."""
    with pytest.raises(ValueError, match="volume_tags"):
        gp3_class_spec(provisioner=EBS_CSI_PROVISIONER, reclaim_policy="Retain", volume_tags=tags)
