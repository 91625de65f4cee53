"""parliament (the IAM policy linter) on the stack's documents, with the reviewed allowlist of expected findings."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

import yaml
from parliament import analyze_policy_string

from tools.render import ROOT

ALLOWLIST = yaml.safe_load((ROOT / "tests" / "data" / "parliament-allowlist.yaml").read_text())


def allowed(document: str, finding: Any) -> dict[str, Any] | None:
    for entry in ALLOWLIST:
        if (fnmatch.fnmatch(document, entry["document"]) and finding.issue == entry["issue"]
                and re.search(entry["detail"], str(finding.detail))):
            return entry
    return None


def findings(doc: dict[str, Any]) -> list[Any]:
    return list(analyze_policy_string(json.dumps(doc)).findings)


def unexpected_findings(name: str, doc: dict[str, Any]) -> list[str]:
    """Parliament's findings on the IAM document `name` that the allowlist does not accept, as `name: issue detail`."""
    return [f"{name}: {f.issue} {f.detail}" for f in findings(doc) if not allowed(name, f)]

