"""`make bench`: wall time of `make plan` (dev and prod), `make diff`, `make cost` and the test suite on this machine.

Targets (issue #2): plan under 10 s, suite under 60 s; issue #12: `make diff` of a one-key change under 2.5 times
one render. Printed, not asserted: a timing is not a test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], cwd: Path = ROOT) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def one_key_change(tmp: Path) -> Path:
    """A throwaway repository of the working tree's files with one commit changing one config key on top."""
    repo = tmp / "webstack"
    git = ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           check=True, capture_output=True, text=True).stdout.split("\0")
    for rel in filter(None, files):
        if (ROOT / rel).is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, repo / rel)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(git + args, check=True)
    stack = repo / "tests" / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(stack.read_text().replace("webstack:nodeMaxSize: 3", "webstack:nodeMaxSize: 4"))
    subprocess.run(git + ["commit", "-q", "-am", "one key"], check=True)
    return repo


def main() -> None:
    py = sys.executable
    plan_dev = timed([py, "-m", "infra.render", "--stack", "dev", "--quiet"])
    with tempfile.TemporaryDirectory(prefix="webstack-bench-") as tmp:
        repo = one_key_change(Path(tmp))
        diff = timed([py, "-m", "infra.render.diff", "--stack", "dev", "--stacks", "tests/stacks", "--base", "HEAD~1"],
                     cwd=repo)
    rows = [
        ("make plan (dev)", plan_dev, 10.0),
        ("make plan STACK=prod", timed([py, "-m", "infra.render", "--stack", "prod", "--quiet"]), 10.0),
        ("make diff (one-key change)", diff, 2.5 * plan_dev),
        ("make cost (dev)", timed([py, "-m", "infra.render.cost", "--stack", "dev"]), 10.0),
        ("test suite (pytest)", timed([py, "-m", "pytest", "-q", "-p", "no:cacheprovider"]), 60.0),
    ]
    import os

    print(f"benchmarks on {os.cpu_count()} cores (wall time, one run each)")
    for name, seconds, target in rows:
        verdict = "within" if seconds <= target else "OVER"
        print(f"  {name:<28} {seconds:6.1f} s   target < {target:.1f} s: {verdict}")
    print(f"  make diff / make plan: {diff / plan_dev:.2f}x (target < 2.5x)")


if __name__ == "__main__":
    main()
