"""LlamaIndex over the library: retrieval, filters, delete and add through the LlamaIndex API."""

from __future__ import annotations

import pytest
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter, MetadataFilters

from mlr.library.errors import LibraryError
from mlr.library.llama_store import library_index


def test_llamaindex_retriever_filters_delete_and_add(library, paper, embedder):
    a = library.add_file(paper("a.pdf", topic="zebra stripe counting"))
    b = library.add_file(paper("b.pdf", topic="glacier melt forecasting"))
    index = library_index(library)

    hits = index.as_retriever(similarity_top_k=3).retrieve("zebra stripe counting")
    assert hits[0].node.metadata["paper_id"] == a.paper_id and hits[0].score > 0.3
    assert hits[0].node.node_id == library.retriever.search("zebra stripe counting", k=1)[0].chunk_id

    only_b = MetadataFilters(filters=[MetadataFilter(key="paper_id", value=b.paper_id, operator=FilterOperator.EQ)])
    assert {h.node.metadata["paper_id"] for h in index.as_retriever(similarity_top_k=5, filters=only_b)
            .retrieve("zebra")} == {b.paper_id}

    note = TextNode(id_="note-zebra-1", text="Handwritten note: okapi camouflage differs from zebra stripes.",
                    metadata={"paper_id": b.paper_id, "section": "notes", "page": 0})
    note.embedding = embedder.embed([note.text])[0].tolist()
    index.vector_store.add([note])
    assert library.retriever.search("okapi camouflage", k=1)[0].chunk_id == "note-zebra-1"

    index.delete_ref_doc(str(a.paper_id))
    assert [p.id for p in library.list()] == [b.paper_id]
    assert all(h.node.metadata["paper_id"] == b.paper_id
               for h in index.as_retriever(similarity_top_k=10).retrieve("zebra stripe counting"))

    bad = TextNode(text="orphan", metadata={"paper_id": 999})
    bad.embedding = embedder.embed(["orphan"])[0].tolist()
    with pytest.raises(LibraryError, match="no paper with id 999"):
        index.vector_store.add([bad])
