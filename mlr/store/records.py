"""Typed records of the research record: what every ``Store`` read returns.

One model per table row (with the joined fields of the listings); the JSON columns are the payload
models of ``mlr.store.payloads``, re-exported here. Timestamps stay ISO strings, as in the database.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mlr.store.payloads import (AttemptData, CitationData, GapData, GpuData, MetricsFound, HypothesisData, Lenient,
                                NearPassageData, NoveltyData, PlanData, PlanParameter, PlanStatus,
                                ProblemData, ProposalData, RelatedItem, ReportData, ReviewData, RunErrorData,
                                RunProgress, RunStatus, ScoreData)

__all__ = ["Paper", "PaperResearch", "Chunk", "Problem", "Hypothesis", "HypothesisListing", "HypothesisVersion", "Plan",
           "PlanListing", "PlanVersion", "Run", "Attempt", "Feedback", "AttemptData", "CitationData", "GapData",
           "GpuData", "HypothesisData", "Lenient", "MetricsFound", "NearPassageData", "NoveltyData", "PlanData", "PlanParameter",
           "PlanStatus", "ProblemData", "ProposalData", "RelatedItem", "ReportData", "ReviewData", "RunErrorData",
           "RunProgress", "RunStatus", "ScoreData"]


class Paper(Lenient):
    id: int
    content_hash: str
    file_name: str
    path: str
    title: str | None = None
    authors: list[str] = Field(default_factory=list)
    year: int | None = None
    pages: int = 0
    chunks: int = 0
    sections: list[str] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)
    added_at: str = ""
    removed_at: str | None = None  # set when the paper was removed from the library but research cites it

    @property
    def name(self) -> str:
        """The title, or the file name of a paper without one."""
        return self.title or self.file_name

    @property
    def removed(self) -> bool:
        return self.removed_at is not None


class PaperResearch(Lenient):
    """What in the record is built on one paper (what removing it touches)."""

    paper_id: int
    problems: int = 0
    hypotheses: int = 0
    plans: int = 0
    accepted_plans: int = 0
    runs: int = 0

    @property
    def any(self) -> bool:
        return self.problems > 0

    def describe(self) -> str:
        """In words: "2 research problems, 5 hypotheses, 1 plan (1 accepted), 3 runs", or "no research"."""
        def n(count: int, one: str, many: str) -> str:
            return f"{count} {one if count == 1 else many}"
        if not self.any:
            return "no research"
        plans = n(self.plans, "plan", "plans") + (f" ({self.accepted_plans} accepted)" if self.accepted_plans else "")
        return ", ".join([n(self.problems, "research problem", "research problems"),
                          n(self.hypotheses, "hypothesis", "hypotheses"), plans, n(self.runs, "run", "runs")])


class Chunk(Lenient):
    """A passage of a paper, with its paper's title and file name (joined)."""

    id: str
    paper_id: int
    ordinal: int
    vector_id: int
    section: str
    page: int
    n_tokens: int
    text: str
    title: str | None = None
    file_name: str = ""


class Problem(Lenient):
    id: int
    paper_id: int
    data: ProblemData = Field(default_factory=ProblemData)
    related: list[RelatedItem] = Field(default_factory=list)
    created_at: str = ""
    generated_by: str = ""


class Hypothesis(Lenient):
    id: int
    problem_id: int
    ordinal: int = 0
    version: int = 1
    data: HypothesisData = Field(default_factory=HypothesisData)
    review: ReviewData | None = None
    created_at: str = ""
    updated_at: str = ""
    generated_by: str = ""


class HypothesisListing(Hypothesis):
    """A hypothesis in ``list_hypotheses()``: with its paper and its plan (if any)."""

    paper_id: int
    paper_title: str | None = None
    plan_id: int | None = None
    plan_status: PlanStatus | None = None


class _Version(Lenient):
    """One stored version of a hypothesis or plan: its number, the note of the edit, when."""

    version: int
    note: str = ""
    created_at: str = ""


class HypothesisVersion(_Version):
    hypothesis_id: int
    data: HypothesisData = Field(default_factory=HypothesisData)


class Plan(Lenient):
    id: int
    hypothesis_id: int
    version: int = 1
    data: PlanData = Field(default_factory=PlanData)
    status: PlanStatus = "draft"
    accepted_at: str | None = None
    created_at: str = ""
    updated_at: str = ""
    generated_by: str = ""


class PlanListing(Plan):
    """A plan in ``list_plans()``: with its hypothesis, problem and paper."""

    hypothesis: HypothesisData = Field(default_factory=HypothesisData)
    problem_id: int
    paper_id: int


class PlanVersion(_Version):
    plan_id: int
    data: PlanData = Field(default_factory=PlanData)


class Run(Lenient):
    id: int
    plan_id: int | None = None
    kind: str = "adhoc"  # adhoc | baseline | variant | debug
    notebook: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    status: RunStatus = "queued"
    run_dir: str | None = None
    output_notebook: str | None = None
    pid: int | None = None
    progress: RunProgress = Field(default_factory=RunProgress)
    metrics: dict[str, Any] | None = None
    error: RunErrorData | None = None
    queued_at: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    owner: str | None = None
    pid_identity: str | None = None
    cancel_requested: bool = False
    timeout_s: float | None = None
    seconds: float | None = None

    @property
    def kernel(self) -> str | None:
        """The Jupyter kernel the run was asked to use (None: the notebook's own, else the app's default)."""
        return self.data.get("kernel") or None

    @property
    def metrics_found(self) -> MetricsFound | None:
        """Where its metrics came from, for a succeeded run (None for runs recorded before this was kept)."""
        found = self.data.get("metrics_found")
        return MetricsFound.model_validate(found) if isinstance(found, dict) else None


class Attempt(Lenient):
    id: int
    plan_id: int | None = None
    parent_id: int | None = None
    run_id: int | None = None
    depth: int = 0
    source: str
    notebook: str
    diff: str = ""
    explanation: str = ""
    approved: bool | None = None
    is_buggy: bool | None = None
    outcome: str | None = None
    created_at: str = ""
    data: AttemptData = Field(default_factory=AttemptData)


class Feedback(Lenient):
    id: int
    plan_id: int | None = None
    attempt_id: int | None = None
    text: str
    created_at: str = ""
