"""The seams of the program, in one place. Everything else implements or consumes one of these.

- ``LLM`` (see ``mlr.llm.base``): chat, stream, validated structured output.
- ``Embedder``: texts -> L2-normalised float32 vectors, with the model's name, dimension, max input.
- ``Retriever``: library passages by query, by chunk id, by paper.
- ``Runner``: executes a notebook with parameters and returns a ``RunOutcome``.
Agents receive these as arguments; they never construct them.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel

from mlr.llm.base import LLM


class Passage(BaseModel):
    """One library chunk as the agents and the UI see it."""

    chunk_id: str
    paper_id: int
    file_name: str
    title: str
    section: str
    page: int
    score: float = 0.0
    text: str


@runtime_checkable
class Embedder(Protocol):
    name: str
    dimension: int
    max_tokens: int

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


@runtime_checkable
class Retriever(Protocol):
    def search(self, query: str, k: int = 5, *, exclude_paper_ids: tuple[int, ...] = (),
               paper_ids: tuple[int, ...] | None = None) -> list[Passage]: ...

    def get_chunk(self, chunk_id: str) -> Passage | None: ...

    def paper_passages(self, paper_id: int) -> list[Passage]: ...


class RunError(BaseModel):
    cell_index: int | None = None  # 0-based, in the user's notebook (papermill's injected cell not counted)
    ename: str
    evalue: str
    traceback: str = ""


class RunOutcome(BaseModel):
    run_id: int
    status: str  # succeeded | failed | timed_out | cancelled | interrupted
    metrics: dict[str, Any] = {}
    error: RunError | None = None
    output_notebook: str | None = None
    seconds: float = 0.0


@runtime_checkable
class Runner(Protocol):
    def run(self, notebook: str, parameters: dict[str, Any], *, kind: str = "adhoc", plan_id: int | None = None,
            timeout_s: float | None = None) -> RunOutcome: ...


__all__ = ["LLM", "Passage", "Embedder", "Retriever", "RunError", "RunOutcome", "Runner"]
