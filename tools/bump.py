"""`make bump STACK=dev`: resolve the newest compatible versions and rewrite the stack's lock, Pulumi.dev.lock.yaml.

Read-only calls only: EKS DescribeAddonVersions (the cluster's Kubernetes minor, add-on versions that run on both
node architectures), SSM GetParameters on AWS's public parameters (the EKS AL2023 node AMI release of each
architecture, the recommended ECS-optimized AL2023 AMI of each architecture in the stack's region), with the firewall
on WAFv2 ListAvailableManagedRuleGroupVersions (each versioned AWS managed rule group's current default version), and
each chart repository's index.yaml over HTTPS. Everything is resolved before anything is written: a failure midway
leaves the lock as it was. The lock is rewritten only when a value changed; what changed, and why each value, is
printed (and written as Markdown with --summary, the body of the weekly pull request, .github/workflows/bump.yml).

The program reads the lock and resolves nothing itself (infra/config/lock.py); a config key that pins a version wins.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from infra.config import ConfigError, StackConfig, load_config
from infra.config.addons import CHARTS, KARPENTER_KUBERNETES, charts_of
from infra.config.cluster import required_eks_addons
from infra.config.ecs import ARCHITECTURES, PLATFORM_VERSIONS
from infra.config.lock import AMI_ID, KEYS, RELEASE_VERSION, LockFile, bump_command, lock_name
from infra.config.ops import WAF_GROUP_VERSION, WAF_VERSIONED_GROUPS
from tools.render import ROOT, project_name, stack_config

# Each chart's repository, as the program installs it (infra/eks: addons.py, autoscaler.py; a test keeps them equal).
CHART_REPOSITORIES = {
    "aws-load-balancer-controller": "https://aws.github.io/eks-charts",
    "external-dns": "https://kubernetes-sigs.github.io/external-dns/",
    "metrics-server": "https://kubernetes-sigs.github.io/metrics-server/",
    "cluster-autoscaler": "https://kubernetes.github.io/autoscaler",
    "karpenter": "oci://public.ecr.aws/karpenter",
}
# AWS's public SSM parameters (https://docs.aws.amazon.com/eks/latest/userguide/retrieve-ami-id.html and
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/retrieve-ecs-optimized_AMI.html).
EKS_AMI_ARCH = {"amd64": "x86_64", "arm64": "arm64"}
EKS_RELEASE_PARAMETER = ("/aws/service/eks/optimized-ami/{minor}/amazon-linux-2023/{arch}/standard/recommended/"
                         "release_version")
ECS_AMI_PARAMETERS = {"amd64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended",
                      "arm64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended"}
# What the read-only role needs, all of it (docs/operations.md shows this document; a test keeps them equal). AWS's
# public parameters have no account in their ARN (arn:aws:ssm:<region>::parameter/aws/service/...): `*` matches it.
READ_ONLY_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "eks:DescribeAddonVersions", "Resource": "*"},
    {"Effect": "Allow", "Action": ["ssm:GetParameters", "ssm:GetParameter"],
     "Resource": ["arn:aws:ssm:*:*:parameter/aws/service/eks/optimized-ami/*",
                  "arn:aws:ssm:*:*:parameter/aws/service/ecs/optimized-ami/*"]},
    # (the action has no resource type in the IAM service authorization reference: `*` only)
    {"Effect": "Allow", "Action": "wafv2:ListAvailableManagedRuleGroupVersions", "Resource": "*"}]}
HTTP_TIMEOUT_SECONDS = 30
INDEX_MAX_BYTES = 64 * 1024 * 1024  # the eks-charts index is the largest, a few MiB

Fetch = Callable[[str], bytes]


class BumpError(RuntimeError):
    """A version could not be resolved: nothing is written."""


@dataclass(frozen=True)
class Resolved:
    value: Any
    why: str


def fetch_https(url: str) -> bytes:
    if not url.startswith("https://"):
        raise BumpError(f"{url}: only HTTPS chart repositories are read")
    request = urllib.request.Request(url, headers={"User-Agent": "webstack-bump"})
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # https only (checked above)
        body: bytes = response.read(INDEX_MAX_BYTES + 1)
    if len(body) > INDEX_MAX_BYTES:
        raise BumpError(f"{url}: larger than {INDEX_MAX_BYTES} bytes")
    return body


# --- versions ------------------------------------------------------------------------------------------------------
_SEMVER = re.compile(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")


def semver(text: str) -> tuple[int, int, int, int] | None:
    """(major, minor, patch, 1) for a release, 0 last for a pre-release (which sorts before its release)."""
    m = _SEMVER.fullmatch(text.strip())
    if not m:
        return None
    return int(m[1]), int(m[2] or 0), int(m[3] or 0), 0 if m[4] else 1


def addon_key(version: str) -> tuple[int, ...]:
    """v1.19.2-eksbuild.3 -> (1, 19, 2, 3): the eksbuild number orders builds of one upstream version."""
    return tuple(int(n) for n in re.findall(r"\d+", version))


def _bound(op: str, text: str, cluster: tuple[int, int, int, int]) -> bool | None:
    """One term of a constraint against the cluster's version, as Helm's semver library (Masterminds/semver v3,
    constraints.go) judges it: a term without a pre-release never admits a pre-release version, and EKS's server
    version always is one (`v1.N.x-eks-<hash>`), so `>=1.21.0` refuses every EKS cluster where `>=1.21.0-0` does
    not. Only the "-0" form (a pre-release that sorts below `-eks-...`) is compared."""
    version = semver(text)
    if version is None:
        return None
    if version[3] == 1:  # a release: "only looking for release versions"
        return False
    if op == "^":  # same major
        return version <= cluster < (version[0] + 1, 0, 0, 0)
    if op == "~":  # same minor
        return version <= cluster < (version[0], version[1] + 1, 0, 0)
    checks = {">=": cluster >= version, ">": cluster > version, "<=": cluster <= version, "<": cluster < version,
              "=": cluster == version, "": cluster == version, "!=": cluster != version}
    return checks.get(op)


def kube_version_allows(constraint: str, minor: str) -> bool | None:
    """Whether a chart's kubeVersion constraint (Helm's semver syntax: `>=1.21.0-0`, `>= 1.19.0-0 < 1.36.0-0`,
    alternatives with ||) admits an EKS cluster of Kubernetes `minor`, whose version Helm sees as the pre-release
    `v<minor>.<patch>-eks-<hash>`, judged at patch 0 (charts bound minors; a bound on a patch, rare, is judged for
    the minor's first release); None when the constraint uses syntax this does not read."""
    major, _, minor_number = minor.partition(".")
    # 1.N.0-eks-...: after the constraints' "1.N.0-0" ("eks" sorts above the numeric "0"); never compared to a release
    cluster = (int(major), int(minor_number), 0, 1)
    results = []
    for alternative in constraint.split("||"):
        terms = re.findall(r"(>=|<=|!=|>|<|=|\^|~)?\s*(v?[0-9][0-9A-Za-z.+-]*)", alternative.replace(",", " "))
        if not terms:
            return None
        oks = [_bound(op, text, cluster) for op, text in terms]
        if None in oks:
            return None
        results.append(all(oks))
    return any(results)


# --- AWS -----------------------------------------------------------------------------------------------------------
def eks_addon_version(eks: Any, name: str, minor: str) -> Resolved:
    """The newest version of add-on `name` EKS lists as compatible with Kubernetes `minor` on every node
    architecture (a stack may switch architecture without a bump)."""
    found: dict[str, bool] = {}  # version -> EKS's default for this minor
    pages = eks.get_paginator("describe_addon_versions").paginate(addonName=name, kubernetesVersion=minor)
    for page in pages:
        for addon in page.get("addons", []):
            if addon.get("addonName") != name:
                continue
            for v in addon.get("addonVersions", []):
                compatible = [c for c in v.get("compatibilities", []) if c.get("clusterVersion") == minor]
                if compatible and set(ARCHITECTURES) <= set(v.get("architecture", [])):
                    found[v["addonVersion"]] = any(c.get("defaultVersion") for c in compatible)
    if not found:
        raise BumpError(f"EKS lists no {name} version for Kubernetes {minor} on {' and '.join(ARCHITECTURES)}")
    newest = max(found, key=addon_key)
    default = next((v for v, d in found.items() if d), None)
    note = "" if default in (None, newest) else f"; EKS's default is {default}"
    return Resolved(newest, f"newest of {len(found)} versions EKS lists for Kubernetes {minor} "
                            f"({'+'.join(ARCHITECTURES)}){note}")


def ssm_values(ssm: Any, names: list[str]) -> dict[str, str]:
    """The values of AWS's public parameters `names` (one GetParameters call); a missing one is an error."""
    response = ssm.get_parameters(Names=names)
    values = {p["Name"]: p["Value"] for p in response.get("Parameters", [])}
    missing = [n for n in names if n not in values] + list(response.get("InvalidParameters", []))
    if missing:
        raise BumpError(f"SSM has no parameter {', '.join(sorted(set(missing)))} in this region")
    return values


def node_release_versions(ssm: Any, minor: str) -> dict[str, Resolved]:
    """Per architecture, AWS's recommended EKS AL2023 node AMI release for Kubernetes `minor`."""
    names = {arch: EKS_RELEASE_PARAMETER.format(minor=minor, arch=EKS_AMI_ARCH[arch]) for arch in ARCHITECTURES}
    values = ssm_values(ssm, list(names.values()))
    out = {}
    for arch, name in names.items():
        release = values[name]
        if not re.fullmatch(RELEASE_VERSION, release) or not release.startswith(f"{minor}."):
            raise BumpError(f"{name} = {release!r}: not an AL2023 release for Kubernetes {minor}")
        out[arch] = Resolved(release, f"AWS's recommended EKS AL2023 {arch} release for Kubernetes {minor} "
                                      f"(SSM {name})")
    return out


def ecs_amis(ssm: Any, region: str) -> dict[str, Resolved]:
    """Per architecture, AWS's recommended ECS-optimized AL2023 AMI in `region`."""
    values = ssm_values(ssm, list(ECS_AMI_PARAMETERS.values()))
    out = {}
    for arch, parameter in ECS_AMI_PARAMETERS.items():
        try:
            meta = json.loads(values[parameter])
            image_id, image_name = str(meta["image_id"]), str(meta["image_name"])
        except (ValueError, KeyError, TypeError):
            raise BumpError(f"{parameter}: not the ECS AMI metadata (JSON with image_id, image_name)") from None
        if not re.fullmatch(AMI_ID, image_id):
            raise BumpError(f"{parameter}: image_id {image_id!r} is not an AMI id")
        out[arch] = Resolved(image_id, f"AWS's recommended ECS-optimized AL2023 {arch} AMI in {region}: {image_name} "
                                       f"(SSM {parameter})")
    return out


def waf_rule_group_version(wafv2: Any, name: str, region: str) -> Resolved:
    """AWS's current default version of the AWS managed rule group `name` (REGIONAL scope, an ALB's): the static
    version AWS recommends (WAF developer guide, "Typical version states"). Pinned, it stays until the next bump;
    AWS moves its default by itself. One page is enough: CurrentDefaultVersion is in every response."""
    response = wafv2.list_available_managed_rule_group_versions(VendorName="AWS", Name=name, Scope="REGIONAL")
    default = response.get("CurrentDefaultVersion") or ""
    if not re.fullmatch(WAF_GROUP_VERSION, default):
        raise BumpError(f"WAF lists no default static version of {name} in {region} "
                        f"(CurrentDefaultVersion {default!r})")
    listed = len(response.get("Versions", []))
    return Resolved(default, f"AWS's current default version of {name} (wafv2 ListAvailableManagedRuleGroupVersions, "
                             f"REGIONAL, {region}; {listed} static version(s) listed); read its changelog entry")


# --- charts --------------------------------------------------------------------------------------------------------
def chart_version(fetch: Fetch, name: str, minor: str) -> Resolved:
    """The newest release of chart `name` in its repository's index that admits Kubernetes `minor` (its
    kubeVersion) and, for the charts whose IAM policy or values this project ships per version, that it supports."""
    repository = CHART_REPOSITORIES[name]
    url = repository.rstrip("/") + "/index.yaml"
    try:
        index = yaml.safe_load(fetch(url))
    except yaml.YAMLError as err:
        raise BumpError(f"{url}: not YAML ({type(err).__name__})") from None
    entries = (index or {}).get("entries", {}).get(name) if isinstance(index, dict) else None
    if not entries:
        raise BumpError(f"{url} lists no chart {name}")
    published = {}
    for entry in entries:
        version = str(entry.get("version", ""))
        parsed = semver(version)
        if parsed is None or parsed[3] == 0 or entry.get("deprecated"):
            continue  # pre-releases and deprecated releases are never picked
        if entry.get("kubeVersion") and not kube_version_allows(str(entry["kubeVersion"]), minor):
            continue  # a constraint that excludes the minor, or one this cannot read
        published[version] = parsed
    if not published:
        raise BumpError(f"{url}: no release of {name} admits Kubernetes {minor}")
    supported = CHARTS[name].supported
    candidates = [v for v in published if not supported or v in supported]
    if not candidates:
        raise BumpError(f"{url}: none of the versions this project supports ({', '.join(supported)}) of {name} is "
                        f"published for Kubernetes {minor}")
    newest = max(candidates, key=published.__getitem__)
    why = f"newest of {len(published)} releases in {url} that admit Kubernetes {minor}"
    newer = sorted((v for v in published if published[v] > published[newest]), key=published.__getitem__)
    if supported:
        why = (f"newest this project supports ({', '.join(supported)}: its IAM policy or values are shipped per "
               f"version, infra/config/addons.py) published for Kubernetes {minor}")
        if newer:
            why += f"; also published: {', '.join(newer)} (supporting one is a code change)"
    return Resolved(newest, why)


def karpenter_chart_version(minor: str) -> Resolved:
    """Karpenter's charts are in an OCI registry (no index to read) and this project ships its IAM policy and CRD
    schemas per version: the newest supported version whose compatibility matrix admits Kubernetes `minor`."""
    def key(version: str) -> tuple[int, ...]:
        return tuple(int(p) for p in version.split("."))

    admitting = [v for v in CHARTS["karpenter"].supported
                 if key(KARPENTER_KUBERNETES[v][0]) <= key(minor) <= key(KARPENTER_KUBERNETES[v][1])]
    if not admitting:
        raise BumpError(f"no Karpenter version this project supports ({', '.join(CHARTS['karpenter'].supported)}) "
                        f"runs on Kubernetes {minor} (infra/config/addons.py KARPENTER_KUBERNETES)")
    return Resolved(max(admitting, key=key), "newest this project supports (its IAM policy and CRDs are shipped per "
                    f"version, infra/config/addons.py) whose compatibility matrix admits Kubernetes {minor}; the OCI "
                    "registry is not read")


# --- the lock ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Clients:
    """The AWS clients of the stack's region (botocore; tests pass stubbed ones)."""

    eks: Any
    ssm: Any
    wafv2: Any = None


def aws_clients(region: str) -> Clients:
    import botocore.session

    session = botocore.session.get_session()
    return Clients(eks=session.create_client("eks", region_name=region),
                   ssm=session.create_client("ssm", region_name=region),
                   wafv2=session.create_client("wafv2", region_name=region))


def resolve(cfg: StackConfig, clients: Clients, fetch: Fetch) -> dict[str, Resolved]:
    """Every entry the stack's config needs, resolved, by its path in the lock (`eksAddons.vpc-cni`). Raises on
    the first failure."""
    out = {"region": Resolved(cfg.region, "the stack's aws:region, where the AWS values were read")}
    if cfg.ops.waf:
        out.update({f"wafRuleGroups.{g}": waf_rule_group_version(clients.wafv2, g, cfg.region)
                    for g in WAF_VERSIONED_GROUPS})
    if cfg.runtime == "ecs":
        if cfg.ecs.capacity == "ec2":
            out.update({f"ecsAmis.{a}": r for a, r in ecs_amis(clients.ssm, cfg.region).items()})
        else:
            out["fargatePlatformVersion"] = Resolved(
                PLATFORM_VERSIONS[-1], "newest Linux Fargate platform version this project supports (no AWS API "
                                       "lists them; infra/config/ecs.py PLATFORM_VERSIONS)")
        return out
    minor = cfg.cluster.kubernetes_version
    out["kubernetesVersion"] = Resolved(minor, "webstack:kubernetesVersion: the minor every entry below is for")
    out.update({f"eksAddons.{n}": eks_addon_version(clients.eks, n, minor) for n in required_eks_addons(cfg)})
    out.update({f"eksNodeReleaseVersions.{a}": r for a, r in node_release_versions(clients.ssm, minor).items()})
    # The charts this stack's node provisioner installs (Karpenter replaces the Cluster Autoscaler).
    out.update({f"charts.{n}": karpenter_chart_version(minor) if n == "karpenter" else chart_version(fetch, n, minor)
                for n in charts_of(cfg.cluster.node_provisioner)})
    return out


def lock_document(resolved: Mapping[str, Resolved]) -> dict[str, Any]:
    """The lock's YAML map: entries in a fixed order (KEYS), maps sorted by name."""
    doc: dict[str, Any] = {}
    for key in KEYS:
        if key in resolved:
            doc[key] = resolved[key].value
        names = sorted(path.split(".", 1)[1] for path in resolved if path.startswith(key + "."))
        if names:
            doc[key] = {name: resolved[f"{key}.{name}"].value for name in names}
    return doc


def lock_text(stack: str, doc: Mapping[str, Any], when: str) -> str:
    header = (f"# Version lock of stack {stack}: the program reads it and resolves nothing at deploy time.\n"
              f"# Written by `{bump_command(stack)}` on {when} (read-only AWS calls, the charts' repository\n"
              "# indexes); review and commit it. A config key that pins a version wins over it.\n"
              "# docs/operations.md, \"Keeping versions current\".\n")
    return header + yaml.safe_dump(dict(doc), sort_keys=False, default_flow_style=False)


def flatten(doc: Any, prefix: str = "") -> dict[str, str]:
    """`eksAddons.vpc-cni` -> value, for the change list."""
    if isinstance(doc, Mapping):
        out: dict[str, str] = {}
        for key, value in doc.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: str(doc)}


@dataclass(frozen=True)
class Change:
    entry: str
    old: str | None
    new: str | None

    def line(self) -> str:
        if self.old is None:
            return f"{self.entry}: {self.new} (new entry)"
        if self.new is None:
            return f"{self.entry}: {self.old} removed (this config does not use it)"
        return f"{self.entry}: {self.old} -> {self.new}"


def changes(old: Any, new: Mapping[str, Any]) -> list[Change]:
    before, after = flatten(old if isinstance(old, Mapping) else {}), flatten(new)
    return [Change(k, before.get(k), after.get(k)) for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)]


# --- the command ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Report:
    stack: str
    path: Path
    changes: list[Change]
    why: dict[str, str]
    notes: list[str]
    written: bool

    def lines(self) -> list[str]:
        head = f"{self.path.name}: {len(self.changes)} change(s)" if self.changes else f"{self.path.name}: nothing new"
        out = [head + (", written" if self.written else ", not written (--dry-run)" if self.changes else "")]
        out += [f"  {c.line()}\n      why: {self.why.get(c.entry, 'no longer needed by this config')}"
                for c in self.changes]
        return out + [f"  note: {n}" for n in self.notes]

    def markdown(self) -> str:
        rows = [f"| `{c.entry}` | {c.old or '(none)'} | {c.new or '(removed)'} | {self.why.get(c.entry, 'unused')} |"
                for c in self.changes]
        body = ["| entry | was | now | why |", "|---|---|---|---|", *rows] if rows else ["Nothing new."]
        return "\n".join([f"### `{self.stack}` ({self.path.name})", "", *body, *(f"- {n}" for n in self.notes), ""])


def pinned_notes(cfg: StackConfig) -> list[str]:
    """Config pins win over the lock: say which lock entries are not what gets deployed."""
    notes = [f"webstack:addonVersions pins {n} to {v}: the lock's eksAddons.{n} is not deployed"
             for n, v in cfg.cluster.addon_versions] if cfg.runtime == "eks" else []
    if cfg.runtime == "eks":
        notes += [f"webstack:{pin.key} pins {name} to {getattr(cfg.addons, pin.attr)}: the lock's charts.{name} is "
                  "not deployed" for name, pin in CHARTS.items() if getattr(cfg.addons, pin.attr)]
    if cfg.runtime == "ecs" and cfg.ecs.capacity == "fargate" and cfg.ecs.platform_version:
        notes.append(f"webstack:ecsPlatformVersion pins {cfg.ecs.platform_version}: the lock's value is not deployed")
    return notes


def write_atomically(path: Path, text: str) -> None:
    """The whole new lock or the old one, never half of it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def bump(stack: str, *, stacks: Path | None = None, clients: Clients | None = None, fetch: Fetch = fetch_https,
         write: bool = True, today: str | None = None) -> Report:
    """Resolve, check that the program accepts the result, then (only then) rewrite the lock if anything changed."""
    folder = stacks or ROOT
    config = stack_config(stack, ROOT, folder)
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("webstack:")}
    cfg = load_config(raw, project=project_name(ROOT), stack=stack, region=config.get("aws:region"))
    path = folder / lock_name(stack)
    old = yaml.safe_load(path.read_text()) if path.is_file() else None
    resolved = resolve(cfg, clients or aws_clients(cfg.region), fetch)
    doc = lock_document(resolved)
    # The program must accept what is written: the same check `make plan` and `pulumi up` run.
    load_config(raw, project=project_name(ROOT), stack=stack, region=cfg.region, lock=LockFile(path, doc))
    found = changes(old, doc)
    written = bool(found) and write
    if written:
        write_atomically(path, lock_text(stack, doc, today or datetime.now(UTC).date().isoformat()))
    return Report(stack, path, found, {k: r.why for k, r in resolved.items()}, pinned_notes(cfg), written)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--stacks", type=Path, default=None,
                        help="folder of Pulumi.<stack>.yaml and its lock (default: the project root)")
    parser.add_argument("--dry-run", action="store_true", help="print what would change, write nothing")
    parser.add_argument("--summary", type=Path, default=None, help="also write the changes as Markdown here")
    args = parser.parse_args(argv)
    try:
        report = bump(args.stack, stacks=args.stacks, write=not args.dry_run)
    except ConfigError as err:  # the stack's config, or a lock the program would refuse (then a bug here)
        print(f"make bump: stack {args.stack!r}: {err}\nThe lock was not changed.", file=sys.stderr)
        return 1
    except Exception as err:  # botocore, HTTP, YAML: reported, the lock left as it was
        print(f"make bump: stack {args.stack!r}: {type(err).__name__}: {err}\nThe lock was not changed.",
              file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(report.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
