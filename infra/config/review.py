"""Review keys: when `make cost BASE=...` and the pull request comment flag a cost increase (tools/review/cost.py).

They deploy nothing: the program validates them with every other key so a bad threshold fails `make plan` by name,
and the review tools read them from the stack's config (the working tree's, the change being reviewed)."""

from __future__ import annotations

from dataclasses import dataclass

from .core import between, setting


@dataclass(frozen=True, kw_only=True)
class ReviewConfig:
    cost_increase_limit_usd: int = setting(
        "costIncreaseLimitUsd", 100,
        "Review: flag a change raising this stack's estimated monthly cost by more than this many US dollars "
        "(make cost BASE=..., the pull request comment); 0 flags any increase.",
        between(0, 1_000_000))
    cost_increase_limit_percent: int = setting(
        "costIncreaseLimitPercent", 20,
        "Review: flag a change raising this stack's estimated monthly cost by more than this percentage; "
        "0 flags any increase.",
        between(0, 10_000))
