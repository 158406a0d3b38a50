"""Build the report of a plan from the record: paper, problem and gaps with their passages, hypothesis and
citations, review, the plan version that ran and later edits, the results, the chart, the lineage of every
run, the kernel's environment and who wrote what."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from mlr import words
from mlr.config import Settings
from mlr.report import environment as envmod
from mlr.report.authorship import by_note, generated
from mlr.report.chart import chart_svg
from mlr.report.lineage import lineage
from mlr.report.model import (
    AuthorRow,
    GapOut,
    HypothesisOut,
    PaperOut,
    Passage,
    PlanOut,
    PlanVersionOut,
    ProblemOut,
    Report,
    ReviewOut,
    ScoreOut,
    Written,
)
from mlr.report.results import Results, results
from mlr.store import Store
from mlr.store.records import Plan, PlanVersion

log = logging.getLogger(__name__)

CRITERIA = ("clarity", "validity", "rigor", "innovativeness", "generalizability")


class ReportError(ValueError):
    """No report can be made as asked (no such plan); the message says why."""


def passage(store: Store, chunk_id: str) -> Passage:
    chunk = store.get_chunk(chunk_id) if chunk_id else None
    if chunk is None:
        return Passage(chunk_id=chunk_id, found=False)
    return Passage(chunk_id=chunk_id, paper=chunk.title or chunk.file_name, section=chunk.section, page=chunk.page,
                   text=chunk.text)


def _run_version(plan: Plan, versions: list[PlanVersion], first_run: str | None) -> tuple[int, str]:
    """The version the experiments ran: the one current when the first of their runs was queued."""
    current = [v for v in versions if not v.note.startswith("draft")]
    if first_run is None:
        return plan.version, "no experiment has run yet: the current version"
    before = [v for v in current if v.created_at <= first_run]
    if not before:
        return plan.version, "the current version (no version is older than the first run)"
    return before[-1].version, f"the version current when the first run was queued ({words.exact(first_run)})"


def build_report(store: Store, settings: Settings, plan_id: int, *, with_environment: bool = True) -> Report:
    plan = store.get_plan(plan_id)
    if plan is None:
        raise ReportError(f"There is no plan {plan_id}.")
    hyp = store.get_hypothesis(plan.hypothesis_id)
    problem = store.get_problem(hyp.problem_id) if hyp else None
    paper = store.get_paper(problem.paper_id) if problem else None

    res = results(store, plan_id, settings.success_bar)
    listed = {r.id: r for r in store.list_runs(plan_id=plan_id, limit=10000) if r.plan_id == plan_id}
    runs = [listed.get(i) or store.get_run(i) for i in sorted(set(res.run_ids) | set(listed))]
    runs = [r for r in runs if r is not None]  # every run of the plan, and those the results rest on
    in_outcome = set()
    if res.outcome is not None:
        in_outcome = set(res.outcome.baseline.run_ids) | set(res.outcome.best.run_ids if res.outcome.best else [])
    first = min((r.queued_at for r in runs if r.id in in_outcome), default=None)

    versions = sorted(store.plan_versions(plan_id), key=lambda v: v.version)
    run_version, why = _run_version(plan, versions, first)
    ran = next((v for v in versions if v.version == run_version), None)
    plan_out = PlanOut(id=plan.id, status=plan.status, accepted_at=plan.accepted_at, run_version=run_version,
                       why_this_version=why, data=ran.data if ran else plan.data,
                       written=by_note(ran.note, plan.generated_by, ran.created_at) if ran
                       else generated(plan.generated_by, plan.created_at),
                       later=[PlanVersionOut(version=v.version, note=v.note, created_at=v.created_at,
                                             written=by_note(v.note, plan.generated_by, v.created_at))
                              for v in versions if v.version > run_version])

    h_versions = {v.version: v for v in store.hypothesis_versions(hyp.id)}
    h_current = h_versions.get(hyp.version)
    hyp_out = HypothesisOut(id=hyp.id, version=hyp.version, method=hyp.data.method, rationale=hyp.data.rationale,
                            citations=[passage(store, c.chunk_id) for c in hyp.data.citations],
                            written=by_note(h_current.note, hyp.generated_by, h_current.created_at) if h_current
                            else generated(hyp.generated_by, hyp.updated_at))
    problem_out = None
    if problem is not None:
        problem_out = ProblemOut(id=problem.id, task=problem.data.task, keywords=problem.data.keywords,
                                 gaps=[GapOut(text=g.text, passage=passage(store, g.chunk_id) if g.chunk_id else None)
                                       for g in problem.data.gaps],
                                 written=generated(problem.generated_by, problem.created_at).model_copy(
                                     update={"note": "the record keeps no history of edits to a problem"}))
    review_out = _review(hyp)
    lineages = [lineage(r, settings.kernel_name) for r in runs]
    env = None
    if with_environment:
        kernel = next((r.kernel for r in lineages if r.kernel), settings.kernel_name)
        env = envmod.environment(kernel, sorted({r.notebook for r in runs}))
    report = Report(
        title=f"Research report: {hyp.data.method[:120] or f'plan {plan.id}'}",
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        paper=PaperOut(id=paper.id, title=paper.name, file_name=paper.file_name, authors=paper.authors,
                       year=paper.year, pages=paper.pages) if paper else None,
        problem=problem_out, hypothesis=hyp_out, review=review_out, plan=plan_out, outcome=res.outcome,
        outcome_missing=res.missing, experiments=res.rows, success_line=res.success_line(), runs=lineages,
        environment=env)
    report.chart_svg = chart_svg(report) if report.experiments else ""
    report.authorship = _authorship(report, res)
    return report


def _review(hyp) -> ReviewOut | None:
    review = hyp.review
    if review is None:
        return None
    scores = [ScoreOut(criterion=name, score=getattr(review, name).score, why=getattr(review, name).why)
              for name in CRITERIA if getattr(review, name) is not None]
    out = ReviewOut(scores=scores, written=generated(hyp.generated_by))
    if review.novelty is not None:
        nov = review.novelty
        out.max_similarity, out.threshold, out.restates_existing = nov.max_similarity, nov.threshold, \
            nov.restates_existing
        out.nearest = [Passage(chunk_id=n.chunk_id, paper=n.title, section=n.section, page=n.page, text=n.text)
                       for n in nov.nearest]
        out.similarity = [n.similarity for n in nov.nearest]
    return out


def _authorship(report: Report, res: Results) -> list[AuthorRow]:
    rows = []
    if report.problem:
        rows.append(AuthorRow(what="Research problem and gaps", written=report.problem.written))
    rows.append(AuthorRow(what=f"Hypothesis (version {report.hypothesis.version})", written=report.hypothesis.written))
    if report.review:
        rows.append(AuthorRow(what="Review scores and reasons", written=report.review.written))
        if report.review.nearest:
            rows.append(AuthorRow(what="Novelty (nearest passages, similarity)",
                                  written=Written(by="program", note="embedding similarity")))
    rows.append(AuthorRow(what=f"Plan (version {report.plan.run_version}, the one that ran)",
                          written=report.plan.written))
    for v in report.plan.later:
        rows.append(AuthorRow(what=f"Plan version {v.version} (after the runs)", written=v.written))
    for row in report.experiments:
        if row.reason_written is not None and row.reason:
            rows.append(AuthorRow(what=f"Reason of {row.label}", written=row.reason_written))
    if report.outcome is not None:
        rows.append(AuthorRow(what="Every number: metrics, means, sds, p-values, improvements",
                              written=Written(by="program", note="read from the runs' metrics.json and the record")))
    return rows
