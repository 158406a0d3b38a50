"""Debug loop on the broken-notebook suite: fix rate within 3 attempts and seconds per attempt.

Baseline: the rule-based fixers alone. Measured in the same run: rules + the embedded model
(SmolLM2-135M, llama.cpp, demo-grade) on the same notebooks, through the real engine
(papermill child processes, real kernels). A notebook counts as handled when the loop ends the
way its manifest expects: fixed, or stopped at once for an unfixable failure (missing package,
timeout). Prints the figures, the ratio to the baseline, and the classes still not handled.

    python benchmarks/bench_debug.py [NAME ...] [--attempts 3] [--no-model]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mlr.agents.experiment_debug import Debugger  # noqa: E402
from mlr.config import Settings  # noqa: E402
from mlr.execution.runner import NotebookRunner  # noqa: E402
from mlr.execution.workbench import NotebookWorkbench  # noqa: E402
from mlr.store import Store  # noqa: E402

BROKEN = ROOT / "tests" / "fixtures" / "broken"
TIMEOUT_S = 20  # the timeout notebook sleeps 600 s; the others finish in a few seconds


def run_suite(names, manifest, llm, attempts):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        settings.ensure_dirs()
        store = Store(settings.db_path)
        runner = NotebookRunner(settings, store, adopt_queue=False)
        try:
            for name in names:
                expect = manifest[name]
                start = time.perf_counter()
                dbg = Debugger(llm, NotebookWorkbench(runner), store, settings,
                               timeout_s=TIMEOUT_S if name == "timeout" else None)
                result = dbg.run_loop(BROKEN / f"{name}.ipynb", {}, max_attempts=attempts, autopilot=True,
                                      use_llm=llm is not None)
                seconds = time.perf_counter() - start
                fixes = [a for a in result.attempts if a["parent_id"] is not None]
                handled = result.fixed if expect["expect"] == "fixed" else (not result.fixed and not fixes)
                rows.append({"name": name, "cls": expect["cls"], "expect": expect["expect"], "fixed": result.fixed,
                             "handled": handled, "fixes": [a["source"] for a in fixes], "seconds": seconds,
                             "runs": len(result.attempts), "reason": result.reason[:160]})
                print(f"  {name:20s} {'ok ' if handled else 'NO '} {seconds:6.1f} s  {len(fixes)} fix(es) "
                      f"{[a['source'] for a in fixes]}  {result.reason[:90]}", flush=True)
        finally:
            runner.stop(cancel_running=True)
    return rows


def summary(label, rows):
    handled = sum(r["handled"] for r in rows)
    fixed = sum(r["fixed"] for r in rows)
    fixable = sum(r["expect"] == "fixed" for r in rows)
    attempts = sum(max(1, len(r["fixes"])) for r in rows)
    total_s = sum(r["seconds"] for r in rows)
    print(f"{label}: handled {handled}/{len(rows)} ({handled / len(rows):.0%}); fixed {fixed}/{fixable} fixable; "
          f"{total_s / attempts:.1f} s per attempt (a run + the proposal), {total_s:.0f} s in all")
    return handled / len(rows), total_s / attempts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*")
    parser.add_argument("--attempts", type=int, default=3)
    parser.add_argument("--no-model", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    manifest = json.loads((BROKEN / "manifest.json").read_text())
    names = args.names or sorted(manifest)
    print(f"Suite: {len(names)} broken notebooks, at most {args.attempts} attempts each, autopilot.")
    print("Baseline — rules alone:")
    base = run_suite(names, manifest, None, args.attempts)
    base_rate, base_spa = summary("rules alone", base)
    if args.no_model:
        return 0
    from mlr.llm.embedded import EmbeddedLLM

    llm = EmbeddedLLM(n_ctx=8192, max_tokens=512, retries=1, temperature=0.2)
    print(f"Rules + embedded model ({llm.model}):")
    both = run_suite(names, manifest, llm, args.attempts)
    rate, spa = summary("rules + model", both)
    calls = llm.usage
    print(f"model: {calls.calls} calls, {calls.seconds:.0f} s, {calls.completion_tokens} tokens out, "
          f"{calls.first_try_valid}/{calls.structured} valid on the first try")
    print(f"ratio fix rate (rules + model) / (rules alone) = {rate / base_rate:.2f}x")
    print(f"ratio seconds per attempt (rules + model) / (rules alone) = {spa / base_spa:.2f}x")
    still = sorted({r["cls"] for r in both if not r["handled"]})
    print("classes still not handled: " + (", ".join(still) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
