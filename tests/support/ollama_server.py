"""A local HTTP server that speaks the Ollama REST API, for tests (no live Ollama runs here).

Built on pytest-httpserver. It serves /api/tags, /api/show, /api/ps, /api/chat (plain and
streamed NDJSON, recording the ``format`` schema it was sent), /api/generate (used for unload)
and /api/embed (deterministic vectors). Chat answers come from a queue, like ScriptedLLM.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import numpy as np
from werkzeug import Request, Response

_STAMP = datetime(2026, 1, 1, tzinfo=timezone.utc).isoformat()


def _vector(text: str, dim: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dim)
    return (v / np.linalg.norm(v)).round(6).tolist()


class FakeOllama:
    def __init__(self, httpserver, models=("qwen2.5:7b-instruct", "nomic-embed-text:latest"), embed_dim: int = 64):
        self.server = httpserver
        self.models = list(models)
        self.embed_dim = embed_dim
        self.answers: list = []
        self.requests: list[dict] = []
        for path, handler in {
            "/api/tags": self._tags, "/api/show": self._show, "/api/ps": self._ps, "/api/chat": self._chat,
            "/api/generate": self._generate, "/api/embed": self._embed,
        }.items():
            httpserver.expect_request(path).respond_with_handler(handler)

    @property
    def host(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def enqueue(self, *answers) -> "FakeOllama":
        """Queue chat answers: a str, or an int HTTP status to fail the next chat with."""
        self.answers.extend(answers)
        return self

    # -- handlers ---------------------------------------------------------------------------------
    def _json(self, body, status=200) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    def _known(self, name: str) -> bool:
        return name in self.models or f"{name}:latest" in self.models

    def _missing(self, name: str) -> Response:
        return self._json({"error": f"model '{name}' not found"}, 404)

    def _tags(self, request: Request) -> Response:
        return self._json({"models": [{"name": m, "model": m, "modified_at": _STAMP, "size": 1, "digest": "0" * 64,
                                       "details": {"format": "gguf", "family": "test"}} for m in self.models]})

    def _show(self, request: Request) -> Response:
        body = request.get_json()
        name = body.get("model") or body.get("name")
        return self._json({"modelfile": "", "details": {"family": "test"}}) if self._known(name) else self._missing(name)

    def _ps(self, request: Request) -> Response:
        return self._json({"models": []})

    def _generate(self, request: Request) -> Response:
        body = request.get_json()
        self.requests.append({"path": "/api/generate", **body})
        if not self._known(body["model"]):
            return self._missing(body["model"])
        return self._json({"model": body["model"], "created_at": _STAMP, "response": "", "done": True})

    def _embed(self, request: Request) -> Response:
        body = request.get_json()
        self.requests.append({"path": "/api/embed", **body})
        if not self._known(body["model"]):
            return self._missing(body["model"])
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        return self._json({"model": body["model"], "embeddings": [_vector(t, self.embed_dim) for t in texts]})

    def _chat(self, request: Request) -> Response:
        body = request.get_json()
        self.requests.append({"path": "/api/chat", **body})
        if not self._known(body["model"]):
            return self._missing(body["model"])
        answer = self.answers.pop(0) if self.answers else "ok"
        if isinstance(answer, int):
            return self._json({"error": "internal failure"}, answer)
        final = {"model": body["model"], "created_at": _STAMP, "done": True, "done_reason": "stop",
                 "prompt_eval_count": 11, "eval_count": max(1, len(answer.split()))}
        if not body.get("stream", True):
            return self._json({**final, "message": {"role": "assistant", "content": answer}})
        words = answer.split(" ")
        lines = [json.dumps({"model": body["model"], "created_at": _STAMP, "done": False,
                             "message": {"role": "assistant", "content": w + (" " if i < len(words) - 1 else "")}})
                 for i, w in enumerate(words)]
        lines.append(json.dumps({**final, "message": {"role": "assistant", "content": ""}}))
        return Response("\n".join(lines) + "\n", content_type="application/x-ndjson")
