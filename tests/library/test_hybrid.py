"""Hybrid retrieval: the BM25 keyword index beside FAISS, in step with it, fused with the dense ranking.

Real PDFs, real MiniLM, real FAISS, real bm25s; the crash tests kill a real child process.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from pathlib import Path

import pytest

from mlr.library import open_library
from mlr.library.fusion import rrf
from mlr.library.keyword_index import KeywordIndex
from mlr.library.tokens import tokenize
from mlr.library.vector_index import VectorIndex

FACTS = {
    "a": ("zebra stripe counting",
          "We fine-tune the 7B model with a learning rate of 0.001 on the MID-70 split and report F1."),
    "b": ("glacier melt forecasting",
          "We fine-tune the 13B model with a learning rate of 0.03 on the KAT-12 split and report accuracy."),
    "c": ("protein folding speed",
          "We train a 350M encoder with a learning rate of 0.5 on the ORB-9 split and report recall."),
}


def _on_disk(settings) -> set[int]:
    fresh = KeywordIndex(settings.indexes_dir)
    fresh.load()
    return fresh.ids()


def _consistent(library, store, settings) -> None:
    rows = store.all_vector_ids()
    assert library.keywords.ids() == set(library.index.ids().tolist()) == rows
    assert _on_disk(settings) == rows


@pytest.mark.parametrize("text, expected", [
    ("lr 0.001", ["lr", "0.001"]),
    ("the 7B model", ["7b", "model"]),
    ("on MID-70", ["mid-70", "mid", "70"]),
    ("F1 score", ["f1", "score"]),
    ("GPT-3.5 with 1,000 steps", ["gpt-3.5", "gpt", "3.5", "1000", "step"]),
    ("n_estimators=100", ["n_estimators", "estim", "100"]),
])
def test_tokeniser_keeps_numbers_model_names_and_symbols(text, expected):
    assert tokenize(text) == expected


def test_rrf_prefers_agreement_and_keeps_everything():
    fused = rrf([[1, 2, 3], [3, 4]])
    assert [i for i, _ in fused][:1] == [3] and {i for i, _ in fused} == {1, 2, 3, 4}


def test_exact_facts_are_found_and_say_which_ranker(library, paper, store, settings):
    for name, (topic, fact) in FACTS.items():
        library.add_file(paper(f"{name}.pdf", topic=topic, extra=fact, filler_repeats=3))
    ids = {p.file_name: p.id for p in library.list()}
    for query, name in [("learning rate 0.001", "a.pdf"), ("MID-70", "a.pdf"), ("13B model", "b.pdf"),
                        ("KAT-12 split", "b.pdf"), ("learning rate of 0.5", "c.pdf"), ("350M encoder", "c.pdf"),
                        ("F1", "a.pdf")]:
        hits = library.retriever.search(query, k=3)
        fact = FACTS[name[0]][1]
        best = next((h for h in hits if h.paper_id == ids[name] and fact in h.text), None)
        assert best is not None, (query, [(h.file_name, h.found_by) for h in hits])
        assert best.found_by in ("keyword", "both")
        # BM25 alone ranks the passage with the exact fact first (fusion may let a dense hit lead).
        assert library.retriever.search(query, k=1, mode="keyword")[0].chunk_id == best.chunk_id
        # The score keeps its meaning (cosine to the query), whichever ranker found the passage.
        assert -1.0 <= best.score <= 1.0 and best.score != 0.0
    assert all(h.found_by == "keyword" for h in library.retriever.search("MID-70", k=3, mode="keyword"))
    assert all(h.found_by == "dense" for h in library.retriever.search("MID-70", k=3, mode="dense"))


def test_keyword_index_in_step_after_add_remove_and_rebuild(library, paper, store, settings, embedder):
    a = library.add_file(paper("a.pdf", topic=FACTS["a"][0], extra=FACTS["a"][1], filler_repeats=3))
    b = library.add_file(paper("b.pdf", topic=FACTS["b"][0], extra=FACTS["b"][1], filler_repeats=3))
    _consistent(library, store, settings)
    library.remove(a.paper_id)
    _consistent(library, store, settings)
    assert not library.retriever.search("MID-70", k=5, mode="keyword")
    library.rebuild()
    _consistent(library, store, settings)
    assert library.retriever.search("KAT-12", k=1, mode="keyword")[0].paper_id == b.paper_id
    # Another process's library sees the same keyword index.
    other = open_library(settings, store, embedder)
    assert other.retriever.search("KAT-12", k=1, mode="keyword")[0].paper_id == b.paper_id


def _killed_mid_keyword_write(data_dir: str, pdf: str, step: str) -> None:
    """Add (or add, then remove) a paper; SIGKILL this process half-way through writing keyword.npz."""
    os.environ["MLR_DATA_DIR"] = data_dir
    from mlr.atomic import atomic_path
    from mlr.config import Settings
    from mlr.library import open_library as _open
    from mlr.library.embedders import MiniLMEmbedder
    from mlr.library.keyword_index import KeywordIndex
    from mlr.store import Store

    s = Settings.from_env()
    lib = _open(s, Store(s.db_path), MiniLMEmbedder())
    added = lib.add_file(pdf)

    def die_mid_write(self):
        with atomic_path(self.path) as tmp:
            tmp.write_bytes(b"PK\x03\x04 half a keyword index")
            os.kill(os.getpid(), signal.SIGKILL)

    KeywordIndex.save = die_mid_write
    if step == "add":
        lib.add_file(str(Path(pdf).with_name("second.pdf")))
    else:
        lib.remove(added.paper_id)


@pytest.mark.parametrize("step", ["add", "remove"])
def test_sigkill_mid_keyword_write_is_repaired_on_open(step, settings, paper, store, embedder):
    pdf = paper("first.pdf", topic=FACTS["a"][0], extra=FACTS["a"][1], filler_repeats=3)
    paper("second.pdf", topic=FACTS["b"][0], extra=FACTS["b"][1], filler_repeats=3)
    ctx = mp.get_context("spawn")
    child = ctx.Process(target=_killed_mid_keyword_write, args=(str(settings.data_dir), str(pdf), step))
    child.start()
    child.join(240)
    assert child.exitcode == -signal.SIGKILL
    assert list(settings.indexes_dir.glob(".keyword.npz.*"))  # the half-written temporary is there
    # What the kill left on disk is out of step: vectors of the second paper without rows (add), or
    # keywords of a paper whose rows are gone (remove).
    vectors = VectorIndex(settings.indexes_dir, embedder.name, embedder.dimension)
    vectors.load()
    rows = store.all_vector_ids()
    assert (set(vectors.ids().tolist()) if step == "add" else _on_disk(settings)) - rows
    lib = open_library(settings, store, embedder)
    assert not list(settings.indexes_dir.glob(".keyword.npz.*"))
    _consistent(lib, store, settings)
    assert lib.health()["ok"]
    assert bool(lib.retriever.search("MID-70", k=3, mode="keyword")) is (step == "add")
    assert not lib.retriever.search("KAT-12", k=3, mode="keyword")


def test_damaged_keyword_file_is_rebuilt_from_the_record(library, paper, store, settings, embedder):
    a = library.add_file(paper("a.pdf", topic=FACTS["a"][0], extra=FACTS["a"][1], filler_repeats=3))
    path = settings.indexes_dir / "keyword.npz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated
    reopened = open_library(settings, store, embedder)
    health = reopened.health()
    assert health["ok"] and any("keyword index was unreadable" in n for n in health["notices"])
    _consistent(reopened, store, settings)
    assert reopened.retriever.search("MID-70", k=1, mode="keyword")[0].paper_id == a.paper_id


def test_ideas_related_work_uses_the_hybrid_search(library, paper, scripted):
    """The IdeaAgent's related-work step gets the library's fused results: an exact model-name match in
    another paper is found by the keyword ranker and ranked by the fusion."""
    from mlr.agents.idea_agent import IdeaAgent, IdeaConfig
    from mlr.agents.idea_schemas import ResearchProblem

    own = library.add_file(paper("a.pdf", topic=FACTS["a"][0], extra=FACTS["a"][1], filler_repeats=3))
    other = library.add_file(paper("b.pdf", topic=FACTS["b"][0], extra=FACTS["b"][1], filler_repeats=3))
    library.add_file(paper("c.pdf", topic=FACTS["c"][0], extra=FACTS["c"][1], filler_repeats=3))
    agent = IdeaAgent(scripted, library.retriever, embedder=library.embedder,
                      config=IdeaConfig(n_hypotheses=1, mode="free"))
    problem = ResearchProblem.model_validate(
        {"task": "Fine-tuning on the KAT-12 split", "keywords": ["KAT-12", "13B"],
         "gaps": [{"text": "The 13B model on KAT-12 is not compared with smaller models.", "chunk_id": "x"}]})
    related = agent.related_work(problem, paper_id=own.paper_id)
    assert related.passages and all(p.paper_id != own.paper_id for p in related.passages)
    top = related.passages[0]
    assert top.paper_id == other.paper_id and "KAT-12" in top.text and top.found_by in ("keyword", "both")
    assert [p.rank_score for p in related.passages] == sorted((p.rank_score for p in related.passages), reverse=True)


@pytest.fixture
def fresh_resources(data_dir):
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()


def test_library_page_shows_exact_fact_matches_and_which_ranker_found_them(fresh_resources, settings, store,
                                                                          embedder, paper):
    """MiniLM scores "MID-70" at ~0.2 against the passage that holds it, below the page's closeness threshold:
    the exact match must still be shown, with the ranker that found it; an off-topic query still finds nothing."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    open_library(settings, store, embedder).add_file(
        paper("a.pdf", topic=FACTS["a"][0], extra=FACTS["a"][1], filler_repeats=3))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    at.text_input[0].input("MID-70").run()
    assert not at.exception
    assert not any("No passage is close" in i.value for i in at.info)
    shown = [m.value for m in at.markdown]
    assert any("MID" in m and "70" in m for m in shown)  # the passage with the fact (highlighted, escaped)
    assert any("found by" in m and "words" in m for m in shown)
    at.text_input[0].input("recipes for sourdough bread and pastry").run()
    assert any("No passage is close" in i.value for i in at.info)
