"""The webstack-guardrails policy pack: `pulumi preview --policy-pack policy`.

Only builds the pack: the policies live in validators.py (unit-tested in tests/policy/test_policy.py). Constructing
PolicyPack starts the analyzer's gRPC server and blocks, so nothing may import this module.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

try:  # imported as the `policy` package
    from .validators import POLICIES
except ImportError:  # run by the CLI: this directory is the working directory and first on sys.path
    from validators import POLICIES  # type: ignore[no-redef]

PolicyPack(name="webstack-guardrails", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
