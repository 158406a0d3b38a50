"""Executors: twelve short runs of a sample prototype, local (1 slot) vs Ray (2 slots), and Ray's per-run overhead.

- Batch: 12 runs of `sample_papers/digit-thumbnails/prototype.ipynb` (seeds 0–11), all queued at once through
  `NotebookRunner`: wall time from the first submit to the last result, with the local executor and
  `MLR_MAX_PARALLEL_RUNS=1` (today's default) vs `MLR_EXECUTOR=ray` on a local Ray instance with 2 CPUs (2 run
  slots). The Ray instance's start is measured apart (the app pays it once, with the first run).
- Single run: one run at a time, interleaved local / Ray, median of N rounds: Ray's per-run overhead vs local.
- Parity: every seed's metrics (but `train_seconds`, a timing) must be identical under both executors.

Fairness: Ray sets OMP_NUM_THREADS to a task's CPUs (1 here), so its kernels' BLAS runs one thread while a local
kernel takes every core; on 2 loaded cores that alone changed the batch time. By default both executors run with
OMP_NUM_THREADS=1 (`--threads-as-is` keeps each executor's own). The batches run in ABBA order (local, Ray, Ray,
local) so that a change of load during the benchmark weighs on both; the figure is the mean of the two batches.

Prints each figure with its baseline and the ratio. `python benchmarks/bench_executor.py [--rounds 3]`.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlr.config import Settings  # noqa: E402
from mlr.execution.runner import NotebookRunner  # noqa: E402
from mlr.store import Store  # noqa: E402

NOTEBOOK = ROOT / "sample_papers" / "digit-thumbnails" / "prototype.ipynb"
N_RUNS = 12


def _settings(data: Path, **overrides) -> Settings:
    s = Settings.from_env({"MLR_DATA_DIR": str(data), "MLR_OLLAMA_HOST": "http://127.0.0.1:9"}, **overrides)
    s.ensure_dirs()
    return s


def batch(runner: NotebookRunner, n: int) -> tuple[float, dict[int, dict]]:
    start = time.perf_counter()
    ids = {seed: runner.submit(str(NOTEBOOK), {"seed": seed, "classifier": "logreg"}) for seed in range(n)}
    outcomes = {seed: runner.wait(run_id) for seed, run_id in ids.items()}
    wall = time.perf_counter() - start
    bad = [o for o in outcomes.values() if o.status != "succeeded"]
    assert not bad, bad[0].error
    return wall, {seed: {k: v for k, v in o.metrics.items() if k != "train_seconds"} for seed, o in outcomes.items()}


def single(runner: NotebookRunner) -> float:
    start = time.perf_counter()
    out = runner.run(str(NOTEBOOK), {"seed": 0})
    assert out.status == "succeeded", out.error
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="single-run rounds (interleaved)")
    parser.add_argument("--runs", type=int, default=N_RUNS)
    parser.add_argument("--threads-as-is", action="store_true",
                        help="keep each executor's own OMP_NUM_THREADS (Ray: the task's CPUs; local: unset)")
    args = parser.parse_args()
    import os

    if not args.threads_as_is:
        os.environ["OMP_NUM_THREADS"] = "1"  # what Ray gives a 1-CPU task; the kernel's allow-list passes it
    logging.basicConfig(level=logging.WARNING)
    import ray

    from mlr.execution.executors import ray_executor

    with tempfile.TemporaryDirectory(prefix="bench-exec-") as tmp:
        local_s = _settings(Path(tmp) / "local", max_parallel_runs=1)
        ray_s = _settings(Path(tmp) / "ray", executor="ray", ray_num_cpus=2, ray_object_store_mb=200)
        local = NotebookRunner(local_s, Store(local_s.db_path))
        rayr = NotebookRunner(ray_s, Store(ray_s.db_path))
        t = time.perf_counter()
        assert ray_executor.connect(rayr.settings) is None
        ray_start = time.perf_counter() - t
        slots = rayr.executor.slots()
        try:
            walls: dict[str, list[float]] = {"local": [], "ray": []}
            metrics: dict[str, dict] = {}
            for name in ("local", "ray", "ray", "local"):  # ABBA
                wall, metrics[name] = batch(local if name == "local" else rayr, args.runs)
                walls[name].append(wall)
            local_wall, ray_wall = statistics.mean(walls["local"]), statistics.mean(walls["ray"])
            local_metrics, ray_metrics = metrics["local"], metrics["ray"]
            singles: dict[str, list[float]] = {"local": [], "ray": []}
            for _ in range(args.rounds):
                singles["local"].append(single(local))
                singles["ray"].append(single(rayr))
        finally:
            local.stop()
            rayr.stop()
            ray.shutdown()
    same = local_metrics == ray_metrics
    lo, ra = statistics.median(singles["local"]), statistics.median(singles["ray"])
    print(f"Ray local instance start (paid once, with the first run): {ray_start:.2f} s")
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; batches (ABBA): "
          f"local {[f'{w:.1f}' for w in walls['local']]} s, Ray {[f'{w:.1f}' for w in walls['ray']]} s")
    print(f"batch of {args.runs} runs (mean): local 1 slot {local_wall:.1f} s, Ray {slots} slots {ray_wall:.1f} s "
          f"-> speed-up {local_wall / ray_wall:.2f}x (Ray/local wall {ray_wall / local_wall:.2f})")
    print(f"one run (median of {args.rounds}): local {lo:.2f} s, Ray {ra:.2f} s -> Ray/local {ra / lo:.2f}x, "
          f"overhead {ra - lo:+.2f} s per run  (local {[f'{x:.2f}' for x in singles['local']]}, "
          f"Ray {[f'{x:.2f}' for x in singles['ray']]})")
    print(f"metrics identical under both executors for all {args.runs} seeds: {same}")
    if not same:
        raise SystemExit("metrics differ between executors")


if __name__ == "__main__":
    main()
