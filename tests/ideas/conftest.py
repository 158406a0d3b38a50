"""Fixtures of the IdeaAgent tests: a small in-memory library and an agent over the scripted model."""

import pytest

from mlr.agents.idea_agent import IdeaAgent, IdeaConfig

from .helpers import BagEmbedder, ListRetriever, library_passages


@pytest.fixture
def retriever():
    return ListRetriever(library_passages())


@pytest.fixture
def agent(scripted, retriever):
    return IdeaAgent(scripted, retriever, embedder=BagEmbedder(), config=IdeaConfig(n_hypotheses=2, mode="free"))


@pytest.fixture(scope="session")
def minilm():
    from mlr.library.embedders import MiniLMEmbedder

    return MiniLMEmbedder()


@pytest.fixture
def real_library(settings, store, minilm, tmp_path):
    """The real library (FAISS + MiniLM + SQLite) holding two small real PDFs: paper 1 cites paper 2's idea."""
    from mlr.library import open_library

    from .pdfs import make_library_pdfs

    library = open_library(settings, store, minilm)
    results = library.add_files(make_library_pdfs(tmp_path / "pdfs"))
    assert [r.status for r in results] == ["added", "added"], results
    return library
