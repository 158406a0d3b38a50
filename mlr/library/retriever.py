"""``mlr.protocols.Retriever`` over the library: FAISS for the nearest vectors, SQLite for their text."""

from __future__ import annotations

import numpy as np

from mlr.protocols import Passage
from mlr.store.records import Chunk

# Extra hits fetched beyond k: vectors another process wrote but whose rows are not committed yet
# are skipped, and the caller still gets k passages.
SLACK = 8


def passage(chunk: Chunk, score: float = 0.0) -> Passage:
    return Passage(chunk_id=chunk.id, paper_id=chunk.paper_id, file_name=chunk.file_name,
                   title=chunk.title or chunk.file_name, section=chunk.section, page=chunk.page,
                   score=round(float(score), 4), text=chunk.text)


class LibraryRetriever:
    def __init__(self, library):
        self.library = library

    def search(self, query: str, k: int = 5, *, exclude_paper_ids: tuple[int, ...] = (),
               paper_ids: tuple[int, ...] | None = None) -> list[Passage]:
        """The ``k`` passages nearest to ``query`` (cosine), optionally within or outside some papers."""
        query = (query or "").strip()
        if not query or k <= 0:
            return []
        self.library.require_index()
        vector = self.library.embedder.embed([query])[0]
        return self.search_vector(vector, k, exclude_paper_ids=exclude_paper_ids, paper_ids=paper_ids)

    def search_vector(self, vector: np.ndarray, k: int = 5, *, exclude_paper_ids=(), paper_ids=None) -> list[Passage]:
        lib = self.library
        lib.require_index()
        lib.index.refresh()
        allow = deny = None
        if paper_ids is not None:
            allow = lib.store.vector_ids_for_papers(paper_ids) - lib.store.vector_ids_for_papers(exclude_paper_ids)
            if not allow:
                return []
        elif exclude_paper_ids:
            deny = lib.store.vector_ids_for_papers(exclude_paper_ids)
        hits = lib.index.search(vector, k + SLACK, allow=allow, deny=deny)
        rows = lib.store.chunks_by_vector_ids([vid for vid, _ in hits])
        return [passage(rows[vid], score) for vid, score in hits if vid in rows][:k]

    def get_chunk(self, chunk_id: str) -> Passage | None:
        row = self.library.store.get_chunk(chunk_id)
        return passage(row) if row else None

    def paper_passages(self, paper_id: int) -> list[Passage]:
        return [passage(r) for r in self.library.store.paper_chunks(paper_id)]
