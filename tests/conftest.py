"""Fixtures shared by every test: an isolated data directory, settings, record and scripted model."""

from __future__ import annotations

import os
import sys

import pytest

from mlr.config import Settings
from mlr.llm.scripted import ScriptedLLM
from mlr.store import Store

# Tests never reach a network model server or the Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty data directory, exported as MLR_DATA_DIR, with Ollama pointed at a closed port."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("MLR_DATA_DIR", str(root))
    monkeypatch.setenv("MLR_OLLAMA_HOST", "http://127.0.0.1:9")  # discard port: connection refused
    monkeypatch.setenv("MLR_OLLAMA_PROBE_TIMEOUT_S", "0.5")
    # st.cache_resource / st.cache_data live as long as the process: an AppTest run by an earlier
    # test would otherwise hand this test its settings, record and status for another data dir.
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    return root


@pytest.fixture
def settings(data_dir) -> Settings:
    s = Settings.from_env()
    s.ensure_dirs()
    return s


@pytest.fixture
def store(settings) -> Store:
    return Store(settings.db_path)


@pytest.fixture
def scripted():
    return ScriptedLLM()


@pytest.fixture(autouse=True)
def _restore_main_module():
    """AppTest runs page scripts as ``__main__``; a later multiprocessing "spawn" child would re-run
    whatever script that left behind. Put the real ``__main__`` back after every test."""
    main = sys.modules["__main__"]
    saved = {name: getattr(main, name) for name in ("__file__", "__spec__") if hasattr(main, name)}
    yield
    sys.modules["__main__"] = main
    for name, value in saved.items():
        setattr(main, name, value)
