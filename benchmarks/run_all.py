"""Run every benchmark in this folder, one after another, and print their figures.

Usage: ``python benchmarks/run_all.py [NAME ...]`` (names without ``bench_`` / ``.py``).
Each ``bench_*.py`` prints its figures as ratios against a baseline measured in the same run;
this runner only sequences them (benchmarks must not share the two cores with each other)
and keeps their output under ``benchmarks/results/``. The longest is ``bench_loop`` (the experiment loop on
7 tasks x 3 arms, about 35 minutes on 2 cores).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = set(argv)
    scripts = sorted(p for p in HERE.glob("bench_*.py") if not wanted or p.stem[len("bench_"):] in wanted)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    failed = []
    for script in scripts:
        sys.stdout.write(f"\n=== {script.stem} ===\n")
        sys.stdout.flush()
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, capture_output=True, text=True)
        (results / f"{script.stem}.txt").write_text(proc.stdout + proc.stderr[-4000:], encoding="utf-8")
        sys.stdout.write(proc.stdout)
        if proc.returncode != 0:
            failed.append(script.stem)
            sys.stdout.write(f"FAILED (exit {proc.returncode}):\n{proc.stderr[-2000:]}\n")
        sys.stdout.write(f"({time.perf_counter() - start:.0f} s)\n")
    if failed:
        sys.stdout.write(f"\nfailed: {', '.join(failed)}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
