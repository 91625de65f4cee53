"""Keys of the runtime that is not chosen are refused by name, never silently ignored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import ConfigError, load_config
from infra.config.stack import schema
from tools.render import TEST_STACKS, stack_config


def raw_of(stack: str, **overrides: Any) -> dict[str, Any]:
    config = stack_config(stack, stacks=TEST_STACKS)
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("webstack:")}
    return {**raw, **overrides}


def problems(stack: str, **overrides: Any) -> list[str]:
    region = stack_config(stack, stacks=TEST_STACKS)["aws:region"]
    with pytest.raises(ConfigError) as err:
        load_config(raw_of(stack, **overrides), project="webstack", stack=stack, region=region)
    return err.value.problems


def test_eks_keys_on_an_ecs_stack_are_refused_by_name() -> None:
    [line] = problems("ecs", nodeInstanceTypes=["m6a.large"], hpaMaxReplicas=9)
    assert line.startswith("webstack:runtime/hpaMaxReplicas/nodeInstanceTypes = 'ecs': ")
    assert "hpaMaxReplicas, nodeInstanceTypes are for runtime 'eks' only and would be ignored" in line


def test_ecs_keys_on_an_eks_stack_are_refused_by_name() -> None:
    [line] = problems("dev", ecsTaskCpu=512, ecsTaskMemory=1024)
    assert line.startswith("webstack:runtime/ecsTaskCpu/ecsTaskMemory = 'eks': ")
    assert "ecsTaskCpu, ecsTaskMemory are for runtime 'ecs' only" in line
    [line] = problems("dev", ecsExec=True)
    assert "ecsExec is for runtime 'ecs' only and would be ignored: remove it" in line


def test_shared_keys_and_defaults_pass_on_either_runtime() -> None:
    # what a real `pulumi up` hands the program: every Pulumi.yaml default, plus the stack's own values
    defaults = {key: entry["default"] for key, entry in schema().items() if "default" in entry}
    for stack in ("ecs", "ecs-ec2", "dev", "prod"):
        config = stack_config(stack, stacks=TEST_STACKS)
        raw = {**defaults, **raw_of(stack, appName="shop", sslPolicy="ELBSecurityPolicy-TLS13-1-3-2021-06")}
        as_strings = {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
        cfg = load_config(as_strings, project="webstack", stack=stack, region=config["aws:region"])
        assert cfg.app.name == "shop"
