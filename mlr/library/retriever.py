"""``mlr.protocols.Retriever`` over the library: hybrid search (FAISS + BM25, fused) and passages by id.

``search`` asks both rankers for their top candidates (dense: cosine of MiniLM/Ollama vectors in
FAISS; keyword: BM25 over tokens that keep numbers and model names whole) and fuses the two lists
by reciprocal rank fusion (``fusion.rrf``). Each passage says which ranker found it
(``found_by``), carries its cosine similarity to the query as ``score`` (also for a passage only
the keyword ranker found, from its stored vector) and the fused ``rank_score`` that ordered it.
``mode="dense"`` or ``"keyword"`` gives one ranker alone (benchmarks, comparisons).

When the embedding model cannot be reached (``embedder.available`` is False, or it fails), the
search answers from the keyword index alone and logs why; the Library page shows the message.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np

from mlr.library.errors import LibraryError
from mlr.library.fusion import rrf
from mlr.library.keyword_index import KeywordIndexDamaged
from mlr.library.references import resolve
from mlr.library.tokens import exact_terms, tokenize
from mlr.protocols import Passage
from mlr.store.records import Chunk

log = logging.getLogger(__name__)

# Extra hits fetched beyond k: vectors another process wrote but whose rows are not committed yet
# are skipped, and the caller still gets k passages.
SLACK = 8
# Candidates each ranker contributes to the fusion (at least k + SLACK).
CANDIDATES = 50

Mode = Literal["hybrid", "dense", "keyword"]


def passage(chunk: Chunk, score: float = 0.0, *, found_by: str = "", rank_score: float = 0.0,
            exact_match: bool = False) -> Passage:
    return Passage(chunk_id=chunk.id, paper_id=chunk.paper_id, file_name=chunk.file_name,
                   title=chunk.title or chunk.file_name, section=chunk.section, page=chunk.page,
                   score=round(float(score), 4), text=chunk.text, found_by=found_by,
                   rank_score=round(float(rank_score), 6), exact_match=exact_match)


class LibraryRetriever:
    def __init__(self, library):
        self.library = library

    def _filters(self, exclude_paper_ids, paper_ids) -> tuple[set[int] | None, set[int] | None]:
        store = self.library.store
        if paper_ids is not None:
            return store.vector_ids_for_papers(paper_ids) - store.vector_ids_for_papers(exclude_paper_ids), None
        return None, (store.vector_ids_for_papers(exclude_paper_ids) if exclude_paper_ids else None)

    def search(self, query: str, k: int = 5, *, exclude_paper_ids: tuple[int, ...] = (),
               paper_ids: tuple[int, ...] | None = None, mode: Mode = "hybrid") -> list[Passage]:
        """The ``k`` best passages for ``query``, optionally within or outside some papers."""
        query = (query or "").strip()
        if not query or k <= 0:
            return []
        lib = self.library
        lib.require_index()
        allow, deny = self._filters(exclude_paper_ids, paper_ids)
        if allow is not None and not allow:
            return []
        n = max(CANDIDATES, k + SLACK)
        vector = None
        if mode != "keyword":
            vector = self._embed_query(query, required=mode == "dense")
        dense: list[tuple[int, float]] = []
        if vector is not None:
            lib.index.refresh()
            dense = lib.index.search(vector, n if mode == "hybrid" else k + SLACK, allow=allow, deny=deny)
        keyword: list[tuple[int, float]] = []
        if mode != "dense":
            keyword = self._keyword(query, n if mode == "hybrid" else k + SLACK, allow, deny)
        fused = rrf([[vid for vid, _ in dense], [vid for vid, _ in keyword]])
        top = fused[: k + SLACK]
        rows = lib.store.chunks_by_vector_ids([vid for vid, _ in top])
        cosine = dict(dense)
        in_dense, in_keyword = set(cosine), {vid for vid, _ in keyword}
        if vector is not None:  # cosine of keyword-only hits, from their stored vectors
            stored = lib.index.vectors([vid for vid, _ in top if vid not in cosine and vid in rows])
            cosine.update({vid: float(v @ vector) for vid, v in stored.items()})
        exact = exact_terms(query)
        out = []
        for vid, fused_score in top:
            if vid not in rows:
                continue
            by = "both" if vid in in_dense and vid in in_keyword else ("dense" if vid in in_dense else "keyword")
            hit = bool(exact and vid in in_keyword and exact & set(tokenize(rows[vid].text)))
            out.append(passage(rows[vid], cosine.get(vid, 0.0), found_by=by, rank_score=fused_score,
                               exact_match=hit))
        return out[:k]

    def _embed_query(self, query: str, *, required: bool) -> np.ndarray | None:
        embedder = self.library.embedder
        try:
            if not getattr(embedder, "available", True):
                raise LibraryError(embedder.reason)
            return embedder.embed([query])[0]
        except LibraryError as exc:
            if required:
                raise
            log.warning("dense search unavailable, keyword search only: %s", exc)
            return None

    def _keyword(self, query: str, n: int, allow, deny) -> list[tuple[int, float]]:
        keywords = self.library.keywords
        try:
            keywords.refresh()
        except KeywordIndexDamaged as exc:  # replaced by a damaged file since we opened: reopen repairs it
            log.warning("keyword index unreadable (%s); searching by embeddings only until the library reopens", exc)
            return []
        return keywords.search(query, n, allow=allow, deny=deny)

    def search_vector(self, vector: np.ndarray, k: int = 5, *, exclude_paper_ids=(), paper_ids=None) -> list[Passage]:
        """Dense search by a query vector (LlamaIndex's store calls this)."""
        lib = self.library
        lib.require_index()
        lib.index.refresh()
        allow, deny = self._filters(exclude_paper_ids, paper_ids)
        if allow is not None and not allow:
            return []
        hits = lib.index.search(vector, k + SLACK, allow=allow, deny=deny)
        rows = lib.store.chunks_by_vector_ids([vid for vid, _ in hits])
        return [passage(rows[vid], score, found_by="dense") for vid, score in hits if vid in rows][:k]

    def get_chunk(self, chunk_id: str) -> Passage | None:
        row = self.library.store.get_chunk(chunk_id)
        return passage(row) if row else None

    def references(self, paper_id: int) -> list[str]:
        """The paper's reference list (one string per entry): readable, never ranked in search."""
        paper = self.library.store.get_paper(int(paper_id))
        return list((paper.meta or {}).get("references") or []) if paper else []

    def resolve_citation(self, paper_id: int, marker: str) -> str | None:
        """The reference entry a citation in that paper points to ("[12]", "(Efron et al., 2004)")."""
        return resolve(self.references(paper_id), marker)

    def paper_passages(self, paper_id: int) -> list[Passage]:
        return [passage(r) for r in self.library.store.paper_chunks(paper_id)]
