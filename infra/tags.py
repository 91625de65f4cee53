"""The tags every AWS resource carries, defined in one place."""

from __future__ import annotations

from .config import StackConfig


def common_tags(cfg: StackConfig) -> dict[str, str]:
    """project, stack and managed-by, plus the stack's extraTags (which cannot override the three)."""
    return {**dict(cfg.extra_tags), "project": cfg.project, "stack": cfg.stack, "managed-by": "pulumi"}


def named(tags: dict[str, str], name: str, **extra: str) -> dict[str, str]:
    """The common tags plus a console Name and any resource-specific tags."""
    return {**tags, "Name": name, **extra}
