"""`make bench`: wall time of `make plan` (dev, prod and the ECS example) and of the test suite on this machine.

Targets (issue #2): plan under 10 s, suite under 60 s. Printed, not asserted: a timing is not a test.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    py = sys.executable
    rows = [
        ("make plan (dev)", timed([py, "-m", "infra.render", "--stack", "dev", "--quiet"]), 10.0),
        ("make plan STACK=prod", timed([py, "-m", "infra.render", "--stack", "prod", "--quiet"]), 10.0),
        ("make plan STACK=ecs", timed([py, "-m", "infra.render", "--stack", "ecs", "--quiet"]), 10.0),
        ("test suite (pytest)", timed([py, "-m", "pytest", "-q", "-p", "no:cacheprovider"]), 60.0),
    ]
    import os

    print(f"benchmarks on {os.cpu_count()} cores (wall time, one run each)")
    for name, seconds, target in rows:
        verdict = "within" if seconds <= target else "OVER"
        print(f"  {name:<24} {seconds:6.1f} s   target < {target:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
