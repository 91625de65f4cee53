"""Hypothesis properties: any value of any type for any key never breaks the loader; plan_subnets' guarantees.

2,000 examples per property, derandomized (the same examples on every run, so CI is deterministic).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.config import ConfigError, StackConfig, load_config
from infra.config import settings as declarations
from infra.subnets import plan_subnets

EXAMPLES = 2000
PROPERTY = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BASE = {"zoneName": "example.com", "hostname": "app.example.com", "publicAccessCidrs": ["203.0.113.0/24"]}
KEYS = [d.key for d in declarations()]
# Values that are nearly right are the interesting ones: every key's default and a few valid values, which the
# strategies below mutate (suffixes, case, whitespace, numbers around the bounds).
SEEDS = ["10.0.0.0/16", "100.64.0.0/16", "per-az", "single", "webapp", "KMS", "AES256", "example.com",
         "app.example.com", "1.35", "ON_DEMAND", "SPOT", "m6i.large", "t4g.small", "500m", "128Mi", "1G", "0.5",
         "NodePort", "ClusterIP", "3.5.0", "1.21.1", "sync", "upsert-only", "203.0.113.0/24", "api", "scheduler",
         "arn:aws:iam::123456789012:role/admins", "arn:aws:kms:us-east-1:123456789012:key/abc",
         "ELBSecurityPolicy-TLS13-1-2-2021-06", "v1.2.3-eksbuild.1", "coredns", "kube-system", "internal-x"]

# The seeds, slightly wrong (the slips users make), and values at or past the bounds the loader enforces.
POOL: list[Any] = [*SEEDS, *(f(s) for s in SEEDS for f in (lambda s: s + "\n", lambda s: s + " ", str.upper,
                                                            lambda s: "\u00e9" + s, lambda s: s[:-1],
                                                            lambda s: s + "0"))]
POOL += [0, 1, -1, 2, 3, 6, 7, 19, 27, 28, 29, 100, 450, 451, 1000, 1001, 2**31 - 1, 2**31, -(2**31) - 1, 10**400,
         1.5, 2.0, float("nan"), float("inf"), True, False, None, "", " ", "[]", "{}", "null", "true", "\u0663",
         "9" * 5000, "x" * 5000, "[" * 300, "{" * 300, "0.0.0.0/0", "0.0.0.0/1", "2001:db8::/32"]
# Cheap to draw (one choice from the pool for most values); flat containers plus one level of nesting: deeper
# recursion finds nothing more here and costs generation time.
scalars = st.one_of(st.sampled_from(POOL), st.text(max_size=20), st.integers(), st.floats())
keys_text = st.one_of(st.sampled_from(SEEDS), st.text(max_size=6))
values = st.one_of(
    scalars, st.lists(scalars, max_size=4), st.dictionaries(keys_text, scalars, max_size=3),
    st.lists(st.lists(scalars, max_size=2), max_size=2),
    st.lists(scalars, max_size=3).map(lambda v: json.dumps(v, default=str)),
    st.dictionaries(keys_text, scalars, max_size=3).map(lambda v: json.dumps(v, default=str)))
regions = st.one_of(st.just("us-east-1"), st.sampled_from(["cn-north-1", "us-gov-west-1", "eu-west-1", "us-east-9",
                                                           "", None]), scalars)


def _named_keys(line: str) -> set[str]:
    head = line.split(" ", 1)[0].split(" = ", 1)[0].rstrip(":")
    return {k.removeprefix("webstack:") for k in head.split("/")}


@pytest.mark.slow(7)
@PROPERTY
@given(overrides=st.dictionaries(st.sampled_from(KEYS), values, min_size=1, max_size=3), region=regions)
def test_any_value_of_any_type_for_any_key_is_a_config_or_a_config_error_naming_it(
        overrides: dict[str, Any], region: Any) -> None:
    try:
        cfg = load_config({**BASE, **overrides}, project="webstack", stack="t", region=region)
    except ConfigError as err:
        assert err.problems
        for line in err.problems:
            named = _named_keys(line)
            # The base is valid, so every problem names a key that was changed (or the region): with one key
            # changed and a valid region, every line names that key.
            assert named & (set(overrides) | {"aws:region"}), (line, overrides)
            assert len(line) < 1000
    else:
        assert isinstance(cfg, StackConfig)
        assert cfg.partition in ("aws", "aws-cn", "aws-us-gov")


cidrs = st.one_of(
    st.builds(lambda addr, prefix: str(ipaddress.IPv4Network((addr, prefix), strict=False)),
              st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=8, max_value=30)),
    st.sampled_from(["10.0.0.0/16", "10.0.0.1/16", "x", "", "fd00::/8", "10.0.0.0/33"]), st.text(max_size=20))


@pytest.mark.slow(3)
@PROPERTY
@given(vpc=cidrs, azs=st.integers(min_value=-2, max_value=40), private=st.integers(min_value=-2, max_value=34),
       public=st.integers(min_value=-2, max_value=34))
def test_plan_subnets_is_aligned_disjoint_inside_the_vpc_and_deterministic_or_a_value_error(
        vpc: str, azs: int, private: int, public: int) -> None:
    try:
        planned = plan_subnets(vpc, azs, private, public)
    except ValueError:
        return
    assert planned == plan_subnets(vpc, azs, private, public)
    network = ipaddress.IPv4Network(vpc)
    private_nets = [ipaddress.IPv4Network(c, strict=True) for c in planned[0]]  # strict: aligned to its size
    public_nets = [ipaddress.IPv4Network(c, strict=True) for c in planned[1]]
    assert len(private_nets) == len(public_nets) == azs
    assert all(n.prefixlen == private for n in private_nets) and all(n.prefixlen == public for n in public_nets)
    nets = private_nets + public_nets
    assert all(n.subnet_of(network) for n in nets)
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
