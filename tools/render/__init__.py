"""Offline render: evaluate the Pulumi program under the SDK's mock runtime and capture everything.

`render("dev")` runs `__main__.py` with `Pulumi.dev.yaml`'s config and `Pulumi.dev.lock.yaml`'s versions, no
engine, no credentials,
and returns a `Plan`: every registration (type, name, inputs, parent, provider, dependencies,
options, aliases, mock state), every data-source call and the stack outputs, as plain data with secrets
replaced by "[secret]". `make plan` writes it to build/plan/<stack>/; the unit tests assert on it.

This package is tooling, not part of the deployed program: `infra/` never imports it.
"""

from __future__ import annotations

from .engine import ROOT, TEST_STACKS, RenderError, lock_file, project_name, render, stack_config
from .plan import Plan
from .values import SECRET, is_secret, redact, secret_digests

__all__ = ["ROOT", "SECRET", "TEST_STACKS", "Plan", "RenderError", "is_secret", "lock_file", "project_name", "redact",
           "render", "secret_digests", "stack_config"]
