"""Typed records of experiment loops: the loop, its experiments (the nodes of the search), notes to it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mlr.store.payloads import Lenient

LoopStatus = Literal["created", "running", "paused", "stopped", "finished", "interrupted", "failed"]
LoopControl = Literal["pause", "stop"]
ExperimentKind = Literal["baseline", "parameters", "code", "debug"]
ExperimentStatus = Literal["pending", "awaiting_approval", "rejected", "refused", "running", "baseline", "kept",
                           "discarded", "failed"]
NoteKind = Literal["feedback", "pin", "unpin", "ban", "unban", "approve", "reject"]

LIVE = ("running",)
RESUMABLE = ("created", "paused", "interrupted")


class LoopConfig(Lenient):
    """What the researcher set when starting a loop (stored whole; the loop reads only this)."""

    budget_runs: int = 12
    budget_minutes: float | None = None
    seeds: int = 3
    bar: float = 0.10
    alpha: float = 0.05
    autopilot: bool = False
    params_only: bool = False
    stop_at_success: bool = True
    run_timeout_s: float | None = None
    metric: str | None = None
    higher_is_better: bool = True
    seed_parameter: str | None = None
    base_parameters: dict[str, Any] = Field(default_factory=dict)
    space: dict[str, Any] = Field(default_factory=dict)
    debug_attempts: int = 2
    sampler: Literal["tpe", "random"] = "tpe"  # Optuna's sampler for parameter candidates


class LoopData(Lenient):
    summary: str = ""
    refined_plan_version: int | None = None
    model_note: str = ""


class Loop(Lenient):
    id: int
    plan_id: int | None = None
    notebook: str
    goal: str = ""
    config: LoopConfig = Field(default_factory=LoopConfig)
    status: LoopStatus = "created"
    control: LoopControl | None = None
    stopped_because: str = ""
    owner: str | None = None
    runs_used: int = 0
    seconds: float = 0.0
    best_id: int | None = None
    created_at: str = ""
    updated_at: str = ""
    finished_at: str | None = None
    data: LoopData = Field(default_factory=LoopData)


class LoopExperiment(Lenient):
    """One node of the search: the baseline, or a candidate (parameters, code edit, debug fix)."""

    id: int
    loop_id: int
    parent_id: int | None = None
    ordinal: int
    kind: ExperimentKind
    status: ExperimentStatus
    notebook: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    diff: str = ""
    reason: str = ""
    trial: int | None = None
    metric_by_seed: dict[str, float | None] = Field(default_factory=dict)
    run_ids: list[int] = Field(default_factory=list)
    mean: float | None = None
    sd: float | None = None
    n: int = 0
    p_value: float | None = None
    relative_improvement: float | None = None
    verdict: str = ""
    error: str = ""
    created_at: str = ""
    updated_at: str = ""
    data: dict[str, Any] = Field(default_factory=dict)

    def values(self) -> list[float]:
        """The metric of every seed that produced one."""
        return [float(v) for v in self.metric_by_seed.values() if v is not None]


class LoopNote(Lenient):
    id: int
    loop_id: int
    kind: NoteKind
    name: str = ""
    value: Any = None
    text: str = ""
    created_at: str = ""
