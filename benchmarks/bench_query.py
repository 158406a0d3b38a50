"""Query latency at 100k chunks: our retriever (FAISS id map + SQLite rows) vs LlamaIndex's SimpleVectorStore.

Random unit vectors stand in for chunk embeddings (latency does not depend on their meaning).
Both sides get the same precomputed query vectors, top 5; ours includes fetching the passages'
text and paper from SQLite. The end-to-end figure adds embedding the query text with MiniLM.

    python benchmarks/bench_query.py [--chunks 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from mlr.config import Settings
from mlr.library.embedders import MiniLMEmbedder
from mlr.workspace import Workspace

DIM = 384


def unit(rng, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def build_ours(vectors: np.ndarray, embedder):
    data = Path(tempfile.mkdtemp(prefix="bench-query-"))
    settings = Settings.from_env({}, data_dir=data, ollama_host="http://127.0.0.1:9")
    ws = Workspace.open(settings, embedder=embedder)
    store, library = ws.store, ws.library
    per_paper = 1000  # 100 papers of 1000 chunks
    with library.index.lock:
        ids = library.index.add(vectors)
        library.index.save()
    for p in range(0, len(vectors), per_paper):
        chunks = [{"id": f"p{p}-{i}", "ordinal": i, "vector_id": ids[p + i], "section": "method", "page": 1 + i // 5,
                   "n_tokens": 200, "text": f"synthetic passage {p + i} " * 20} for i in range(per_paper)]
        with store.write() as conn:
            store.add_paper(conn, content_hash=f"h{p}", file_name=f"p{p}.pdf", path=f"/nowhere/p{p}.pdf",
                            title=f"Paper {p}", authors=[], year=None, pages=200, chunks=chunks, sections=["method"])
    return Workspace.open(settings, embedder=embedder).library  # reopen: measures the persisted index


def build_simple(vectors: np.ndarray):
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores import SimpleVectorStore

    store = SimpleVectorStore()
    nodes = []
    for i, v in enumerate(vectors):
        node = TextNode(id_=f"n{i}", text=f"synthetic passage {i}")
        node.embedding = v.tolist()
        nodes.append(node)
    store.add(nodes)
    return store


def p50_ms(fn, queries) -> float:
    fn(queries[0])
    samples = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--baseline-queries", type=int, default=15, help="SimpleVectorStore takes ~1 s a query")
    args = parser.parse_args()
    from llama_index.core.vector_stores.types import VectorStoreQuery

    rng = np.random.default_rng(0)
    vectors = unit(rng, args.chunks)
    queries = unit(rng, args.queries)
    embedder = MiniLMEmbedder()

    t0 = time.perf_counter()
    library = build_ours(vectors, embedder)
    print(f"ours: {library.index.ntotal} vectors indexed and reopened in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    simple = build_simple(vectors)
    print(f"SimpleVectorStore: built in {time.perf_counter() - t0:.1f} s")

    ours = p50_ms(lambda q: library.retriever.search_vector(q, 5), queries)
    faiss_only = p50_ms(lambda q: library.index.search(q, 13), queries)
    filtered = p50_ms(lambda q: library.retriever.search_vector(q, 5, exclude_paper_ids=(1, 2, 3)), queries)
    base = p50_ms(lambda q: simple.query(VectorStoreQuery(query_embedding=q.tolist(), similarity_top_k=5)),
                  queries[: args.baseline_queries])
    texts = [f"limitations of the baseline number {i}" for i in range(50)]
    e2e = p50_ms(lambda t: library.retriever.search(t, 5), texts)
    hit = library.retriever.search_vector(vectors[4242], 1)[0]
    assert hit.text.startswith("synthetic passage 4242 "), hit  # the right chunk comes back

    print(f"SimpleVectorStore p50 : {base:8.1f} ms  (baseline, {args.baseline_queries} queries)")
    print(f"ours p50              : {ours:8.1f} ms  (FAISS + SQLite rows; aim < 30 ms)")
    print(f"   of which FAISS search: {faiss_only:6.1f} ms")
    print(f"ours p50, 3 papers excluded: {filtered:6.1f} ms")
    print(f"ours p50 end to end with MiniLM query embedding: {e2e:.1f} ms")
    print(f"ratio SimpleVectorStore/ours: {base / ours:.1f}x faster at {args.chunks} chunks")


if __name__ == "__main__":
    main()
