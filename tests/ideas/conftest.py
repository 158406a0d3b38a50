"""Fixtures of the IdeaAgent tests: a small in-memory library and an agent over the scripted model."""

import pytest

from mlr.agents.idea_agent import IdeaAgent, IdeaConfig

from .helpers import BagEmbedder, ListRetriever, library_passages


@pytest.fixture
def retriever():
    return ListRetriever(library_passages())


@pytest.fixture
def agent(scripted, retriever):
    return IdeaAgent(scripted, retriever, embedder=BagEmbedder(), config=IdeaConfig(n_hypotheses=2))
