"""The pack: the policies of every area, in one list, `POLICIES`, which policy/__main__.py builds the pack from.

Each policy is declared once, beside its validation function, in its area's module (policy/eks.py, aws.py,
kubernetes.py, ecs.py, ecs_roles.py, ops.py; shared helpers in common.py). `AREAS` is the pack's order, which
`pulumi preview`, `make policy` and the pull request comment list the policies in; tools/policy_docs.py turns it
into policy/README.md's table. Under the CLI this module is imported as a top-level module (see __main__.py), hence
absolute imports.
"""

from __future__ import annotations

from pulumi_policy import Policy

from policy import aws, ecs, ecs_roles, eks, kubernetes, ops
from policy.common import Area

# Areas, not modules: the order the pack has always listed its policies in interleaves eks.py and aws.py.
AREAS: tuple[Area, ...] = (
    eks.NODE_GROUPS, eks.CLUSTER, aws.BASELINE, kubernetes.WORKLOADS, eks.ADDONS, aws.KEYS_AND_LOGS, ecs.RUNTIME,
    ecs_roles.ROLES, ops.OPERATIONS, aws.IAM,
)
POLICIES: list[Policy] = [policy for area in AREAS for policy in area.policies]
