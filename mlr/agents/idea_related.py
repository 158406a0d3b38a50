"""Related work and novelty of the IdeaAgent: what the library holds near a problem or a hypothesis."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlr.agents.idea_schemas import NearPassage, Novelty, OnlinePaper
from mlr.protocols import Embedder, Passage, Retriever
from mlr.store.records import RelatedItem


@dataclass
class RelatedWork:
    passages: list[Passage]
    online: list[OnlinePaper] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def records(self) -> list[dict]:
        """The list stored in the record and printed by the CLI: library passages, then online papers."""
        return ([{"source": "library", **p.model_dump()} for p in self.passages]
                + [o.model_dump() for o in self.online])

    @classmethod
    def from_records(cls, records: list) -> RelatedWork:
        """Back from the stored list: ``RelatedItem`` records (``Problem.related``) or the dicts of ``records()``."""
        items = [RelatedItem.model_validate(r) for r in records]
        passages = [Passage.model_validate(r.model_dump(exclude_unset=True, exclude={"source"}))
                    for r in items if r.source == "library"]
        online = [OnlinePaper.model_validate(r.model_dump(exclude_unset=True)) for r in items if r.source != "library"]
        return cls(passages, online)


def novelty(retriever: Retriever, embedder: Embedder | None, method: str, k: int, threshold: float) -> Novelty:
    """Nearest library passages to the hypothesis' method, by cosine similarity of embeddings.

    Only the method is embedded: the rationale paraphrases the cited passages by design and would
    make every grounded hypothesis look like a restatement.
    """
    candidates = retriever.search(method, k=k * 2)
    if candidates and embedder is not None:
        vectors = np.asarray(embedder.embed([method] + [p.text for p in candidates]))
        sims = (vectors[1:] @ vectors[0]).tolist()
    else:  # the retriever's own score (cosine on normalised vectors in the library)
        sims = [p.score for p in candidates]
    ranked = sorted(zip(candidates, sims), key=lambda pair: pair[1], reverse=True)[:k]
    nearest = [NearPassage(chunk_id=p.chunk_id, paper_id=p.paper_id, title=p.title, section=p.section,
                           page=p.page, similarity=round(float(s), 4), text=p.text[:400]) for p, s in ranked]
    top = max((n.similarity for n in nearest), default=0.0)
    return Novelty(nearest=nearest, max_similarity=top, threshold=threshold, restates_existing=top >= threshold)
