"""What the library returns to its callers (UI, CLI, agents): pydantic models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class AddResult(BaseModel):
    """One file's outcome; ``error`` is a message for the researcher when ``status == "rejected"``."""

    file: str
    status: Literal["added", "duplicate", "rejected"]
    paper_id: int | None = None
    error: str | None = None
    pages: int = 0
    chunks: int = 0
    seconds: float = 0.0


class PaperInfo(BaseModel):
    id: int
    title: str | None
    authors: list[str]
    year: int | None
    file_name: str
    pages: int
    chunks: int
    sections: list[str]
    added_at: str
    path: str
