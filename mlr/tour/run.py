"""The guided tour: one call walks the whole flow on a sample paper with whatever model the workspace has —
library → problem → related work → one hypothesis → plan (accepted) → baseline and variant → report.

Each step's result is written to the tour's state (``state.py``) as it arrives. What the tour makes is labelled
as the tour's: the model's texts carry ``· tour`` in their ``generated_by``, runs carry ``data.tour``, and the
state lists every id, so ``reset.py`` removes exactly that.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from mlr.store import now_iso
from mlr.tour.reset import reset
from mlr.tour.script import script
from mlr.tour.state import StepState, TourState, folder, load, save

log = logging.getLogger(__name__)


class TourError(RuntimeError):
    """A step could not be done; the message says which and why, in words."""


def _say(job, stage: str, fraction: float) -> None:
    if job is not None:
        job.progress(stage, fraction)


def run_tour(ws, job=None) -> TourState:
    """Walk the flow; ``job`` (mlr.jobs.Job, optional) gets the stage and streamed model text."""
    from mlr.agents.idea_flow import producer

    steps = script().steps
    if load(ws.settings) is not None:  # a tour again replaces the last one: its data would be untracked otherwise
        log.info("removing the previous tour's data: %s", ", ".join(reset(ws)) or "nothing")
    state = TourState(started_at=now_iso(), model=producer(ws.llm),
                      steps={s.key: StepState() for s in steps})
    save(ws.settings, state)
    began = time.monotonic()
    work: dict[str, Callable[[TourState], str]] = {
        "library": lambda st: _library(ws, st, job), "problem": lambda st: _problem(ws, st, job),
        "related": lambda st: _related(ws, st), "hypothesis": lambda st: _hypothesis(ws, st, job),
        "plan": lambda st: _plan(ws, st, job), "baseline": lambda st: _baseline(ws, st),
        "variant": lambda st: _variant(ws, st), "report": lambda st: _report(ws, st)}
    for i, step in enumerate(steps):
        _say(job, step.title, i / len(steps))
        current = state.steps[step.key]
        current.status, current.started = "running", time.time()
        save(ws.settings, state)
        try:
            current.result = work[step.key](state)
        except Exception as exc:  # boundary: the tour must say which step failed and why, then stop
            log.exception("tour step %s failed", step.key)
            current.status, current.seconds = "failed", round(time.time() - current.started, 1)
            state.error = f"{step.title} failed: {exc}"
            state.finished_at, state.seconds = now_iso(), round(time.monotonic() - began, 1)
            save(ws.settings, state)
            raise TourError(state.error) from exc
        current.status, current.seconds = "done", round(time.time() - current.started, 1)
        save(ws.settings, state)
    state.finished_at, state.seconds = now_iso(), round(time.monotonic() - began, 1)
    save(ws.settings, state)
    _say(job, "done", 1.0)
    return state


def _recorder(ws, job):
    recorder = ws.idea_recorder()
    recorder.generated_by = f"{recorder.generated_by} · {script().label}"  # the tour's texts say so everywhere
    return recorder


def _library(ws, st: TourState, job) -> str:
    sample = script().sample
    pdf = ws.settings.samples_dir / sample / "paper.pdf"
    result = ws.library.add_file(pdf, file_name=f"{sample}.pdf",
                                 progress=(lambda stage, f: _say(job, f"Read the paper: {stage}", f * 0.1)))
    if result.status == "rejected":
        raise TourError(result.error or "the sample paper could not be read")
    st.paper_id, st.paper_added = result.paper_id, result.status == "added"
    paper = ws.store.get_paper(result.paper_id)
    already = "" if st.paper_added else " (it was already in the library; the tour leaves it there)"
    return f"{paper.name}: {paper.pages} pages, {paper.chunks} passages{already}."


def _problem(ws, st: TourState, job) -> str:
    st.problem_id = _recorder(ws, job).problem(st.paper_id, on_token=job.on_token if job else None)
    problem = ws.store.get_problem(st.problem_id)
    return f"{problem.data.task} ({len(problem.data.gaps)} gaps, each with its passage)"


def _related(ws, st: TourState) -> str:
    related = ws.idea_recorder().related(st.problem_id)
    return f"{len(related.passages)} related passages found."


def _hypothesis(ws, st: TourState, job) -> str:
    batch = _recorder(ws, job).hypotheses(st.problem_id, n=1, on_token=job.on_token if job else None)
    if not batch:
        reason = batch.failed[0]["reason"] if batch.failed else "no answer"
        raise TourError(f"the model proposed no usable hypothesis: {reason}")
    st.hypothesis_id = batch[0]
    h = ws.store.get_hypothesis(st.hypothesis_id)
    return f"{h.data.method} — because {h.data.rationale}"


def _plan(ws, st: TourState, job) -> str:
    st.plan_id = _recorder(ws, job).plan(st.hypothesis_id, on_token=job.on_token if job else None)
    ws.store.set_plan_status(st.plan_id, "accepted")
    plan = ws.store.get_plan(st.plan_id)
    return f"Objective: {plan.data.objective} Metric: {plan.data.primary_metric or 'the notebook’s'}. Accepted by the tour."


def _prototype(ws):
    return ws.settings.samples_dir / script().sample / "prototype.ipynb"


def _run(ws, st: TourState, parameters: dict, kind: str):
    run_id = ws.runner.submit(_prototype(ws), parameters, kind=kind, plan_id=st.plan_id,
                              data={script().label: True})
    st.run_ids.append(run_id)
    save(ws.settings, st)
    outcome = ws.runner.wait(run_id)
    if outcome.status != "succeeded":
        err = outcome.error
        raise TourError(f"the {kind} run {outcome.status}" + (f": {err.ename}: {err.evalue}" if err else ""))
    return outcome


def _metric(ws) -> str:
    from mlr.execution.prototypes import describe

    return describe(_prototype(ws)).primary_metric or ""


def _baseline(ws, st: TourState) -> str:
    outcome = _run(ws, st, {}, "baseline")
    metric = _metric(ws)
    return f"{metric} = {outcome.metrics.get(metric)} with the paper's settings."


def variant_parameters(plan_data, notebook) -> tuple[dict, str]:
    """The plan's values for the notebook's parameters, or the script's known improvement when the plan changes
    nothing the notebook has; and a sentence saying which."""
    from mlr.execution.parameters import defaults, inspect_parameters, values_from_plan

    params = inspect_parameters(notebook)
    base = defaults(params)
    values = {k: v for k, v in values_from_plan(plan_data, params).items() if base.get(k) != v}
    if values:
        return values, "the plan's settings"
    return dict(script().fallback_variant), ("the paper's known improvement (the plan changed no setting the "
                                             "notebook has)")


def _variant(ws, st: TourState) -> str:
    from mlr.execution.metrics import compare

    plan = ws.store.get_plan(st.plan_id)
    values, which = variant_parameters(plan.data, _prototype(ws))
    outcome = _run(ws, st, values, "variant")
    baseline = ws.store.get_run(st.run_ids[0])
    metric = _metric(ws)
    comparison = compare(baseline, outcome, metric, True, ws.settings.success_bar)
    shown = ", ".join(f"{k} = {v}" for k, v in values.items())
    return f"With {which} ({shown}): {comparison.summary()}."


def _report(ws, st: TourState) -> str:
    from mlr.atomic import write_text
    from mlr.report import build_report, render_html

    report = build_report(ws.store, ws.settings, st.plan_id)
    path = folder(ws.settings) / "report.html"
    write_text(path, render_html(report))
    st.report = str(path)
    o = report.outcome
    if o is None or o.best is None:
        return "The report is ready."
    return (f"The report is ready: {o.metric} from {o.baseline.mean:.4g} to {o.best.mean:.4g} "
            f"({o.relative_improvement:+.1%}), {'clears' if o.cleared else 'does not clear'} the "
            f"{o.bar:.0%} bar.")
