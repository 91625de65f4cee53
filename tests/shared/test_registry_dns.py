"""Registry (ECR) and Dns (Route 53 zone + ACM) components, and the common tags on every AWS resource."""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi
import pytest

from infra.dns import checked_zone_id
from infra.registry import lifecycle_policy
from policy.aws import UNTAGGED  # the one list of AWS types that take no tags
from tools.render import Plan
from tools.review.cost import estimate, load_prices
from tools.review.diagram import build_graph

REPO = "aws:ecr/repository:Repository"
CERT = "aws:acm/certificate:Certificate"
RECORD = "aws:route53/record:Record"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_repository_is_immutable_scanned_and_encrypted(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    repo = plan.one(REPO)["inputs"]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["encryptionConfigurations"] == [{"encryptionType": "AES256"}]
    # only the throwaway dev stack may delete a repository that still holds images
    assert repo["forceDelete"] is (stack == "dev")


def test_each_stack_gets_its_own_repository(dev: Plan, prod: Plan, variant: Callable[..., Plan]) -> None:
    """Review finding 5: ECR repository names are unique per account and region; two stacks there must not both
    default to `webapp` (the second fails with RepositoryAlreadyExistsException). A stack deployed before keeps
    its repository by setting repositoryName (docs/operations.md)."""
    assert dev.one(REPO)["inputs"]["name"] == "webstack-dev/webapp"
    assert prod.one(REPO)["inputs"]["name"] == "webstack-prod/webapp"
    assert variant("dev", repositoryName="webapp").one(REPO)["inputs"]["name"] == "webapp"


def test_kms_encryption_by_config(variant: Callable[..., Plan]) -> None:
    arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    repo = variant("dev", registryEncryption="KMS", registryKmsKeyArn=arn).one(REPO)["inputs"]
    assert repo["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": arn}]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_lifecycle_policy_is_valid_ecr_lifecycle_json(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    lp = plan.one("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert lp["inputs"]["repository"] == plan.one(REPO)["inputs"]["name"]
    rules = json.loads(lp["inputs"]["policy"])["rules"]
    priorities = [r["rulePriority"] for r in rules]
    assert len(set(priorities)) == len(priorities) and all(isinstance(p, int) and p > 0 for p in priorities)
    for rule in rules:
        assert set(rule) <= {"rulePriority", "description", "selection", "action"}
        assert rule["action"] == {"type": "expire"}
        sel = rule["selection"]
        assert sel["tagStatus"] in ("tagged", "untagged", "any")
        assert sel["countType"] in ("imageCountMoreThan", "sinceImagePushed")
        assert isinstance(sel["countNumber"], int) and sel["countNumber"] >= 1
        assert ("countUnit" in sel) == (sel["countType"] == "sinceImagePushed")
        if sel["countType"] == "sinceImagePushed":
            assert sel["countUnit"] == "days"
    # ECR: the tagStatus=any rule must have the highest rulePriority
    any_rule = next(r for r in rules if r["selection"]["tagStatus"] == "any")
    assert any_rule["rulePriority"] == max(priorities)
    untagged = next(r for r in rules if r["selection"]["tagStatus"] == "untagged")
    assert untagged["selection"]["countNumber"] == 14 and any_rule["selection"]["countNumber"] == 30


def test_lifecycle_policy_uses_its_arguments() -> None:
    rules = lifecycle_policy(3, 7)["rules"]
    assert [r["selection"]["countNumber"] for r in rules] == [3, 7]


def test_dev_looks_up_the_zone_and_creates_none(dev: Plan) -> None:
    assert dev.of_type("aws:route53/zone:Zone") == []
    lookups = [i for i in dev.invokes if i["token"] == "aws:route53/getZone:getZone"]
    assert lookups == [{"token": "aws:route53/getZone:getZone", "args": {"name": "example.com", "privateZone": False}}]
    zone_id = next(r for r in dev.of_type(RECORD))["inputs"]["zoneId"]
    assert zone_id.startswith("Z")


def test_a_zone_id_picks_the_zone_when_the_account_has_several_of_that_name(variant: Callable[..., Plan]) -> None:
    """By name, terraform-provider-aws's aws_route53_zone lookup fails when several public zones match; zoneId
    looks the zone up by ID, and everything that names the zone (records, ExternalDNS's filter) gets that ID."""
    plan = variant("dev", zoneId="Z0123456789ABCDEFGHIJ")
    lookups = [i["args"] for i in plan.invokes if i["token"] == "aws:route53/getZone:getZone"]
    assert lookups == [{"zoneId": "Z0123456789ABCDEFGHIJ"}]
    assert {r["inputs"]["zoneId"] for r in plan.of_type(RECORD)} == {"Z0123456789ABCDEFGHIJ"}
    [dns] = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "external-dns"]
    assert "--zone-id-filter=Z0123456789ABCDEFGHIJ" in dns["inputs"]["values"]["extraArgs"]
    # the review tools name the zone by its ID (they read the lookup's arguments: a KeyError on "name" before)
    label = " ".join(build_graph(plan).nodes["zone"].label.split())  # the diagram wraps long labels
    assert label == "Route 53 zone ID Z0123456789ABCDEFGHIJ (looked up)"
    assert "Route 53 zone ID Z0123456789ABCDEFGHIJ is looked up, not created: billed where it lives." in estimate(
        plan, load_prices(plan.region)).notes


def test_a_zone_id_of_another_or_a_private_zone_is_refused_at_the_lookup() -> None:
    assert checked_zone_id("Z1", "example.com", "Z1", "example.com.", False) == "Z1"
    with pytest.raises(pulumi.RunError, match=r"zoneId Z1 is the zone 'other.com', not zoneName 'example.com'"):
        checked_zone_id("Z1", "example.com", "Z1", "other.com", False)
    with pytest.raises(pulumi.RunError, match="is a private zone"):
        checked_zone_id("Z1", "example.com", "Z1", "example.com", True)


def test_prod_creates_a_protected_zone_and_exports_its_name_servers(prod: Plan) -> None:
    zone = prod.one("aws:route53/zone:Zone")
    assert zone["inputs"]["name"] == "prod.example.com"
    assert zone["options"]["protect"] is True and zone["inputs"]["forceDestroy"] is False
    assert prod.outputs["zone_name_servers"] == zone["state"]["nameServers"]
    assert not [i for i in prod.invokes if i["token"] == "aws:route53/getZone:getZone"]
    for record in prod.of_type(RECORD):
        assert record["inputs"]["zoneId"] == zone["state"]["zoneId"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_certificate_is_dns_validated_for_the_hostname_and_the_validated_arn_is_exported(
        request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    cert = plan.one(CERT)
    host = {"dev": "app.example.com", "prod": "www.prod.example.com"}[stack]
    assert cert["inputs"]["domainName"] == host and cert["inputs"]["validationMethod"] == "DNS"
    names = [host, *(cert["inputs"].get("subjectAlternativeNames") or [])]
    validation = plan.one("aws:acm/certificateValidation:CertificateValidation")
    assert validation["inputs"]["certificateArn"] == cert["state"]["arn"]
    records = plan.of_type(RECORD)
    assert len(records) == len(names)
    assert sorted(validation["inputs"]["validationRecordFqdns"]) == sorted(r["state"]["fqdn"] for r in records)
    expected = {o["resourceRecordName"]: o["resourceRecordValue"] for o in cert["state"]["domainValidationOptions"]}
    for r in records:
        assert r["inputs"]["type"] == "CNAME" and r["inputs"]["records"] == [expected[r["inputs"]["name"]]]
        assert set(r["dependencies"]) >= {cert["urn"]}
    # the exported ARN comes out of CertificateValidation, i.e. only once ACM has issued it
    assert plan.outputs["certificate_arn"] == validation["state"]["certificateArn"]


def test_wildcard_and_apex_share_one_validation_record(variant: Callable[..., Plan]) -> None:
    plan = variant("dev", certificateExtraNames=["*.app.example.com", "www.example.com"])
    assert plan.one(CERT)["inputs"]["subjectAlternativeNames"] == ["*.app.example.com", "www.example.com"]
    assert len(plan.of_type(RECORD)) == 2


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_taggable_aws_resource_carries_the_common_tags(request: pytest.FixtureRequest, stack: str) -> None:
    plan: Plan = request.getfixturevalue(stack)
    checked = 0
    for r in plan.resources:
        if not r["custom"] or not r["type"].startswith("aws:") or r["type"] in UNTAGGED:
            continue
        tags = r["inputs"].get("tags") or r["inputs"].get("tagSpecifications") and {}
        assert tags, f"{r['type']} {r['name']} has no tags"
        assert tags["project"] == "webstack" and tags["stack"] == stack and tags["managed-by"] == "pulumi", r["name"]
        checked += 1
    assert checked >= 15
    if stack == "prod":
        assert plan.one("aws:ec2/vpc:Vpc")["inputs"]["tags"]["cost-center"] == "platform"
