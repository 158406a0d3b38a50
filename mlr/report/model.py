"""The report's typed model: everything a report shows, read from the record and the run artifacts.

Renderers (``render.py``) only lay these out; no number is computed or typed there. ``by`` fields say who
wrote a text: ``model`` (with the model's name as the record keeps it), ``researcher`` or ``program``
(numbers and summaries the app derived from measurements).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from mlr.store.records import PlanData

Author = Literal["model", "researcher", "program", "unknown"]


class Written(BaseModel):
    """Who wrote a text: a model (``model`` names it: backend:name), the researcher, or the program."""

    by: Author = "unknown"
    model: str = ""
    when: str = ""
    note: str = ""  # e.g. the version's note ("edited", "restored v1")

    def words(self) -> str:
        if self.by == "model":
            return f"written by a model ({self.model or 'name not recorded'})" + (f"; {self.note}" if self.note and
                                                                                 self.note not in ("generated",
                                                                                                   "regenerated")
                                                                                 else "")
        if self.by == "researcher":
            return "written by the researcher" + (f" ({self.note})" if self.note else "")
        if self.by == "program":
            return "written by the program from measurements" + (f" ({self.note})" if self.note else "")
        return "author not recorded"


class Passage(BaseModel):
    """A cited passage of a paper, quoted."""

    chunk_id: str
    paper: str = ""
    section: str = ""
    page: int | None = None
    text: str = ""
    found: bool = True  # False: the passage is no longer in the library


class PaperOut(BaseModel):
    id: int
    title: str
    file_name: str
    authors: list[str] = Field(default_factory=list)
    year: int | None = None
    pages: int = 0


class GapOut(BaseModel):
    text: str
    passage: Passage | None = None


class ProblemOut(BaseModel):
    id: int
    task: str
    keywords: list[str] = Field(default_factory=list)
    gaps: list[GapOut] = Field(default_factory=list)
    written: Written


class ScoreOut(BaseModel):
    criterion: str
    score: int | None
    why: str = ""


class ReviewOut(BaseModel):
    scores: list[ScoreOut] = Field(default_factory=list)
    max_similarity: float | None = None
    threshold: float | None = None
    restates_existing: bool | None = None
    nearest: list[Passage] = Field(default_factory=list)
    similarity: list[float] = Field(default_factory=list)  # of each nearest passage, same order
    written: Written


class HypothesisOut(BaseModel):
    id: int
    version: int
    method: str
    rationale: str
    citations: list[Passage] = Field(default_factory=list)
    written: Written


class PlanVersionOut(BaseModel):
    version: int
    note: str
    created_at: str
    written: Written


class PlanOut(BaseModel):
    id: int
    status: str
    accepted_at: str | None = None
    run_version: int  # the version the experiments ran
    why_this_version: str  # how that version was found (accepted, or current at the first run)
    data: PlanData
    written: Written
    later: list[PlanVersionOut] = Field(default_factory=list)  # versions made after the one that ran


class Measure(BaseModel):
    """A metric over seeds (one value without seeds): mean, sample sd, n, the values and their runs."""

    mean: float | None
    sd: float | None = None
    n: int = 0
    values: list[float] = Field(default_factory=list)
    run_ids: list[int] = Field(default_factory=list)


class ExperimentRow(BaseModel):
    """One bar of the chart and one row of the experiments table."""

    label: str
    kind: str
    status: str
    role: Literal["baseline", "best", "other"] = "other"
    parameters: dict[str, Any] = Field(default_factory=dict)
    measure: Measure
    relative_improvement: float | None = None
    p_value: float | None = None
    verdict: str = ""
    reason: str = ""
    reason_written: Written | None = None


class Outcome(BaseModel):
    """The headline: baseline vs the best variant on the primary metric, against the success bar."""

    source: str  # "experiment loop 3" or "direct runs"
    metric: str
    higher_is_better: bool
    bar: float
    baseline: Measure
    best: Measure | None = None
    best_label: str = ""
    relative_improvement: float | None = None
    cleared: bool | None = None
    test: str = ""  # the statistical test, in words, when there were seeds
    p_value: float | None = None
    alpha: float | None = None
    verdict: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)  # the best variant's full parameters
    changed: dict[str, Any] = Field(default_factory=dict)  # those that differ from the baseline
    diff: str = ""  # the best variant's code change (unified diff), "" for a parameter change
    summary: str = ""
    summary_written: Written | None = None


class RunLineage(BaseModel):
    run_id: int
    kind: str
    status: str
    notebook: str
    code_hash: str = ""  # sha256 of the cells that ran (sources, without papermill's injected parameters)
    notebook_changed: bool | None = None  # the notebook file's code differs now from what ran
    parameters: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    kernel: str = ""
    kernel_python: str = ""  # the kernel's Python version, from the executed notebook
    papermill: str = ""
    gpus: list[str] = Field(default_factory=list)  # GPUs seen while it ran
    queued_at: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float | None = None
    loop_id: int | None = None
    seed: int | None = None


class Environment(BaseModel):
    """The kernel's environment and the machine, read when the report is made."""

    kernel: str
    executable: str
    python: str = ""
    packages: dict[str, str] = Field(default_factory=dict)  # every distribution: name → version
    used: dict[str, str] = Field(default_factory=dict)  # the distributions the notebooks import
    cpu: str = ""
    cores: int = 0
    ram_gib: float = 0.0
    gpus: list[str] = Field(default_factory=list)
    platform: str = ""
    problem: str = ""  # why the environment could not be read, if it could not


class AuthorRow(BaseModel):
    what: str
    written: Written


class Report(BaseModel):
    title: str
    generated_at: str
    paper: PaperOut | None
    problem: ProblemOut | None
    hypothesis: HypothesisOut
    review: ReviewOut | None = None
    plan: PlanOut
    outcome: Outcome | None = None
    outcome_missing: str = ""  # why there is no result yet
    experiments: list[ExperimentRow] = Field(default_factory=list)
    success_line: float | None = None  # the metric a variant must reach (drawn on the chart)
    chart_svg: str = ""
    runs: list[RunLineage] = Field(default_factory=list)
    environment: Environment | None = None
    authorship: list[AuthorRow] = Field(default_factory=list)
