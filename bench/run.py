#!/usr/bin/env python3
"""`make bench`: figures measured side by side in one run, printed as tables.

Synth: `python main.py` (every stack, fast bindings path) against the ordinary approach
(`bench/ordinary_app.py`: plain import of the bindings + a trivial 3-stage app), run
alternately so machine drift hits both; medians and the ratio of medians are printed.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import import_bench  # noqa: E402
import send_bench  # noqa: E402
import startup_cost  # noqa: E402
import transfer_bench  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CLEAN_ENV = dict(os.environ)  # before the benches set AWS and table variables for their handlers
SYNTH_RATIO_GOAL = 0.30


def timed(command: list[str], **extra_env: str) -> float:
    """Wall-clock seconds of one whole process."""
    env = {**CLEAN_ENV, **extra_env}  # what a developer's shell has, never a bench's leftovers
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def bench_synth(keep: Path, on_plan=lambda plan: None) -> list[tuple[str, str]]:
    """Synth timed against the ordinary approach; ``on_plan(dir)`` gets the first synthesized plan (the
    stand-in starts on it while the counted pairs run: both commands of a pair share that load)."""
    fast: list[float] = []
    ordinary: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(RUNS + 1):  # the first pair warms caches and is not counted
            f = timed([sys.executable, "main.py"], CDKTF_OUTDIR=f"{tmp}/fast-{run}")
            if run == 0:
                shutil.copytree(f"{tmp}/fast-0", keep)
                on_plan(keep)
            o = timed([sys.executable, "bench/ordinary_app.py", f"{tmp}/ordinary-{run}"])
            if run:
                fast.append(f)
                ordinary.append(o)
    fast_median, ordinary_median = statistics.median(fast), statistics.median(ordinary)
    ratio = fast_median / ordinary_median
    verdict = "meets" if ratio <= SYNTH_RATIO_GOAL else "MISSES"
    return [
        ("synth, all stacks, fast bindings path (python main.py)", f"{fast_median:.2f} s"),
        ("synth, ordinary import + trivial 3-stage app", f"{ordinary_median:.2f} s"),
        ("ratio fast / ordinary", f"{ratio:.2f} ({verdict} goal <= {SYNTH_RATIO_GOAL:.2f})"),
    ]


TERRAIN_PYTHON = ROOT / "terrain" / ".venv" / "bin" / "python"


def bench_toolchains() -> list[tuple[str, str]]:
    """The synth of every stack with each CDK toolchain (docs/toolchains.md), alternated, medians."""
    if not TERRAIN_PYTHON.exists():
        return [("synth with CDK Terrain (TOOLCHAIN=cdktn)", "not measured: make terrain-install")]
    times: dict[str, list[float]] = {"cdktf": [], "cdktn": []}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(RUNS + 1):  # the first of each warms caches
            for name, python in (("cdktf", sys.executable), ("cdktn", str(TERRAIN_PYTHON))):
                seconds = timed([python, "main.py"], TOOLCHAIN=name, CDKTF_OUTDIR=f"{tmp}/{name}-{run}")
                if run:
                    times[name].append(seconds)
    cdktf, cdktn = statistics.median(times["cdktf"]), statistics.median(times["cdktn"])
    return [("synth, all stacks, CDKTF 0.21 (TOOLCHAIN=cdktf, the default)", f"{cdktf:.2f} s"),
            ("synth, all stacks, CDK Terrain 0.24 (TOOLCHAIN=cdktn)", f"{cdktn:.2f} s ({cdktn / cdktf:.2f}x CDKTF)")]


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


def bench_tests() -> list[tuple[str, str]]:
    """`make test`'s suite, timed once as a whole process (install already done)."""
    seconds = timed([sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadfile"])
    return [("make test (whole suite, 2 xdist workers, after install)", f"{seconds:.0f} s")]


def main() -> int:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"synth: {RUNS} counted runs each after one warm-up, medians; the rest: one run each")
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / "cdktf.out"
        started: list[object] = []  # 100,000 recipients, on the second core from the first synth on
        rows = bench_synth(plan, on_plan=lambda keep: started.append(send_bench.start_stand_ins(keep)))
        stand_in = started[0]
        rows += send_bench.run(plan)
        rows += transfer_bench.run(plan)
        rows += send_bench.stand_in_rows(stand_in)  # joined before anything timed by the wall clock
        rows += bench_toolchains()
        rows += import_bench.run(plan)
        rows += startup_cost.run(plan)
        rows += bench_tests()
    print_table("Pivotr Mailer benchmarks (moto provisioned from the dev plan where AWS is involved)", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
