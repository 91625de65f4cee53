"""What the ECS observability and scaling keys accept: environment files in S3, the sidecar images, the metrics
namespace, and the step scaling policy (`ecsStepScaling`, parsed here). Declared in infra/config/ecs.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from .core import Invalid
from .core import _decode as decode  # YAML map or its JSON text, bounded

# ECS environment files (Developer Guide, "Specifying environment variables", taskdef-envfiles): S3 objects given
# by ARN, with the `.env` extension, "a limit of ten files per task definition" (the API reference says up to ten
# per container; only the app container takes them here, so both limits are the same). No size limit is enforced
# by ECS. The key may not hold `*` or `?`: the execution role is granted exactly these ARNs, and IAM would read
# them as wildcards.
ENV_FILES_MAX = 10
S3_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
ENV_FILE_ARN = rf"arn:(aws|aws-[a-z-]+):s3:::({S3_BUCKET})/((?:[^*?/]+/)*[^*?/]+\.env)"
ENV_FILE_EXAMPLE = "arn:aws:s3:::my-bucket/webapp/prod.env"


def env_file_problem(arn: str) -> str | None:
    """Why `arn` is not an S3 object ARN of a `.env` file ECS can load, or None."""
    m = re.fullmatch(ENV_FILE_ARN, arn, re.ASCII)
    if not m:
        return f"values must be S3 object ARNs of .env files without * or ?, such as {ENV_FILE_EXAMPLE}"
    bucket, key = m.group(2), m.group(3)
    if ".." in bucket or re.fullmatch(r"[0-9.]+", bucket):
        return f"{bucket!r} is not an S3 bucket name (no '..', not an IP address)"
    if len(key.encode()) > 1024:
        return "S3 object keys are at most 1024 bytes"
    return None


# The official images, by digest only: a tag can be re-pointed, and a task definition names what it runs. No digest
# is shipped as a default: none could be checked against the registry from here (no image pulls), so the user looks
# one up (docs/runtimes.md says how) and the stack refuses to run the sidecar without it.
ADOT_IMAGE = r"public\.ecr\.aws/aws-observability/aws-otel-collector@sha256:[0-9a-f]{64}"
FLUENT_BIT_IMAGE = r"public\.ecr\.aws/aws-observability/aws-for-fluent-bit@sha256:[0-9a-f]{64}"
# CloudWatch custom namespaces: up to 255 characters; the AWS/ prefix is reserved for AWS services.
METRICS_NAMESPACE = r"(?!AWS/)[A-Za-z0-9._/#-]{1,255}"
# What the app keeps when sidecars share the task: its own reservation is the task size minus theirs, and must stay
# at least the reference workload's memory request (128 MiB, the EKS Deployment's) and an eighth of a vCPU.
APP_MIN_CPU = 128
APP_MIN_MEMORY = 128


# --- ecsStepScaling ---------------------------------------------------------------------------------------------
# The bounds are ours, each for a reason: one step per band of load and no more than 5 bands (a policy beyond that
# is target tracking done by hand); at most 100 tasks per step (ecsMaxTasks caps the result anyway); 1-5 one-minute
# evaluation periods (RequestCountPerTarget is published per minute; past 5 minutes a burst is steady load, which
# target tracking handles); a cooldown of at most an hour.
STEP_THRESHOLD = (1, 1_000_000)
STEP_PERIODS = (1, 5)
STEP_COOLDOWN = (0, 3600)
STEP_ADD = (1, 100)
STEP_MAX_STEPS = 5
_STEP_KEYS = {"threshold", "evaluationPeriods", "cooldown", "steps"}
STEP_ALLOWED = ("must be {threshold, steps: [{over, add}], evaluationPeriods?, cooldown?}, e.g. {threshold: 1500, "
                "steps: [{over: 0, add: 2}, {over: 1000, add: 4}]}: scale out by `add` tasks when ALB requests per "
                "target per minute exceed threshold + over")


@dataclass(frozen=True, kw_only=True)
class StepScaling:
    """Scale out when the ALB's requests per target per minute exceed `threshold` for `evaluation_periods` minutes:
    add `steps[i][1]` tasks when the excess over the threshold is at least `steps[i][0]`."""

    threshold: int
    steps: tuple[tuple[int, int], ...]
    evaluation_periods: int = 2
    cooldown: int = 120


def _whole(value: Any, lo: int, hi: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise Invalid(f"{what} must be a whole number from {lo} to {hi}")
    return value


def _steps(raw: Any) -> tuple[tuple[int, int], ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= STEP_MAX_STEPS or not all(
            isinstance(s, dict) and set(s) == {"over", "add"} for s in raw):
        raise Invalid(f"steps must be a list of 1 to {STEP_MAX_STEPS} {{over, add}}")
    steps = tuple((_whole(s["over"], 0, STEP_THRESHOLD[1], "over"), _whole(s["add"], *STEP_ADD, "add"))
                  for s in raw)
    overs = [over for over, _ in steps]
    if overs[0] != 0 or any(b <= a for a, b in pairwise(overs)):
        raise Invalid("steps: the first `over` must be 0 and each next one larger (bands above the threshold)")
    return steps


def parse_step_scaling(raw: Any) -> StepScaling | None:
    """A map {threshold, steps: [{over, add}], evaluationPeriods?, cooldown?} (YAML, or its JSON text)."""
    raw = decode(raw, dict, STEP_ALLOWED)
    if not {"threshold", "steps"} <= set(raw) or not set(raw) <= _STEP_KEYS:
        raise Invalid(STEP_ALLOWED)
    return StepScaling(threshold=_whole(raw["threshold"], *STEP_THRESHOLD, "threshold"),
                       steps=_steps(raw["steps"]),
                       evaluation_periods=_whole(raw.get("evaluationPeriods", 2), *STEP_PERIODS, "evaluationPeriods"),
                       cooldown=_whole(raw.get("cooldown", 120), *STEP_COOLDOWN, "cooldown"))
