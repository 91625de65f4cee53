"""`make aws-data`: snapshot, from the pinned botocore and apache-libcloud, the AWS data the config loader checks
against.

botocore is the authority (AWS's own SDK data: the EC2 API model's `InstanceType` enum, the endpoint data's
regions and partitions). Loading it costs ~0.3 s per process (its import and a 4 MB model), so the loader reads
this small snapshot instead; `--check` (run by the tests) fails when the snapshot and the installed packages
differ, e.g. after a botocore upgrade: then run `make aws-data`.

Instance sizes (vCPUs, memory) come from apache-libcloud's `libcloud/compute/constants/ec2_instance_types.py`
(3.9.1: on PyPI 2026-04, its data generated 2026-03-25), which its maintainers generate from the AWS Price List API
(contrib/scrape-ec2-sizes.py): botocore ships no instance specifications. It lists fewer types than botocore (the
newest families come later); the capacity checks say so for a type it does not list.

Network interfaces per instance type are not in any package on a registry: infra/data/ec2-eni-limits.json is a
snapshot of aws/amazon-vpc-cni-k8s `pkg/vpc/vpc_ip_resource_limit.go` (generated there from EC2
DescribeInstanceTypes), refreshed with `--eni-from <that file>` from a checkout; its source and date are in it.
"""

from __future__ import annotations

import argparse
import json
import re
import runpy
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "infra" / "data" / "aws-data.json"


ENI_SNAPSHOT = ROOT / "infra" / "data" / "ec2-eni-limits.json"
LIBCLOUD_SIZES = "libcloud/compute/constants/ec2_instance_types.py"
# One entry of the generated Go map: `"m6i.large": {` then `ENILimit: 3,` and `IPv4Limit: 10,`.
_ENI_ENTRY = re.compile(r'^\t"([a-z0-9.-]+)": \{\n\t\tENILimit: +([0-9]+),\n\t\tIPv4Limit: +([0-9]+),', re.M)


def from_libcloud() -> dict[str, Any]:
    """{type: [vCPUs, memory MiB]} from the installed apache-libcloud's generated data (read as a file: importing
    libcloud itself needs its HTTP dependencies)."""
    from importlib import metadata
    from importlib.util import find_spec

    spec = find_spec("libcloud")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("apache-libcloud is not installed: run `make venv` (requirements-dev.txt)")
    path = Path(next(iter(spec.submodule_search_locations))).parent / LIBCLOUD_SIZES
    types = runpy.run_path(str(path))["INSTANCE_TYPES"]
    specs = {name: [int(t["extra"]["vcpu"]), int(t["ram"])] for name, t in sorted(types.items())
             if str(t.get("extra", {}).get("vcpu", "")).isdigit() and t.get("ram")}
    return {"instanceSpecsSource": f"apache-libcloud {metadata.version('apache-libcloud')}: {LIBCLOUD_SIZES} "
                                   "(AWS Price List API): [vCPUs, memory MiB]",
            "instanceSpecs": specs}


def eni_limits(go_source: str) -> dict[str, list[int]]:
    """{type: [network interfaces, IPv4 addresses per interface]} from vpc_ip_resource_limit.go's text."""
    return {name: [int(enis), int(ips)] for name, enis, ips in _ENI_ENTRY.findall(go_source)}


def from_botocore() -> dict[str, Any]:
    import botocore
    from botocore.loaders import create_loader

    loader = create_loader()
    ec2 = loader.load_service_model("ec2", "service-2")
    endpoints = loader.load_data("endpoints")
    return {
        "source": f"botocore {botocore.__version__}: ec2 service-2 shape InstanceType, endpoints partitions",
        "instanceTypes": sorted(ec2["shapes"]["InstanceType"]["enum"]),
        "regions": {region: p["partition"] for p in endpoints["partitions"] for region in sorted(p.get("regions", {}))},
    }


def text(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the snapshot differs from the packages")
    parser.add_argument("--eni-from", help="refresh ec2-eni-limits.json from this vpc_ip_resource_limit.go")
    parser.add_argument("--eni-source", default="", help="with --eni-from: where it came from (repo, commit, date)")
    args = parser.parse_args(argv)
    if args.eni_from:
        source = Path(args.eni_from)
        limits = eni_limits(source.read_text())
        ENI_SNAPSHOT.write_text(text({"source": args.eni_source, "limits": limits}))
        print(f"wrote {ENI_SNAPSHOT.relative_to(ROOT)}: {len(limits)} instance types")
        return 0
    wanted = text({**from_botocore(), **from_libcloud()})
    if args.check:
        if not SNAPSHOT.exists() or SNAPSHOT.read_text() != wanted:
            print(f"{SNAPSHOT.relative_to(ROOT)} differs from the installed botocore/apache-libcloud: "
                  "run `make aws-data`", file=sys.stderr)
            return 1
        return 0
    SNAPSHOT.write_text(wanted)
    print(f"wrote {SNAPSHOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
