"""appOnFargate in the loader (infra/config/fargate.py): what EKS Fargate cannot do is refused by name, all problems
at once, with what is allowed; the Fargate size a pod gets follows the EKS User Guide's table. Config only: no
render."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError, load_config
from infra.config.fargate import POD_SIZES, PodSize, app_pod_size, pod_size, warnings

VALID: dict[str, Any] = {"zoneName": "example.com", "hostname": "app.example.com",
                         "publicAccessCidrs": ["203.0.113.0/24"]}
# A Fargate-ready app: ClusterIP (target type ip), limits within its size (0.25 vCPU, 0.5 GiB: 256Mi + 256 MiB).
ON_FARGATE: dict[str, Any] = {"appOnFargate": True, "serviceType": "ClusterIP", "appCpuRequest": "250m",
                              "appCpuLimit": "250m", "appMemoryRequest": "256Mi", "appMemoryLimit": "256Mi"}


def load(raw: dict[str, Any], region: str = "us-east-1") -> Any:
    return load_config({**VALID, **raw}, project="webstack", stack="t", region=region)


def problems_of(raw: dict[str, Any], region: str = "us-east-1") -> list[str]:
    with pytest.raises(ConfigError) as err:
        load(raw, region)
    return err.value.problems


def test_off_by_default_and_a_fargate_ready_app_is_accepted() -> None:
    assert load({}).app.on_fargate is False
    cfg = load(ON_FARGATE)
    assert cfg.app.on_fargate and cfg.app.target_type == "ip"
    assert app_pod_size(cfg) == PodSize(0.25, 0.5)


def test_every_refusal_at_once_each_naming_its_keys_the_reason_and_what_is_allowed() -> None:
    found = problems_of({"appOnFargate": True, "serviceType": "NodePort", "nodeInstanceTypes": ["m7g.large"],
                         "appCpuRequest": "500m", "appCpuLimit": "2", "appMemoryRequest": "1Gi",
                         "appMemoryLimit": "4Gi"}, region="us-gov-west-1")
    expected = {
        "webstack:appOnFargate/serviceType = True/'NodePort'": ("IP targets only", "set serviceType to ClusterIP"),
        "webstack:appOnFargate/nodeInstanceTypes": ("Arm processors", "choose x86_64 nodeInstanceTypes"),
        "webstack:appOnFargate/aws:region": ("GovCloud", "set appOnFargate to false"),
        "webstack:appOnFargate/appCpuRequest/appMemoryRequest/appCpuLimit/appMemoryLimit": (
            "(0.5 vCPU, 2 GiB for these requests)", "appCpuLimit 2 > the 0.5 vCPU",
            "appMemoryLimit 4Gi > the 1792 MiB left of 2 GiB", "lower the limits"),
    }
    for prefix, fragments in expected.items():
        [line] = [p for p in found if p.startswith(prefix)]
        for fragment in fragments:
            assert fragment in line, (fragment, line)


def test_requests_beyond_the_largest_fargate_pod_are_refused() -> None:
    [line] = [p for p in problems_of({**ON_FARGATE, "appCpuRequest": "16", "appCpuLimit": "16",
                                      "appMemoryRequest": "120Gi", "appMemoryLimit": "120Gi"})
              if p.startswith("webstack:appOnFargate/appCpuRequest")]
    assert "exceed the largest Fargate pod (16 vCPU and 120 GB)" in line and "plus 256 MiB" in line


def test_the_node_fit_rules_do_not_apply_to_pods_on_fargate() -> None:
    """A pod larger than every node is refused on nodes, accepted on Fargate (it uses no node)."""
    big = {"appCpuRequest": "4", "appCpuLimit": "4", "appMemoryRequest": "8Gi", "appMemoryLimit": "8Gi",
           "nodeInstanceTypes": ["t3.medium"]}
    assert any("fits no node" in p for p in problems_of(big))
    assert app_pod_size(load({**ON_FARGATE, **big})) == PodSize(4, 9)


def test_an_ecs_stack_cannot_set_it() -> None:
    [line] = problems_of({"runtime": "ecs", "appOnFargate": True})
    assert line.startswith("webstack:runtime/appOnFargate") and "for runtime 'eks' only" in line


@pytest.mark.parametrize(("millicores", "mib", "size"), [
    (0, 0, PodSize(0.25, 0.5)),            # nothing requested: the smallest combination
    (250, 256, PodSize(0.25, 0.5)),        # 256 + 256 MiB = 0.5 GiB exactly
    (250, 257, PodSize(0.25, 1)),
    (1000, 8 * 1024, PodSize(2, 9)),       # the guide's example: 1 vCPU + 8 GB -> 2 vCPU, 9 GB
    (4001, 1, PodSize(8, 16)),
    (16000, 120 * 1024 - 256, PodSize(16, 120)),
    (16000, 120 * 1024 - 255, None),
    (16001, 1, None),
])
def test_pod_size_rounds_requests_plus_256_mib_up_to_a_combination(millicores: int, mib: int,
                                                                   size: PodSize | None) -> None:
    assert pod_size(millicores, mib) == size


def test_the_size_table_is_the_guides() -> None:
    """fargate-pod-configuration.adoc: 2 vCPU 4-16 GB and 4 vCPU 8-30 GB in 1 GB steps, 8 vCPU 16-60 GB and 16 vCPU
    32-120 GB in 4 and 8 GB steps."""
    table = dict(POD_SIZES)
    assert table[0.25] == (0.5, 1, 2) and table[0.5] == (1, 2, 3, 4) and table[1] == tuple(range(2, 9))
    assert (table[2][0], table[2][-1], len(table[2])) == (4, 16, 13)
    assert (table[4][0], table[4][-1], len(table[4])) == (8, 30, 23)
    assert (table[8][0], table[8][-1], len(table[8])) == (16, 60, 12)
    assert (table[16][0], table[16][-1], len(table[16])) == (32, 120, 12)


def test_the_unenforced_network_policy_is_said_on_every_up() -> None:
    assert warnings(load({})) == []
    [message] = warnings(load(ON_FARGATE))
    assert "NetworkPolicy (webapp/webapp) is not enforced on Fargate" in message

