"""Reciprocal rank fusion: one ranking from several, by rank alone (scores of different rankers
are not comparable: a cosine and a BM25 score live on different scales).

``score(d) = sum over rankings of 1 / (K + rank of d)`` with ranks from 1 and ``K = 60`` (Cormack,
Clarke and Buettcher, SIGIR 2009; the constant was not tuned on our benchmark questions). A passage
found by both rankers outranks one found high by only one unless that one is far ahead.
"""

from __future__ import annotations

K = 60


def rrf(rankings: list[list[int]], k: int = K) -> list[tuple[int, float]]:
    """Ids of all rankings with their fused score, best first (ties keep first-seen order)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: pair[1], reverse=True)
