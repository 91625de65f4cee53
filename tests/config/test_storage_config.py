"""Storage keys (issue 19): storageReclaimPolicy and efsCsiEnabled, which add-ons a config installs (and so what its
lock must pin), and their refusals: every problem names the key and what is allowed. Plain data, no render."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.config import ConfigError, LockError, LockFile, load_config
from infra.config import lock as lock_module
from infra.config.cluster import EBS_CSI_ADDON, EFS_CSI_ADDON, required_eks_addons
from tests.support import committed_lock

EKS_RAW: dict[str, Any] = {"zoneName": "example.com", "hostname": "app.example.com",
                           "publicAccessCidrs": ["203.0.113.0/24"]}
EFS_VERSION = "v2.0.7-eksbuild.1"


def load(raw: dict[str, Any], lock: Any | None = None) -> Any:
    path = lock_module.PROJECT_ROOT / lock_module.lock_name("t")  # in a folder of no stack file: never read
    return load_config({**EKS_RAW, **raw}, project="webstack", stack="t", region="us-east-1",
                       lock=None if lock is None else LockFile(path, lock))


def problems(raw: dict[str, Any], lock: Any | None = None, error: type[ConfigError] = ConfigError) -> list[str]:
    with pytest.raises(error) as err:
        load(raw, lock)
    return err.value.problems


def lock_with(**addons: str | None) -> dict[str, Any]:
    doc = copy.deepcopy(committed_lock("dev"))
    for name, version in addons.items():
        if version is None:
            doc["eksAddons"].pop(name, None)
        else:
            doc["eksAddons"][name] = version
    return doc


def test_defaults_retain_volumes_and_no_efs() -> None:
    cfg = load({})
    assert (cfg.addons.storage_reclaim_policy, cfg.addons.efs_csi_enabled) == ("Retain", False)
    assert EBS_CSI_ADDON in required_eks_addons(cfg) and EFS_CSI_ADDON not in required_eks_addons(cfg)


@pytest.mark.parametrize("raw", [{}, {"nodeProvisioner": "karpenter"}, {"efsCsiEnabled": True}])
def test_the_ebs_driver_is_installed_under_both_provisioners_efs_by_key(raw: dict[str, Any]) -> None:
    installed = required_eks_addons(load(raw))
    assert installed[-1 if not raw.get("efsCsiEnabled") else -2] == EBS_CSI_ADDON
    assert (EFS_CSI_ADDON in installed) == bool(raw.get("efsCsiEnabled"))


@pytest.mark.parametrize(("value", "allowed"), [
    ("Recycle", "allowed: Retain, Delete"), ("retain", "allowed: Retain, Delete"), ("", "allowed: Retain, Delete"),
    (True, "must be a string")])
def test_a_reclaim_policy_must_be_retain_or_delete(value: Any, allowed: str) -> None:
    [line] = problems({"storageReclaimPolicy": value})
    assert line.startswith(f"webstack:storageReclaimPolicy = {value!r}: {allowed}")


@pytest.mark.parametrize("value", ["yes", 1, "true "])
def test_efs_csi_enabled_is_a_boolean(value: Any) -> None:
    [line] = problems({"efsCsiEnabled": value})
    assert line == f"webstack:efsCsiEnabled = {value!r}: must be true or false"


def test_storage_keys_are_refused_on_ecs() -> None:
    [line] = problems({"runtime": "ecs", "efsCsiEnabled": True, "storageReclaimPolicy": "Delete"})
    assert "efsCsiEnabled" in line and "storageReclaimPolicy" in line and "runtime 'eks' only" in line


def test_a_pin_of_an_addon_not_installed_is_refused() -> None:
    [line] = problems({"addonVersions": {EFS_CSI_ADDON: EFS_VERSION}})
    assert line.startswith("webstack:addonVersions") and "efsCsiEnabled" in line and "remove the pin" in line
    assert load({"addonVersions": {EFS_CSI_ADDON: EFS_VERSION}, "efsCsiEnabled": True}).cluster.addon_versions


def test_the_lock_must_pin_exactly_the_installed_csi_drivers() -> None:
    [missing] = problems({}, lock_with(**{EBS_CSI_ADDON: None}), LockError)
    assert missing.startswith(f"eksAddons.{EBS_CSI_ADDON} is missing")
    [efs_missing] = problems({"efsCsiEnabled": True}, lock_with(), LockError)
    assert efs_missing.startswith(f"eksAddons.{EFS_CSI_ADDON} is missing")
    [unused] = problems({}, lock_with(**{EFS_CSI_ADDON: EFS_VERSION}), LockError)
    assert unused.startswith(f"eksAddons.{EFS_CSI_ADDON}: this config does not install")
    cfg = load({"efsCsiEnabled": True}, lock_with(**{EFS_CSI_ADDON: EFS_VERSION}))
    assert cfg.versions.eks_addons[EFS_CSI_ADDON] == EFS_VERSION
