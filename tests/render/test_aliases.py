"""Aliases in the render: the engine's URNs and alias resolution (tools/render/aliases.py) on crafted data, the
aliases a small program declares as the render records them, and the program's own access-entry aliases."""

from __future__ import annotations

import pulumi
import pytest
from pulumi.runtime.proto import alias_pb2, resource_pb2

from tests.support.programs import program
from tools.render import Plan
from tools.render.aliases import Spec, engine_urn, resolve, spec_of_option, specs_of_request
from tools.review.diff import render_trees

P = "urn:pulumi:dev::aliases::"
STACK_URN = P + "pulumi:pulumi:Stack::aliases-dev"


# --- crafted data --------------------------------------------------------------------------------------------------

def test_engine_urns_skip_the_stack_and_carry_every_ancestor_type() -> None:
    app = engine_urn(STACK_URN, "test:index:App", "app", "aliases", "dev")
    assert app == P + "test:index:App::app"
    inner = engine_urn(app, "test:index:Inner", "in", "aliases", "dev")
    assert inner == P + "test:index:App$test:index:Inner::in"
    assert engine_urn(inner, "aws:s3/bucket:Bucket", "b", "aliases", "dev") == (
        P + "test:index:App$test:index:Inner$aws:s3/bucket:Bucket::b")


def _resolve(urn: str, parent: str, *specs: Spec, known: dict[str, list[str]] | None = None) -> list[str]:
    typ, name = urn.split("::")[2].split("$")[-1], urn.split("::")[3]
    return resolve(urn, typ, name, parent, specs, lambda u: (known or {}).get(u, []))


def test_each_kind_of_alias_becomes_the_urn_it_stands_for() -> None:
    app = P + "test:index:App::app"
    bucket = P + "test:index:App$test:index:Bucket::app-data"
    assert _resolve(bucket, app, Spec(name="data")) == [P + "test:index:App$test:index:Bucket::data"]
    assert _resolve(bucket, app, Spec(type="test:index:Blob")) == [P + "test:index:App$test:index:Blob::app-data"]
    assert _resolve(bucket, app, Spec(no_parent=True)) == [P + "test:index:Bucket::app-data"]
    old = P + "test:index:Old$test:index:Home::home"
    assert _resolve(bucket, app, Spec(parent=old)) == [P + "test:index:Old$test:index:Home$test:index:Bucket::app-data"]
    assert _resolve(bucket, app, Spec(parent=STACK_URN)) == [P + "test:index:Bucket::app-data"]  # the stack: top
    assert _resolve(bucket, app, Spec(urn="urn:pulumi:dev::aliases::x:y:Z::z")) == ["urn:pulumi:dev::aliases::x:y:Z::z"]
    topic = P + "test:index:Topic::topic"
    assert _resolve(topic, STACK_URN, Spec(stack="prod", project="other")) == [
        "urn:pulumi:prod::other::test:index:Topic::topic"]
    # under a parent, CreateURN takes stack and project from the parent's URN: this alias is the resource itself
    assert _resolve(bucket, app, Spec(stack="prod", project="other")) == []
    assert _resolve(bucket, app, Spec(name="app-data")) == []  # its own URN is no alias


def test_a_child_inherits_its_parents_aliases_with_the_parents_old_name() -> None:
    app = P + "test:index:App::app"
    known = {app: [P + "test:index:Application::application"]}
    data = P + "test:index:App$test:index:Bucket::app-data"
    # the name starts with the parent's: the parent's old name takes its place
    assert _resolve(data, app, known=known) == [P + "test:index:Application$test:index:Bucket::application-data"]
    other = P + "test:index:App$test:index:Bucket::logs"
    assert _resolve(other, app, known=known) == [P + "test:index:Application$test:index:Bucket::logs"]
    # its own alias, then the inherited one, then its own alias under the parent's old URN
    assert _resolve(other, app, Spec(name="log"), known=known) == [
        P + "test:index:App$test:index:Bucket::log", P + "test:index:Application$test:index:Bucket::logs",
        P + "test:index:Application$test:index:Bucket::log"]


def test_an_explicit_parent_that_was_aliased_stands_for_its_old_urns_too() -> None:
    home = P + "test:index:Home::home"
    known = {home: [P + "test:index:House::home"]}
    topic = P + "test:index:Topic::topic"
    assert _resolve(topic, STACK_URN, Spec(parent=home), known=known) == [
        P + "test:index:Home$test:index:Topic::topic", P + "test:index:House$test:index:Topic::topic"]


def test_request_aliases_are_read_from_specs_urns_and_the_older_alias_urns() -> None:
    request = resource_pb2.RegisterResourceRequest(
        aliasURNs=[P + "a:b:C::old"],
        aliases=[alias_pb2.Alias(urn=P + "a:b:C::older"),
                 alias_pb2.Alias(spec=alias_pb2.Alias.Spec(name="n", type="t:t:T", parentUrn=P + "p:p:P::p")),
                 alias_pb2.Alias(spec=alias_pb2.Alias.Spec(name="m", noParent=True))])
    assert specs_of_request(request) == [Spec(urn=P + "a:b:C::old"), Spec(urn=P + "a:b:C::older"),
                                         Spec(name="n", type="t:t:T", parent=P + "p:p:P::p"),
                                         Spec(name="m", no_parent=True)]


def test_transform_aliases_become_specs() -> None:
    assert spec_of_option(pulumi.Alias(name="old")) == Spec(name="old")
    assert spec_of_option(pulumi.Alias(type_="a:b:C", parent=None)) == Spec(type="a:b:C", no_parent=True)
    assert spec_of_option(P + "a:b:C::x") == Spec(urn=P + "a:b:C::x")
    assert spec_of_option(pulumi.Alias(name=pulumi.Output.from_input("x"))) is None  # not plain: not modelled


# --- a rendered program --------------------------------------------------------------------------------------------

ALIASED = '''import pulumi


class Box(pulumi.ComponentResource):
    def __init__(self, type_, name, opts=None):
        super().__init__(type_, name, None, opts)


home = Box("test:index:Old", "old-home")
app = Box("test:index:App", "app", pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="test:index:Application")]))
inner = Box("test:index:Inner", "app-inner", pulumi.ResourceOptions(parent=app))
pulumi.CustomResource("test:index:Bucket", "app-inner-x", {}, opts=pulumi.ResourceOptions(parent=inner))
pulumi.CustomResource("test:index:Bucket", "app-logs", {},
                      opts=pulumi.ResourceOptions(parent=app, aliases=[pulumi.Alias(name="app-log")]))
pulumi.CustomResource("test:index:Queue", "queue", {},
                      opts=pulumi.ResourceOptions(parent=app, aliases=[pulumi.Alias(parent=None)]))
pulumi.CustomResource("test:index:Topic", "topic", {}, opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(parent=home)]))
pulumi.CustomResource("test:index:Table", "table", {},
                      opts=pulumi.ResourceOptions(aliases=["urn:pulumi:dev::aliases::test:index:Legacy::tbl"]))
pulumi.CustomResource("test:index:Renamed", "new-name", {},
                      opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old-name")]))
'''


@pytest.fixture(scope="module")
def aliased(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    tmp = tmp_path_factory.mktemp("aliases")
    (plan,) = render_trees([program(tmp / "tree", ALIASED, project="aliases")], "dev", None, tmp, salt="00")
    return plan


def test_the_render_records_each_alias_as_the_urns_the_engine_would_try(aliased: Plan) -> None:
    aliases = {r["urn"][len(P):]: [a[len(P):] for a in r["aliases"]] for r in aliased.resources}
    assert aliases == {
        "test:index:Old::old-home": [],
        "test:index:App::app": ["test:index:Application::app"],
        # a child of an aliased component, and a grandchild: under the old type of the whole chain
        "test:index:App$test:index:Inner::app-inner": ["test:index:Application$test:index:Inner::app-inner"],
        "test:index:App$test:index:Inner$test:index:Bucket::app-inner-x": [
            "test:index:Application$test:index:Inner$test:index:Bucket::app-inner-x"],
        "test:index:App$test:index:Bucket::app-logs": [
            "test:index:App$test:index:Bucket::app-log", "test:index:Application$test:index:Bucket::app-logs",
            "test:index:Application$test:index:Bucket::app-log"],
        "test:index:App$test:index:Queue::queue": ["test:index:Queue::queue",
                                                    "test:index:Application$test:index:Queue::queue"],
        "test:index:Topic::topic": ["test:index:Old$test:index:Topic::topic"],
        "test:index:Table::table": ["test:index:Legacy::tbl"],
        "test:index:Renamed::new-name": ["test:index:Renamed::old-name"],
    }


def test_provider_sdk_aliases_are_recorded_too(dev: Plan) -> None:
    """pulumi_kubernetes declares the older API versions of a kind as aliases: the render shows them."""
    deployment = dev.one("kubernetes:apps/v1:Deployment")
    assert deployment["urn"].replace("apps/v1:", "apps/v1beta1:") in deployment["aliases"]
    assert dev.one("aws:ec2/vpc:Vpc")["aliases"] == []


def test_the_access_entry_aliases_the_program_declares_show_in_the_render(prod: Plan, dev: Plan) -> None:
    """keep_access_entries (infra/eks/cluster.py) is a transform pulumi-eks applies to the access entries it declares
    inside the cluster; the mock never sees those, so the render models them (tools/render/fakes.py
    remote_children) and records what the transform makes of them on the component."""
    from infra.eks.cluster import access_entry_key

    (arn,) = prod.config["webstack:adminPrincipalArns"]
    cluster = prod.one("eks:index:Cluster")
    entry = cluster["urn"].replace("::cluster-eks", "$aws:eks/accessEntry:AccessEntry::cluster-eks")
    association = entry.replace("AccessEntry::",
                                "AccessEntry$aws:eks/accessPolicyAssociation:AccessPolicyAssociation::")
    key = access_entry_key(arn)
    assert cluster["childAliases"] == {
        f"{entry}-{key}": [f"{entry}-admin-0"],
        f"{association}-{key}-cluster-admin": [f"{association}-admin-0-cluster-admin"]}
    assert "childAliases" not in dev.one("eks:index:Cluster")  # no admin principals: no entries


def test_urns_are_the_engines(dev: Plan) -> None:
    """The stock MockMonitor names a top-level resource `pulumi:pulumi:Stack$...` and a grandchild by its parent's
    type only; deployed stacks (and `pulumi stack --show-urns`) have the whole chain below the stack."""
    role = next(r for r in dev.of_type("aws:iam/role:Role") if r["name"] == "platform-cluster-autoscaler-irsa")
    assert role["urn"] == ("urn:pulumi:dev::webstack::webstack:addons:PlatformAddons$webstack:autoscaler:"
                           "ClusterAutoscaler$aws:iam/role:Role::platform-cluster-autoscaler-irsa")
    assert dev.one("webstack:network:Network")["urn"] == "urn:pulumi:dev::webstack::webstack:network:Network::network"
    assert not any("pulumi:pulumi:Stack$" in r["urn"] for r in dev.resources)

