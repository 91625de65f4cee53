"""The webstack-guardrails policy pack: `pulumi preview --policy-pack policy`.

Only builds the pack: the policies are declared by area (eks.py, aws.py, kubernetes.py, ecs.py) and assembled in
validators.py (unit-tested in tests/policy/). Constructing PolicyPack starts the analyzer's gRPC server and blocks,
so nothing may import this module.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

try:  # imported as the `policy` package
    from .validators import POLICIES
except ImportError:  # run by the CLI: runpy runs this file with this directory first on sys.path, not as a package
    import importlib.util
    import sys
    from pathlib import Path

    # validators.py imports the areas as `policy.*` and they import one another relatively: make this directory
    # the package `policy` first, whatever it is called (a published pack is installed as
    # ~/.pulumi/policies/<org>/pulumi-analyzer-<name>-v<version>, not a Python name).
    _here = Path(__file__).resolve().parent
    _spec = importlib.util.spec_from_file_location("policy", _here / "__init__.py",
                                                   submodule_search_locations=[str(_here)])
    assert _spec is not None and _spec.loader is not None
    sys.modules["policy"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["policy"])
    from validators import POLICIES  # type: ignore[no-redef]

PolicyPack(name="webstack-guardrails", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
