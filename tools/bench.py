"""`make bench`: wall and CPU time of `make plan` (dev, prod and the ECS example), `make diff`, `make cost`,
`load_config` and the test suite on this machine.

Targets (issue #2): plan under 10 s, suite under 60 s; issue #9: load_config of the dev test stack under 50 ms;
issue #12: `make diff` of a one-key change under 2.5 times one render; issue #15: `make test` in a fresh clone
(virtualenvs made by uv from its warm package cache, then lint and the suite) under 75 s. Printed, not asserted:
a timing is not a test. The CPU time (user + sys of every process a run starts) divided by the cores is what the
run would take alone on an idle machine whose cores it keeps busy: other work on the machine stretches wall time,
hardly CPU time.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from tools.tree import copy_working_tree

ROOT = Path(__file__).resolve().parent.parent


class Timing(NamedTuple):
    wall: float
    cpu: float  # user + sys of the command and every process it waited for


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> Timing:
    started, cpu = time.perf_counter(), children_cpu()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Timing(time.perf_counter() - started, children_cpu() - cpu)


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
    copy_working_tree(ROOT, repo)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(git + args, check=True)
    stack = repo / "tests" / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(stack.read_text().replace("webstack:nodeMaxSize: 3", "webstack:nodeMaxSize: 4"))
    subprocess.run(git + ["commit", "-q", "-am", "one key"], check=True)
    return repo


def fresh_clone_make_test(tmp: Path) -> Timing | None:
    """Wall time of `make test` in a fresh clone of this checkout (with the working tree's uncommitted files on top):
    no virtualenv yet, uv's package cache as warm as this machine has it. None (and the output's tail) on failure."""
    clone = tmp / "fresh" / "webstack"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    copy_working_tree(ROOT, clone)
    if (ROOT.parent / "shared").is_dir():  # the team's shared reference files sit beside the checkout
        (clone.parent / "shared").symlink_to(ROOT.parent / "shared")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VIRTUAL_ENV")}
    started, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(["make", "test"], cwd=clone, env=env, capture_output=True, text=True)
    timing = Timing(time.perf_counter() - started, children_cpu() - cpu)
    if done.returncode != 0:
        print("make test failed in the fresh clone:\n" + "\n".join((done.stdout + done.stderr).splitlines()[-20:]))
        return None
    return timing


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
        ("make diff (one-key change)", diff, 2.5 * plan_dev.wall),
        ("make cost (dev)", timed([py, "-m", "tools.review.cost", "--stack", "dev"]), 10.0),
        ("test suite (pytest, as make test runs it)",
         timed([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "worksteal"]), 60.0),
    ]
    with tempfile.TemporaryDirectory(prefix="webstack-bench-") as tmp:
        cold = fresh_clone_make_test(Path(tmp))
    if cold is not None:  # uv makes the virtualenvs from its warm cache, then lint and the suite
        rows.append(("make test, fresh clone", cold, 75.0))
    cores = os.cpu_count() or 1
    print(f"benchmarks on {cores} cores, one run each; the target applies to the wall time of an idle machine, "
          f"which CPU / {cores} estimates when the machine is busy")
    for name, timing, target in rows:
        verdict = "within" if timing.wall <= target else "OVER"
        print(f"  {name:<28} {timing.wall:6.1f} s wall  {timing.cpu / cores:6.1f} s CPU/{cores}   "
              f"target < {target:.1f} s: {verdict}")
    print(f"  make diff / make plan: {diff.wall / plan_dev.wall:.2f}x (target < 2.5x)")


if __name__ == "__main__":
    main()
