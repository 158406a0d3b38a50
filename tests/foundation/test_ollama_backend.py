"""The Ollama backend against a local server speaking the Ollama REST API."""

import socket

import pytest
from pydantic import BaseModel

from mlr.config import Settings
from mlr.llm import LLMError, LLMUnavailable, ModelNotFound
from mlr.llm.embedded import EmbeddedLLM
from mlr.llm.ollama_backend import OllamaClient, OllamaLLM
from mlr.llm.select import select_llm
from tests.support.ollama_server import FakeOllama


class Problem(BaseModel):
    task: str


@pytest.fixture
def fake(httpserver):
    return FakeOllama(httpserver)


def _llm(fake, model="qwen2.5:7b-instruct"):
    return OllamaLLM(model, OllamaClient(fake.host, timeout_s=5, probe_timeout_s=2), retries=1)


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_chat_returns_the_answer_and_counts_tokens(fake):
    llm = _llm(fake)
    fake.enqueue("three metrics: accuracy, F1, AUROC")
    assert llm.chat([{"role": "user", "content": "q"}]) == "three metrics: accuracy, F1, AUROC"
    assert llm.usage.prompt_tokens == 11 and llm.usage.completion_tokens == 5
    assert fake.requests[-1]["stream"] is False


def test_streaming_chat_yields_pieces(fake):
    llm = _llm(fake)
    fake.enqueue("one two three")
    pieces = list(llm.stream([{"role": "user", "content": "q"}]))
    assert len(pieces) == 3 and "".join(pieces) == "one two three"


def test_structured_output_sends_the_schema_as_format(fake):
    llm = _llm(fake)
    fake.enqueue('{"task": "digit recognition"}')
    assert llm.structured([{"role": "user", "content": "q"}], Problem).task == "digit recognition"
    assert fake.requests[-1]["format"]["properties"]["task"]["type"] == "string"


def test_structured_output_streams_through_on_token(fake):
    llm = _llm(fake)
    fake.enqueue('{"task": "tabular regression with few features"}')
    seen = []
    assert llm.structured([{"role": "user", "content": "q"}], Problem, on_token=seen.append).task
    assert len(seen) > 1


def test_missing_model_says_how_to_pull_it(fake):
    with pytest.raises(ModelNotFound, match="ollama pull llama9"):
        _llm(fake, "llama9").chat([{"role": "user", "content": "q"}])
    with pytest.raises(ModelNotFound):
        list(_llm(fake, "llama9").stream([{"role": "user", "content": "q"}]))


def test_server_error_is_reported(fake):
    fake.enqueue(500)
    with pytest.raises(LLMError, match="500"):
        _llm(fake).chat([{"role": "user", "content": "q"}])


def test_connection_refused_says_how_to_start_ollama():
    llm = OllamaLLM("m", OllamaClient(_closed_port(), timeout_s=2, probe_timeout_s=1))
    with pytest.raises(LLMUnavailable, match="ollama serve"):
        llm.chat([{"role": "user", "content": "q"}])
    with pytest.raises(LLMUnavailable, match="ollama serve"):
        list(llm.stream([{"role": "user", "content": "q"}]))


def test_client_lists_models_embeds_and_unloads(fake):
    client = OllamaClient(fake.host)
    assert client.list_models() == sorted(fake.models)
    assert client.has_model("nomic-embed-text") and not client.has_model("llama9")
    vectors = client.embed("nomic-embed-text", ["a", "b"])
    assert len(vectors) == 2 and len(vectors[0]) == fake.embed_dim
    assert client.unload("qwen2.5:7b-instruct")
    assert fake.requests[-1]["keep_alive"] == 0
    assert not OllamaClient(_closed_port(), probe_timeout_s=1).is_reachable()


def test_selection_prefers_ollama_with_the_model(fake):
    sel = select_llm(Settings.from_env({"MLR_OLLAMA_HOST": fake.host}))
    assert sel.llm.backend == "ollama" and sel.ollama_reachable


def test_selection_falls_back_to_embedded(fake):
    missing = select_llm(Settings.from_env({"MLR_OLLAMA_HOST": fake.host, "MLR_CHAT_MODEL": "llama9"}))
    assert isinstance(missing.llm, EmbeddedLLM) and "ollama pull llama9" in missing.reason
    down = select_llm(Settings.from_env({"MLR_OLLAMA_HOST": _closed_port(), "MLR_OLLAMA_PROBE_TIMEOUT_S": "1"}))
    assert isinstance(down.llm, EmbeddedLLM) and not down.ollama_reachable
    assert down.llm.demo_grade


def test_forced_ollama_backend_fails_clearly_when_down():
    with pytest.raises(LLMUnavailable):
        select_llm(Settings.from_env({"MLR_OLLAMA_HOST": _closed_port(), "MLR_LLM_BACKEND": "ollama"}))


def test_stream_cut_before_done_is_reported_as_the_server_going_away(httpserver):
    import json as _json

    from werkzeug import Response

    def cut(request):
        part = {"model": "m", "created_at": "2026-01-01T00:00:00Z", "done": False,
                "message": {"role": "assistant", "content": "partial"}}
        return Response(_json.dumps(part) + "\n", content_type="application/x-ndjson")

    httpserver.expect_request("/api/chat").respond_with_handler(cut)
    llm = OllamaLLM("m", OllamaClient(httpserver.url_for("/").rstrip("/"), timeout_s=5))
    with pytest.raises(LLMUnavailable, match="mid-generation"):
        list(llm.stream([{"role": "user", "content": "q"}]))
