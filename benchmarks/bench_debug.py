"""Debug loop on two sets of broken notebooks, three baselines in the same run.

Sets: **rule-targeted** (tests/fixtures/broken/: each notebook written for the rule that fixes it), the
**development** sets (benchmarks/debug_heldout/, debug_heldout2/, debug_heldout3/: written blind, then their
failures were looked at) and the **test** set (benchmarks/debug_heldout4/: written blind, never used to tune),
reported apart. Baselines, through the real engine (papermill child processes, real kernels), autopilot:
  1. rules alone (the rules read the live kernel's evidence);
  2. rules + the embedded model (SmolLM2-135M, llama.cpp, demo-grade), without kernel evidence;
  3. rules + the embedded model with kernel evidence (and ``--candidates`` guarded patches per step).
Per set: fixed / fixable, correct stops (reason and the exact ``pip install``), attempts and seconds per
fix, patches the guards stopped, applied patches that deleted most of a cell, whether every prototype
was left untouched; then the ratios of 2 and 3 to 1.

    python benchmarks/bench_debug.py [--attempts 3] [--no-model] [--candidates 2] [--sets heldout,targeted]
"""

from __future__ import annotations

import argparse
import hashlib
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

from mlr.agents.experiment_debug import Debugger
from mlr.config import Settings
from mlr.execution.runner import NotebookRunner
from mlr.execution.workbench import NotebookWorkbench
from mlr.store import Store

SETS = {"targeted": ROOT / "tests" / "fixtures" / "broken", "heldout": ROOT / "benchmarks" / "debug_heldout",
        "heldout2": ROOT / "benchmarks" / "debug_heldout2", "heldout3": ROOT / "benchmarks" / "debug_heldout3",
        "heldout4": ROOT / "benchmarks" / "debug_heldout4"}
TIMEOUT_S = 20  # the hang notebooks never end (whatever their class is called); the others finish in seconds


def _wrecked(diff: str) -> bool:
    """An applied patch that deleted more than half of a cell's lines, counted as the guard counts them: a line
    is kept when its text (stripped) is still in the cell, even if the diff shows it removed and re-added (a
    changed neighbour, a trailing newline, a new indent)."""
    lines = [ln for ln in diff.splitlines() if not ln.startswith(("---", "+++", "@@"))]
    removed = [ln[1:].strip() for ln in lines if ln.startswith("-") and ln[1:].strip()]
    added = {ln[1:].strip() for ln in lines if ln.startswith("+")}
    context = [ln for ln in lines if ln.startswith(" ") and ln[1:].strip()]
    kept = len(context) + sum(r in added for r in removed)
    old = len(context) + len(removed)
    return old >= 2 and kept * 2 < old


def _handled(expect: dict, result, fixes) -> tuple[bool, str]:
    if expect["expect"] == "fixed":
        return result.fixed, ""
    if result.fixed or fixes:
        return False, "applied a fix to an unfixable notebook"
    if expect.get("command"):
        ok = result.command == expect["command"]
        return ok, "" if ok else f"command {result.command!r} != {expect['command']!r}"
    ok = "time" in result.reason.lower()
    return ok, "" if ok else "stop reason does not name the time limit"


def run_suite(folder: Path, names, manifest, llm, attempts, *, evidence: bool, candidates: int = 1):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        settings.ensure_dirs()
        store = Store(settings.db_path)
        runner = NotebookRunner(settings, store, adopt_queue=False)
        try:
            for name in names:
                expect, path = manifest[name], folder / f"{name}.ipynb"
                before = hashlib.sha256(path.read_bytes()).hexdigest()
                start = time.perf_counter()
                # The notebooks that must stop on the time limit (a hang): expected to stop, no pip command.
                hangs = expect["expect"] == "stop" and not expect.get("command")
                timeout = TIMEOUT_S if hangs else None
                dbg = Debugger(llm, NotebookWorkbench(runner, evidence=evidence), store, settings,
                               timeout_s=timeout, candidates=candidates)
                result = dbg.run_loop(path, {}, max_attempts=attempts, autopilot=True, use_llm=llm is not None)
                seconds = time.perf_counter() - start
                fixes = [a for a in result.attempts if a["parent_id"] is not None and a["approved"]]
                guarded = [a for a in result.attempts if (a["outcome"] or "").startswith("guarded")]
                handled, why = _handled(expect, result, fixes)
                row = {"name": name, "cls": expect["cls"], "expect": expect["expect"], "fixed": result.fixed,
                       "handled": handled, "why": why, "fixes": [a["source"] for a in fixes], "seconds": seconds,
                       "guarded": len(guarded), "wrecks": sum(_wrecked(a["diff"] or "") for a in fixes),
                       "untouched": hashlib.sha256(path.read_bytes()).hexdigest() == before,
                       "reason": result.reason[:160],
                       "applied": [{"source": a["source"], "diff": a["diff"]} for a in fixes]}  # to inspect
                rows.append(row)
                print(f"    {name:22s} {'ok ' if handled else 'NO '} {seconds:6.1f} s  {len(fixes)} fix(es) "
                      f"{row['fixes']} guarded={len(guarded)}  {why or result.reason[:80]}", flush=True)
        finally:
            runner.stop(cancel_running=True)
    return rows


def summary(label: str, rows) -> dict:
    fixable = [r for r in rows if r["expect"] == "fixed"]
    stops = [r for r in rows if r["expect"] == "stop"]
    fixed = [r for r in fixable if r["fixed"]]
    s = {"label": label, "fixed": len(fixed), "fixable": len(fixable), "stops_ok": sum(r["handled"] for r in stops),
         "stops": len(stops), "attempts_per_fix": sum(len(r["fixes"]) for r in fixed) / max(1, len(fixed)),
         "seconds_per_fix": sum(r["seconds"] for r in fixed) / max(1, len(fixed)),
         "guarded": sum(r["guarded"] for r in rows), "wrecks": sum(r["wrecks"] for r in rows),
         "untouched": all(r["untouched"] for r in rows), "seconds": sum(r["seconds"] for r in rows),
         "unfixed": sorted({r["cls"] for r in fixable if not r["fixed"]})}
    print(f"  | {label:34s} | {s['fixed']:2d}/{s['fixable']:2d} ({s['fixed'] / max(1, s['fixable']):4.0%}) | "
          f"{s['stops_ok']}/{s['stops']} | {s['attempts_per_fix']:.1f} | {s['seconds_per_fix']:6.1f} s | "
          f"{s['guarded']:3d} | {s['wrecks']} | {'yes' if s['untouched'] else 'NO'} |", flush=True)
    return s


HEADER = ("  | baseline                           | fixed/fixable  | right stops | attempts/fix | s/fix    "
          "| guarded | wrecks applied | prototypes untouched |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=3)
    parser.add_argument("--no-model", action="store_true")
    parser.add_argument("--candidates", type=int, default=2, help="guarded model patches per step (small model)")
    parser.add_argument("--sets", default="targeted,heldout")
    parser.add_argument("--json", type=Path, default=None, help="write every row and summary here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    llm = None
    if not args.no_model:
        from mlr.llm.embedded import EmbeddedLLM

        llm = EmbeddedLLM(n_ctx=8192, max_tokens=384, retries=1, temperature=0.2)
    out = {}
    for set_name in args.sets.split(","):
        folder = SETS[set_name]
        manifest = json.loads((folder / "manifest.json").read_text())
        names = sorted(manifest)
        print(f"\n## {set_name}: {len(names)} notebooks ({folder.relative_to(ROOT)}), at most {args.attempts} "
              "attempts each, autopilot", flush=True)
        configs = [("rules alone", None, True, 1)]
        if llm is not None:
            configs += [("rules + model, no evidence", llm, False, 1),
                        (f"rules + model + evidence (x{args.candidates})", llm, True, args.candidates)]
        sums, rows_by = [], {}
        for label, model, evidence, candidates in configs:
            print(f"  {label}:", flush=True)
            rows_by[label] = run_suite(folder, names, manifest, model, args.attempts, evidence=evidence,
                                       candidates=candidates)
        print(HEADER)
        for label, *_ in configs:
            sums.append(summary(label, rows_by[label]))
        base = sums[0]["fixed"]
        for s in sums[1:]:
            print(f"  ratio fixed ({s['label']}) / (rules alone) = "
                  f"{s['fixed'] / base if base else float('inf'):.2f}x", flush=True)
        print("  failure kinds still unfixed by the best baseline: " + (", ".join(sums[-1]["unfixed"]) or "none"))
        out[set_name] = {"summaries": sums, "rows": rows_by}
    if llm is not None:
        u = llm.usage
        print(f"\nmodel: {u.calls} calls, {u.seconds:.0f} s, {u.completion_tokens} tokens out, "
              f"{u.first_try_valid}/{u.structured} valid on the first try")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
