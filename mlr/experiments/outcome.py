"""What a loop found, read from the record: the view the CLI prints and the page draws, the written
summary, and the refined hypothesis and plan handed back to the Plan page as a *draft* version.

Every number here is read from the loop's experiments; nothing is recomputed from memory.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel

from mlr.store import Store
from mlr.store.loop_records import Loop, LoopExperiment

log = logging.getLogger(__name__)


class SummaryOut(BaseModel):
    mean: float | None
    sd: float | None
    n: int


class BestOut(BaseModel):
    experiment_id: int
    ordinal: int
    kind: str
    parameters: dict[str, Any]
    diff: str
    mean: float | None
    sd: float | None
    n: int
    relative_improvement: float | None
    p_value: float | None
    verdict: str


class ExperimentOut(BaseModel):
    id: int
    ordinal: int
    parent_id: int | None
    kind: str
    parameters: dict[str, Any]
    status: str
    metric_by_seed: dict[str, float | None]
    mean: float | None
    sd: float | None
    n: int
    verdict: str
    reason: str
    run_ids: list[int]


class LoopView(BaseModel):
    loop_id: int
    status: str
    metric: str | None
    higher_is_better: bool
    bar: float
    baseline: SummaryOut | None
    best: BestOut | None
    success: bool
    stopped_because: str
    runs_used: int
    budget_runs: int
    minutes: float
    model_note: str
    summary: str
    experiments: list[ExperimentOut]


def view(store: Store, loop_id: int) -> LoopView:
    loop = store.get_loop(loop_id)
    exps = store.list_experiments(loop_id)
    base = next((e for e in exps if e.kind == "baseline"), None)
    best = store.get_experiment(loop.best_id) if loop.best_id else None
    best_out = None
    if best is not None and best.kind != "baseline":
        best_out = BestOut(experiment_id=best.id, ordinal=best.ordinal, kind=best.kind, parameters=best.parameters,
                           diff=best.diff, mean=best.mean, sd=best.sd, n=best.n,
                           relative_improvement=best.relative_improvement, p_value=best.p_value,
                           verdict=best.verdict)
    return LoopView(
        loop_id=loop.id, status=loop.status, metric=loop.config.metric, higher_is_better=loop.config.higher_is_better,
        bar=loop.config.bar, baseline=SummaryOut(mean=base.mean, sd=base.sd, n=base.n) if base else None,
        best=best_out, success=bool(best_out and best_out.verdict == "success"),
        stopped_because=loop.stopped_because, runs_used=loop.runs_used, budget_runs=loop.config.budget_runs,
        minutes=round(loop.seconds / 60, 2), model_note=loop.data.model_note, summary=loop.data.summary,
        experiments=[ExperimentOut(id=e.id, ordinal=e.ordinal, parent_id=e.parent_id, kind=e.kind,
                                   parameters=e.parameters, status=e.status, metric_by_seed=e.metric_by_seed,
                                   mean=e.mean, sd=e.sd, n=e.n, verdict=e.verdict, reason=e.reason,
                                   run_ids=e.run_ids) for e in exps])


def _fmt(e: LoopExperiment) -> str:
    sd = "" if e.sd is None else f" ± {e.sd:.4g}"
    return "no value" if e.mean is None else f"{e.mean:.4g}{sd} (n={e.n})"


def _change(best: LoopExperiment, base: LoopExperiment) -> str:
    changed = {k: v for k, v in best.parameters.items() if base.parameters.get(k) != v}
    parts = [", ".join(f"{k}={v!r}" for k, v in changed.items())] if changed else []
    if best.diff:
        parts.append(f"a code change ({best.reason[:160]})")
    return " and ".join(parts) or "no change"


def write_summary(store: Store, loop_id: int) -> str:
    """Write what was tried and what worked into the loop, and a refined plan draft when something was kept."""
    loop = store.get_loop(loop_id)
    exps = store.list_experiments(loop_id)
    base = next((e for e in exps if e.kind == "baseline"), None)
    if base is None:
        return ""
    cfg = loop.config
    counts: dict[str, int] = {}
    for e in exps[1:]:
        counts[f"{e.kind} {e.status}"] = counts.get(f"{e.kind} {e.status}", 0) + 1
    lines = [f"Baseline {cfg.metric}: {_fmt(base)}. Tried {len(exps) - 1} candidates in {loop.runs_used} runs "
             f"({', '.join(f'{v} {k}' for k, v in sorted(counts.items())) or 'none'})."]
    best = store.get_experiment(loop.best_id) if loop.best_id else None
    if best is None or best.kind == "baseline":
        lines.append("No candidate beat the baseline; the plan stays as it is.")
    else:
        imp = "n/a" if best.relative_improvement is None else f"{best.relative_improvement:+.1%}"
        p = "n/a" if best.p_value is None else f"{best.p_value:.3g}"
        lines.append(f"Best: experiment {best.ordinal} ({best.kind}: {_change(best, base)}) reached {_fmt(best)}, "
                     f"{imp} against the baseline, p = {p} → {best.verdict} (bar {cfg.bar:.0%}). "
                     f"Evidence: runs {', '.join(map(str, best.run_ids))} vs baseline runs "
                     f"{', '.join(map(str, base.run_ids))}.")
        if loop.plan_id is not None:
            version = _refined_plan(store, loop, best, base)
            if version is not None:
                lines.append(f"A refined plan is saved as draft version {version} on the Plan page.")
                store.update_loop(loop_id, data={**loop.data.model_dump(), "refined_plan_version": version})
    text = " ".join(lines)
    loop = store.get_loop(loop_id)
    store.update_loop(loop_id, data={**loop.data.model_dump(), "summary": text})
    return text


def _refined_plan(store: Store, loop: Loop, best: LoopExperiment, base: LoopExperiment) -> int | None:
    plan = store.get_plan(loop.plan_id)
    if plan is None:
        return None
    data = plan.data.model_dump(mode="json", exclude_unset=True)
    change = _change(best, base)
    imp = "" if best.relative_improvement is None else f" ({best.relative_improvement:+.1%}, {best.verdict})"
    data["method"] = f"{data.get('method', '')} Refined by experiment loop {loop.id}: {change}{imp}.".strip()
    changed = {k: v for k, v in best.parameters.items() if base.parameters.get(k) != v}
    if changed:
        kept = [p for p in data.get("parameters", []) if p.get("name") not in changed]
        data["parameters"] = kept + [{"name": k, "values": [v], "description": f"best value found by loop {loop.id}"}
                                     for k, v in changed.items()]
    evidence = {"loop_id": loop.id, "experiment_id": best.id, "run_ids": best.run_ids,
                "baseline_run_ids": base.run_ids}
    data["refined_from"] = evidence
    note = f"draft: refined by experiment loop {loop.id}"
    hypothesis = store.get_hypothesis(plan.hypothesis_id)
    if hypothesis is not None:  # the refined hypothesis: what was tried and what worked, with its evidence
        h = hypothesis.data.model_dump(mode="json", exclude_unset=True)
        h["method"] = f"{h.get('method', '')} Refined: {change}{imp}.".strip()
        h["rationale"] = (f"{h.get('rationale', '')} Experiment loop {loop.id} measured it: {_fmt(best)} against the "
                          f"baseline's {_fmt(base)} (runs {', '.join(map(str, best.run_ids))}).").strip()
        store.add_hypothesis_draft(hypothesis.id, {**h, "refined_from": evidence}, note=note)
    return store.add_plan_draft(plan.id, data, note=note)
