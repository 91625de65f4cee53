"""What `pulumi up` does for a Day-2 change, as plain data: the labelled diff (tools/review) of two renders."""

from __future__ import annotations

from tools.render import Plan
from tools.review.diff import diff_plans
from tools.review.replace import Action


def _key(typ: str, name: str) -> str:
    return f"{typ.rsplit(':', 1)[-1]}/{name}"  # `NodeGroup/cluster-nodes`: short type and name


def what_up_does(base: Plan, head: Plan) -> dict[str, set[str]]:
    """{label: {'<Type>/<name>'}} for every label `make diff` gives (update, replace, replace delete first, state
    only, moved), plus `added`, `removed` and `blocking` (guarded replacements and deletions); empty sets included,
    so a test asserts the whole outcome at once."""
    d = diff_plans(base, head)
    out: dict[str, set[str]] = {k: set() for k in ("update", "replace", "replace, delete first", "state only",
                                                   "moved", "added", "removed", "blocking")}
    for c in [*d.changed, *d.affected]:
        if c.action:
            out[c.action.kind].add(_key(c.ref.type, c.ref.name))
    out["moved"] = {_key(m.change.ref.type, m.change.ref.name) for m in d.moved}
    out["added"] = {_key(r.type, r.name) for r in d.added}
    out["removed"] = {_key(r.type, r.name) for r in d.removed}
    out["blocking"] = {_key(x.ref.type, x.ref.name) for x in d.blocking()}
    return out


def diff_actions(base: Plan, head: Plan) -> dict[str, Action]:
    """'<Type>/<name>' -> the action `make diff` labels it with (changed and reached resources)."""
    d = diff_plans(base, head)
    return {_key(c.ref.type, c.ref.name): c.action for c in [*d.changed, *d.affected] if c.action}
