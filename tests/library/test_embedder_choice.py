"""The library keeps the embedding model its index was built with: never flipped silently at start-up.

A real HTTP server speaks the Ollama API (tests/support/ollama_server.py); "Ollama down" is a closed port.
"""

from __future__ import annotations

import json

import pytest

from mlr.config import Settings
from mlr.library import LibraryError, open_library
from mlr.library.embedders import choose_embedder
from mlr.store import Store
from tests.support.ollama_server import FakeOllama

DOWN = "http://127.0.0.1:9"


def _open(monkeypatch, host: str):
    monkeypatch.setenv("MLR_OLLAMA_HOST", host)
    settings = Settings.from_env()
    settings.ensure_dirs()
    return settings, open_library(settings, Store(settings.db_path))


def _manifest(settings) -> dict:
    return json.loads((settings.indexes_dir / "manifest.json").read_text())


def test_ollama_down_at_start_up_does_not_swap_the_embedder(data_dir, httpserver, monkeypatch, paper, capsys):
    fake = FakeOllama(httpserver, models=["nomic-embed-text:latest"])
    settings, lib = _open(monkeypatch, fake.host)
    assert lib.embedder.name == "ollama:nomic-embed-text"
    added = lib.add_file(paper("a.pdf", topic="zebra stripe counting", extra="We evaluate on the MID-70 split.",
                               filler_repeats=2))
    assert added.status == "added"
    before = _manifest(settings)

    # Next start-up: Ollama is down. The library keeps its model and says what is missing.
    settings, down = _open(monkeypatch, DOWN)
    assert down.embedder.name == "ollama:nomic-embed-text" and down.embedder.available is False
    assert down.problem is None  # no "model mismatch", no rebuild offered as the way out
    health = down.health()
    assert not health["ok"] and "ollama:nomic-embed-text" in health["message"]
    assert "--embedder minilm" in health["message"]
    assert _manifest(settings) == before  # nothing re-embedded, nothing rewritten
    hits = down.retriever.search("MID-70", k=1)  # keyword search still answers
    assert hits and hits[0].paper_id == added.paper_id and hits[0].found_by == "keyword"
    rejected = down.add_file(paper("b.pdf", topic="glacier melt forecasting", filler_repeats=2))
    assert rejected.status == "rejected" and "nomic-embed-text" in rejected.error
    with pytest.raises(LibraryError, match="nomic-embed-text"):
        down.rebuild()  # a rebuild cannot quietly switch models either

    # Ollama is back: the same model, the same vectors, dense search again.
    settings, back = _open(monkeypatch, fake.host)
    assert back.embedder.available is not False and back.health()["ok"]
    assert back.retriever.search("MID-70", k=1, mode="dense")

    # Switching is an explicit action: the CLI's rebuild --embedder minilm.
    monkeypatch.setenv("MLR_OLLAMA_HOST", DOWN)
    from mlr.cli import main

    assert main(["library", "rebuild", "--embedder", "minilm"]) == 0
    assert "all-MiniLM-L6-v2" in capsys.readouterr().out
    assert _manifest(settings)["model"].startswith("all-MiniLM-L6-v2")
    settings, switched = _open(monkeypatch, fake.host)  # Ollama answering does not switch it back either
    assert switched.embedder.name.startswith("all-MiniLM-L6-v2") and switched.health()["ok"]
    assert switched.retriever.search("MID-70", k=1)[0].paper_id == added.paper_id


def test_explicit_choice_of_an_unreachable_model_is_refused_with_the_reason(data_dir):
    settings = Settings.from_env()
    with pytest.raises(LibraryError, match="Ollama embedding model nomic-embed-text.*did not answer"):
        choose_embedder(settings, "ollama")


def test_library_page_offers_the_explicit_switch_when_the_model_is_missing(data_dir, httpserver, monkeypatch, paper):
    import time
    from pathlib import Path

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    fake = FakeOllama(httpserver, models=["nomic-embed-text:latest"])
    settings, lib = _open(monkeypatch, fake.host)
    lib.add_file(paper("a.pdf", topic="zebra stripe counting", filler_repeats=2))
    monkeypatch.setenv("MLR_OLLAMA_HOST", DOWN)
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=120)
        at.run()
        assert not at.exception
        assert any("ollama:nomic-embed-text" in w.value for w in at.warning)
        assert not any(b.label == "Rebuild index" for b in at.button)  # no rebuild that would switch quietly
        next(b for b in at.button if b.label == "Switch to the offline model").click()
        at.run()
        deadline = time.monotonic() + 120
        while _manifest(settings)["model"].startswith("ollama:"):
            assert time.monotonic() < deadline
            time.sleep(0.5)
            at.run()
        assert _manifest(settings)["model"].startswith("all-MiniLM-L6-v2")
    finally:
        st.cache_resource.clear()
