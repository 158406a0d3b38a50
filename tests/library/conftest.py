"""Library fixtures: the real MiniLM embedder (loaded once per test session) and a library per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from library_pdfs import make_paper


@pytest.fixture(scope="session")
def embedder():
    from mlr.library.embedders import MiniLMEmbedder

    return MiniLMEmbedder()


@pytest.fixture
def library(settings, store, embedder):
    from mlr.library import open_library

    return open_library(settings, store, embedder)


@pytest.fixture
def paper(tmp_path):
    """A factory of distinct real PDFs: paper("name", topic=...)."""
    def make(name: str = "paper.pdf", **kwargs) -> Path:
        return make_paper(tmp_path / name, **kwargs)
    return make
