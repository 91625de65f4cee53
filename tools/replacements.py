"""`make replacements`: which input changes replace a resource, per type, in Pulumi's names, for `make diff`.

Reads tools/review/data/replacement-sources.yaml (what was read in the pinned providers' sources, in their own
names: terraform-provider-aws `ForceNew` / `RequiresReplace` attributes in snake_case, pulumi-kubernetes' immutable
fields, Helm, pulumi-eks, pulumi-docker, pulumi-command) and writes tools/review/data/replacements.json: per resource
type the forcing input paths in camelCase, whether the provider deletes the old resource first, the auto-named name
input, whether the type is guarded (stateful or shared), and the source file and commit each rule came from.

The snake_case -> camelCase mapping is taken from the installed pulumi-aws SDK (every path is checked to exist there,
nested blocks and pluralised lists included), so a path the pinned SDK does not have fails the run.

Offline: it needs only the committed YAML and the installed SDK. Given a fetched snapshot it re-reads the source:
`--kubernetes-source DIR` (a pulumi-kubernetes git dir) takes the immutable-field table from its diff.go;
`--terraform-source DIR` (a terraform-provider-aws checkout) lists, per file, the ForceNew attributes found there that
differ from the YAML (review them, then edit the YAML). `--check` exits 1 when the JSON is not what the YAML gives.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "tools" / "review" / "data" / "replacement-sources.yaml"
OUTPUT = ROOT / "tools" / "review" / "data" / "replacements.json"
K8S_DIFF_GO = "provider/pkg/provider/diff.go"


# --- the pulumi-aws SDK as the map from Terraform names to Pulumi names --------------------------------------------

def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


@cache
def args_class(token: str) -> type | None:
    """`aws:ec2/vpcEndpoint:VpcEndpoint` -> pulumi_aws.ec2.VpcEndpointArgs (None when absent). Through the package,
    as the program imports it: importing a submodule directly upsets pulumi-aws's lazy loading in this process."""
    _, mod_file, cls = token.split(":")
    try:
        module = importlib.import_module(f"pulumi_aws.{mod_file.split('/')[0]}")
    except ModuleNotFoundError:
        return None
    return getattr(module, f"{cls}Args", None)


def properties(cls: type) -> dict[str, str]:
    """camelCase input name -> the Args class name of its nested type ('' for a scalar)."""
    out = {}
    for _, prop in inspect.getmembers(cls, lambda m: isinstance(m, property)):
        name = getattr(prop.fget, "_pulumi_name", None)
        if not name:
            continue
        nested = re.search(r"ForwardRef\('(\w+Args)'\)", str(prop.fget.__annotations__.get("return", "")))
        out[name] = nested.group(1) if nested else ""
    return out


def _nested(cls: type, name: str) -> type | None:
    return getattr(importlib.import_module(cls.__module__.rsplit(".", 1)[0]), name, None)


def pulumi_path(token: str, tf_path: str, renames: dict[str, str] | None = None) -> str:
    """`capacity_provider_strategy.weight` -> `capacityProviderStrategies.weight`, checked against the SDK.
    `renames` maps a top-level Terraform attribute that pulumi-aws renames (its resources.go `Fields`, e.g.
    `alarm_name` -> `name`) to the Pulumi name; the result is checked against the SDK like any other."""
    cls = args_class(token)
    if cls is None:
        raise LookupError(f"{token}: no Args class in the installed pulumi-aws SDK")
    out = []
    for depth, segment in enumerate(tf_path.split(".")):
        props = properties(cls) if cls else {}
        base = (renames or {}).get(segment) if depth == 0 else None
        base = base or camel(segment)
        options = [base, base + "s", base + "es", base[:-1] + "ies" if base.endswith("y") else base]
        hit = next((o for o in options if o in props), None)
        if hit is None:
            known = ", ".join(sorted(props))
            raise LookupError(f"{token}: `{tf_path}` has no `{segment}` in pulumi-aws (known: {known})")
        out.append(hit)
        cls = _nested(cls, props[hit]) if cls and props[hit] else None
    return ".".join(out)


def auto_named(token: str) -> bool:
    """The bridge auto-names a string `name` input (SetAutonaming), which makes it optional in the SDK; pulumi-aws
    overrides that keep it required (e.g. Route 53 records) are not auto-named."""
    cls = args_class(token)
    param = inspect.signature(cls.__init__).parameters.get("name") if cls else None
    return param is not None and param.default is not inspect.Parameter.empty


# --- building the data ---------------------------------------------------------------------------------------------

def _aws_entry(token: str, spec: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    renames = spec.get("pulumi_names") or {}
    paths = [pulumi_path(token, p, renames) for p in spec.get("force_new") or []]
    props = properties(args_class(token))
    if "region" in props:  # terraform-provider-aws v6: changing `region` replaces (source: region_note)
        paths.append("region")
    groups = [[pulumi_path(token, p, renames) for p in g] for g in spec.get("replace_when_kind_changes") or []]
    where = f"{source['repo']} {spec['file']}" + (f"@{spec['commit'][:12]}" if spec.get("read", True) else
                                                  " (not read: from the provider documentation)")
    entry: dict[str, Any] = {"replace": sorted(set(paths)), "source": where, "terraform": spec["resource"]}
    if groups:
        entry["replaceWhenKindChanges"] = groups
    if auto_named(token):
        entry["autoname"] = "name"
    for key in ("note", "deleteBeforeReplace"):
        if key in spec:
            entry[key] = spec[key]
    return entry


def kubernetes_token(gvk: str) -> str:
    group, version, kind = gvk.split("/")
    return f"kubernetes:{group or 'core'}/{version}:{kind}"


def _kubernetes(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    where = f"{spec['source']['repo']} {spec['source']['file']}@{spec['source']['commit'][:12]}"
    for gvk, paths in spec["kinds"].items():
        out[kubernetes_token(gvk)] = {"replace": sorted({*spec["every_kind"], *(p.lstrip(".") for p in paths)}),
                                      "kubernetes": True, "source": where}
    return out


def build(sources: dict[str, Any]) -> dict[str, Any]:
    types: dict[str, dict[str, Any]] = {}
    tf_source = sources["sources"]["terraform-provider-aws"]
    for token, spec in sources["terraform"].items():
        types[token] = _aws_entry(token, spec, tf_source)
    types.update(_kubernetes(sources["kubernetes"]))
    for token, spec in sources["other"].items():
        types[token] = {"replace": sorted(spec.get("replace") or []), "source": spec["source"],
                        **{k: spec[k] for k in ("note", "deleteBeforeReplace", "autoname", "component") if k in spec}}
    for token, effects in (sources.get("side_effects") or {}).items():
        types[token]["sideEffects"] = effects
    for token, why in sources["guards"].items():
        if token not in types:
            raise LookupError(f"guard for {token}, which has no replacement entry")
        types[token]["guard"] = why
    return {"generatedBy": "tools/replacements.py (make replacements) from tools/review/data/replacement-sources.yaml",
            "sources": sources["sources"], "types": dict(sorted(types.items()))}


def text(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# --- re-reading a fetched source -----------------------------------------------------------------------------------

def kubernetes_table(gitdir: Path) -> tuple[str, dict[str, list[str]]]:
    """(commit, {group/version/Kind: immutable paths}) from pulumi-kubernetes' diff.go at the snapshot's HEAD."""
    commit = subprocess.run(["git", f"--git-dir={gitdir}", "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    go = subprocess.run(["git", f"--git-dir={gitdir}", "show", f"HEAD:{K8S_DIFF_GO}"], capture_output=True, text=True,
                        check=True).stdout
    return commit, parse_kubernetes_diff_go(go)


def _helpers(go: str) -> dict[str, list[str]]:
    """`func xForceNewProperties(prefix...)` -> the suffixes it appends to each prefix."""
    out = {}
    for name, body in re.findall(r"func (\w+)ForceNewProperties\(\w+ \.*string\) properties \{(.*?)\n\}", go, re.S):
        out[name] = re.findall(r'prefix \+ "([^"]+)"', body)
    return out


_TOKEN = re.compile(r'\s*(?://[^\n]*\n\s*)*("[^"]*"|\.\.\.|[\w.]+|[{}(),:+])')


class _GoLiteral:
    """Evaluates the composite literals of diff.go's table: `name{ "k": v, ... }` maps, `properties{"a", ...}` lists,
    `append(list, f("prefix")...)` and variable names, with `xForceNewProperties(prefix...)` helpers."""

    def __init__(self, go: str):
        self.go = go
        self.helpers = _helpers(go)
        self.tokens: list[str] = []
        self.pos = 0

    def variable(self, name: str) -> Any:
        found = re.search(rf"\nvar {name} = ", self.go)
        if not found:
            raise ValueError(f"no `var {name}` in diff.go")
        saved = (self.tokens, self.pos)
        self.tokens = [t.group(1) for t, _ in zip(_TOKEN.finditer(self.go, found.end()), range(4000), strict=False)]
        self.pos = 0
        try:
            return self.value()
        finally:
            self.tokens, self.pos = saved

    def next(self) -> str:
        self.pos += 1
        return self.tokens[self.pos - 1]

    def value(self) -> Any:
        tok = self.next()
        if tok.startswith('"'):
            return tok[1:-1]
        if tok == "append":
            self.next()  # (
            out = list(self.value())
            while self.tokens[self.pos] == ",":
                self.next()
                if self.tokens[self.pos] == ")":  # a trailing comma
                    break
                out += self.value()
                if self.tokens[self.pos] == "...":
                    self.next()
            self.next()  # )
            return out
        if tok.endswith("ForceNewProperties"):
            self.next()  # (
            prefixes = []
            while (arg := self.next()) != ")":
                if arg.startswith('"'):
                    prefixes.append(arg[1:-1])
            return [p + suffix for p in prefixes for suffix in self.helpers.get(tok[:-len("ForceNewProperties")], [])]
        if self.pos < len(self.tokens) and self.tokens[self.pos] == "{":
            self.next()
            return self.composite()
        return self.variable(tok)

    def composite(self) -> Any:
        items: list[Any] = []
        mapping: dict[str, Any] = {}
        while self.tokens[self.pos] != "}":
            item = self.value()
            if self.tokens[self.pos] == ":":
                self.next()
                mapping[item] = self.value()
            else:
                items.append(item)
            if self.tokens[self.pos] == ",":
                self.next()
        self.next()
        return mapping if mapping else items


def parse_kubernetes_diff_go(go: str) -> dict[str, list[str]]:
    """The `forceNew` table, flattened to {group/version/Kind: immutable paths}."""
    table = {}
    for group, versions in _GoLiteral(go).variable("forceNew").items():
        for version, kinds in versions.items():
            for kind, paths in kinds.items():
                table[f"{group or 'core'}/{version}/{kind}"] = list(dict.fromkeys(paths))
    return table


_ATTR_NAMES = {"VPCID": "vpc_id", "ARN": "arn", "IAMRoleARN": "iam_role_arn", "KMSKeyID": "kms_key_id",
               "KMSKeyARN": "kms_key_arn", "CIDRBlock": "cidr_block", "VPCEndpointType": "vpc_endpoint_type"}
_KEY = re.compile(r'^\s*(?:"(\w+)"|names\.Attr(\w+)):\s*(?:\{|schema\.\w+Attribute\{|&schema\.Schema\{)')


def _attr_name(const: str) -> str:
    if const in _ATTR_NAMES:
        return _ATTR_NAMES[const]
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", const)).lower()


def terraform_force_new(go: str) -> list[str]:
    """Attribute paths marked `ForceNew: true` or given a `RequiresReplace()` plan modifier in a resource's Go
    source (nested blocks joined with dots). A reading aid for `--terraform-source`, not a Go parser: it follows
    `"name": {` / `names.AttrX: {` keys and brace depth."""
    found: list[str] = []
    stack: list[tuple[str, int]] = []
    depth = 0
    for line in go.splitlines():
        key = _KEY.match(line)
        if key:
            stack.append((key.group(1) or _attr_name(key.group(2)), depth))
        if re.search(r"ForceNew:\s*true|RequiresReplace\(\)", line) and stack:
            path = ".".join(k for k, _ in stack)
            if path not in found:
                found.append(path)
        depth += line.count("{") - line.count("}")
        while stack and depth <= stack[-1][1]:
            stack.pop()
    return found


def compare_terraform(sources: dict[str, Any], checkout: Path) -> list[str]:
    report = []
    for token, spec in sources["terraform"].items():
        path = checkout / spec["file"]
        if not path.exists():
            report.append(f"{token}: {spec['file']} not in {checkout}")
            continue
        found = set(terraform_force_new(path.read_text()))
        recorded = set(spec.get("force_new") or [])
        if found != recorded:
            report.append(f"{token} ({spec['file']}): only in source {sorted(found - recorded)}, "
                          f"only in YAML {sorted(recorded - found)}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if replacements.json is out of date")
    parser.add_argument("--kubernetes-source", type=Path, help="a fetched pulumi-kubernetes git dir to re-read")
    parser.add_argument("--terraform-source", type=Path, help="a terraform-provider-aws checkout to compare with")
    args = parser.parse_args(argv)
    sources = yaml.safe_load(SOURCES.read_text())
    if args.terraform_source:
        report = compare_terraform(sources, args.terraform_source)
        print("\n".join(report) or "every recorded ForceNew list matches the checkout")
        return 1 if report else 0
    if args.kubernetes_source:
        commit, table = kubernetes_table(args.kubernetes_source)
        sources["kubernetes"]["source"]["commit"] = commit
        sources["kubernetes"]["kinds"] = {**{k: [] for k in sources["kubernetes"]["kinds"]}, **table}
    wanted = text(build(sources))
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != wanted:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run `make replacements`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(wanted)
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(json.loads(wanted)['types'])} resource types)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
