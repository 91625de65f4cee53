"""`make bench`: wall time of `make plan` (dev, prod and the ECS example), `make diff`, `make cost`, `load_config`
and the test suite on this machine.

Targets (issue #2): plan under 10 s, suite under 60 s; issue #9: load_config of the dev test stack under 50 ms;
issue #12: `make diff` of a one-key change under 2.5 times one render. Printed, not asserted: a timing is not a test.
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


def load_config_timings() -> tuple[float, float]:
    """(first call, median of 50 later calls) of load_config on tests/stacks/Pulumi.dev.yaml, in a fresh
    interpreter that has imported the program's modules (as __main__.py has before it loads the config): the
    first call also reads the AWS data snapshot (infra/data/aws-data.json), cached for the rest of the process."""
    code = (
        "import statistics, time\n"
        "import infra.network\n"
        "from infra.config import load_config\n"
        "from tools.render import TEST_STACKS, stack_config\n"
        "c = stack_config('dev', stacks=TEST_STACKS)\n"
        "raw = {k.split(':', 1)[1]: v for k, v in c.items() if k.startswith('webstack:')}\n"
        "def once():\n"
        "    t = time.perf_counter()\n"
        "    load_config(raw, project='webstack', stack='dev', region=c['aws:region'])\n"
        "    return time.perf_counter() - t\n"
        "first = once()\n"
        "print(first, statistics.median(once() for _ in range(50)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
    first, warm = (float(x) for x in out.stdout.split())
    return first, warm


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
    first, warm = load_config_timings()
    def verdict(seconds: float) -> str:
        return "within" if seconds <= 0.05 else "OVER"

    print(f"load_config (dev test stack), target < 50 ms: first call {first * 1000:.0f} ms ({verdict(first)}; it "
          f"reads the AWS data snapshot once per process), then {warm * 1000:.2f} ms "
          f"({verdict(warm)})")
    plan_dev = timed([py, "-m", "tools.render", "--stack", "dev", "--quiet"])
    with tempfile.TemporaryDirectory(prefix="webstack-bench-") as tmp:
        repo = one_key_change(Path(tmp))
        diff = timed([py, "-m", "tools.review.diff", "--stack", "dev", "--stacks", "tests/stacks", "--base", "HEAD~1"],
                     cwd=repo)
    rows = [
        ("make plan (dev)", plan_dev, 10.0),
        ("make plan STACK=prod", timed([py, "-m", "tools.render", "--stack", "prod", "--quiet"]), 10.0),
        ("make plan STACK=ecs", timed([py, "-m", "tools.render", "--stack", "ecs", "--quiet"]), 10.0),
        ("make diff (one-key change)", diff, 2.5 * plan_dev),
        ("make cost (dev)", timed([py, "-m", "tools.review.cost", "--stack", "dev"]), 10.0),
        ("test suite (pytest, as make test runs it)",
         timed([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadfile"]), 60.0),
    ]
    import os

    print(f"benchmarks on {os.cpu_count()} cores (wall time, one run each)")
    for name, seconds, target in rows:
        verdict = "within" if seconds <= target else "OVER"
        print(f"  {name:<28} {seconds:6.1f} s   target < {target:.1f} s: {verdict}")
    print(f"  make diff / make plan: {diff / plan_dev:.2f}x (target < 2.5x)")


if __name__ == "__main__":
    main()
