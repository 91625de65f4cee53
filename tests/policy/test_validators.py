"""Real third-party validators on everything the stack renders: Kubernetes schemas, IAM linter,
the ExternalDNS chart's values schema, and the published controller IAM policy."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import jsonschema
import kubernetes_validate
import pytest

from infra import iam
from infra.config import DEFAULT_KUBERNETES_VERSION
from tests.support.iam_lint import ALLOWLIST, allowed, findings, unexpected_findings
from tools.render import ROOT, Plan
from tools.render.artifacts import helm_releases, iam_documents, kubernetes_objects

SHARED_REFERENCE = ROOT.parent / "shared" / "reference"
# sha256 of iam_policy.json as AWS publishes it for aws-load-balancer-controller v3.5.0
PUBLISHED_ALB_POLICY_SHA256 = "16f232c9d9f79366fe949c4550ad517a202380058a9e48d45a4e215044a20a6a"


def plans(request: pytest.FixtureRequest, variant: Callable[..., Plan]) -> list[Plan]:
    return [request.getfixturevalue("dev"), request.getfixturevalue("prod"), variant("dev", serviceType="ClusterIP"),
            variant("eks-fargate")]


def test_every_kubernetes_object_passes_strict_schema_validation(request: pytest.FixtureRequest,
                                                                 variant: Callable[..., Plan]) -> None:
    checked = 0
    for plan in plans(request, variant):
        for key, obj in kubernetes_objects(plan).items():
            try:
                kubernetes_validate.validate(obj, DEFAULT_KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as err:
                pytest.fail(f"{plan.stack} {key}: {err}")
            checked += 1
    assert checked >= 27


def test_kubernetes_validation_catches_a_broken_object(dev: Plan) -> None:
    bad = json.loads(json.dumps(kubernetes_objects(dev)["deployment-webapp-webapp"]))
    bad["spec"]["template"]["spec"]["containers"][0]["securityContxt"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, DEFAULT_KUBERNETES_VERSION, strict=True)








def test_allowlist_entries_each_give_a_reason() -> None:
    for entry in ALLOWLIST:
        assert set(entry) == {"document", "issue", "detail", "reason"} and len(entry["reason"]) > 40


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_iam_document_passes_parliament_except_allowlisted_findings(request: pytest.FixtureRequest,
                                                                          stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    docs = iam_documents(plan)
    mode = {"dev": "irsa", "prod": "pod-identity"}[stack]  # both webstack:workloadIdentity modes' trusts
    assert {"cluster-node-trust", f"platform-alb-controller-{mode}-trust", "platform-alb-controller-policy",
            f"platform-external-dns-{mode}-trust", "platform-external-dns-policy"} <= set(docs)
    unexpected = [message for name, doc in docs.items() for message in unexpected_findings(name, doc)]
    assert not unexpected, "\n".join(unexpected)


def test_parliament_still_reports_what_the_allowlist_does_not_cover() -> None:
    # ExternalDNS's policy with a typo'd action and a wildcard change permission must fail.
    doc = iam.external_dns_policy("arn:aws:route53:::hostedzone/Z1")
    doc["Statement"][0]["Action"] = "route53:ChangeResourceRecordSet"
    found = [f for f in findings(doc) if not allowed("platform-external-dns-policy", f)]
    assert any(f.issue == "UNKNOWN_ACTION" for f in found)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_external_dns_values_pass_the_charts_schema(request: pytest.FixtureRequest, stack: str) -> None:
    schema = json.loads((iam.DATA / "external-dns-1.21.1-values.schema.json").read_text())
    values = helm_releases(request.getfixturevalue(stack))["external-dns"]["values"]
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(values), key=str)
    assert not errors, [e.message for e in errors]
    broken = {**values, "policy": "delete-everything"}
    assert list(validator.iter_errors(broken))


def test_controller_policy_is_the_published_one(dev: Plan) -> None:
    data = iam.DATA / "aws-load-balancer-controller-3.5.0-iam-policy.json"
    assert hashlib.sha256(data.read_bytes()).hexdigest() == PUBLISHED_ALB_POLICY_SHA256
    published = SHARED_REFERENCE / "aws-load-balancer-controller-3.5.0" / "iam_policy.json"
    if published.exists():  # the reference copy beside the repo, where there is one
        assert json.loads(published.read_text()) == json.loads(data.read_text())
    rendered = iam_documents(dev)["platform-alb-controller-policy"]
    assert rendered == json.loads(data.read_text())
    actions = json.dumps(rendered)
    # the action the demo's stale policy lacked (AccessDenied on DescribeListenerAttributes)
    assert "elasticloadbalancing:DescribeListenerAttributes" in actions


def test_external_dns_schema_is_the_published_one() -> None:
    published = SHARED_REFERENCE / "external-dns-1.21.1" / "values.schema.json"
    if not published.exists():
        pytest.skip(f"no reference copy at {published}")
    assert json.loads(published.read_text()) == json.loads(
        (iam.DATA / "external-dns-1.21.1-values.schema.json").read_text())
