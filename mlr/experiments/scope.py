"""One experiment's scope: a plan (or none, ad hoc) and one notebook, and what its runs say.

The Experiment page, the CLI and tests ask an :class:`ExperimentScope` which runs belong to the
experiment, which baseline and which variant are compared, on which metric, what the comparison says
in words, whether a variant may be queued at all, and which debug session is the current one. All of
it is read from the record, so a reload, a second tab and the CLI get the same answers.

A scope is one plan **and** one notebook (its resolved path) **and** that notebook's parameter schema:
runs of another prototype under the same plan, or runs made when the notebook declared other
parameters, are never compared with this scope's runs; :meth:`ExperimentScope.others` lists them apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from mlr.execution.errors import MetricsError
from mlr.execution.metrics import Comparison, MetricChoice, choose_metric, compare
from mlr.store import ACTIVE
from mlr.store.records import Attempt, PlanData, Run

FAILED = ("failed", "timed_out")
MAX_RUNS = 500  # runs read per scope: the record's newest first


class OtherRuns(BaseModel):
    """Runs under the same plan that this scope does not compare: another notebook or parameter schema."""

    notebook: str
    name: str  # the notebook's file name, for people
    reason: Literal["another notebook", "another parameter schema"]
    run_ids: list[int]


class ScopeResults(BaseModel):
    """What the results section shows: the runs, the pair compared, the metric and the verdict in words."""

    finished: list[Run]  # newest first
    baseline: Run | None = None
    variant: Run | None = None
    metric: MetricChoice
    comparison: Comparison | None = None
    words: str = ""  # the verdict, or why there is none
    tone: Literal["success", "info", "warning", "caption"] = "caption"
    others: list[OtherRuns] = []
    failure: Run | None = None  # the newest finished run, when it failed: announced above the results

    def failure_words(self) -> str:
        """The failed run in one line: which run, where it stopped and why."""
        run = self.failure
        if run is None:
            return ""
        err = run.error
        where = f" in cell {err.cell_index}" if err and err.cell_index is not None else ""
        why = f": {err.ename}: {err.evalue}" if err and err.ename else ""
        status = "timed out" if run.status == "timed_out" else "failed"
        return f"Run {run.id} ({run.kind}) {status}{where}{why}"

    def role(self, run: Run) -> str:
        """How a run takes part in the comparison, in words for a chart's legend."""
        if self.baseline is not None and run.id == self.baseline.id:
            return "baseline (compared)"
        if self.variant is not None and run.id == self.variant.id:
            return "variant (compared)"
        return f"other {run.kind} run"

    def chart_rows(self) -> list[dict[str, Any]]:
        """One bar per finished run that reported the metric, oldest first, with its role."""
        name = self.metric.name
        return [{"run": f"#{r.id} {r.kind}", name: r.metrics[name], "role": self.role(r)}
                for r in reversed(self.finished) if name and _number((r.metrics or {}).get(name))]

    def success_line(self) -> float | None:
        """The metric value a variant must reach to clear the bar (drawn on the chart), if there is a baseline."""
        comp = self.comparison
        if comp is None:
            return None
        step = comp.bar * abs(comp.baseline)
        return comp.baseline + step if comp.higher_is_better else comp.baseline - step


class Mark(BaseModel):
    """A number's delta as shown: its text, its colour and its arrow, which never contradict each other."""

    text: str
    color: Literal["green", "red", "gray"]
    arrow: Literal["up", "down", "off"]


def improvement_mark(comp: Comparison) -> Mark | None:
    """The variant's relative improvement: green up when better, red down when worse, grey without arrow when
    it rounds to zero (``+0.0%`` is no gain). ``None`` when there is no relative figure (a zero baseline)."""
    if comp.improvement is None:
        return None
    shown = round(comp.improvement * 100, 1)
    if shown == 0:
        return Mark(text="±0.0%", color="gray", arrow="off")
    return Mark(text=f"{shown:+.1f}%", color="green" if shown > 0 else "red", arrow="up" if shown > 0 else "down")


def bar_mark(comp: Comparison) -> Mark:
    """Whether the success bar is cleared: a word, so no arrow; green when cleared, red when not."""
    return Mark(text="cleared", color="green", arrow="off") if comp.cleared else \
        Mark(text="not cleared", color="red", arrow="off")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    """Equal as the notebook would see them (``1 == 1.0``; lists and dicts compared by value)."""
    if _number(a) and _number(b):
        return float(a) == float(b)
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def resolved(notebook: str | Path) -> str:
    """The path a run records for ``notebook`` (the runner stores resolved paths)."""
    return str(Path(notebook).expanduser().resolve())


@dataclass(frozen=True)
class ExperimentScope:
    """The runs of one plan (``plan_id=None``: ad-hoc runs) on one notebook, over the record ``store``.

    ``parameter_names``: the notebook's current parameters; a run that set a name outside them was made
    under another schema and is shown apart. ``None`` accepts every run of the notebook.
    ``plan_data``/``declared_metric``/``declared_higher``: what :func:`choose_metric` weighs.
    """

    store: Any
    plan_id: int | None
    notebook: str
    parameter_names: frozenset[str] | None = None
    plan_data: PlanData | None = None
    declared_metric: str | None = None
    declared_higher: bool | None = None

    @classmethod
    def of(cls, store, plan, prototype, parameters: Iterable | None = None) -> ExperimentScope:
        """The scope of a plan record (or ``None``) and a prototype (``mlr.execution.prototypes.Prototype``);
        ``parameters``: its ``inspect_parameters`` list (or names)."""
        names = None if parameters is None else frozenset(getattr(p, "name", p) for p in parameters)
        return cls(store, plan.id if plan else None, resolved(prototype.path), names,
                   plan.data if plan else None, prototype.primary_metric, prototype.higher_is_better)

    # -- which runs ------------------------------------------------------------------------------------
    def _plan_runs(self, status: tuple[str, ...] | None = None) -> list[Run]:
        runs = self.store.list_runs(plan_id=self.plan_id, status=status, limit=MAX_RUNS)
        return [r for r in runs if r.plan_id == self.plan_id]  # plan_id=None lists every run: keep ad-hoc ones

    def _fits_schema(self, run: Run) -> bool:
        return self.parameter_names is None or set(run.parameters) <= self.parameter_names

    def belongs(self, run: Run) -> bool:
        return run.plan_id == self.plan_id and run.notebook == self.notebook and self._fits_schema(run)

    def runs(self, status: tuple[str, ...] | None = None) -> list[Run]:
        """This scope's runs, newest first (``status``: only those)."""
        return [r for r in self._plan_runs(status) if self.belongs(r)]

    def active(self) -> list[Run]:
        return self.runs(ACTIVE)

    def finished(self) -> list[Run]:
        return [r for r in self.runs() if r.status not in ACTIVE]

    def failed(self) -> list[Run]:
        return self.runs(FAILED)

    def latest(self, kind: str, runs: list[Run] | None = None) -> Run | None:
        """The newest run of ``kind`` ("baseline" or "variant") that succeeded."""
        return next((r for r in (self.runs() if runs is None else runs)
                     if r.kind == kind and r.status == "succeeded"), None)

    def others(self) -> list[OtherRuns]:
        """Runs of the same plan that are not compared here, grouped by notebook (none when ad hoc: ad-hoc
        runs of other notebooks are other experiments, not neighbours)."""
        if self.plan_id is None:
            return []
        groups: dict[tuple[str, str], list[int]] = {}
        for run in self._plan_runs():
            if self.belongs(run):
                continue
            reason = "another notebook" if run.notebook != self.notebook else "another parameter schema"
            groups.setdefault((run.notebook, reason), []).append(run.id)
        return [OtherRuns(notebook=nb, name=Path(nb).name, reason=reason, run_ids=ids)
                for (nb, reason), ids in groups.items()]

    # -- the metric, the comparison and its words -----------------------------------------------------
    def metric(self, runs: list[Run] | None = None) -> MetricChoice:
        """The plan's metric when this notebook reports it, else the prototype's (see :func:`choose_metric`)."""
        reported = {name for r in (self.finished() if runs is None else runs)
                    for name, value in (r.metrics or {}).items() if _number(value)}
        return choose_metric(self.plan_data, self.declared_metric, self.declared_higher, reported)

    def results(self, bar: float) -> ScopeResults:
        """The finished runs, the latest baseline and variant, and their comparison against ``bar``."""
        finished = self.finished()
        metric = self.metric(finished)
        baseline, variant = self.latest("baseline", finished), self.latest("variant", finished)
        out = ScopeResults(finished=finished, baseline=baseline, variant=variant, metric=metric,
                           others=self.others(), failure=finished[0] if finished and finished[0].status in FAILED
                           else None)
        if not finished:
            out.words = "No finished runs yet."
        elif not metric.name:
            out.words = "No metric to compare the runs on."
        elif not (baseline and variant):
            missing = "a baseline and a variant" if not (baseline or variant) else \
                "a baseline" if not baseline else "a variant"
            out.words = f"Run {missing} to compare them on {metric.name}."
        else:
            try:
                out.comparison = compare(baseline, variant, metric.name, metric.higher_is_better, bar)
            except MetricsError as exc:
                out.words, out.tone = str(exc), "warning"
            else:
                out.words = out.comparison.summary()
                out.tone = "success" if out.comparison.cleared else "info"
        return out

    # -- before queueing a variant ---------------------------------------------------------------------
    def refuse_variant(self, values: dict[str, Any], defaults: dict[str, Any]) -> str | None:
        """Why a variant with ``values`` must not run (it is the baseline again), or ``None`` to queue it.

        The baseline is the notebook's ``defaults`` (what "Run baseline" queues) and, if this scope has
        one, the latest baseline run's parameters; a name left out means its default.
        """
        candidates = [defaults]
        if (baseline := self.latest("baseline")) is not None:
            candidates.append({**defaults, **baseline.parameters})
        full = {**defaults, **values}
        for base in candidates:
            names = set(full) | set(base)
            if all(_same(full.get(n), base.get(n)) for n in names):
                return ("This variant sets every parameter to the baseline's value, so it would only repeat "
                        "the baseline. Change at least one parameter before running it.")
        return None

    # -- the debug session of this plan and notebook ---------------------------------------------------
    def debug_session(self) -> int | None:
        """The root attempt id of the latest debug session started on this notebook under this plan."""
        roots = [a for a in self.store.list_attempts(plan_id=self.plan_id) if _is_root_of(a, self.notebook)]
        return roots[-1].id if roots else None


def _is_root_of(attempt: Attempt, notebook: str) -> bool:
    return attempt.parent_id is None and attempt.data.origin is not None and resolved(attempt.data.origin) == notebook
