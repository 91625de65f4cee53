"""Views of a Plan that reviewers and validators read: Kubernetes manifests, Helm releases, IAM documents."""

from __future__ import annotations

import json
from typing import Any

from . import Plan
from .values import plain_copy

_NOT_MANIFESTS = ("kubernetes:helm.sh/", "pulumi:providers:")


def kubernetes_objects(plan: Plan) -> dict[str, dict[str, Any]]:
    """Every declared Kubernetes object (not Helm releases), keyed `<kind>-<namespace>-<name>`."""
    out: dict[str, dict[str, Any]] = {}
    for r in plan.resources:
        if not r["custom"] or not r["type"].startswith("kubernetes:") or r["type"].startswith(_NOT_MANIFESTS):
            continue
        obj = plain_copy(r["inputs"])  # a view must never alias the plan it came from
        meta = obj.get("metadata") or {}
        key = f"{obj['kind']}-{meta.get('namespace') or 'cluster'}-{meta.get('name')}".lower()
        out[key] = obj
    return out


def helm_releases(plan: Plan) -> dict[str, dict[str, Any]]:
    """Every Helm release: chart, version, repository, namespace and values, keyed by release name."""
    out: dict[str, dict[str, Any]] = {}
    for r in plan.of_type("kubernetes:helm.sh/v3:Release"):
        i = r["inputs"]
        out[i.get("name") or r["name"]] = {
            "chart": i.get("chart"), "version": i.get("version"),
            "repo": (i.get("repositoryOpts") or {}).get("repo"), "namespace": i.get("namespace"),
            "values": plain_copy(i.get("values") or {}),
        }
    return out


_IAM_FIELDS = {
    "aws:iam/role:Role": ("assumeRolePolicy", "trust"),
    "aws:iam/rolePolicy:RolePolicy": ("policy", "policy"),
    "aws:iam/policy:Policy": ("policy", "policy"),
    "aws:kms/key:Key": ("policy", "key-policy"),
    "aws:sns/topicPolicy:TopicPolicy": ("policy", "topic-policy"),
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": ("policyDocument", "log-policy"),
}


def iam_documents(plan: Plan) -> dict[str, dict[str, Any]]:
    """Every IAM document (trust and permissions), parsed, keyed `<resource name>-<trust|policy>`."""
    out: dict[str, dict[str, Any]] = {}
    for r in plan.resources:
        if r["type"] not in _IAM_FIELDS:
            continue
        field, suffix = _IAM_FIELDS[r["type"]]
        raw = r["inputs"].get(field)
        if isinstance(raw, str) and raw:
            out[f"{r['name']}-{suffix}"] = json.loads(raw)
    return out
