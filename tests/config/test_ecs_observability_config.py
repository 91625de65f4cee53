"""The ECS environment files, sidecars and step scaling keys (infra/config/ecs.py, ecs_extras.py): each bad value or
combination refused by key with what is allowed, the accepted shapes parsed as the components expect. No render."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import ConfigError, load_config
from infra.config.ecs_extras import APP_MIN_CPU, APP_MIN_MEMORY, ENV_FILES_MAX, StepScaling

ECS = {"runtime": "ecs", "zoneName": "example.com", "hostname": "app.example.com"}
BUCKET = "arn:aws:s3:::webstack-config"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ADOT = "public.ecr.aws/aws-observability/aws-otel-collector@sha256:" + "a" * 64
FLUENT_BIT = "public.ecr.aws/aws-observability/aws-for-fluent-bit@sha256:" + "b" * 64
SIDECARS = {"ecsAdotCollector": True, "ecsAdotCollectorImage": ADOT, "ecsFireLens": True,
            "ecsFireLensImage": FLUENT_BIT}
STEP = {"threshold": 1500, "steps": [{"over": 0, "add": 2}, {"over": 1000, "add": 4}]}


def load(region: str = "us-east-1", **raw: Any) -> Any:
    return load_config({**ECS, **raw}, project="webstack", stack="dev", region=region)


def problems(region: str = "us-east-1", **raw: Any) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load(region, **raw)
    return err.value.problems


# --- environment files ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("files", "expect"), [
    (["s3://webstack-config/app.env"], "values must be S3 object ARNs of .env files"),
    ([f"{BUCKET}/app.txt"], "values must be S3 object ARNs of .env files"),
    ([f"{BUCKET}/app.env.bak"], ".env files"),
    ([f"{BUCKET}/.env"], ".env files"),  # no name before the extension
    ([f"{BUCKET}/conf/*.env"], "without * or ?"),
    ([f"{BUCKET}/conf/a?.env"], "without * or ?"),
    ([f"{BUCKET}"], ".env files"),
    (["arn:aws:s3:::Webstack/app.env"], ".env files"),  # bucket names are lower case
    (["arn:aws:s3:::web..stack/app.env"], "is not an S3 bucket name"),
    (["arn:aws:s3:::192.168.1.10/app.env"], "is not an S3 bucket name"),
    ([f"{BUCKET}/{'k' * 1030}.env"], "at most 1024 bytes"),
    (["arn:aws:s3:us-east-1:123456789012:webstack-config/app.env"], ".env files"),  # S3 ARNs have no region
    ([f"{BUCKET}/app.env", f"{BUCKET}/app.env"], "listed twice"),
    ([f"{BUCKET}/{i}.env" for i in range(ENV_FILES_MAX + 1)], "at most 10 entries"),
])
def test_bad_environment_files_are_refused_by_key(files: list[str], expect: str) -> None:
    found = [p for p in problems(ecsEnvironmentFiles=files) if p.startswith("webstack:ecsEnvironmentFiles")]
    assert any(expect in p for p in found), found


def test_environment_files_follow_the_partition_and_keep_their_order() -> None:
    files = [f"{BUCKET}/b.env", f"{BUCKET}/a.env", "arn:aws:s3:::other-bucket/x/y.env"]
    cfg = load(ecsEnvironmentFiles=files, ecsEnvironmentFilesKmsKeyArn=KEY)
    assert cfg.ecs.environment_files == tuple(files), "ECS's precedence is the order given: never sorted"
    assert cfg.ecs.environment_files_kms_key_arn == KEY
    [line] = problems("us-gov-west-1", ecsEnvironmentFiles=[f"{BUCKET}/a.env"])
    assert line.startswith("webstack:ecsEnvironmentFiles/aws:region = ")
    assert "S3 ARNs must be in the stack's partition (arn:aws-us-gov:s3:::...)" in line
    gov = load("us-gov-west-1", ecsEnvironmentFiles=["arn:aws-us-gov:s3:::webstack-config/a.env"])
    assert gov.partition == "aws-us-gov"


@pytest.mark.parametrize(("raw", "expect"), [
    ({"ecsEnvironmentFilesKmsKeyArn": KEY}, "ecsEnvironmentFiles is empty"),
    ({"ecsEnvironmentFilesKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:alias/env"}, "must be a KMS key ARN"),
])
def test_the_files_key_needs_files_and_a_key_arn(raw: dict[str, Any], expect: str) -> None:
    assert any(p.startswith("webstack:ecsEnvironmentFilesKmsKeyArn") and expect in p for p in problems(**raw))


def test_a_files_key_of_another_partition_is_refused() -> None:
    found = problems("us-gov-west-1", ecsEnvironmentFiles=["arn:aws-us-gov:s3:::webstack-config/a.env"],
                     ecsEnvironmentFilesKmsKeyArn=KEY)
    assert any("the key must be in the stack's partition (arn:aws-us-gov:kms:...)" in p for p in found), found


# --- sidecars ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "expect"), [
    ({"ecsAdotCollector": True}, "set ecsAdotCollectorImage to public.ecr.aws/aws-observability/aws-otel-collector"),
    ({"ecsFireLens": True}, "set ecsFireLensImage to public.ecr.aws/aws-observability/aws-for-fluent-bit@sha256"),
    ({"ecsAdotCollectorImage": "public.ecr.aws/aws-observability/aws-otel-collector:latest"},
     "the official ADOT collector image by digest"),
    ({"ecsAdotCollectorImage": "otel/opentelemetry-collector-contrib@sha256:" + "a" * 64},
     "the official ADOT collector image by digest"),
    ({"ecsFireLensImage": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"},
     "the official AWS for Fluent Bit image by digest"),
    ({"ecsFireLensImage": FLUENT_BIT.upper()}, "by digest"),
    ({"ecsAdotMetricsNamespace": "AWS/ECS"}, "not AWS/"),
    ({"ecsAdotMetricsNamespace": "app:metrics"}, "1-255 letters"),
    ({"ecsAdotCollectorCpu": 8}, "must be 16 to 16384"),
    ({"ecsFireLensMemory": 32}, "must be 64 to 122880"),
])
def test_bad_sidecar_values_are_refused_by_key(raw: dict[str, Any], expect: str) -> None:
    key = f"webstack:{next(iter(raw))}"
    found = problems(**raw)
    assert any(p.startswith(key) and expect in p for p in found), found


@pytest.mark.parametrize(("raw", "expect"), [
    ({"ecsAdotCollectorImage": ADOT}, "ecsAdotCollectorImage set while ecsAdotCollector is false"),
    ({"ecsAdotMetricsNamespace": "shop"}, "ecsAdotMetricsNamespace set while ecsAdotCollector is false"),
    ({"ecsFireLensImage": FLUENT_BIT, "ecsFireLensCpu": 32},
     "ecsFireLensImage, ecsFireLensCpu set while ecsFireLens is false"),
])
def test_sidecar_keys_without_their_sidecar_are_refused_not_ignored(raw: dict[str, Any], expect: str) -> None:
    assert any(expect in p for p in problems(**raw))


def test_sidecars_must_leave_the_app_room_in_the_task_named_with_the_numbers() -> None:
    [line] = problems(**SIDECARS)  # default task: 256 CPU units, 512 MiB
    assert line == (
        "webstack:ecsTaskCpu/ecsTaskMemory/ecsAdotCollectorCpu/ecsAdotCollectorMemory/ecsFireLensCpu/"
        "ecsFireLensMemory = 256/512/128/256/64/128: the sidecars take 192 CPU units (ecsAdotCollectorCpu 128 + "
        "ecsFireLensCpu 64) and 384 MiB (ecsAdotCollectorMemory 256 + ecsFireLensMemory 128), leaving the app 64 of "
        f"ecsTaskCpu 256 and 128 of ecsTaskMemory 512: the app needs at least {APP_MIN_CPU} CPU units and "
        f"{APP_MIN_MEMORY} MiB. Raise ecsTaskCpu/ecsTaskMemory (a Fargate size) or lower the sidecars'")
    fits = load(**SIDECARS, ecsTaskCpu=512, ecsTaskMemory=1024).ecs
    assert fits.sidecar_reservations == (("ecsAdotCollector", 128, 256), ("ecsFireLens", 64, 128))
    # exactly the minimum is enough; one unit less is not
    assert load(ecsFireLens=True, ecsFireLensImage=FLUENT_BIT, ecsFireLensCpu=256 - APP_MIN_CPU,
                ecsFireLensMemory=512 - APP_MIN_MEMORY).ecs.fire_lens
    assert problems(ecsFireLens=True, ecsFireLensImage=FLUENT_BIT, ecsFireLensCpu=256 - APP_MIN_CPU + 1)
    assert load().ecs.sidecar_reservations == ()


# --- step scaling ------------------------------------------------------------------------------------------------
def test_step_scaling_parses_from_yaml_and_cli_text_with_its_defaults() -> None:
    for raw in (STEP, json.dumps(STEP)):
        step = load(ecsStepScaling=raw, ecsScaleOnRequestsPerTarget=500).ecs.step_scaling
        assert step == StepScaling(threshold=1500, steps=((0, 2), (1000, 4)), evaluation_periods=2, cooldown=120)
    full = {**STEP, "evaluationPeriods": 1, "cooldown": 0}
    assert load(ecsStepScaling=full, ecsScaleOnRequestsPerTarget=500).ecs.step_scaling.cooldown == 0
    assert load().ecs.step_scaling is None


@pytest.mark.parametrize(("raw", "expect"), [
    ({"ecsStepScaling": STEP}, "step scaling only scales out: set ecsScaleOnRequestsPerTarget"),
    ({"ecsStepScaling": STEP, "ecsScaleOnRequestsPerTarget": 1500},
     "the step threshold (1500) must exceed the target tracking value (1500)"),
    ({"ecsStepScaling": STEP, "ecsScaleOnRequestsPerTarget": 2000}, "must exceed the target tracking value (2000)"),
])
def test_step_scaling_must_sit_above_target_tracking_on_its_metric(raw: dict[str, Any], expect: str) -> None:
    found = problems(**raw)
    assert any(p.startswith("webstack:ecsStepScaling/ecsScaleOnRequestsPerTarget") and expect in p
               for p in found), found


def test_step_scaling_is_an_ecs_key() -> None:
    with pytest.raises(ConfigError) as err:
        load_config({"zoneName": "example.com", "hostname": "app.example.com", "publicAccessCidrs": ["203.0.113.0/24"],
                     "ecsStepScaling": STEP}, project="webstack", stack="dev", region="us-east-1")
    assert any("ecsStepScaling is for runtime 'ecs' only" in p for p in err.value.problems)
