"""The seams of the program, in one place. Everything else implements or consumes one of these.

- ``LLM``: chat, stream, validated structured output (backends in ``mlr.llm`` implement it).
- ``Embedder``: texts -> L2-normalised float32 vectors, with the model's name, dimension, max input.
- ``Retriever``: library passages by query, by chunk id, by paper.
- ``Runner``: executes a notebook with parameters and returns a ``RunOutcome``.
- ``NotebookWorkbench``: notebook versions with edits, error reports of failed runs, rule-based fixes,
  runs (``mlr.execution.workbench`` implements it; the Debugger and the ExperimentAgent use it).
Agents receive these as arguments; they never construct them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, Field

if TYPE_CHECKING:  # numpy is only a type here: the command line's start-up does not pay for importing it
    import numpy as np

T = TypeVar("T", bound=BaseModel)
Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}


@runtime_checkable
class LLM(Protocol):
    """A chat model. ``structured`` answers under ``schema`` (validated, retried) or raises
    ``mlr.llm.errors.StructuredOutputError``; ``demo_grade`` is True for tiny models whose output the
    UI labels as a demo. ``mlr.llm.base.BaseLLM`` is the shared implementation of the backends."""

    backend: str
    model: str
    demo_grade: bool

    def chat(self, messages: list[Message], *, max_tokens: int | None = None) -> str: ...

    def stream(self, messages: list[Message], *, max_tokens: int | None = None) -> Iterator[str]: ...

    def structured(self, messages: list[Message], schema: type[T], *, retries: int | None = None,
                   on_token: Callable[[str], None] | None = None, max_tokens: int | None = None) -> T: ...

    def warm_up(self) -> None: ...


class Passage(BaseModel):
    """One library chunk as the agents and the UI see it."""

    chunk_id: str
    paper_id: int
    file_name: str
    title: str
    section: str
    page: int
    # Cosine similarity of the passage's embedding to the query (-1..1; MiniLM: above ~0.3 is
    # usually on topic), whichever ranker found it, so a threshold keeps one meaning; 0.0 when the
    # passage has no vector or was fetched by id. Results are ordered by ``rank_score``, not this.
    score: float = 0.0
    text: str
    # Which ranker of the library search returned it: "dense" (embeddings), "keyword" (BM25) or
    # "both"; "" when the passage was fetched by id. A keyword/both passage holds the query's exact
    # words (a number, a model name): a similarity threshold should not hide it for a low cosine.
    found_by: str = ""
    # Reciprocal-rank-fusion score that ordered the results (higher first); comparable within one
    # query only.
    rank_score: float = 0.0
    # The passage holds a query term that is an exact fact: a number or a name with digits or joiners
    # (7B, 0.001, MID-70, F1). Such a match is relevant whatever the cosine (MiniLM gives "MID-70" ~0.2).
    exact_match: bool = False


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


class ErrorReport(BaseModel):
    """Everything the debugger (rules or model) knows about one failed run."""

    status: str = "failed"  # failed | timed_out | cancelled | interrupted
    cell_index: int | None = None
    cell_source: str = ""
    ename: str = ""
    evalue: str = ""
    traceback: str = ""  # ANSI-free, trimmed to the frames that matter
    parameters: dict[str, Any] = Field(default_factory=dict)
    last_output: str = ""  # the failing cell's last printed lines
    # What the live kernel showed at the failure (mlr.execution.evidence): "facts" (lines for the prompt) and,
    # by kind, "names", "attributes", "signatures", "keys", "shapes", "files", "values".
    evidence: dict[str, Any] = Field(default_factory=dict)

    def headline(self) -> str:
        if self.status != "failed":
            return f"run {self.status}"
        where = f" in cell {self.cell_index}" if self.cell_index is not None else ""
        return f"{self.ename}: {self.evalue}{where}"


class Fix(BaseModel):
    """A rule's proposal. ``action``: patch a cell, change parameters, or stop (what to do is in ``explanation``)."""

    action: Literal["patch", "parameters", "stop"]
    fixer: str
    explanation: str
    cell_index: int | None = None
    new_source: str | None = None
    parameters: dict[str, Any] | None = None  # the full new parameter set for "parameters"
    command: str | None = None  # e.g. the exact pip install line for "stop"


class CellEdit(BaseModel):
    """One code cell's new source (cell indexes count every cell of the user's notebook)."""

    cell_index: int
    new_source: str


@runtime_checkable
class NotebookWorkbench(Protocol):
    """What the agents need from execution: read a notebook, make versions of it, run them, explain failures.

    Versions are copy-on-write files in a session folder (the original is never touched); a parameter
    change makes no new file, it is the parameters passed to ``run``.
    """

    def code_cells(self, notebook: str | Path) -> list[tuple[int, str]]: ...  # (index, source) of code cells

    def cell_source(self, notebook: str | Path, cell_index: int) -> str: ...

    def parameters_cell_index(self, notebook: str | Path) -> int | None: ...

    def parameters(self, notebook: str | Path) -> list: ...  # the `parameters` cell's names, types, defaults

    def new_version(self, base: str | Path, folder: str | Path, edits: Sequence[CellEdit] = ()) -> Path:
        """``base`` with ``edits`` applied, as the next version in ``folder`` (an empty folder starts
        with a copy of ``base``); returns the newest version's path."""

    def cell_diff(self, notebook: str | Path, cell_index: int, new_source: str) -> str: ...

    def parameters_diff(self, old: dict, new: dict) -> str: ...

    def report(self, outcome: RunOutcome, notebook: str | Path, parameters: dict) -> ErrorReport: ...

    def propose_fix(self, report: ErrorReport, notebook: str | Path, *, search_roots: Sequence[Path] = (),
                    skip: Iterable[str] = ()) -> Fix | None: ...  # the first rule-based fix, or None

    def run(self, notebook: str | Path, parameters: dict[str, Any], *, kind: str = "adhoc",
            plan_id: int | None = None, timeout_s: float | None = None) -> RunOutcome: ...


__all__ = ["LLM", "Message", "Passage", "Embedder", "Retriever", "RunError", "RunOutcome", "Runner", "ErrorReport",
           "Fix", "CellEdit", "NotebookWorkbench"]
