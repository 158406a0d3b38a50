"""The tour's script: which sample paper, the steps with their words for people and expected durations, and the
variant tried when the plan changes nothing the notebook has. Text lives in ``tour.json``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

SCRIPT = Path(__file__).resolve().parent / "tour.json"


class Step(BaseModel):
    key: str
    title: str
    words: str
    expected_s: float


class Script(BaseModel):
    sample: str
    fallback_variant: dict[str, Any]
    label: str
    steps: list[Step]
    measured: str = ""  # where the expected durations come from

    @property
    def expected_s(self) -> float:
        return sum(s.expected_s for s in self.steps)


@lru_cache(maxsize=1)
def script() -> Script:
    return Script.model_validate_json(SCRIPT.read_text(encoding="utf-8"))
