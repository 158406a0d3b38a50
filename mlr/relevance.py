"""When a search found nothing relevant: passages whose similarity to the query is below :data:`MIN_SIMILARITY` are
not close to it, and the Library page says "No passage is close to this query" instead of listing them.

The score compared is the one the library's search returns on each passage (``Passage.score``: the cosine similarity
of the query's embedding to the passage's, also in hybrid search). Pure functions, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Measured, not guessed: benchmarks/bench_search_threshold.py (MiniLM; the 3 sample papers and the 2 real papers,
# 46 passages; 2026-11-30). The 58 questions (the retrieval benchmark's 37 and 21 typed by hand) scored 0.256 and up
# at their best passage, 26 off-topic queries (cooking, football, ...) 0.278 at most: the two overlap by a hair.
# 0.25 is the highest cut that keeps every question (it refuses 25 of the 26 off-topic queries); hiding an answer is
# worse than showing an unrelated passage. Figures: benchmarks/README.md, "Search threshold". Measure again when the
# embedding model changes.
MIN_SIMILARITY = 0.25


def has_similarity(passages: Sequence[Any]) -> bool:
    """Whether the scores are similarities at all: a keyword-only search (the embedder unavailable) gives none."""
    return any(getattr(p, "found_by", "dense") != "keyword" or p.score for p in passages)


def close(passages: Sequence[Any], threshold: float = MIN_SIMILARITY) -> list[Any]:
    """The passages close enough to the query to show (all of them when the scores are no similarities).

    A passage that holds an exact fact the query names (``Passage.exact_match``: a number or a model name such as
    ``MID-70``, ``0.001``, ``7B``) is shown whatever its similarity: MiniLM scores such queries around 0.1-0.25.
    """
    if not has_similarity(passages):
        return list(passages)
    return [p for p in passages if p.score >= threshold or getattr(p, "exact_match", False)]
