"""The pinned CRD schemas (tests/data/crds/) as strict JSON schemas, for validating custom resources offline."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from tools.render import ROOT

CRDS = ROOT / "tests" / "data" / "crds"


def crd_schema(folder: str, file: str, version: str = "v1") -> dict[str, Any]:
    """The CRD's served `version` openAPIV3Schema as a strict JSON schema: an object that lists its properties
    refuses others (the API server prunes unknown fields; here they fail, as kubectl's strict field validation
    does). `folder`: the tests/data/crds/ folder, e.g. karpenter-1.14.1."""
    crd = yaml.safe_load((CRDS / folder / file).read_text())
    [served] = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = copy.deepcopy(served["schema"]["openAPIV3Schema"])

    def strict(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                strict(value)
        elif isinstance(node, list):
            for value in node:
                strict(value)

    strict(schema)
    # metadata is the API server's (ObjectMeta), not the CRD's.
    schema["properties"]["metadata"] = {"type": "object"}
    return schema
