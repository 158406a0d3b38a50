"""The library end to end with real PDFs, real MiniLM, real FAISS and SQLite."""

from __future__ import annotations

import itertools
import json
import multiprocessing as mp
import os
import random
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from library_pdfs import make_scanned

from mlr.library import PaperNotFound, open_library
from mlr.library.chunking import chunk_blocks
from mlr.library.sections import Block
from mlr.library.vector_index import VectorIndex
from mlr.protocols import Embedder, Retriever


def test_add_search_and_protocols(library, paper, settings):
    stages = []
    result = library.add_file(paper(extra="Quokka attention gates the memory of the retriever."),
                              file_name="../../etc/My Paper?.pdf", progress=lambda s, f: stages.append((s, f)))
    assert result.status == "added" and result.error is None and result.chunks > 3
    assert [s for s, _ in stages][:1] == ["parse"] and stages[-1] == ("done", 1.0)
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(stages)), stages  # progress never goes back
    info = library.list()[0]
    assert info.file_name == "My Paper.pdf" and info.title == "Efficient Retrieval for Long Documents"
    stored = Path(info.path)
    assert stored.parent == settings.uploads_dir and stored.exists()  # copy kept inside the data directory
    assert isinstance(library.retriever, Retriever) and isinstance(library.embedder, Embedder)
    hits = library.retriever.search("quokka attention memory", k=3)
    assert hits[0].section == "method" and "Quokka" in hits[0].text and 0 < hits[0].score <= 1.0001
    assert library.retriever.get_chunk(hits[0].chunk_id).text == hits[0].text
    ordered = library.retriever.paper_passages(result.paper_id)
    assert [p.chunk_id for p in ordered] == sorted(p.chunk_id for p in ordered)
    assert not any("Journal of Things" in p.text for p in ordered)  # references never become passages


def test_chunks_fit_the_model_and_cover_all_text(embedder):
    words = " ".join(f"token{i} supercalifragilistic-expialidocious." for i in range(600))
    blocks = [Block("method", 1, words), Block("method", 2, "Short tail sentence."), Block("results", 2, "Done.")]
    chunks = chunk_blocks(blocks, embedder)
    assert len(chunks) > 5
    assert max(embedder.count_tokens(c.text) for c in chunks) <= embedder.max_tokens == 256
    assert all(c.n_tokens == embedder.count_tokens(c.text) for c in chunks)
    joined = " ".join(c.text for c in chunks if c.section == "method")
    assert joined.split() == (words + " Short tail sentence.").split()  # nothing dropped, nothing repeated
    assert chunks[-1].section == "results" and chunks[-1].page == 2


def test_duplicate_does_no_work(library, paper, monkeypatch):
    pdf = paper()
    first = library.add_file(pdf)
    import mlr.library.library as libmod

    monkeypatch.setattr(libmod, "parse", lambda *a, **k: pytest.fail("re-parsed an unchanged file"))
    again = library.add_file(pdf, file_name="renamed copy.pdf")
    assert again.status == "duplicate" and again.paper_id == first.paper_id
    assert len(library.list()) == 1


def test_delete_then_add_never_returns_deleted_and_ids_never_collide(library, paper, settings, store, embedder):
    a = library.add_file(paper("a.pdf", title="Paper About Zebras", topic="zebra stripe counting"))
    b = library.add_file(paper("b.pdf", title="Paper About Glaciers", topic="glacier melt forecasting"))
    a_ids = store.vector_ids_for_papers([a.paper_id])
    library.remove(a.paper_id)
    c = library.add_file(paper("c.pdf", title="Paper About Volcanoes", topic="volcano eruption prediction"))
    c_ids = store.vector_ids_for_papers([c.paper_id])
    assert not a_ids & c_ids and min(c_ids) > max(a_ids | store.vector_ids_for_papers([b.paper_id]))
    for lib in (library, open_library(settings, store, embedder)):  # also after a restart
        hits = lib.retriever.search("zebra stripe counting", k=20)
        assert hits and {h.paper_id for h in hits} <= {b.paper_id, c.paper_id}
        assert "zebra" not in " ".join(h.text for h in hits).lower()
        top = lib.retriever.search("volcano eruption prediction", k=1)[0]
        assert top.paper_id == c.paper_id and "volcano" in top.text.lower()
    with pytest.raises(PaperNotFound):
        library.remove(a.paper_id)


def test_filters(library, paper):
    a = library.add_file(paper("a.pdf", topic="zebra stripe counting"))
    b = library.add_file(paper("b.pdf", topic="glacier melt forecasting"))
    assert {p.paper_id for p in library.retriever.search("zebra", k=10, exclude_paper_ids=(a.paper_id,))} == {b.paper_id}
    assert {p.paper_id for p in library.retriever.search("zebra", k=10, paper_ids=(b.paper_id,))} == {b.paper_id}
    assert library.retriever.search("zebra", k=10, paper_ids=(a.paper_id,), exclude_paper_ids=(a.paper_id,)) == []


def test_reload_after_restart(library, paper, settings, store, embedder):
    added = library.add_file(paper(topic="zebra stripe counting"))
    manifest = json.loads((settings.indexes_dir / "manifest.json").read_text())
    assert manifest["model"] == "all-MiniLM-L6-v2+int8" and manifest["dimension"] == 384
    again = open_library(settings, store, embedder)
    assert again.index.ntotal == added.chunks
    assert again.retriever.search("zebra stripes", k=1)[0].paper_id == added.paper_id


def test_kill_between_index_and_rows_leaves_last_good_state(library, paper, settings, store, embedder, monkeypatch):
    kept = library.add_file(paper("a.pdf", topic="zebra stripe counting"))
    before = library.index.ntotal

    def crash(*a, **k):
        raise KeyboardInterrupt  # as if the process died after the index was written

    monkeypatch.setattr(store, "add_paper", crash)
    with pytest.raises(KeyboardInterrupt):
        library.add_file(paper("b.pdf", topic="glacier melt forecasting"))
    monkeypatch.undo()
    assert library.index.ntotal == before and len(library.list()) == 1
    # A real kill skips the rollback: write orphan vectors straight into the index, then reopen.
    with library.index.lock:
        library.index.add(np.eye(3, 384, dtype=np.float32))
        library.index.save()
    reopened = open_library(settings, store, embedder)
    assert reopened.index.ntotal == before  # orphans dropped on load
    assert reopened.index.next_id > max(store.all_vector_ids())  # their ids are never handed out again
    assert reopened.retriever.search("zebra", k=1)[0].paper_id == kept.paper_id


def test_model_mismatch_refused_until_rebuild(library, paper, settings, store, embedder):
    library.add_file(paper(topic="zebra stripe counting"))

    class Other:
        name, dimension, max_tokens, n_special = "other-model", 8, 256, 2

        def embed(self, texts, progress=None):
            rng = np.random.default_rng(len(texts))
            v = rng.normal(size=(len(texts), 8)).astype(np.float32)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

        count_tokens = embedder.count_tokens
        token_spans = embedder.token_spans

    other = open_library(settings, store, Other())
    assert not other.health()["ok"] and "rebuild" in other.health()["message"]
    with pytest.raises(Exception, match="all-MiniLM-L6-v2.*rebuild"):
        other.retriever.search("zebra")
    assert other.add_file(paper("b.pdf")).status == "rejected"
    results = other.rebuild()
    assert [r.status for r in results] == ["added"] and other.health()["ok"]
    assert other.retriever.search("zebra", k=1)


def test_bad_files_are_rejected_with_messages_and_nothing_added(library, tmp_path, settings):
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "random.pdf").write_bytes(os.urandom(2048).replace(b"%PDF-", b"-----"))
    (tmp_path / "notes.pdf").write_text("just some notes, not a PDF")
    make_scanned(tmp_path / "scan.pdf")
    results = library.add_files([tmp_path / n for n in ("empty.pdf", "random.pdf", "notes.pdf", "scan.pdf",
                                                        "missing.pdf")])
    assert [r.status for r in results] == ["rejected"] * 5
    assert all(r.error and "Traceback" not in r.error for r in results)
    assert library.list() == [] and library.index.ntotal == 0
    assert list(settings.uploads_dir.iterdir()) == []


def _add_in_child(data_dir: str, pdf: str, queue) -> None:
    os.environ["MLR_DATA_DIR"] = data_dir
    from mlr.config import Settings
    from mlr.library import open_library as _open
    from mlr.library.embedders import MiniLMEmbedder
    from mlr.store import Store

    s = Settings.from_env()
    queue.put(_open(s, Store(s.db_path), MiniLMEmbedder()).add_file(pdf).status)


def test_concurrent_adds_from_two_processes(settings, paper, store, embedder):
    pdfs = [paper(f"{n}.pdf", topic=t) for n, t in (("a", "zebra stripe counting"), ("b", "glacier melt forecasting"))]
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_add_in_child, args=(str(settings.data_dir), str(p), queue)) for p in pdfs]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
    assert sorted(queue.get(timeout=5) for _ in procs) == ["added", "added"]
    lib = open_library(settings, store, embedder)
    assert len(lib.list()) == 2
    assert lib.index.ntotal == sum(p.chunks for p in lib.list()) == len(store.all_vector_ids())
    assert {lib.retriever.search(q, k=1)[0].paper_id for q in ("zebra stripes", "glacier melt")} == {1, 2}


def test_vector_index_ids_are_monotonic(tmp_path):
    index = VectorIndex(tmp_path, "m", 4)
    first = index.add(np.eye(4, dtype=np.float32))
    index.remove(first[2:])
    second = index.add(np.eye(2, 4, dtype=np.float32))
    assert second == [4, 5]
    index.save()
    again = VectorIndex(tmp_path, "m", 4)
    again.load()
    assert sorted(again.ids().tolist()) == [0, 1, 4, 5] and again.next_id == 6
    assert again.search(np.eye(4, dtype=np.float32)[1], 1) == [(1, pytest.approx(1.0))]


def test_lost_index_file_is_reported_and_rebuilt(library, paper, settings, store, embedder):
    added = library.add_file(paper(topic="zebra stripe counting"))
    (settings.indexes_dir / "library.faiss").unlink()  # e.g. a user cleaned indexes/ by hand
    reopened = open_library(settings, store, embedder)
    health = reopened.health()
    assert not health["ok"] and f"{added.chunks} passages have no vector" in health["message"]
    # The keyword index still holds the passages (it is rebuilt from the record), the vectors do not.
    assert {p.found_by for p in reopened.retriever.search("zebra", k=3)} == {"keyword"}
    assert reopened.retriever.search("zebra", k=3, mode="dense") == []
    assert [r.status for r in reopened.rebuild()] == ["added"]
    assert reopened.health()["ok"] and reopened.retriever.search("zebra", k=1)[0].paper_id == added.paper_id


def _add_forever(data_dir: str, pdfs: list[str]) -> None:
    os.environ["MLR_DATA_DIR"] = data_dir
    from mlr.config import Settings
    from mlr.library import open_library as _open
    from mlr.library.embedders import MiniLMEmbedder
    from mlr.store import Store

    s = Settings.from_env()
    lib = _open(s, Store(s.db_path), MiniLMEmbedder())
    while True:
        for pdf in pdfs:
            lib.add_file(pdf)
        for paper in lib.list():
            lib.remove(paper.id)


def test_sigkill_mid_write_leaves_a_consistent_readable_library(settings, paper, store, embedder):
    pdfs = [str(paper(f"{n}.pdf", topic=t)) for n, t in (("a", "zebra stripe counting"), ("b", "glacier melt"))]
    ctx = mp.get_context("spawn")
    child = ctx.Process(target=_add_forever, args=(str(settings.data_dir), pdfs))
    child.start()
    deadline = time.monotonic() + 120
    while not store.list_papers() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(random.uniform(0.5, 2.5))  # land somewhere in the add/remove loop
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    (settings.indexes_dir / ".library.faiss.abc123").write_bytes(b"half a write")  # as a kill mid-write leaves
    lib = open_library(settings, store, embedder)
    assert not list(settings.indexes_dir.glob(".library.faiss.*"))
    assert set(lib.index.ids().tolist()) == store.all_vector_ids()  # no orphans, no missing vectors
    assert lib.health()["ok"]
    for p in lib.list():
        assert lib.retriever.search(p.title, k=1, paper_ids=(p.id,))[0].paper_id == p.id
