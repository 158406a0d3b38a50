"""A damaged index gives a clear message and a rebuild from the record; rebuild builds beside and swaps.

Real PDFs, real MiniLM, real FAISS and bm25s; the page test drives the real Library page (AppTest).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from mlr.library import IndexDamagedError, open_library

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TOPICS = {"a.pdf": "zebra stripe counting", "b.pdf": "glacier melt forecasting"}


def _add_two(library, paper) -> dict[str, int]:
    return {name: library.add_file(paper(name, topic=topic, filler_repeats=3)).paper_id
            for name, topic in TOPICS.items()}


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_vector_index_gives_a_clear_message_and_rebuilds(damage, library, paper, settings, store, embedder,
                                                                 capsys):
    ids = _add_two(library, paper)
    path = settings.indexes_dir / "library.faiss"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] if damage == "truncated" else os.urandom(len(data)))

    damaged = open_library(settings, store, embedder)  # no exception escapes: the page and the CLI get this far
    health = damaged.health()
    assert not health["ok"] and "damaged" in health["message"] and "library.faiss" in health["message"]
    assert "python -m mlr library rebuild" in health["message"] and "Traceback" not in health["message"]
    with pytest.raises(IndexDamagedError, match="Rebuild index"):
        damaged.retriever.search("zebra stripes")
    assert damaged.add_file(paper("c.pdf", topic="protein folding")).status == "rejected"

    # The command line rebuilds it from the record (its own workspace, as a new process would).
    from mlr.cli import main

    assert main(["library", "rebuild"]) == 0
    assert "2 of 2 papers re-indexed" in capsys.readouterr().out
    healed = open_library(settings, store, embedder)
    assert healed.health()["ok"] and healed.problem is None
    assert set(healed.index.ids().tolist()) == store.all_vector_ids() == healed.keywords.ids()
    for name, topic in TOPICS.items():
        assert healed.retriever.search(topic, k=1, mode="dense")[0].paper_id == ids[name]


def test_rebuild_builds_beside_the_old_index_and_swaps(library, paper, settings, store, embedder):
    """While a rebuild runs, another process's library still searches the whole old index."""
    ids = _add_two(library, paper)
    reached, release = threading.Event(), threading.Event()

    class Paused:  # the library's own embedder, pausing on the second paper of the rebuild
        name, dimension, max_tokens, n_special = embedder.name, embedder.dimension, embedder.max_tokens, 2
        calls = 0

        def embed(self, texts, progress=None):
            Paused.calls += 1
            if Paused.calls == 2:
                reached.set()
                assert release.wait(60)
            return embedder.embed(texts, progress)

        count_tokens, token_spans = embedder.count_tokens, embedder.token_spans

    rebuilding = open_library(settings, store, Paused())
    worker = threading.Thread(target=lambda: rebuilding.rebuild(), daemon=True)
    worker.start()
    try:
        assert reached.wait(120)
        other = open_library(settings, store, embedder)  # another tab or process, opened mid-rebuild
        for name, topic in TOPICS.items():
            hits = other.retriever.search(topic, k=1, mode="dense")
            assert hits and hits[0].paper_id == ids[name]
        assert other.index.ntotal == len(store.all_vector_ids())  # the files on disk are still the whole index
    finally:
        release.set()
        worker.join(120)
    other.index.refresh()
    other.keywords.refresh()
    assert set(other.index.ids().tolist()) == store.all_vector_ids() == other.keywords.ids()
    assert other.retriever.search(TOPICS["b.pdf"], k=1)[0].paper_id == ids["b.pdf"]


def test_rebuild_reports_a_paper_it_cannot_reindex_and_keeps_it_searchable(library, paper, settings, store):
    ids = _add_two(library, paper)
    lost = store.get_paper(ids["a.pdf"])
    Path(lost.path).unlink()  # its stored copy is gone
    results = {r.file: r for r in library.rebuild()}
    assert results["b.pdf"].status == "added"
    bad = results["a.pdf"]
    assert bad.status == "rejected" and "No such file" in bad.error and "previous vectors" in bad.error
    assert set(library.index.ids().tolist()) == store.all_vector_ids() == library.keywords.ids()
    assert library.health()["ok"]
    for mode in ("dense", "keyword"):
        assert library.retriever.search(TOPICS["a.pdf"], k=1, mode=mode)[0].paper_id == ids["a.pdf"]


@pytest.fixture
def fresh_resources(data_dir):
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()


def test_library_page_reaches_rebuild_on_a_corrupt_index(fresh_resources, settings, store, embedder, paper):
    library = open_library(settings, store, embedder)
    library.add_file(paper("a.pdf", topic=TOPICS["a.pdf"], filler_repeats=3))
    (settings.indexes_dir / "library.faiss").write_bytes(b"\x00" * 100)  # overwritten by something else

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    assert any("damaged" in w.value for w in at.warning)
    next(b for b in at.button if b.label == "Rebuild index").click()
    at.run()
    deadline = time.monotonic() + 120
    while any("damaged" in w.value for w in at.warning):
        assert time.monotonic() < deadline
        time.sleep(0.5)
        at.run()
        assert not at.exception
    assert open_library(settings, store, embedder).health()["ok"]


def _rebuild_killed_midway(data_dir: str) -> None:
    """Rebuild with the real MiniLM, SIGKILLed while embedding the second paper."""
    import signal as _signal

    os.environ["MLR_DATA_DIR"] = data_dir
    from mlr.config import Settings
    from mlr.library import open_library as _open
    from mlr.library.embedders import MiniLMEmbedder
    from mlr.store import Store

    real = MiniLMEmbedder()
    calls = []

    def embed(texts, progress=None):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), _signal.SIGKILL)
        return MiniLMEmbedder.embed(real, texts, progress)

    real.embed = embed
    s = Settings.from_env()
    _open(s, Store(s.db_path), real).rebuild()


def test_sigkill_mid_rebuild_leaves_the_old_index_whole(library, paper, settings, store, embedder):
    import multiprocessing as mp
    import signal

    ids = _add_two(library, paper)
    before = set(library.index.ids().tolist())
    child = mp.get_context("spawn").Process(target=_rebuild_killed_midway, args=(str(settings.data_dir),))
    child.start()
    child.join(240)
    assert child.exitcode == -signal.SIGKILL
    reopened = open_library(settings, store, embedder)
    assert reopened.health()["ok"]
    assert set(reopened.index.ids().tolist()) == before == store.all_vector_ids() == reopened.keywords.ids()
    for name, topic in TOPICS.items():
        assert reopened.retriever.search(topic, k=1, mode="dense")[0].paper_id == ids[name]


def _rebuild_killed_before_rows(data_dir: str) -> None:
    """Rebuild; SIGKILL inside the row transaction, after both new index files were written."""
    import signal as _signal

    os.environ["MLR_DATA_DIR"] = data_dir
    from mlr.config import Settings
    from mlr.library import open_library as _open
    from mlr.library.embedders import MiniLMEmbedder
    from mlr.store import Store

    s = Settings.from_env()
    store = Store(s.db_path)
    store.replace_chunks = lambda *a, **k: os.kill(os.getpid(), _signal.SIGKILL)
    _open(s, store, MiniLMEmbedder()).rebuild()


def test_sigkill_between_the_index_swap_and_the_rows_keeps_the_old_passages_searchable(library, paper, settings,
                                                                                      store, embedder):
    import multiprocessing as mp
    import signal

    ids = _add_two(library, paper)
    before = set(library.index.ids().tolist())
    child = mp.get_context("spawn").Process(target=_rebuild_killed_before_rows, args=(str(settings.data_dir),))
    child.start()
    child.join(240)
    assert child.exitcode == -signal.SIGKILL
    reopened = open_library(settings, store, embedder)
    assert reopened.health()["ok"]
    assert set(reopened.index.ids().tolist()) == before == store.all_vector_ids() == reopened.keywords.ids()
    for name, topic in TOPICS.items():
        assert reopened.retriever.search(topic, k=1, mode="dense")[0].paper_id == ids[name]
