"""Environment files, the ADOT collector and FireLens log router sidecars, and step scaling, asserted on one render
with all of them on (tests/stacks/Pulumi.ecs-sidecars.yaml) and on the renders without them (nothing of it leaks
there). The API shapes go through botocore's models (RegisterTaskDefinition, PutScalingPolicy, PutMetricAlarm), the
IAM documents through parliament.

What these prove is the request the stack makes; that the sidecars receive data (the app's log lines in the log
group, spans in X-Ray, metrics in the namespace) only a running task shows."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.ecs.sidecars import COLLECTOR, COLLECTOR_USER, LOG_ROUTER, LOG_ROUTER_CONFIG
from infra.ecs.task import MAX_CONTAINERS, canonical_container_definitions
from infra.iam import ecs_otel_collector_policy
from tests.support import ecs_api
from tests.support.iam_lint import findings, unexpected_findings
from tools.render import Plan
from tools.render.artifacts import iam_documents

TASKDEF = "aws:ecs/taskDefinition:TaskDefinition"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
POLICY = "aws:appautoscaling/policy:Policy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
APP = "webapp"
FILES = ["arn:aws:s3:::webstack-config-123456789012/webapp/common.env",
         "arn:aws:s3:::webstack-config-123456789012/webapp/sidecars/feature-flags.env",
         "arn:aws:s3:::webstack-shared-123456789012/defaults.env"]
FILES_KEY = "arn:aws:kms:us-east-1:123456789012:key/5678abcd-12ab-34cd-56ef-1234567890ab"


def step_alarms(plan: Plan) -> list[dict[str, Any]]:
    """The step scaling alarms (not the alarms that notify people: infra/monitoring.py, under webstack:ops:Alarms)."""
    return [a for a in plan.of_type(ALARM) if "webstack:ops:Alarms" not in (a["parent"] or "")]


def containers(plan: Plan) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in json.loads(plan.one(TASKDEF)["inputs"]["containerDefinitions"])}


def policy_doc(plan: Plan, name: str) -> dict[str, Any]:
    return json.loads(plan.one(ROLE_POLICY, name)["inputs"]["policy"])


def log_group(plan: Plan, name: str) -> dict[str, Any]:
    return plan.one(LOG_GROUP, name)


# --- the task definition ------------------------------------------------------------------------------------------
def test_the_task_runs_the_app_and_both_sidecars_within_its_size(sidecars: Plan) -> None:
    task = sidecars.one(TASKDEF)["inputs"]
    c = containers(sidecars)
    assert sorted(c) == sorted([APP, COLLECTOR, LOG_ROUTER]) and len(c) <= MAX_CONTAINERS
    assert (task["cpu"], task["memory"]) == ("1024", "2048")
    assert (c[COLLECTOR]["cpu"], c[COLLECTOR]["memory"], c[LOG_ROUTER]["cpu"], c[LOG_ROUTER]["memory"]) == (
        128, 256, 64, 128)
    # the app reserves exactly what the sidecars leave: the reservations add up to the task size
    assert (c[APP]["cpu"], c[APP]["memoryReservation"]) == (1024 - 128 - 64, 2048 - 256 - 128)
    assert sum(x["cpu"] for x in c.values()) == 1024
    assert sum(x.get("memory") or x["memoryReservation"] for x in c.values()) == 2048
    assert "memory" not in c[APP], "a soft reservation: the task size bounds the app, not a container limit"


def test_every_container_is_hardened_like_the_app(sidecars: Plan) -> None:
    for name, c in containers(sidecars).items():
        assert c["readonlyRootFilesystem"] is True, name
        assert c["linuxParameters"]["capabilities"] == {"add": [], "drop": ["ALL"]}, name
        assert not c.get("privileged"), name
        assert "@sha256:" in c["image"] and len(c["image"].rsplit(":", 1)[1]) == 64, name
        assert c["essential"] is True, name
        assert c["healthCheck"]["command"][0] in ("CMD", "CMD-SHELL"), name
        assert c["logConfiguration"]["logDriver"] in ("awslogs", "awsfirelens"), name
        assert c["portMappings"] == ([] if name != APP else c["portMappings"]), "sidecars publish no port"
    users = {name: c["user"] for name, c in containers(sidecars).items()}
    # the collector image's own non-root user; the FireLens router must be root (containers-roadmap#2122)
    assert users == {APP: "101", COLLECTOR: COLLECTOR_USER, LOG_ROUTER: "0"}


def test_the_app_starts_after_its_sidecars_are_healthy(sidecars: Plan) -> None:
    c = containers(sidecars)
    assert c[APP]["dependsOn"] == [{"condition": "HEALTHY", "containerName": LOG_ROUTER},
                                   {"condition": "HEALTHY", "containerName": COLLECTOR}]
    for name in (LOG_ROUTER, COLLECTOR):
        assert c[name]["healthCheck"]["startPeriod"] >= 10 and "dependsOn" not in c[name], name
    assert c[COLLECTOR]["healthCheck"]["command"] == ["CMD", "/healthcheck"]
    assert "127.0.0.1:2020/api/v1/uptime" in c[LOG_ROUTER]["healthCheck"]["command"][1]


def test_the_app_logs_through_firelens_into_the_stack_log_group(sidecars: Plan) -> None:
    group = log_group(sidecars, "app-logs")
    c = containers(sidecars)
    assert c[APP]["logConfiguration"] == {"logDriver": "awsfirelens", "options": {
        "Name": "cloudwatch_logs", "region": "us-east-1", "log_group_name": group["inputs"]["name"],
        "log_stream_prefix": f"{APP}/", "auto_create_group": "false", "retry_limit": "2"}}
    router = c[LOG_ROUTER]
    assert router["firelensConfiguration"] == {"type": "fluentbit", "options": {
        "config-file-type": "file", "config-file-value": LOG_ROUTER_CONFIG, "enable-ecs-log-metadata": "true"}}
    for name in (LOG_ROUTER, COLLECTOR):  # the sidecars' own output: awslogs, the same group, their own prefix
        assert c[name]["logConfiguration"] == {"logDriver": "awslogs", "options": {
            "awslogs-group": group["inputs"]["name"], "awslogs-region": "us-east-1", "awslogs-stream-prefix": name}}
    assert group["inputs"]["retentionInDays"] == 90


def test_the_collector_listens_on_localhost_and_exports_to_xray_and_the_metrics_group(sidecars: Plan) -> None:
    metrics = log_group(sidecars, "app-metrics")["inputs"]
    assert metrics["name"] == "/ecs/webstack-ecs-sidecars-webapp/metrics" and metrics["retentionInDays"] == 90
    (env,) = containers(sidecars)[COLLECTOR]["environment"]
    assert env["name"] == "AOT_CONFIG_CONTENT"
    config = json.loads(env["value"])
    protocols = config["receivers"]["otlp"]["protocols"]
    assert {p["endpoint"] for p in protocols.values()} == {"127.0.0.1:4317", "127.0.0.1:4318"}
    assert config["exporters"]["awsxray"] == {"region": "us-east-1"}
    emf = config["exporters"]["awsemf"]
    assert (emf["namespace"], emf["log_group_name"], emf["region"]) == ("webstack/sidecars", metrics["name"],
                                                                        "us-east-1")
    pipelines = config["service"]["pipelines"]
    assert pipelines["traces"]["exporters"] == ["awsxray"] and pipelines["metrics"]["exporters"] == ["awsemf"]
    assert config["extensions"]["health_check"]["endpoint"] == "127.0.0.1:13133"
    assert set(config["exporters"]) == {"awsxray", "awsemf"}, "no exporter the task role cannot serve"


def test_environment_files_keep_their_order_beside_the_explicit_variables(sidecars: Plan) -> None:
    app = containers(sidecars)[APP]
    assert app["environmentFiles"] == [{"type": "s3", "value": arn} for arn in FILES]
    assert app["environment"] == [{"name": "LOG_FORMAT", "value": "json"}], "explicit values stay (and win in ECS)"


def test_container_definitions_stay_canonical_and_idempotent(sidecars: Plan) -> None:
    text = sidecars.one(TASKDEF)["inputs"]["containerDefinitions"]
    assert canonical_container_definitions(json.loads(text)) == text
    assert [c["name"] for c in json.loads(text)] == sorted([APP, COLLECTOR, LOG_ROUTER])
    assert len(text.encode()) < 64 * 1024 / 4, "ECS's task definition size limit is 64 KiB"
    reordered = json.loads(text)
    reordered[-1]["dependsOn"].reverse()
    reordered[-1]["environmentFiles"].reverse()
    again = json.loads(canonical_container_definitions(reordered))
    assert again[-1]["dependsOn"] == json.loads(text)[-1]["dependsOn"], "dependsOn: sorted by container name"
    assert again[-1]["environmentFiles"] == list(reversed(json.loads(text)[-1]["environmentFiles"])), (
        "environment files are never reordered: their order is ECS's precedence")


def test_the_task_definition_passes_register_task_definition(sidecars: Plan) -> None:
    params = ecs_api.register_task_definition_params(sidecars.one(TASKDEF)["inputs"])
    assert {c["name"] for c in params["containerDefinitions"]} == {APP, COLLECTOR, LOG_ROUTER}
    assert ecs_api.validate("RegisterTaskDefinition", params) == []
    broken = json.loads(json.dumps(params))
    next(c for c in broken["containerDefinitions"] if c["name"] == LOG_ROUTER)["firelensConfiguration"]["type"] = "fb"
    next(c for c in broken["containerDefinitions"] if c["name"] == APP)["dependsOn"][0]["condition"] = "READY"
    problems = ecs_api.validate("RegisterTaskDefinition", broken)
    assert any("firelensConfiguration.type" in p for p in problems) and any("condition" in p for p in problems)


def test_nothing_of_it_without_the_keys(fargate: Plan, spot: Plan, ec2: Plan) -> None:
    for plan in (fargate, spot, ec2):
        (app,) = containers(plan).values()
        assert not {"dependsOn", "environmentFiles", "memoryReservation"} & set(app), plan.stack
        assert app["logConfiguration"]["logDriver"] == "awslogs"
        assert not step_alarms(plan) and [r["name"] for r in plan.of_type(LOG_GROUP)] == ["app-logs"]
        assert not [r for r in plan.of_type(ROLE_POLICY) if r["name"] in ("app-task-otel", "app-task-firelens")]
        assert all(r["inputs"]["policyType"] == "TargetTrackingScaling" for r in plan.of_type(POLICY))


# --- IAM -----------------------------------------------------------------------------------------------------------
def test_the_execution_role_reads_exactly_the_environment_files(sidecars: Plan) -> None:
    by_sid = {s["Sid"]: s for s in policy_doc(sidecars, "app-execution")["Statement"]}
    assert by_sid["ReadEnvironmentFiles"] == {"Sid": "ReadEnvironmentFiles", "Effect": "Allow",
                                              "Action": "s3:GetObject", "Resource": sorted(FILES)}
    assert by_sid["LocateEnvironmentFileBuckets"]["Action"] == "s3:GetBucketLocation"
    assert by_sid["LocateEnvironmentFileBuckets"]["Resource"] == ["arn:aws:s3:::webstack-config-123456789012",
                                                                  "arn:aws:s3:::webstack-shared-123456789012"]
    assert by_sid["DecryptEnvironmentFiles"]["Resource"] == FILES_KEY
    assert "DecryptSecrets" not in by_sid, "no secrets, no key for them"


def test_the_task_role_gets_exactly_what_the_sidecars_call(sidecars: Plan) -> None:
    metrics_arn = log_group(sidecars, "app-metrics")["state"]["arn"]
    app_arn = log_group(sidecars, "app-logs")["state"]["arn"]
    assert policy_doc(sidecars, "app-task-otel")["Statement"] == [
        {"Sid": "SendTraces", "Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"},
        {"Sid": "WriteMetricsAsEmf", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{metrics_arn}:*"}]
    assert policy_doc(sidecars, "app-task-firelens")["Statement"] == [
        {"Sid": "RouteAppLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{app_arn}:*"}]
    granted = {a for r in sidecars.of_type(ROLE_POLICY) for s in json.loads(r["inputs"]["policy"])["Statement"]
               for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not {"cloudwatch:PutMetricData", "logs:CreateLogGroup", "logs:PutRetentionPolicy"} & granted, (
        "EMF needs no PutMetricData; the groups exist with their retention")


def test_the_task_definition_waits_for_every_role_policy(sidecars: Plan) -> None:
    taskdef = sidecars.one(TASKDEF)["urn"]
    for name in ("app-execution", "app-task-otel", "app-task-firelens"):
        assert sidecars.depends_on(taskdef, sidecars.one(ROLE_POLICY, name)["urn"]), name


def test_every_new_iam_document_passes_parliament(sidecars: Plan) -> None:
    docs = iam_documents(sidecars)
    assert {"app-execution-policy", "app-task-otel-policy", "app-task-firelens-policy"} <= set(docs)
    assert [m for name, doc in docs.items() for m in unexpected_findings(name, doc)] == []
    # parliament knows PutTraceSegments has no resource-level permission: it reports a `*` where one exists
    assert findings(ecs_otel_collector_policy("arn:aws:logs:us-east-1:123456789012:log-group:m")) == []
    star = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents",
                                                    "Resource": "*"}]}
    assert [f.issue for f in findings(star)] == ["RESOURCE_STAR"]


# --- step scaling --------------------------------------------------------------------------------------------------
def test_step_policy_scales_out_by_band_above_the_alarm_threshold(sidecars: Plan) -> None:
    (step,) = [r for r in sidecars.of_type(POLICY) if r["inputs"]["policyType"] == "StepScaling"]
    config = step["inputs"]["stepScalingPolicyConfiguration"]
    assert (config["adjustmentType"], config["cooldown"], config["metricAggregationType"]) == (
        "ChangeInCapacity", 120, "Average")
    assert config["stepAdjustments"] == [
        {"metricIntervalLowerBound": "0", "metricIntervalUpperBound": "800", "scalingAdjustment": 2},
        {"metricIntervalLowerBound": "800", "scalingAdjustment": 4}]
    assert all(s["scalingAdjustment"] > 0 for s in config["stepAdjustments"]), "it never scales in"
    tracking = {r["inputs"]["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"][
        "predefinedMetricType"]: r["inputs"]["targetTrackingScalingPolicyConfiguration"]["targetValue"]
        for r in sidecars.of_type(POLICY) if r["inputs"]["policyType"] == "TargetTrackingScaling"}
    assert tracking["ALBRequestCountPerTarget"] == 400 < 1200, "tracking on the same metric, below the threshold"
    assert step["inputs"]["resourceId"] == "service/webstack-ecs-sidecars/webapp"
    params = ecs_api.put_scaling_policy_params(step["inputs"])
    assert params["StepScalingPolicyConfiguration"]["StepAdjustments"][0]["MetricIntervalUpperBound"] == 800.0
    assert ecs_api.validate("application-autoscaling:PutScalingPolicy", params) == []


def test_the_alarm_invokes_the_step_policy_on_requests_per_target(sidecars: Plan) -> None:
    (alarm,) = step_alarms(sidecars)
    (step,) = [r for r in sidecars.of_type(POLICY) if r["inputs"]["policyType"] == "StepScaling"]
    i = alarm["inputs"]
    assert i["alarmActions"] == [step["state"]["arn"]]
    assert sidecars.depends_on(alarm["urn"], step["urn"]), "the alarm is deleted before the policy it names"
    assert (i["namespace"], i["metricName"], i["statistic"], i["period"]) == (
        "AWS/ApplicationELB", "RequestCountPerTarget", "Sum", 60)
    assert (i["threshold"], i["comparisonOperator"], i["evaluationPeriods"], i["datapointsToAlarm"]) == (
        1200, "GreaterThanThreshold", 2, 2)
    lb = sidecars.one("aws:lb/loadBalancer:LoadBalancer")["state"]["arnSuffix"]
    tg = sidecars.one("aws:lb/targetGroup:TargetGroup")["state"]["arnSuffix"]
    assert i["dimensions"] == {"LoadBalancer": lb, "TargetGroup": tg}, "the metric target tracking follows"
    assert i["treatMissingData"] == "notBreaching" and i["name"] == "webstack-ecs-sidecars-requests-step"
    params = ecs_api.put_metric_alarm_params(i)
    assert ecs_api.validate("cloudwatch:PutMetricAlarm", params) == []
    assert any("ComparisonOperator" in p for p in ecs_api.validate(
        "cloudwatch:PutMetricAlarm", {**params, "ComparisonOperator": "Above"}))


# --- the guards below the config ---------------------------------------------------------------------------------
def test_the_alarm_spec_refuses_what_put_metric_alarm_would() -> None:
    from infra.alarms import AlarmSpec

    base = dict(name="a", description="d", namespace="AWS/ApplicationELB", metric="RequestCountPerTarget",
                dimensions={}, statistic="Sum", period=60, evaluation_periods=2, threshold=1.0,
                operator="GreaterThanThreshold")
    AlarmSpec(**base)
    for ok in ({"period": 10}, {"period": 30}, {"period": 3600, "evaluation_periods": 24}):
        AlarmSpec(**{**base, **ok})
    for bad in ({"statistic": "Total"}, {"operator": "Above"}, {"period": 90}, {"period": 5}, {"period": 15},
                {"period": 25}, {"period": 3600, "evaluation_periods": 25}, {"datapoints": 3}):
        with pytest.raises(ValueError, match="alarm a"):
            AlarmSpec(**{**base, **bad})


def test_the_task_refuses_sidecars_that_do_not_fit_whatever_the_config_said() -> None:
    from infra.ecs.sidecars import CollectorSpec, LogRouterSpec
    from infra.ecs.task import AppTaskArgs, ContainerSpec, task_containers

    args = AppTaskArgs(
        family="f", container=ContainerSpec(name=APP, port=8080, health_path="/healthz", user="101"),
        image="i", repository_arn="r", cpu=256, memory=512, architecture="amd64", compatibilities=["FARGATE"],
        log_retention_days=7, secrets_kms_key_arn=None, exec_enabled=False, region="us-east-1", partition="aws",
        account_id="123456789012", tags={},
        collector=CollectorSpec(image="c", cpu=192, memory=256, metrics_namespace="n"),
        log_router=LogRouterSpec(image="l", cpu=64, memory=128))
    with pytest.raises(ValueError, match="3 containers reserving 256 CPU units and 384 MiB do not fit a task of 256"):
        task_containers(args, "img", "group", "metrics")


# --- the diagram and the cost --------------------------------------------------------------------------------------
def test_the_diagram_names_the_sidecars_and_draws_the_alarm(sidecars: Plan, fargate: Plan) -> None:
    from tools.review.diagram import build_graph, to_mermaid

    mermaid = to_mermaid(build_graph(sidecars))
    assert "2048 MiB, webapp + sidecars log-router, otel-collector" in mermaid
    assert 'app_requests_step["alarm RequestCountPerTarget > 1200 x2"]' in mermaid
    assert "app_requests_step -->|alarmActions| app_target" in mermaid, "the alarm scales the service's target"
    assert "app_requests_step -->|dimensions| web_tg" in mermaid
    plain = to_mermaid(build_graph(fargate))
    assert "sidecars" not in plain and "alarm RequestCountPerTarget" not in plain


def test_sidecars_are_billed_inside_the_task_size_and_the_alarm_is_priced(sidecars: Plan) -> None:
    from tools.review.cost import estimate, load_prices, load_usage

    lines = estimate(sidecars, load_prices("us-east-1"), load_usage()).lines
    fargate = {line.component: line for line in lines if line.resource == "app-service"}
    vcpu = next(line for c, line in fargate.items() if "vCPU" in c)
    gb = next(line for c, line in fargate.items() if "memory" in c)
    assert "x 1 vCPU" in vcpu.component and "x 2 GB" in gb.component, "the task size, sidecars included"
    assert "sidecars log-router, otel-collector" in vcpu.note
    (alarm,) = [line for line in lines if line.type == ALARM and line.resource == "app-requests-step"]
    assert alarm.unit_price == 0.10 and alarm.quantity == 1


def test_on_ec2_only_the_sidecars_keep_no_new_privileges_like_the_app() -> None:
    """Fargate refuses dockerSecurityOptions; an EC2-only task definition sets no-new-privileges on every container
    (the policy pack's ecs-containers-hardened requires it there)."""
    from infra.ecs.sidecars import CollectorSpec, LogRouterSpec
    from infra.ecs.task import AppTaskArgs, ContainerSpec, task_containers

    def containers_on(compatibilities: list[str]) -> list[dict[str, Any]]:
        args = AppTaskArgs(
            family="f", container=ContainerSpec(name=APP, port=8080, health_path="/healthz", user="101"),
            image="i", repository_arn="r", cpu=1024, memory=2048, architecture="arm64",
            compatibilities=compatibilities, log_retention_days=7, secrets_kms_key_arn=None, exec_enabled=False,
            region="us-east-1", partition="aws", account_id="123456789012", tags={},
            collector=CollectorSpec(image="c", cpu=128, memory=256, metrics_namespace="n"),
            log_router=LogRouterSpec(image="l", cpu=64, memory=128))
        return task_containers(args, "img", "group", "metrics")

    assert all(c["dockerSecurityOptions"] == ["no-new-privileges"] for c in containers_on(["EC2"]))
    assert not any("dockerSecurityOptions" in c for c in containers_on(["EC2", "FARGATE"]))
def test_environment_file_grants_follow_the_partition_and_name_each_bucket_once() -> None:
    from infra.iam import environment_file_statements

    files = ["arn:aws-us-gov:s3:::cfg/b/x.env", "arn:aws-us-gov:s3:::cfg/a.env", "arn:aws-us-gov:s3:::other/c.env"]
    read, locate = environment_file_statements(files, None)
    assert read["Resource"] == sorted(files) and read["Action"] == "s3:GetObject"
    assert locate["Resource"] == ["arn:aws-us-gov:s3:::cfg", "arn:aws-us-gov:s3:::other"]
    assert environment_file_statements([], "arn:aws:kms:us-east-1:123456789012:key/k") == [], "no files, no grant"
