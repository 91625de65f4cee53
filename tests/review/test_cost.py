"""`make cost`: monthly estimate lines against hand computation, the price data's sources, usage, regions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.render import ROOT, TEST_STACKS, Plan, render
from tools.review import cost as cost_module
from tools.review import diff as diff_module
from tools.review.cost import (
    HANDLERS,
    PRICES_DIR,
    CostLine,
    Estimate,
    NoPriceDataError,
    Usage,
    estimate,
    format_markdown,
    format_text,
    load_prices,
    load_usage,
)

HOURS = 730
# The usage the tests assume, independent of the user-editable usage.yml at the root.
USAGE = Usage(defaults={"aws:ec2/natGateway:NatGateway": {"monthly_data_processed_gb": 100},
                        "aws:cloudwatch/logGroup:LogGroup": {"monthly_ingestion_gb": 5},
                        "alb": {"average_lcu": 2},
                        "aws:ecr/repository:Repository": {"storage_gb": 5},
                        "aws:efs/fileSystem:FileSystem": {"storage_gb": 10},
                        "aws:ec2/vpcEndpoint:VpcEndpoint": {"monthly_data_processed_gb": 10},
                        "aws:wafv2/webAcl:WebAcl": {"monthly_requests_millions": 10}},
              resources={"network-flow-logs": {"monthly_ingestion_gb": 20}})


def price_file(region: str) -> dict[str, float]:
    """The unit prices straight from the data file (not through the estimator)."""
    data = yaml.safe_load((PRICES_DIR / f"{region}.yaml").read_text())
    return {k: float(v["price"]) for k, v in data["prices"].items()}


def lines_of(e: Estimate, resource: str) -> dict[str, CostLine]:
    return {line.component.split(" (")[0]: line for line in e.lines if line.resource == resource}


# --- the price data ------------------------------------------------------------------------------------------------

def test_every_price_has_a_source_and_a_date() -> None:
    files = sorted(PRICES_DIR.glob("*-*-[0-9].yaml"))
    assert {f.stem for f in files} >= {"us-east-1", "eu-west-1"}
    for path in files:
        data = yaml.safe_load(path.read_text())
        assert data["region"] == path.stem and data["currency"] == "USD"
        dt.date.fromisoformat(str(data["as_of"]))
        assert data["prices"], path
        for key, p in data["prices"].items():
            assert set(p) >= {"price", "unit", "source", "date", "basis"}, (path.name, key)
            assert isinstance(p["price"], (int, float)) and p["price"] >= 0, (path.name, key)
            assert re.fullmatch(r"https://\S+", str(p["source"])), (path.name, key)
            assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", str(p["date"])), (path.name, key)
            assert str(p["basis"]).strip(), (path.name, key)
    support = yaml.safe_load((PRICES_DIR / "eks-support.yaml").read_text())
    assert all(re.fullmatch(r"https://\S+", s["url"]) and s["date"] for s in support["sources"])
    for version, window in support["versions"].items():
        assert window["released"] < window["end_of_standard"] < window["end_of_extended"], version


def test_a_region_without_prices_says_so_and_never_borrows_another(
        variant: Callable[..., Plan], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NoPriceDataError, match="no price data for region ap-south-2.*never used"):
        load_prices("ap-south-2")
    with pytest.raises(NoPriceDataError, match="prices are for us-east-1, the stack runs in eu-west-1"):
        estimate(variant("prod"), load_prices("us-east-1"), USAGE)
    elsewhere = variant("dev", **{"aws:region": "ap-south-2"})
    monkeypatch.setattr(cost_module, "render", lambda *a, **k: elsewhere)
    assert cost_module.main(["--stack", "dev", "--stacks", "tests/stacks"]) == 0
    out = capsys.readouterr().out
    assert "no price data for region ap-south-2" in out and "$" not in out


# --- hand-computed lines and totals --------------------------------------------------------------------------------

def test_dev_single_nat_gateway_is_its_hourly_price_times_730(dev: Plan) -> None:
    p = price_file("us-east-1")
    nat = lines_of(estimate(dev, load_prices("us-east-1"), USAGE), "network-nat-0")
    assert nat["NAT gateway hours"].unit_price == p["nat.hour"] == 0.045
    assert nat["NAT gateway hours"].quantity == HOURS
    assert nat["NAT gateway hours"].monthly == pytest.approx(32.85)  # 0.045 x 730, by hand
    assert nat["NAT data processed"].monthly == pytest.approx(100 * p["nat.data"])
    assert nat["public IPv4 address"].monthly == pytest.approx(p["ipv4.hour"] * HOURS)


def test_dev_total_matches_an_independent_computation(dev: Plan) -> None:
    p = price_file("us-east-1")
    e = estimate(dev, load_prices("us-east-1"), USAGE)
    retention_months = 90 / (365 / 12)  # the control plane log group keeps 90 days
    expected = {
        "EKS control plane (1.35, standard support)": p["eks.cluster.standard"] * HOURS,
        "2 x t3.medium nodes": 2 * p["ec2.t3.medium"] * HOURS,
        "2 x 30 GB gp3 root volumes": 2 * 30 * p["ebs.gp3"],
        "one NAT gateway": p["nat.hour"] * HOURS + 100 * p["nat.data"],
        "its Elastic IP": p["ipv4.hour"] * HOURS,
        "ALB": p["alb.hour"] * HOURS + 2 * p["alb.lcu"] * HOURS,
        "ALB public IPv4 in 2 AZs": 2 * p["ipv4.hour"] * HOURS,
        "KMS key": p["kms.key"],
        "control plane logs": 5 * p["logs.ingestion"] + 5 * retention_months * p["logs.storage"],
        "ECR": 5 * p["ecr.storage"],
        "S3 gateway endpoint": 0.0,
        "alarm topic KMS key": p["kms.key"],
        # the alarms by metric: the 5xx rate reads 3, no healthy target and p99 latency 1 each
        "alarms": (3 + 1 + 1) * p["cloudwatch.alarm.standard"],
        "dashboard": p["cloudwatch.dashboard"],
    }
    assert e.total == pytest.approx(sum(expected.values()))
    assert not e.unpriced
    # the node group's range: 2 to 3 nodes (instances and their volumes)
    extra_node = p["ec2.t3.medium"] * HOURS + 30 * p["ebs.gp3"]
    assert (e.total_low, e.total_high) == (pytest.approx(e.total), pytest.approx(e.total + extra_node))
    text = format_text(e)
    assert f"TOTAL ${e.total:,.2f} per month (range ${e.total_low:,.2f} - ${e.total_high:,.2f})" in text
    assert "Route 53 zone example.com is looked up, not created" in text
    markdown = format_markdown(e)
    assert f"**${e.total:,.2f} per month**" in markdown and "<details><summary>Cost lines</summary>" in markdown
    assert "| network-nat-0 | NAT gateway hours | $0.045/NAT gateway-hour | 730.00 | $32.85 |" in markdown


def test_prod_total_matches_an_independent_computation_unpriced_only_where_no_price_was_found(prod: Plan) -> None:
    p = price_file("eu-west-1")
    e = estimate(prod, load_prices("eu-west-1"), USAGE)
    # log storage at steady state: a year of ingestion for 365-day retention (flow logs 20 GB a month, the control
    # plane 5 GB: USAGE)
    logs = (20 + 5) * p["logs.ingestion"] + (20 * 12 + 5 * 12) * p["logs.storage"]
    expected = (p["eks.cluster.standard"] * HOURS
                + 3 * (p["nat.hour"] * HOURS + 100 * p["nat.data"] + p["ipv4.hour"] * HOURS)  # NAT per AZ + EIPs
                + 3 * p["ipv4.hour"] * HOURS  # the ALB in 3 public subnets
                + (p["alb.hour"] + 2 * p["alb.lcu"]) * HOURS  # the ALB itself, 2 LCU on average (USAGE)
                + 3 * p["ec2.m6i.large"] * HOURS  # 3 nodes, priced as the first type, m6i.large
                + 3 * 50 * p["ebs.gp3"]  # 3 nodes' 50 GiB gp3 root volumes (the nodeDiskSizeGb default)
                + logs + 5 * p["ecr.storage"]  # 5 GB of images (USAGE)
                + p["route53.zone"] + p["kms.key"]  # the created zone, the secrets key
                + p["kms.key"]  # the alarm topic's key
                + 5 * p["logs.ingestion"] + 5 * 90 / (365 / 12) * p["logs.storage"]  # WAF logs: 5 GB, 90 days
                # WAF (one price in every region, AWS): the ACL, its 4 rules, 10 million requests (USAGE)
                + p["waf.web_acl"] + 4 * p["waf.rule"] + 10 * p["waf.requests"])
    assert e.total == pytest.approx(expected)
    # What stays UNPRICED: issue 20's alarms, dashboard and alarm e-mails, whose eu-west-1 prices no published
    # source gave (tools/review/prices/eu-west-1.yaml says so); every other line of the example is priced.
    unpriced = {(line.resource, line.component.split(" (")[0]) for line in e.unpriced}
    assert unpriced == {
        *((f"alarms-{k}", "CloudWatch standard-resolution alarm") for k in ("five-xx-rate", "no-healthy-targets",
                                                                              "latency-p99")),
        ("alarms-dashboard", "CloudWatch dashboard"),
        ("alarms-email-d11be87d59", "SNS e-mail notifications"),
    }
    # each unpriced line names the key the eu-west-1 file lacks; each priced line's key is in the file
    missing = {re.search(r"no '([^']+)' price", line.note).group(1) for line in e.unpriced}
    assert missing == {"cloudwatch.alarm.standard", "cloudwatch.dashboard", "sns.email"}
    assert not missing & set(p)
    nodes = lines_of(e, "cluster-nodes")
    assert "priced as the first, m6i.large" in nodes["m6i.large instances"].note
    assert (nodes["m6i.large instances"].quantity, nodes["m6i.large instances"].low_quantity,
            nodes["m6i.large instances"].high_quantity) == (3 * HOURS, 3 * HOURS, 9 * HOURS)
    assert nodes["m6i.large instances"].unit_price == 0.107  # half the extract's m6i.xlarge, $0.214
    gp3 = nodes["gp3 volumes"]
    assert gp3.unit_price == p["ebs.gp3"] == 0.088
    assert (gp3.quantity, gp3.low_quantity, gp3.high_quantity) == (150, 150, 450)
    assert (gp3.monthly, gp3.high) == (pytest.approx(13.2), pytest.approx(39.6))  # 150 and 450 GB x $0.088, by hand
    alb = lines_of(e, "webapp-ingress")
    assert alb["ALB hours"].monthly == pytest.approx(0.0252 * 730)  # $18.40, as the Cost Explorer extract says
    assert "5 line(s) UNPRICED (not in the total)" in format_text(e)


def test_a_large_cost_increase_is_flagged_over_either_threshold() -> None:
    from tools.review.cost import Budget, budget_flag, default_budget, format_delta

    def total(amount: float) -> Estimate:
        return Estimate("s", "eu-west-1", (_line(unit_price=amount),))

    assert default_budget() == Budget(100.0, 20.0)  # the keys' defaults (infra/config/review.py)
    assert budget_flag(total(1000), total(1099)) == ""  # +$99, +9.9%: under both
    assert "+$101.00 a month (+10%)" in budget_flag(total(1000), total(1101))  # over the dollar threshold
    assert "+$25.00 a month (+25%)" in budget_flag(total(100), total(125))  # over the percentage
    assert budget_flag(total(100), total(20)) == ""  # a decrease is never flagged
    assert "from nothing" in budget_flag(total(0), total(5))
    markdown = format_delta(total(100), total(125), "main", markdown=True)
    assert "**⚠️ Large cost increase" in markdown and "<!-- cost-flag -->" in markdown
    assert "WARNING: Large cost increase" in format_delta(total(100), total(125), "main")
    assert "cost-flag" not in format_delta(total(100), total(110), "main", markdown=True)


def test_the_thresholds_are_the_stacks_own_config(dev: Plan, variant: Callable[..., Plan],
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """costIncreaseLimitUsd / costIncreaseLimitPercent in the stack file (the working tree's) decide the flag of
    `make cost BASE=...` and of the review comment (which runs that command)."""
    from tools.review.cost import Budget, budget_flag, budget_of

    def total(amount: float) -> Estimate:
        return Estimate("s", "eu-west-1", (_line(unit_price=amount),))

    def with_config(p: Plan, **keys: Any) -> Plan:
        config = {**p.config, **{f"webstack:{k}": v for k, v in keys.items()}}
        return Plan(p.stack, p.resources, p.invokes, p.outputs, config=config)

    assert budget_of(dev) == Budget(100.0, 20.0)  # the test dev stack sets neither key
    strict = with_config(dev, costIncreaseLimitUsd=10, costIncreaseLimitPercent="5")  # CLI strings too
    assert budget_of(strict) == Budget(10.0, 5.0)
    assert budget_flag(total(1000), total(1020)) == ""  # +$20, +2%: under the defaults
    assert "(+$10.00 a month or +5%: costIncreaseLimitUsd" in budget_flag(total(1000), total(1020), budget_of(strict))
    with pytest.raises(ValueError, match="webstack:costIncreaseLimitPercent.*0 to 10000"):
        budget_of(with_config(dev, costIncreaseLimitPercent=-1))
    # `make cost BASE=...` of a second NAT gateway (the render the NAT test uses): the working tree's thresholds
    per_az = variant("dev", natStrategy="per-az")
    strictest = with_config(per_az, costIncreaseLimitUsd=0, costIncreaseLimitPercent=0)
    loosest = with_config(per_az, costIncreaseLimitUsd=1_000_000, costIncreaseLimitPercent=10_000)
    for head, flagged in ((strictest, True), (loosest, False)):
        monkeypatch.setattr(diff_module, "render_pair", lambda *a, h=head, **k: (dev, h, "0123456789abcdef"))
        monkeypatch.setattr(cost_module, "load_usage", lambda path=None: USAGE)
        assert cost_module.main(["--stack", "dev", "--stacks", "tests/stacks", "--base", "main"]) == 0
        assert ("WARNING: Large cost increase" in capsys.readouterr().out) is flagged


def test_nat_strategy_changes_the_total_by_exactly_one_gateway_and_its_address(
        dev: Plan, variant: Callable[..., Plan], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    p, prices = price_file("us-east-1"), load_prices("us-east-1")
    per_az = variant("dev", natStrategy="per-az")  # 2 AZs: a second NAT gateway and its Elastic IP
    single, double = estimate(dev, prices, USAGE), estimate(per_az, prices, USAGE)
    one_more = p["nat.hour"] * HOURS + 100 * p["nat.data"] + p["ipv4.hour"] * HOURS
    assert double.total - single.total == pytest.approx(one_more)
    # `make cost BASE=...` prints that difference (the two plans stand in for the base and working tree renders)
    monkeypatch.setattr(diff_module, "render_pair", lambda *a, **k: (dev, per_az, "0123456789abcdef"))
    monkeypatch.setattr(cost_module, "load_usage", lambda path=None: USAGE)
    assert cost_module.main(["--stack", "dev", "--stacks", "tests/stacks", "--base", "main"]) == 0
    out = capsys.readouterr().out
    assert f"Monthly cost change against main (0123456789ab): +${one_more:,.2f}" in out
    assert f"network-nat-1  NAT gateway hours: $0.00 -> ${p['nat.hour'] * HOURS:,.2f}" in out


def test_extended_support_follows_the_kubernetes_version_at_the_data_date(dev: Plan) -> None:
    prices = load_prices("us-east-1")
    assert prices.as_of == dt.date(2026, 11, 22)
    cluster = dev.one("eks:index:Cluster")

    def control_plane(version: str) -> CostLine:
        r = {**cluster, "inputs": {**cluster["inputs"], "version": version}}
        e = estimate(Plan(dev.stack, [r], [], {}, config=dev.config), prices, USAGE)
        return e.lines[0]

    # 1.34 is in standard support until 2026-12-02; 1.33 and 1.31 are in extended support on 2026-11-22
    assert (control_plane("1.35").unit_price, control_plane("1.34").unit_price) == (0.10, 0.10)
    assert control_plane("1.33").unit_price == control_plane("1.31").unit_price == 0.60
    assert "extended support" in control_plane("1.33").component
    old = control_plane("1.29")  # past extended support: auto-upgraded to a version still in extended support
    assert old.unit_price == 0.60 and "past the end of extended support" in old.note
    assert control_plane("1.36").unit_price == 0.10 and "newer than the support calendar" in control_plane("1.36").note


def test_usage_overrides_per_resource_and_the_documented_usage_file(dev: Plan, tmp_path: Path) -> None:
    custom = tmp_path / "usage.yml"
    custom.write_text("defaults:\n  aws:ec2/natGateway:NatGateway:\n    monthly_data_processed_gb: 7\n"
                      "resources:\n  network-nat-0:\n    monthly_data_processed_gb: 1000\n")
    nat = lines_of(estimate(dev, load_prices("us-east-1"), load_usage(custom)), "network-nat-0")
    assert nat["NAT data processed"].quantity == 1000  # the resource's own entry beats the type default
    documented = yaml.safe_load((ROOT / "usage.yml").read_text())
    assert set(documented["defaults"]) <= set(HANDLERS) | {"alb"}  # every default is for a type the estimate reads
    assert load_usage(ROOT / "usage.yml").value("aws:ec2/natGateway:NatGateway", "x", "monthly_data_processed_gb") > 0


# --- resources of the ECS runtime and friends, by their pulumi-aws 7.51.1 input names, rendered under mocks ---------

CRAFTED = '''
import json
import pulumi
import pulumi_aws as aws

td = aws.ecs.TaskDefinition("web", family="web", cpu="512", memory="1024", network_mode="awsvpc",
    requires_compatibilities=["FARGATE"], runtime_platform={"cpu_architecture": "X86_64",
    "operating_system_family": "LINUX"},
    container_definitions=json.dumps([{"name": "web", "image": "nginx", "essential": True}]))
# A family alone is a valid taskDefinition (its latest ACTIVE revision); it links the service to its task
# definition whether or not the fakes give task definitions an ARN.
svc = aws.ecs.Service("web", name="web", cluster="main", task_definition=td.family, desired_count=4,
    capacity_provider_strategies=[{"capacity_provider": "FARGATE", "weight": 1, "base": 1},
                                  {"capacity_provider": "FARGATE_SPOT", "weight": 2}])
arm = aws.ecs.TaskDefinition("worker", family="worker", cpu="256", memory="512", network_mode="awsvpc",
    requires_compatibilities=["FARGATE"], runtime_platform={"cpu_architecture": "ARM64",
    "operating_system_family": "LINUX"},
    container_definitions=json.dumps([{"name": "worker", "image": "busybox", "essential": True}]))
aws.ecs.Service("worker", name="worker", cluster="main", task_definition=arm.family, desired_count=1,
    launch_type="FARGATE")
aws.ecs.Service("on-ec2", name="on-ec2", cluster="main", task_definition=arm.family, desired_count=3,
    launch_type="EC2")
aws.appautoscaling.Target("web", service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
    resource_id=svc.name.apply(lambda n: f"service/main/{n}"), min_capacity=2, max_capacity=10)
lt = aws.ec2.LaunchTemplate("ecs-hosts", instance_type="t3.large", block_device_mappings=[
    {"device_name": "/dev/xvda", "ebs": {"volume_size": 40, "volume_type": "gp3"}}])
aws.autoscaling.Group("ecs-hosts", min_size=1, max_size=4, desired_capacity=2,
    launch_template={"id": lt.id, "version": "$Latest"}, vpc_zone_identifiers=["subnet-a", "subnet-b"])
aws.efs.FileSystem("shared", encrypted=True)
aws.lb.LoadBalancer("public", load_balancer_type="application", internal=False,
    subnets=["subnet-a", "subnet-b", "subnet-c"])
aws.ec2.VpcEndpoint("ecr-api", vpc_id="vpc-1", service_name="com.amazonaws.us-east-1.ecr.api",
    vpc_endpoint_type="Interface", subnet_ids=["subnet-a", "subnet-b"])
'''


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    root = tmp_path_factory.mktemp("crafted")
    (root / "Pulumi.yaml").write_text("name: crafted\nruntime: python\n")
    (root / "__main__.py").write_text(CRAFTED)
    return render("dev", root=root, stacks=TEST_STACKS)  # only its aws:region (us-east-1) matters here


def test_ecs_fargate_service_with_spot_split_and_autoscaling_range(crafted: Plan) -> None:
    p = price_file("us-east-1")
    web = lines_of(estimate(crafted, load_prices("us-east-1"), USAGE), "web")
    # 4 tasks: FARGATE gets its base 1, the other 3 go 1:2 by weight -> 2 on FARGATE, 2 on FARGATE_SPOT
    vcpu, memory = web["Fargate vCPU"], web["Fargate memory"]
    assert vcpu.quantity == pytest.approx(2 * 0.5 * HOURS) and memory.quantity == pytest.approx(2 * 1 * HOURS)
    assert vcpu.monthly == pytest.approx(2 * 0.5 * HOURS * p["fargate.vcpu"])
    assert memory.monthly == pytest.approx(2 * 1 * HOURS * p["fargate.gb"])
    # the auto scaling target (2-10 tasks) gives the range, FARGATE's half of it
    assert (vcpu.low_quantity, vcpu.high_quantity) == (pytest.approx(1 * 0.5 * HOURS), pytest.approx(5 * 0.5 * HOURS))
    spot = web["Fargate Spot vCPU"]
    # no fixed Spot rate: priced at the on-demand rate as a ceiling, and the line says so
    assert spot.unit_price == p["fargate.spot.vcpu"] == p["fargate.vcpu"] and spot.quantity == pytest.approx(
        2 * 0.5 * HOURS) and "CEILING: Spot priced at the on-demand rate" in spot.note
    worker = lines_of(e := estimate(crafted, load_prices("us-east-1"), USAGE), "worker")  # launchType FARGATE, ARM
    assert worker["Fargate ARM vCPU"].monthly == pytest.approx(0.25 * HOURS * p["fargate.arm.vcpu"])
    assert worker["Fargate ARM memory"].monthly == pytest.approx(0.5 * HOURS * p["fargate.arm.gb"])
    on_ec2 = [line for line in e.lines if line.resource == "on-ec2"]
    assert [(line.monthly, "priced with its Auto Scaling group" in line.note) for line in on_ec2] == [(0.0, True)]


def test_autoscaling_group_efs_load_balancer_and_interface_endpoint(crafted: Plan) -> None:
    p = price_file("us-east-1")
    e = estimate(crafted, load_prices("us-east-1"), USAGE)
    hosts = lines_of(e, "ecs-hosts")
    assert hosts["t3.large instances"].monthly == pytest.approx(2 * p["ec2.t3.large"] * HOURS)
    assert (hosts["t3.large instances"].low, hosts["t3.large instances"].high) == (
        pytest.approx(p["ec2.t3.large"] * HOURS), pytest.approx(4 * p["ec2.t3.large"] * HOURS))
    assert hosts["gp3 volumes"].monthly == pytest.approx(2 * 40 * p["ebs.gp3"])
    assert lines_of(e, "shared")["EFS Standard storage"].monthly == pytest.approx(10 * p["efs.standard"])
    alb = lines_of(e, "public")
    assert alb["ALB hours"].monthly == pytest.approx(p["alb.hour"] * HOURS)
    assert alb["ALB LCU-hours"].monthly == pytest.approx(2 * p["alb.lcu"] * HOURS)
    assert alb["ALB public IPv4 addresses"].monthly == pytest.approx(3 * p["ipv4.hour"] * HOURS)
    endpoint = lines_of(e, "ecr-api")
    assert endpoint["interface endpoint hours"].monthly == pytest.approx(2 * p["vpce.interface.hour"] * HOURS)
    assert endpoint["interface endpoint data"].monthly == pytest.approx(10 * p["vpce.interface.data"])


def _line(**kw: Any) -> CostLine:
    return CostLine(**{"resource": "r", "type": "t", "component": "c", "unit": "u", "unit_price": 1.0,
                       "quantity": 1.0, **kw})


def test_unpriced_lines_stay_out_of_the_total() -> None:
    e = Estimate("s", "us-east-1", (_line(quantity=2.0), _line(unit_price=None, quantity=5.0)))
    assert e.total == 2.0 and len(e.unpriced) == 1 and "unpriced" in format_text(e)


def test_karpenter_nodes_range_from_none_to_the_nodepools_cpu_limit(karpenter: Plan,
                                                                    variant: Callable[..., Plan]) -> None:
    """No Karpenter node while the system group holds every pod; at most limits.cpu vCPUs, priced per 2 vCPUs as
    m6i.large (on-demand allowed; Spot preferred is noted); Spot only is unpriced."""
    prices = load_prices("us-east-1")
    [line] = [ln for ln in estimate(karpenter, prices).lines if ln.type == "kubernetes:karpenter.sh/v1:NodePool"]
    assert (line.monthly, line.low, line.high) == (0, 0, pytest.approx(16 / 2 * 730 * 0.096))
    assert "Spot allowed" in line.note
    spot_only = variant("karpenter", karpenterCapacityTypes=["spot"])
    [line] = [ln for ln in estimate(spot_only, prices).lines if ln.type == "kubernetes:karpenter.sh/v1:NodePool"]
    assert line.unit_price is None and line.high_quantity == 16 / 2 * 730


def test_auto_mode_prices_its_nodes_and_lists_its_fee_unpriced(automode: Plan) -> None:
    """Auto Mode's NodePool is the only capacity: one m7g.large (arm64) as the estimate, the CPU limit as the range;
    the per-instance management fee has no sourced price: listed, not in the total. Its ALB is priced."""
    lines = [ln for ln in estimate(automode, load_prices("us-east-1")).lines
             if ln.type == "kubernetes:karpenter.sh/v1:NodePool"]
    [fee] = [ln for ln in lines if "management fee" in ln.component]
    [nodes] = [ln for ln in lines if ln is not fee]
    assert fee.unit_price is None and fee.note.startswith("UNPRICED")
    assert (nodes.monthly, nodes.low, nodes.high) == (pytest.approx(730 * 0.0816), pytest.approx(730 * 0.0816),
                                                       pytest.approx(16 / 2 * 730 * 0.0816))
    albs = [ln for ln in estimate(automode, load_prices("us-east-1")).lines if ln.component == "ALB hours"]
    assert len(albs) == 1 and "EKS Auto Mode" in albs[0].note
