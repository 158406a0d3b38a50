"""The model server going away mid-generation, and answers that stay invalid: clear errors, nothing lost."""

from __future__ import annotations

import json

import pytest
from werkzeug import Response

from mlr.agents.idea_agent import IdeaAgent, IdeaConfig
from mlr.agents.idea_flow import IdeaRecorder
from mlr.config import Settings
from mlr.library import open_library
from mlr.llm import LLMUnavailable, ScriptedLLM, StructuredOutputError
from mlr.llm.ollama_backend import OllamaClient, OllamaLLM
from mlr.store import Store
from tests.support.ollama_server import FakeOllama

SAMPLE = "digit-thumbnails"


@pytest.fixture(scope="module")
def library_dir(tmp_path_factory):
    """One real library (sample PDFs, MiniLM, FAISS) shared by the tests of this module."""
    root = tmp_path_factory.mktemp("faults")
    settings = Settings.from_env({"MLR_DATA_DIR": str(root)})
    settings.ensure_dirs()
    library = open_library(settings, Store(settings.db_path))
    assert [r.status for r in library.add_samples()] == ["added"] * 3
    return root


@pytest.fixture
def record(library_dir, tmp_path):
    import shutil

    root = tmp_path / "data"
    shutil.copytree(library_dir, root)
    settings = Settings.from_env({"MLR_DATA_DIR": str(root)})
    store = Store(settings.db_path)
    library = open_library(settings, store)
    paper_id = next(p.id for p in store.list_papers() if SAMPLE in p.file_name)
    return settings, store, library, paper_id


def _closed_port() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _recorder(llm, settings, store, library):
    agent = IdeaAgent(llm, library.retriever, embedder=library.embedder, config=IdeaConfig.from_settings(settings))
    return IdeaRecorder(agent, store)


def _problem_answer(store, paper_id) -> str:
    chunk = store.paper_chunks(paper_id)[0].id
    return json.dumps({"task": "handwritten digit recognition from 4x4 thumbnails",
                       "gaps": [{"text": "thumbnails discard stroke detail", "chunk_id": chunk}],
                       "keywords": ["digits", "template matching"]})


def test_server_dying_mid_generation_gives_a_clear_error_and_keeps_finished_steps(httpserver, record):
    settings, store, library, paper_id = record
    fake = FakeOllama(httpserver)
    llm = OllamaLLM(settings.chat_model, OllamaClient(fake.host, timeout_s=20), retries=1)
    rec = _recorder(llm, settings, store, library)

    fake.enqueue(_problem_answer(store, paper_id))
    problem_id = rec.problem(paper_id, on_token=lambda t: None)
    rec.related(problem_id)

    def dies_mid_stream(request):
        def body():
            yield json.dumps({"model": "m", "created_at": "2026-01-01T00:00:00Z", "done": False,
                              "message": {"role": "assistant", "content": '{"method": "Use a'}}) + "\n"
            raise ConnectionResetError("server went away")  # the connection drops mid-answer
        return Response(body(), content_type="application/x-ndjson")

    httpserver.clear()
    httpserver.expect_request("/api/chat").respond_with_handler(dies_mid_stream)
    with pytest.raises(LLMUnavailable) as info:
        rec.hypotheses(problem_id, 1, on_token=lambda t: None)
    assert "ollama serve" in str(info.value) or "did not answer" in str(info.value)

    # And now it is gone entirely (nothing listens on its port any more).
    gone = OllamaLLM(settings.chat_model, OllamaClient(_closed_port(), timeout_s=5), retries=1)
    with pytest.raises(LLMUnavailable, match="ollama serve"):
        _recorder(gone, settings, store, library).hypotheses(problem_id, 1)

    kept = store.get_problem(problem_id)
    assert kept.data.task.startswith("handwritten digit recognition")
    assert kept.related, "related work found before the failure was lost"
    assert store.hypotheses_for_problem(problem_id) == []


def test_answers_that_stay_invalid_end_in_a_clear_error(record):
    settings, store, library, paper_id = record
    llm = ScriptedLLM(default='{"task": 42}', retries=2)
    rec = _recorder(llm, settings, store, library)
    with pytest.raises(StructuredOutputError) as info:
        rec.problem(paper_id)
    message = str(info.value)
    assert "3 tries" in message and "task" in message
    assert llm.usage.calls == 3
    assert store.problems_for_paper(paper_id) == []
