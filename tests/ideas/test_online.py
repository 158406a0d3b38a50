"""Online sources: off means no socket at all; on means short requests with clear messages."""

import json
import socket

import pytest

from mlr.agents.idea_agent import IdeaAgent, IdeaConfig
from mlr.agents.idea_schemas import ResearchProblem
from mlr.agents.scholarly import ScholarlySearch

from .helpers import PROBLEM

ARXIV = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <entry><id>http://arxiv.org/abs/2004.05150v2</id><published>2020-04-10T17:59:59Z</published>
    <title>Longformer: The Long-Document
      Transformer</title><summary>Transformer-based models are unable to process long sequences.</summary></entry>
</feed>"""
S2 = {"data": [{"title": "Big Bird: Transformers for Longer Sequences", "year": 2020, "abstract": "Sparse attention.",
                "url": "https://www.semanticscholar.org/paper/x"},
               {"title": "Longformer: The Long-Document Transformer", "year": 2020, "abstract": "dup", "url": ""}]}
OPENALEX = {"results": [{"display_name": "Legal-BERT", "publication_year": 2020, "doi": "https://doi.org/10.1/x",
                         "abstract_inverted_index": {"BERT": [1], "Legal": [0], "domain.": [3], "for": [2]}}]}


@pytest.fixture
def no_sockets(monkeypatch):
    """Any attempt to open a connection fails loudly and is counted."""
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError("network disabled by the test")

    def no_dns(host, *args, **kwargs):
        attempts.append(host)
        raise socket.gaierror("name resolution disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    return attempts


def test_switch_off_makes_no_network_call(no_sockets, scripted, retriever, settings):
    assert settings.online_sources is False
    agent = IdeaAgent(scripted, retriever, config=IdeaConfig.from_settings(settings))
    related = agent.related_work(ResearchProblem.model_validate(PROBLEM), 1)
    assert related.passages and related.online == [] and related.messages == []
    assert no_sockets == []


def test_switch_on_while_offline_gives_a_clear_message(no_sockets, scripted, retriever):
    agent = IdeaAgent(scripted, retriever, config=IdeaConfig(online_sources=True, online_timeout_s=1))
    related = agent.related_work(ResearchProblem.model_validate(PROBLEM), 1)
    assert no_sockets, "the switch is on: the agent should have tried the network"
    assert related.passages, "library results survive an offline network"
    assert len(related.messages) == 3 and all("not reachable" in m and "offline" in m for m in related.messages)


def _serve(httpserver):
    httpserver.expect_request("/arxiv").respond_with_data(ARXIV, content_type="application/atom+xml")
    httpserver.expect_request("/s2").respond_with_json(S2)
    httpserver.expect_request("/openalex").respond_with_json(OPENALEX)
    return {"arxiv": httpserver.url_for("/arxiv"), "semantic_scholar": httpserver.url_for("/s2"),
            "openalex": httpserver.url_for("/openalex")}


def test_switch_on_reads_all_three_sources(httpserver, scripted, retriever):
    search = ScholarlySearch(urls=_serve(httpserver), timeout_s=2)
    agent = IdeaAgent(scripted, retriever, config=IdeaConfig(online_sources=True), scholarly=search)
    related = agent.related_work(ResearchProblem.model_validate(PROBLEM), 1)
    titles = [p.title for p in related.online]
    assert titles == ["Longformer: The Long-Document Transformer", "Big Bird: Transformers for Longer Sequences",
                      "Legal-BERT"]  # the duplicate from Semantic Scholar is dropped
    assert related.online[0].year == 2020 and related.online[0].url.startswith("http://arxiv.org/abs/")
    assert related.online[2].abstract == "Legal BERT for domain."
    query = httpserver.log[0][0].args
    assert "long documents" in query["search_query"]
    # Online papers are stored next to the library passages, tagged by source.
    assert {r["source"] for r in related.records()} == {"library", "arxiv", "semantic_scholar", "openalex"}


def test_rate_limit_and_broken_answers_are_messages(httpserver):
    httpserver.expect_request("/arxiv").respond_with_data("slow down", status=429)
    httpserver.expect_request("/s2").respond_with_data("not json", content_type="application/json")
    httpserver.expect_request("/openalex").respond_with_data(json.dumps(OPENALEX), content_type="application/json")
    search = ScholarlySearch(urls={"arxiv": httpserver.url_for("/arxiv"), "semantic_scholar": httpserver.url_for("/s2"),
                                   "openalex": httpserver.url_for("/openalex")}, timeout_s=2)
    found = search.search("legal documents")
    assert [p.source for p in found.papers] == ["openalex"]
    assert any("rate-limited" in m for m in found.messages)
    assert any("semantic_scholar: could not read" in m for m in found.messages)
