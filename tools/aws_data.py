"""`make aws-data`: snapshot, from the pinned botocore, the AWS data the config loader checks against.

botocore is the authority (AWS's own SDK data: the EC2 API model's `InstanceType` enum, the endpoint data's
regions and partitions). Loading it costs ~0.3 s per process (its import and a 4 MB model), so the loader reads
this small snapshot instead; `--check` (run by the tests) fails when the snapshot and the installed botocore
differ, e.g. after a botocore upgrade: then run `make aws-data`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "infra" / "data" / "aws-data.json"


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
    parser.add_argument("--check", action="store_true", help="exit 1 if the snapshot differs from botocore")
    args = parser.parse_args(argv)
    wanted = text(from_botocore())
    if args.check:
        if not SNAPSHOT.exists() or SNAPSHOT.read_text() != wanted:
            print(f"{SNAPSHOT.relative_to(ROOT)} differs from the installed botocore: run `make aws-data`",
                  file=sys.stderr)
            return 1
        return 0
    SNAPSHOT.write_text(wanted)
    print(f"wrote {SNAPSHOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
