"""The replacement data (tools/review/data/replacements.json): current with its sources, in the pinned SDK's names,
and covering every resource type the stacks render, so a new type cannot silently diff as an update."""

from __future__ import annotations

import json

import pytest

from tools import replacements as gen
from tools.render import Plan
from tools.review import replace as rp


def test_the_data_is_what_the_sources_give(capsys: pytest.CaptureFixture[str]) -> None:
    # `make replacements --check` in this process, whose renders have imported the SDK modules it reads (a fresh
    # interpreter paid ~3 s CPU for them): the one test that this file is current (tests/tools/test_generate.py)
    assert gen.main(["--check"]) == 0, capsys.readouterr().err


def test_the_check_fails_on_stale_data(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stale = tmp_path / "replacements.json"
    data = json.loads(gen.OUTPUT.read_text())
    data["types"]["aws:ec2/vpc:Vpc"]["replace"].remove("cidrBlock")
    stale.write_text(gen.text(data))
    monkeypatch.setattr(gen, "OUTPUT", stale)
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    assert gen.main(["--check"]) == 1


def test_every_rendered_type_has_replacement_data(dev: Plan, prod: Plan, fargate: Plan, spot: Plan, ec2: Plan,
                                                  sidecars: Plan, automode: Plan,
                                                  variant) -> None:  # type: ignore[no-untyped-def]
    data = rp.load()
    plans = [dev, prod, fargate, spot, ec2, sidecars, automode, variant("govcloud")]
    rendered = {r["type"] for p in plans for r in p.resources}
    assert not {t for t in rendered if data.rules(t) is None}, "add these types to replacement-sources.yaml"
    # the check itself: a type the data lacks is found
    del data.types["aws:ec2/vpc:Vpc"]
    try:
        assert "aws:ec2/vpc:Vpc" in {t for t in rendered if data.rules(t) is None}
    finally:
        rp.load.cache_clear()


def test_paths_are_the_pinned_sdks_names_nested_and_pluralised() -> None:
    assert gen.pulumi_path("aws:ecs/service:Service", "capacity_provider_strategy.weight") == (
        "capacityProviderStrategies.weight")
    assert gen.pulumi_path("aws:ecs/service:Service", "deployment_controller.type") == "deploymentController.type"
    assert gen.pulumi_path("aws:eks/nodeGroup:NodeGroup", "launch_template.id") == "launchTemplate.id"
    # a top-level attribute pulumi-aws renames is given by the entry, and still checked against the SDK
    assert gen.pulumi_path("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm_name", {"alarm_name": "name"}) == "name"
    assert gen.pulumi_path("aws:sns/topicSubscription:TopicSubscription", "topic_arn", {"topic_arn": "topic"}) == (
        "topic")
    with pytest.raises(LookupError, match="no `alarm_name`"):
        gen.pulumi_path("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm_name")
    with pytest.raises(LookupError, match="no `cidr_blok`"):
        gen.pulumi_path("aws:ec2/vpc:Vpc", "cidr_blok")
    types = json.loads(gen.OUTPUT.read_text())["types"]
    assert types["aws:ec2/subnet:Subnet"]["replace"][:3] == ["availabilityZone", "availabilityZoneId", "cidrBlock"]
    assert "region" in types["aws:ec2/vpc:Vpc"]["replace"] and "region" not in types["aws:route53/zone:Zone"]["replace"]
    assert types["aws:lb/targetGroup:TargetGroup"]["autoname"] == "name"  # optional in the SDK: auto-named
    assert "autoname" not in types["aws:route53/record:Record"]  # required in the SDK: never auto-named


GO = '''
func resourceThing() *schema.Resource {
	return &schema.Resource{
		Schema: map[string]*schema.Schema{
			names.AttrName: {
				Type:     schema.TypeString,
				Required: true,
				ForceNew: true,
			},
			"block": {
				Type: schema.TypeList,
				Elem: &schema.Resource{
					Schema: map[string]*schema.Schema{
						"inner": {
							Type:     schema.TypeString,
							ForceNew: true,
						},
						"free": {Type: schema.TypeString, Optional: true},
					},
				},
			},
			names.AttrVPCID: {
				Type:     schema.TypeString,
				ForceNew: true,
			},
			"tags": tftags.TagsSchema(),
		},
	}
}
'''


def test_the_terraform_reading_aid_finds_nested_force_new_attributes() -> None:
    assert gen.terraform_force_new(GO) == ["name", "block.inner", "vpc_id"]


K8S_GO = '''
var forceNew = _groups{
	"apps": _versions{
		"v1": _kinds{
			"Deployment": deployment},
	},
	"core": core,
}

var core = _versions{
	"v1": _kinds{
		"Service": properties{
			".spec.clusterIP",
		},
	},
}

var deployment = append(
	properties{
		".spec.selector",
	},
	labelSelectorForceNewProperties(".spec.selector")...,
)

func labelSelectorForceNewProperties(prefix string) properties {
	return properties{
		prefix + ".matchLabels",
	}
}
'''


def test_the_kubernetes_table_is_read_from_diff_go() -> None:
    assert gen.parse_kubernetes_diff_go(K8S_GO) == {
        "apps/v1/Deployment": [".spec.selector", ".spec.selector.matchLabels"],
        "core/v1/Service": [".spec.clusterIP"]}
