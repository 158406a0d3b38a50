"""Scripted answers that fit the real library of tests/ideas/pdfs.py (chunk ids come from the record)."""

from __future__ import annotations

from .helpers import PLAN, review_scores


def chunk_of(store, paper_id: int, section: str) -> str:
    return next(c.id for c in store.paper_chunks(paper_id) if c.section == section)


def problem_answer(store) -> dict:
    return {"task": "Classify long legal contracts without truncating them.",
            "gaps": [{"text": "Truncation discards most of each contract.",
                      "chunk_id": chunk_of(store, 1, "discussion")}],
            "keywords": ["long documents", "sparse attention", "contracts"]}


def hypothesis_answer(store, method="Replace truncated BERT with sliding window attention over whole contracts."):
    return {"method": method, "rationale": "Linear attention cost lets the model read the late clauses.",
            "citations": [chunk_of(store, 2, "abstract")]}


def script_whole_phase(scripted, store, n: int = 2) -> None:
    """Problem, n hypotheses, then a plan and a review for each: the order IdeaRecorder.run_all asks in."""
    scripted.enqueue(problem_answer(store))
    scripted.enqueue(*[hypothesis_answer(store, f"Method {i}: sliding window attention variant {i}.")
                       for i in range(n)])
    for _ in range(n):
        scripted.enqueue(PLAN, PLAN, review_scores(3))  # a plan is two requests: outline, setup
