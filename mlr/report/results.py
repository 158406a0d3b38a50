"""The experiments of a plan as the report shows them: the headline (baseline vs the best variant) and one row
per experiment, from the experiment loop when one ran for the plan, else from the plan's direct runs.

Every number is a stored one: a loop's means, sds, p-values and verdicts are its experiments' columns; a
direct run's metric is its ``metrics.json`` as recorded; the relative improvement of direct runs is
:func:`mlr.execution.metrics.compare`, the same figure the Experiment page shows.
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path

from mlr.execution.errors import MetricsError, NotebookContractError
from mlr.execution.metrics import compare
from mlr.execution.prototypes import describe
from mlr.report.lineage import code_cells
from mlr.report.model import ExperimentRow, Measure, Outcome, Written
from mlr.store import Store
from mlr.store.loop_records import Loop, LoopExperiment
from mlr.store.records import Run

log = logging.getLogger(__name__)

TOLERANCE = 1e-9  # as in mlr.experiments.stats: 10 % stays 10 % in floating point
DIRECT_KINDS = ("baseline", "variant")


class Results:
    """The headline, the rows and the runs they rest on (ids, for the lineage)."""

    def __init__(self, outcome: Outcome | None, rows: list[ExperimentRow], run_ids: list[int], missing: str = "",
                 loop: Loop | None = None):
        self.outcome, self.rows, self.run_ids, self.missing, self.loop = outcome, rows, run_ids, missing, loop

    def success_line(self) -> float | None:
        o = self.outcome
        if o is None or o.baseline.mean is None:
            return None
        step = o.bar * abs(o.baseline.mean)
        return o.baseline.mean + step if o.higher_is_better else o.baseline.mean - step


def results(store: Store, plan_id: int, bar: float) -> Results:
    """From the newest loop of the plan that measured its baseline, else from the plan's direct runs."""
    for loop in store.list_loops(plan_id=plan_id):
        exps = store.list_experiments(loop.id)
        if any(e.kind == "baseline" and e.mean is not None for e in exps):
            return _from_loop(loop, exps, store)
    return _from_runs(store, plan_id, bar)


# -- an experiment loop -------------------------------------------------------------------------------
def _measure(e: LoopExperiment) -> Measure:
    return Measure(mean=e.mean, sd=e.sd, n=e.n, values=e.values(), run_ids=list(e.run_ids))


def _changed(params: dict, base: dict) -> dict:
    return {k: v for k, v in params.items() if base.get(k) != v}


def _from_loop(loop: Loop, exps: list[LoopExperiment], store: Store) -> Results:
    cfg = loop.config
    base = next(e for e in exps if e.kind == "baseline" and e.mean is not None)
    best = store.get_experiment(loop.best_id) if loop.best_id else None
    if best is not None and (best.kind == "baseline" or best.mean is None):
        best = None
    rows = []
    for e in exps:
        if e.n == 0:
            continue
        role = "baseline" if e.id == base.id else "best" if best is not None and e.id == best.id else "other"
        rows.append(ExperimentRow(
            label=f"#{e.ordinal} {e.kind}", kind=e.kind, status=e.status, role=role, parameters=e.parameters,
            measure=_measure(e), relative_improvement=e.relative_improvement, p_value=e.p_value, verdict=e.verdict,
            reason=e.reason, reason_written=Written(by="model") if e.kind in ("code", "debug") and e.reason
            else Written(by="program") if e.reason else None))
    outcome = Outcome(source=f"experiment loop {loop.id}", metric=cfg.metric or "", higher_is_better=cfg.higher_is_better,
                      bar=cfg.bar, baseline=_measure(base), summary=loop.data.summary,
                      summary_written=Written(by="program", when=loop.updated_at) if loop.data.summary else None)
    if best is not None:
        imp = best.relative_improvement
        outcome = outcome.model_copy(update={
            "best": _measure(best), "best_label": f"experiment {best.ordinal} ({best.kind})",
            "relative_improvement": imp, "cleared": None if imp is None else imp >= cfg.bar - TOLERANCE,
            "p_value": best.p_value, "alpha": cfg.alpha,
            "test": ("Welch's t-test, one-sided (the variant is better), unequal variances, over "
                     f"{best.n} and {base.n} seeds") if best.n >= 2 and base.n >= 2 else "",
            "verdict": best.verdict, "parameters": best.parameters,
            "changed": _changed(best.parameters, base.parameters), "diff": best.diff})
    run_ids = sorted({i for e in exps for i in e.run_ids})
    return Results(outcome, rows, run_ids, loop=loop)


# -- direct runs (Run baseline / Run variant on the Experiment page) ------------------------------------
def _metric_of(run: Run, metric: str) -> float | None:
    value = (run.metrics or {}).get(metric)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _from_runs(store: Store, plan_id: int, bar: float) -> Results:
    runs = [r for r in store.list_runs(plan_id=plan_id, limit=1000) if r.plan_id == plan_id]  # newest first
    done = [r for r in runs if r.kind in DIRECT_KINDS and r.status == "succeeded"]
    baseline = next((r for r in done if r.kind == "baseline"), None)
    if baseline is None:
        return Results(None, [], [r.id for r in runs],
                       "No baseline run has succeeded for this plan yet: run the baseline on the Experiment page.")
    try:
        proto = describe(baseline.notebook)
        metric, higher = proto.primary_metric, proto.higher_is_better
    except (NotebookContractError, OSError) as exc:
        log.warning("the baseline's notebook cannot be read: %s", exc)
        metric, higher = None, True
    metric = metric or next((k for k, v in (baseline.metrics or {}).items() if _metric_of(baseline, k) is not None), "")
    if _metric_of(baseline, metric) is None:  # it ran to the end but reported no (such) metric: nothing to compare
        named = f" {metric!r}" if metric else ""
        return Results(None, [], [r.id for r in runs],
                       f"The baseline run succeeded but reported no metric{named}; this needs a metric: glue it with "
                       "scrapbook, write it to metrics.json, or print it in the notebook's last cell.")
    measured = [r for r in done if _metric_of(r, metric) is not None]
    variants = [r for r in measured if r.kind == "variant"]
    best = (max if higher else min)(variants, key=lambda r: _metric_of(r, metric)) if variants else None
    rows = [ExperimentRow(label=f"run {r.id} {r.kind}", kind=r.kind, status=r.status,
                          role="baseline" if r.id == baseline.id else "best" if best and r.id == best.id else "other",
                          parameters=r.parameters, measure=Measure(mean=_metric_of(r, metric), n=1,
                                                                   values=[_metric_of(r, metric)], run_ids=[r.id]))
            for r in reversed(measured)]
    value = _metric_of(baseline, metric)
    outcome = Outcome(source="direct runs", metric=metric, higher_is_better=higher, bar=bar,
                      baseline=Measure(mean=value, n=1, values=[] if value is None else [value], run_ids=[baseline.id]))
    if best is not None:
        try:
            comp = compare(baseline, best, metric, higher, bar)
        except MetricsError as exc:
            outcome.verdict = str(exc)
        else:
            outcome = outcome.model_copy(update={
                "best": Measure(mean=comp.variant, n=1, values=[comp.variant], run_ids=[best.id]),
                "best_label": f"run {best.id} (variant)", "relative_improvement": comp.improvement,
                "cleared": comp.cleared, "verdict": comp.summary(), "parameters": best.parameters,
                "changed": _changed(best.parameters, baseline.parameters),
                "diff": notebook_diff(baseline.notebook, best.notebook)})
    return Results(outcome, rows, [r.id for r in runs])


def notebook_diff(old: str, new: str) -> str:
    """A unified diff of two notebooks' cell sources ("" when they are the same file or cannot be read)."""
    if old == new:
        return ""
    try:
        import nbformat

        a, b = (code_cells(nbformat.read(p, as_version=4)) for p in (old, new))
    except Exception as exc:  # boundary: a notebook that vanished has no diff to show
        log.warning("no diff of %s and %s: %s", old, new, exc)
        return ""
    def lines(cells: list[tuple[str, str]]) -> list[str]:
        return "\n".join(f"# cell {i} ({kind})\n{src}" for i, (kind, src) in enumerate(cells)).splitlines()

    return "\n".join(difflib.unified_diff(lines(a), lines(b), Path(old).name, Path(new).name, lineterm=""))
