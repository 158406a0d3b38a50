"""LlamaIndex over the library: a vector store on our FAISS id map and record, and an embedding adapter.

``library_index(library)`` gives a ``VectorStoreIndex`` whose retrievers and query engines read
the same vectors and passages as ``Library.retriever``, with deletes that work (a ``ref_doc_id``
is a paper id). Adding nodes appends passages to an existing paper (``metadata["paper_id"]``);
whole papers come in through ``Library.add_file``, which also keeps the PDF and its metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import BaseNode, NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    FilterOperator,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryResult,
)
from pydantic import PrivateAttr

from mlr.library.errors import LibraryError, PaperNotFound
from mlr.protocols import Passage


def to_node(p: Passage) -> TextNode:
    node = TextNode(id_=p.chunk_id, text=p.text,
                    metadata={"paper_id": p.paper_id, "title": p.title, "file_name": p.file_name,
                              "section": p.section, "page": p.page})
    node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=str(p.paper_id))
    return node


def _paper_filter(filters: MetadataFilters | None, doc_ids) -> tuple[tuple[int, ...] | None, tuple[int, ...]]:
    """(paper ids to search within, paper ids to exclude) from LlamaIndex filters on ``paper_id``."""
    allow: set[int] | None = {int(d) for d in doc_ids} if doc_ids else None
    deny: set[int] = set()
    for f in (filters.filters if filters else []):
        if getattr(f, "key", None) != "paper_id":
            raise LibraryError(f"The library can filter on paper_id only, not {getattr(f, 'key', f)!r}.")
        values = {int(v) for v in (f.value if isinstance(f.value, list) else [f.value])}
        if f.operator in (FilterOperator.EQ, FilterOperator.IN):
            allow = values if allow is None else allow & values
        elif f.operator in (FilterOperator.NE, FilterOperator.NIN):
            deny |= values
        else:
            raise LibraryError(f"Unsupported filter operator on paper_id: {f.operator}.")
    return (tuple(sorted(allow)) if allow is not None else None), tuple(sorted(deny))


class LibraryVectorStore(BasePydanticVectorStore):
    stores_text: bool = True
    _library: Any = PrivateAttr()

    def __init__(self, library, **kwargs):
        super().__init__(**kwargs)
        self._library = library

    @property
    def client(self):
        return self._library.index

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        lib = self._library
        lib.require_index()
        if not nodes:
            return []
        rows = []
        for n in nodes:
            paper_id = n.metadata.get("paper_id")
            if paper_id is None or n.embedding is None:
                raise LibraryError("Each node needs an embedding and metadata['paper_id'] of a paper in the library.")
            text = n.get_content()
            if lib.embedder.count_tokens(text) > lib.embedder.max_tokens:
                raise LibraryError(f"Node {n.node_id} is longer than {lib.embedder.name} reads "
                                   f"({lib.embedder.max_tokens} tokens): split it first.")
            rows.append((n, int(paper_id), text))
        vectors = np.array([n.embedding for n, _, _ in rows], dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        with lib._write_lock, lib.index.lock:
            lib.index.refresh()
            lib.keywords.refresh()
            for pid in {pid for _, pid, _ in rows}:
                if lib.store.get_paper(pid) is None:
                    raise PaperNotFound(f"There is no paper with id {pid} in the library.")
            ids = lib.index.add(vectors)
            try:
                lib.index.save()
                lib.keywords.add(ids, [text for _, _, text in rows])
                lib.keywords.save()
                with lib.store.write() as conn:
                    for (n, pid, text), vid in zip(rows, ids):
                        ordinal = conn.execute("SELECT COALESCE(MAX(ordinal), -1) + 1 FROM chunks WHERE paper_id = ?",
                                               (pid,)).fetchone()[0]
                        conn.execute("INSERT INTO chunks (id, paper_id, ordinal, vector_id, section, page, n_tokens,"
                                     " text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                     (n.node_id, pid, ordinal, vid, str(n.metadata.get("section", "notes")),
                                      int(n.metadata.get("page", 0)), lib.embedder.count_tokens(text), text))
                        conn.execute("UPDATE papers SET chunks = chunks + 1 WHERE id = ?", (pid,))
            except BaseException:
                lib.index.remove(ids)
                lib.index.save()
                if lib.keywords.remove(ids):
                    lib.keywords.save()
                raise
        return [n.node_id for n, _, _ in rows]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        self._library.remove(int(ref_doc_id))

    def get_nodes(self, node_ids=None, filters=None) -> list[BaseNode]:
        retriever = self._library.retriever
        return [to_node(p) for p in (retriever.get_chunk(i) for i in (node_ids or [])) if p is not None]

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        if query.query_embedding is None:
            raise LibraryError("The library answers embedding queries only.")
        allow, deny = _paper_filter(query.filters, query.doc_ids)
        vector = np.asarray(query.query_embedding, dtype=np.float32)
        vector /= max(float(np.linalg.norm(vector)), 1e-12)
        passages = self._library.retriever.search_vector(vector, query.similarity_top_k, paper_ids=allow,
                                                         exclude_paper_ids=deny)
        return VectorStoreQueryResult(nodes=[to_node(p) for p in passages], similarities=[p.score for p in passages],
                                      ids=[p.chunk_id for p in passages])


class EmbedderAdapter(BaseEmbedding):
    """Our ``Embedder`` as a LlamaIndex embedding model (same vectors as the index)."""

    _embedder: Any = PrivateAttr()

    def __init__(self, embedder, **kwargs):
        super().__init__(model_name=embedder.name, **kwargs)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed([query])[0].tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def library_index(library):
    """A LlamaIndex ``VectorStoreIndex`` over the library (retrievers, query engines, deletes)."""
    from llama_index.core import VectorStoreIndex

    return VectorStoreIndex.from_vector_store(LibraryVectorStore(library), embed_model=EmbedderAdapter(library.embedder))
