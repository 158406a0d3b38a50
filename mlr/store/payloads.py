"""Models of the JSON payload columns of the research record (``data``, ``review``, ``progress``, ``error``…).

Lenient on purpose (defaults for missing fields, ``extra="allow"``): the record keeps whatever an older
version of the program wrote, and all of it must still load. The agents' strict schemas
(``mlr.agents.idea_schemas``) validate what is *written*; these describe what is *stored*.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RunStatus = Literal["queued", "running", "succeeded", "failed", "timed_out", "cancelled", "interrupted"]
PlanStatus = Literal["draft", "accepted"]


class Lenient(BaseModel):
    """Base of every record and payload: unknown fields are kept, missing ones take their default."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_missing(cls, data: Any) -> Any:
        """A null where the field has a non-null default (an older writer's gap) takes the default."""
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        return {k: v for k, v in data.items() if v is not None or k not in fields or fields[k].is_required()
                or fields[k].get_default(call_default_factory=True) is None}

    def stored(self) -> dict[str, Any]:
        """The payload as it was stored (only the fields it has), JSON-ready: what the CLI prints."""
        return self.model_dump(mode="json", exclude_unset=True)


class GapData(Lenient):
    text: str = ""
    chunk_id: str = ""


class ProblemData(Lenient):
    task: str = ""
    gaps: list[GapData] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)


class RelatedItem(Lenient):
    """A related-work entry: a library passage (``source='library'``) or an online paper."""

    source: str = "library"
    chunk_id: str | None = None
    paper_id: int | None = None
    file_name: str | None = None
    title: str = ""
    section: str | None = None
    page: int | None = None
    score: float | None = None
    text: str | None = None
    year: int | None = None
    abstract: str | None = None
    url: str | None = None


class CitationData(Lenient):
    chunk_id: str = ""
    paper_id: int | None = None


class HypothesisData(Lenient):
    method: str = ""
    rationale: str = ""
    citations: list[CitationData] = Field(default_factory=list)


class ScoreData(Lenient):
    score: int | None = None
    why: str = ""


class NearPassageData(Lenient):
    chunk_id: str = ""
    paper_id: int | None = None
    title: str = ""
    section: str = ""
    page: int | None = None
    similarity: float = 0.0
    text: str = ""


class NoveltyData(Lenient):
    nearest: list[NearPassageData] = Field(default_factory=list)
    max_similarity: float = 0.0
    threshold: float = 0.0
    restates_existing: bool = False


class ReviewData(Lenient):
    """The five criteria scored by the model and the novelty measured by embedding."""

    clarity: ScoreData | None = None
    validity: ScoreData | None = None
    rigor: ScoreData | None = None
    innovativeness: ScoreData | None = None
    generalizability: ScoreData | None = None
    novelty: NoveltyData | None = None


class PlanParameter(Lenient):
    name: str = ""
    values: list[Any] = Field(default_factory=list)
    description: str = ""

    @field_validator("values", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return [] if value is None else value if isinstance(value, list) else [value]


class PlanData(Lenient):
    """An experiment plan. ``parameters`` is the IdeaAgent's list, or a plain ``{name: value}`` mapping;
    ``higher_is_better`` is None when the plan does not say."""

    objective: str = ""
    method: str = ""
    experiment_design: list[str] = Field(default_factory=list)
    dataset: str = ""
    baseline: str = ""
    compute_budget: str = ""
    primary_metric: str = ""
    higher_is_better: bool | None = None
    parameters: list[PlanParameter] | dict[str, Any] = Field(default_factory=list)
    prototype: str | None = None  # the prototype slug the ExperimentAgent chose, when it set one

    def parameter_list(self) -> list[PlanParameter]:
        """The parameters as the IdeaAgent's list, whichever form the plan stores them in."""
        if isinstance(self.parameters, dict):
            return [PlanParameter(name=name, values=[value]) for name, value in self.parameters.items()]
        return self.parameters

    @field_validator("experiment_design", mode="before")
    @classmethod
    def _steps(cls, value: Any) -> Any:
        """A design written as one text (older or hand-written plans) is one step per line."""
        return [line.strip() for line in value.splitlines() if line.strip()] if isinstance(value, str) else value


class RunErrorData(Lenient):
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    cell_index: int | None = None
    last_output: str = ""


class MetricsFound(Lenient):
    """Where a succeeded run's metrics came from (``mlr.execution.found_metrics``), kept in the run's ``data``."""

    source: str | None = None  # "scrapbook" | "metrics.json" | "last output"; None: no metric found
    note: str = ""  # said beside the run: "no metric found …", or why metrics.json was not used
    cell_index: int | None = None  # the notebook cell a "last output" came from


class GpuData(Lenient):
    index: int = 0
    memory_used_mib: float = 0
    memory_total_mib: float = 0
    utilization_pct: float = 0


class RunProgress(Lenient):
    """Live state of a run, rewritten about once a second while it runs."""

    phase: str = ""
    cell_index: int | None = None
    cell_number: int | None = None
    cells_total: int | None = None
    cells_done: int | None = None
    cell_started: float | None = None
    elapsed_s: float = 0.0
    cell_elapsed_s: float = 0.0
    output_tail: str = ""
    processes: int = 0
    cpu_percent: float = 0.0
    rss_mib: float = 0.0
    gpus: list[GpuData] = Field(default_factory=list)
    gpu_index: int | None = None
    llm_unloaded: bool | None = None
    executor: str = ""  # local | ray
    node: str = ""  # the Ray node (its IP) that runs it; empty for a local run
    node_id: str = ""  # that Ray node's id
    worker_dir: str = ""  # the run's folder on that node while it runs


class ReportData(Lenient):
    """A failed run's error report, as the debugger stored it (``mlr.execution.fixers.base.ErrorReport``)."""

    status: str = "failed"
    cell_index: int | None = None
    cell_source: str = ""
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)
    last_output: str = ""


class ProposalData(Lenient):
    """A proposed fix, as stored on the attempt that applied or rejected it."""

    root_id: int | None = None
    parent_id: int | None = None
    source: str = ""
    action: str = ""
    explanation: str = ""
    cell_index: int | None = None
    new_source: str | None = None
    parameters: dict[str, Any] | None = None
    diff: str = ""


class AttemptData(Lenient):
    """What one attempt ran and produced; the root attempt also holds the session (folder, current node,
    and the proposal waiting for a decision, so a second tab or the CLI sees it)."""

    parameters: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] | None = None
    seconds: float | None = None
    output_notebook: str | None = None
    report: ReportData | None = None
    proposal: ProposalData | None = None
    folder: str | None = None
    origin: str | None = None
    current_id: int | None = None
    undone: list[int] = Field(default_factory=list)
    pending: ProposalData | None = None
