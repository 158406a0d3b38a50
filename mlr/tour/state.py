"""What the tour made and how far it got: one JSON file in the workspace (``tour/tour.json``), written atomically
after every step, so a reload, a second tab and the reset see the same. Everything listed here is the tour's."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from mlr.atomic import write_text

StepStatus = Literal["waiting", "running", "done", "failed"]


class StepState(BaseModel):
    status: StepStatus = "waiting"
    started: float | None = None  # time.time()
    seconds: float | None = None
    result: str = ""  # what it found, in words (may quote the model: escape before drawing)


class TourState(BaseModel):
    started_at: str = ""
    finished_at: str | None = None
    model: str = ""
    steps: dict[str, StepState] = Field(default_factory=dict)
    error: str = ""
    paper_id: int | None = None
    paper_added: bool = False  # the tour added the paper (the reset removes it then)
    problem_id: int | None = None
    hypothesis_id: int | None = None
    plan_id: int | None = None
    run_ids: list[int] = Field(default_factory=list)
    report: str | None = None  # path of the report's HTML
    seconds: float | None = None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


def folder(settings) -> Path:
    return Path(settings.workspace_dir) / "tour"


def load(settings) -> TourState | None:
    path = folder(settings) / "tour.json"
    if not path.is_file():
        return None
    return TourState.model_validate_json(path.read_text(encoding="utf-8"))


def save(settings, state: TourState) -> None:
    write_text(folder(settings) / "tour.json", state.model_dump_json(indent=2))
