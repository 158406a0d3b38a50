"""The experiment loop as people read it: words for statuses and verdicts, the progress chart's rows, the
experiments table, the downloadable log, and the researcher's edit of the search space. No Streamlit:
the Experiment page draws these, tests check them.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from mlr.experiments.space import SearchSpace
from mlr.store.loop_records import Loop, LoopExperiment

ENDED = ("stopped", "finished", "failed")
STATUS_WORDS = {"created": "Starting", "running": "Running", "paused": "Paused", "stopped": "Stopped",
                "finished": "Finished", "interrupted": "Interrupted", "failed": "Failed"}
EXP_WORDS = {"baseline": "baseline", "pending": "waiting to run", "awaiting_approval": "awaiting your approval",
             "rejected": "rejected by you", "refused": "refused (unsafe change)", "running": "running",
             "kept": "kept", "discarded": "discarded", "failed": "failed"}
VERDICT_WORDS = {"success": "success", "unconfirmed": "unconfirmed (one seed)", "below_bar": "below the bar",
                 "not_significant": "not significant", "worse": "worse than the baseline", "failed": "failed"}

def space_rows(space: SearchSpace) -> list[dict[str, Any]]:
    rows = []
    for p in space.params:
        if p.searchable and p.distribution is not None:
            what = p.distribution.text()
        else:
            what = f"fixed at {p.value!r}"
        rows.append({"parameter": p.name, "search it": p.searchable, "range / choices": what,
                     "why fixed": "" if p.searchable else ("🔒 " if p.locked else "") + p.reason,
                     "default": repr(p.value)})
    return rows


def edited_space(space: SearchSpace, wanted: dict[str, bool], fallback: SearchSpace | None = None
                 ) -> tuple[SearchSpace, list[str]]:
    """``space`` with the researcher's "search it" choices applied; ``(space, problems)``.

    A locked parameter (the seed, the split, …) stays fixed; a parameter with no range or choices can be
    searched only when ``fallback`` (the space derived without the plan) has a distribution for it.
    """
    params, problems = [], []
    for p in space.params:
        want = wanted.get(p.name, p.searchable)
        if want == p.searchable:
            params.append(p)
        elif not want:
            params.append(p.model_copy(update={"searchable": False, "reason": "kept fixed by you"}))
        elif p.locked:
            problems.append(f"{p.name} must stay fixed: it is {p.reason}")
            params.append(p)
        else:
            dist = p.distribution
            if dist is None and fallback is not None and (alt := fallback.get(p.name)) is not None:
                dist = alt.distribution
            if dist is None:
                problems.append(f"{p.name} cannot be searched: {p.reason or 'no range or choices are known'}")
                params.append(p)
            else:
                params.append(p.model_copy(update={"searchable": True, "distribution": dist,
                                                   "reason": "searched at your request"}))
    return space.model_copy(update={"params": params}), problems


def status_line(loop: Loop, minutes: float) -> str:
    cfg = loop.config
    used = f"{loop.runs_used} of {cfg.budget_runs} runs used, {minutes:.1f}"
    used += f" of {cfg.budget_minutes:g} min" if cfg.budget_minutes else " min"
    word = STATUS_WORDS.get(loop.status, loop.status)
    if loop.status == "running" and loop.control == "pause":
        word = "Pausing after the current run"
    elif loop.status == "running" and loop.control == "stop":
        word = "Stopping"
    line = f"{word} — {used}"
    if loop.status in ("paused", "stopped", "finished") and loop.stopped_because:
        line += f" · {loop.stopped_because}"
    return line


def mean_sd(mean: float | None, sd: float | None, n: int) -> str:
    if mean is None:
        return "no value"
    return f"{mean:.4g}" + ("" if sd is None else f" ± {sd:.2g}") + f" (n={n})"


def chart_rows(loop: Loop, exps: list[LoopExperiment]) -> tuple[list[dict], list[dict]]:
    """The dots (one per measured or failed experiment) and the best-so-far step line of the progress chart."""
    higher = loop.config.higher_is_better
    values = [e.mean for e in exps if e.mean is not None]
    worst = (min(values) if higher else max(values)) if values else 0.0
    dots, line, best = [], [], None
    for e in exps:
        if e.mean is None and e.status != "failed":
            continue
        outcome_ = ("baseline" if e.kind == "baseline" else e.status if e.status in ("kept", "discarded", "failed")
                    else "running")
        y = e.mean if e.mean is not None else worst  # a failed experiment has no value: drawn at the worst one
        dots.append({"experiment": e.ordinal, "value": y, "outcome": outcome_, "kind": e.kind,
                     "mean ± sd": mean_sd(e.mean, e.sd, e.n), "change": e.reason[:120]})
        if outcome_ in ("baseline", "kept") and e.mean is not None and (
                best is None or (e.mean > best if higher else e.mean < best)):
            best = e.mean
        if best is not None:
            line.append({"experiment": e.ordinal, "best": best})
    return dots, line


def bar_value(baseline: float, bar: float, higher: bool) -> float:
    """The metric a candidate must reach: the baseline moved by ``bar`` × |baseline| in the metric's direction."""
    return baseline + bar * abs(baseline) if higher else baseline - bar * abs(baseline)


def changed_parameters(loop: Loop, exp: LoopExperiment) -> str:
    base = loop.config.base_parameters
    seed = loop.config.seed_parameter
    changed = {k: v for k, v in exp.parameters.items() if k != seed and base.get(k) != v}
    return ", ".join(f"{k}={v!r}" for k, v in changed.items())


def table_rows(loop: Loop, exps: list[LoopExperiment]) -> list[dict[str, Any]]:
    rows = []
    for e in exps:
        verdict = VERDICT_WORDS.get(e.verdict, e.verdict)
        rows.append({"experiment": e.ordinal, "kind": e.kind, "status": EXP_WORDS.get(e.status, e.status),
                     "mean": e.mean, "sd": e.sd, "n": e.n, "verdict": verdict,
                     "change / reason": e.reason + (" (code change: see below)" if e.diff else ""),
                     "parameters": "the prototype's defaults" if e.kind == "baseline"
                     else changed_parameters(loop, e) or "as the best so far",
                     "error": e.error[:200]})
    return rows


def log_csv(loop: Loop, exps: list[LoopExperiment]) -> str:
    """The loop's log: one row per experiment and seed (an experiment not measured yet: one row, no seed)."""
    out = io.StringIO()
    fields = ["experiment", "parent", "kind", "status", "seed", "metric", "value", "run", "mean", "sd", "n",
              "verdict", "p_value", "relative_improvement", "parameters", "reason", "code_change", "error"]
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    ordinals = {e.id: e.ordinal for e in exps}
    for e in exps:
        runs = e.data.get("runs", {})
        seeds = list(dict.fromkeys([*e.metric_by_seed, *runs])) or [""]
        for seed in seeds:
            writer.writerow({"experiment": e.ordinal, "parent": ordinals.get(e.parent_id, ""), "kind": e.kind,
                             "status": e.status, "seed": "" if seed in ("", "None") else seed,
                             "metric": loop.config.metric or "", "value": _blank(e.metric_by_seed.get(seed)),
                             "run": _blank(runs.get(seed)), "mean": _blank(e.mean), "sd": _blank(e.sd), "n": e.n,
                             "verdict": e.verdict, "p_value": _blank(e.p_value),
                             "relative_improvement": _blank(e.relative_improvement),
                             "parameters": json.dumps(e.parameters, sort_keys=True, default=str),
                             "reason": e.reason, "code_change": "yes" if e.diff else "", "error": e.error})
    return out.getvalue()


def _blank(value) -> Any:
    return "" if value is None else value
