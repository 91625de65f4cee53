"""The bootstrap stack's configuration: read once, every problem reported at once, each naming its key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NAMESPACE = "webstack-bootstrap"
REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
OIDC_PROVIDER_ARN = re.compile(
    r"^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$")
ROLE_PREFIX = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,40}$")
BACKENDS = ("s3", "cloud")
# S3 bucket names (S3 user guide, "General purpose bucket naming rules"): 3-63 characters of a-z 0-9 . -, a letter
# or digit first and last, no "..", none of AWS's reserved prefixes and suffixes.
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
# KMS alias names (KMS CreateAlias): alias/ then letters, digits, / _ - only (no "."), 256 characters at most.
KMS_ALIAS = re.compile(r"^alias/[A-Za-z0-9/_-]{1,250}$")


class BootstrapConfigError(ValueError):
    pass


@dataclass(frozen=True, kw_only=True)
class BootstrapConfig:
    repository: str
    """`owner/name` of the GitHub repository whose workflows assume the roles."""
    state_backend: str
    environments: tuple[str, ...] | None
    """The workflow environments whose deploy roles this account holds (None: every one)."""
    preview: bool
    oidc_provider_arn: str | None
    role_prefix: str


def _bool(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    return {"true": True, "false": False}.get(str(raw).lower())


def _list(raw: Any) -> list[Any] | None:
    import json

    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return None
    return list(raw) if isinstance(raw, (list, tuple)) else None


def state_bucket_name(prefix: str, account: str, region: str) -> str:
    return f"{prefix}-state-{account}-{region}".lower()


def state_name_problems(prefix: str, account: str, region: str) -> list[str]:
    """What is wrong with the state bucket's and its key alias's names, which rolePrefix begins."""
    bucket = state_bucket_name(prefix, account, region)
    problems = []
    if (not BUCKET.match(bucket) or ".." in bucket or bucket.startswith(BUCKET_RESERVED_PREFIXES)
            or re.match(r"^\d+\.\d+\.\d+\.\d+$", bucket)):
        problems.append(f"{NAMESPACE}:rolePrefix = {prefix!r}: it begins the state bucket's name {bucket!r}, which "
                        "must be 3-63 characters of a-z, 0-9, '.', '-' (a letter or digit first, no '..', not "
                        f"starting {', '.join(BUCKET_RESERVED_PREFIXES)}): use such a shorter prefix")
    if not KMS_ALIAS.match(f"alias/{bucket}"):
        problems.append(f"{NAMESPACE}:rolePrefix = {prefix!r}: it names the state key's alias 'alias/{bucket}', "
                        "which allows letters, digits, '/', '_' and '-' only (no '.')")
    return problems


def load(raw: Mapping[str, Any], known_environments: list[str], *, account: str, region: str) -> BootstrapConfig:
    """`raw`: the stack's `webstack-bootstrap:*` values by bare key; `known_environments`: the workflows';
    `account` and `region` (the credentials') complete the state bucket's name."""
    problems: list[str] = []

    def key(name: str) -> str:
        return f"{NAMESPACE}:{name}"

    repository = str(raw.get("repository") or "")
    if not REPOSITORY.match(repository):
        problems.append(f"{key('repository')} = {repository!r}: required, the GitHub repository as owner/name "
                        "(e.g. acme/webstack), exactly as GitHub spells it in the token's subject")
    backend = str(raw.get("stateBackend") or "s3")
    if backend not in BACKENDS:
        problems.append(f"{key('stateBackend')} = {backend!r}: allowed: {', '.join(BACKENDS)}")
    environments: tuple[str, ...] | None = None
    if raw.get("environments") is not None:
        items = _list(raw["environments"])
        if items is None or not all(isinstance(i, str) for i in items):
            problems.append(f"{key('environments')}: must be a list of environment names")
        else:
            unknown = [e for e in items if e not in known_environments]
            if unknown or len(set(items)) != len(items):
                problems.append(f"{key('environments')} = {items}: each once, one of the workflows' environments "
                                f"({', '.join(known_environments) or 'none'}); unknown: {unknown}")
            environments = tuple(items)
    preview = True if raw.get("preview") is None else _bool(raw["preview"])
    if preview is None:
        problems.append(f"{key('preview')} = {raw.get('preview')!r}: allowed: true, false")
    provider = raw.get("githubOidcProviderArn")
    if provider is not None and not OIDC_PROVIDER_ARN.match(str(provider)):
        problems.append(f"{key('githubOidcProviderArn')} = {provider!r}: the ARN of the account's existing "
                        "provider, arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com")
    prefix = str(raw.get("rolePrefix") or "webstack-ci")
    if not ROLE_PREFIX.match(prefix):
        problems.append(f"{key('rolePrefix')} = {prefix!r}: 1-40 characters of IAM role names (letters, digits, "
                        "+=,.@_-)")
    elif backend == "s3":
        problems += state_name_problems(prefix, account, region)
    if problems:
        raise BootstrapConfigError(f"invalid bootstrap configuration ({len(problems)} problem(s)):\n  - "
                                   + "\n  - ".join(problems))
    return BootstrapConfig(repository=repository, state_backend=backend, environments=environments,
                           preview=bool(preview), oidc_provider_arn=str(provider) if provider else None,
                           role_prefix=prefix)
