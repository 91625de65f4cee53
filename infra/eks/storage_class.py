"""StorageClass specs as plain data: pure functions, no resources, so every block-storage provisioner of the stack
(the EBS CSI add-on `ebs.csi.aws.com`; EKS Auto Mode's built-in `ebs.csi.eks.amazonaws.com`) declares the same
encrypted gp3 default class, and the EFS class is checked the same way.

Facts the specs rely on (checked upstream):
- EBS CSI driver StorageClass parameters (kubernetes-sigs/aws-ebs-csi-driver docs/parameters.md): `type` (gp3 ...),
  `encrypted` ("true"/"false", default false), `kmsKeyId` (a key ARN; unset: the account's default EBS key,
  alias/aws/ebs), `csi.storage.k8s.io/fstype` (ext4 default, case sensitive).
- EFS CSI driver (kubernetes-sigs/aws-efs-csi-driver docs/parameters.md): `provisioningMode: efs-ap` (an access
  point per claim), `fileSystemId`, `directoryPerms` (required), `basePath`. Encryption in transit is the driver's
  default, and an access point mount always adds `tls` (pkg/driver/node.go); `tls` in mountOptions is deprecated
  there (it logs a warning), so the class declares none.
- Kubernetes: a StorageClass's parameters, provisioner, reclaimPolicy and volumeBindingMode cannot be updated (the
  API server refuses); pulumi-kubernetes replaces it only for parameters and provisioner (provider/pkg/provider/
  diff.go): IMMUTABLE_FIELDS makes the other two replace as well. The name is fixed (claims and volumes name their
  class), so the replacement deletes first (Pulumi does so for a fixed name): for a moment no default class exists,
  and a claim made then gets the default once the new class is there (retroactive default StorageClass
  assignment, GA in Kubernetes 1.28). Bound volumes keep working: a volume names its class, it does not need it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# The provisioners of this project's classes.
EBS_CSI_PROVISIONER = "ebs.csi.aws.com"
AUTO_MODE_EBS_PROVISIONER = "ebs.csi.eks.amazonaws.com"
EFS_CSI_PROVISIONER = "efs.csi.aws.com"
EBS_PROVISIONERS = (EBS_CSI_PROVISIONER, AUTO_MODE_EBS_PROVISIONER)
RECLAIM_POLICIES = ("Retain", "Delete")
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
# What a change replaces besides parameters and provisioner (pulumi-kubernetes' own forceNew): replaceOnChanges.
IMMUTABLE_FIELDS = ("reclaimPolicy", "volumeBindingMode")
GP3_CLASS = "gp3"
EFS_CLASS = "efs"
# Dynamic EFS volumes (an access point each) live under this directory, apart from the static volume's.
EFS_DYNAMIC_BASE = "/dynamic"
# The access point's root directory mode for each dynamic claim: owner only (the driver's docs use 700).
EFS_DIRECTORY_PERMS = "700"
# Tag keys the EBS CSI driver refuses or writes itself (kubernetes-sigs/aws-ebs-csi-driver pkg/driver/validation.go,
# pkg/cloud: CSIVolumeName, CSIVolumeSnapshotName, ebs.csi.aws.com/cluster; kubernetes.io and aws: prefixes) and its
# own namespace (ebs.csi.aws.com/, e.g. ebs.csi.aws.com/cluster-name).
RESERVED_TAG_KEYS = ("CSIVolumeName", "CSIVolumeSnapshotName")
RESERVED_TAG_PREFIXES = ("kubernetes.io", "aws:", "ebs.csi.aws.com/")


def storage_class_spec(*, name: str, provisioner: str, parameters: Mapping[str, Any], reclaim_policy: str,
                       binding_mode: str, default: bool, expandable: bool,
                       mount_options: Sequence[str] = ()) -> dict[str, Any]:
    """A storage.k8s.io/v1 StorageClass (the object as the API takes it). `default` annotates it as the cluster's
    default class, and explicitly "false" otherwise (so nothing relies on an absent annotation)."""
    if reclaim_policy not in RECLAIM_POLICIES:
        raise ValueError(f"reclaim_policy={reclaim_policy!r}: one of {', '.join(RECLAIM_POLICIES)}")
    if binding_mode not in ("Immediate", "WaitForFirstConsumer"):
        raise ValueError(f"binding_mode={binding_mode!r}: Immediate or WaitForFirstConsumer")
    spec: dict[str, Any] = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "pulumi"},
                     "annotations": {DEFAULT_CLASS_ANNOTATION: "true" if default else "false"}},
        "provisioner": provisioner,
        "parameters": dict(parameters),
        "reclaimPolicy": reclaim_policy,
        "volumeBindingMode": binding_mode,
        "allowVolumeExpansion": expandable,
    }
    if mount_options:
        spec["mountOptions"] = list(mount_options)
    return spec


def gp3_class_spec(*, provisioner: str, reclaim_policy: str, kms_key_id: str | None = None,
                   volume_tags: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The cluster's default class: encrypted gp3 (the account's EBS key unless `kms_key_id`), ext4,
    WaitForFirstConsumer (an EBS volume lives in one zone: it is made where the pod's node is, not before the pod is
    scheduled), expandable. `provisioner`: the EBS CSI add-on's or Auto Mode's (EBS_PROVISIONERS).

    `volume_tags` go on every volume the class makes, as `tagSpecification_<n>: "key=value"` parameters (the EBS
    CSI driver's docs/tagging.md, "StorageClass Tagging"): the stack's project and stack tags, so `make down` lists
    volumes a Retain policy left (tools/down.py asks for those tags). The driver's reserved keys (RESERVED_TAG_KEYS,
    RESERVED_TAG_PREFIXES) and template values are refused here, not when a claim fails to provision."""
    if provisioner not in EBS_PROVISIONERS:
        raise ValueError(f"provisioner={provisioner!r}: one of {', '.join(EBS_PROVISIONERS)}")
    parameters = {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"}
    if kms_key_id:
        parameters["kmsKeyId"] = kms_key_id
    tags = sorted((volume_tags or {}).items())
    bad = [f"{key!r}: {value!r}" for key, value in tags
           if key in RESERVED_TAG_KEYS or key.startswith(RESERVED_TAG_PREFIXES) or "=" in key or "{{" in value]
    if bad:
        raise ValueError(f"volume_tags {', '.join(bad)}: keys other than {', '.join(RESERVED_TAG_KEYS)} and not "
                         f"under {', '.join(RESERVED_TAG_PREFIXES)} (the driver's and AWS's), without '='; values "
                         "without '{{' (the driver reads them as templates)")
    for i, (key, value) in enumerate(tags, start=1):
        parameters[f"tagSpecification_{i}"] = f"{key}={value}"
    return storage_class_spec(name=GP3_CLASS, provisioner=provisioner, parameters=parameters,
                              reclaim_policy=reclaim_policy, binding_mode="WaitForFirstConsumer", default=True,
                              expandable=True)


def efs_class_spec(*, file_system_id: Any, reclaim_policy: str) -> dict[str, Any]:
    """Dynamic EFS volumes: an access point per claim under EFS_DYNAMIC_BASE, TLS in transit (the driver adds it
    for every access point mount; no mount option). With reclaim policy Delete the driver deletes the claim's access
    point, not its directory (delete-access-point-root-dir is false by default: docs/nodes.md). Immediate: the file
    system is regional (a mount target in every private subnet). Not expandable: EFS has no size to grow."""
    parameters = {"provisioningMode": "efs-ap", "fileSystemId": file_system_id,
                  "directoryPerms": EFS_DIRECTORY_PERMS, "basePath": EFS_DYNAMIC_BASE}
    return storage_class_spec(name=EFS_CLASS, provisioner=EFS_CSI_PROVISIONER, parameters=parameters,
                              reclaim_policy=reclaim_policy, binding_mode="Immediate", default=False,
                              expandable=False)
