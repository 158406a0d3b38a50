"""Ollama backend through the official client, with timeouts and actionable errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import httpx
import ollama

from mlr.llm.base import BaseLLM
from mlr.llm.errors import LLMError, LLMUnavailable, ModelNotFound

log = logging.getLogger(__name__)

_CONNECT_ERRORS = (ConnectionError, httpx.ConnectError, httpx.TimeoutException, httpx.RemoteProtocolError,
                   httpx.ReadError)


def down_message(host: str) -> str:
    return (f"Ollama is not reachable at {host}. Install it (https://ollama.com/download), start it with "
            "`ollama serve`, or set MLR_OLLAMA_HOST to where it runs.")


def missing_message(model: str, host: str) -> str:
    return f"Ollama at {host} does not have the model {model!r}. Fetch it with `ollama pull {model}`."


def _translate(exc: Exception, model: str, host: str) -> LLMError:
    if isinstance(exc, ollama.ResponseError):
        if exc.status_code == 404:
            return ModelNotFound(missing_message(model, host))
        return LLMError(f"Ollama at {host} answered {exc.status_code}: {exc.error}")
    if isinstance(exc, httpx.TimeoutException):
        return LLMUnavailable(f"Ollama at {host} did not answer in time ({exc.__class__.__name__}).")
    return LLMUnavailable(down_message(host))


class OllamaClient:
    """Thin wrapper over ``ollama.Client``: model list, reachability, embeddings, unload."""

    def __init__(self, host: str, *, timeout_s: float = 300.0, probe_timeout_s: float = 2.0):
        self.host = host
        self._client = ollama.Client(host=host, timeout=timeout_s)
        self._probe = ollama.Client(host=host, timeout=probe_timeout_s)

    def list_models(self) -> list[str]:
        try:
            return sorted(m.model for m in self._probe.list().models if m.model)
        except Exception as exc:  # boundary: any failure means "not usable"
            raise _translate(exc, "", self.host) from exc

    def is_reachable(self) -> bool:
        try:
            self.list_models()
            return True
        except LLMError:
            return False

    def has_model(self, model: str) -> bool:
        names = self.list_models()
        # "llama3" matches "llama3:latest" the way `ollama run` does.
        return model in names or f"{model}:latest" in names

    def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        try:
            return [list(v) for v in self._client.embed(model=model, input=texts).embeddings]
        except Exception as exc:
            raise _translate(exc, model, self.host) from exc

    def unload(self, model: str) -> bool:
        """Ask the server to free ``model`` now (``keep_alive=0``), so a GPU run gets the memory."""
        try:
            self._probe.generate(model=model, prompt="", keep_alive=0)
            return True
        except Exception as exc:
            log.info("could not unload %s: %s", model, exc)
            return False

    def loaded(self) -> list[dict]:
        try:
            return [{"model": m.model, "size_vram": m.size_vram} for m in self._probe.ps().models]
        except Exception:
            return []

    @property
    def raw(self) -> ollama.Client:
        return self._client


class OllamaLLM(BaseLLM):
    backend = "ollama"

    def __init__(self, model: str, client: OllamaClient, **kwargs):
        super().__init__(model, **kwargs)
        self.client = client

    def _generate(self, messages, *, json_schema, stream, max_tokens, temperature) -> Iterator[str]:
        options = {"temperature": temperature, "num_predict": max_tokens}
        start = time.perf_counter()
        try:
            response = self.client.raw.chat(model=self.model, messages=messages, stream=stream,
                                            format=json_schema, options=options)
            if not stream:
                self._counts = (response.prompt_eval_count, response.eval_count)
                yield response.message.content or ""
                return
            finished = False
            for part in response:
                if part.done:
                    finished = True
                    self._counts = (part.prompt_eval_count, part.eval_count)
                content = part.message.content if part.message else ""
                if content:
                    yield content
            if not finished:
                # The server closed the stream without its final "done" message: it went away mid-answer.
                # Say so, rather than handing a truncated answer on to be "invalid JSON".
                raise LLMUnavailable(f"Ollama at {self.client.host} stopped answering mid-generation. "
                                     + down_message(self.client.host))
        except _CONNECT_ERRORS + (ollama.ResponseError,) as exc:
            raise _translate(exc, self.model, self.client.host) from exc
        finally:
            log.debug("ollama %s answered in %.2fs", self.model, time.perf_counter() - start)

    def _account(self, prompt_chars, out_chars, seconds, prompt_tokens=None, completion_tokens=None):
        counts = getattr(self, "_counts", (None, None))
        self._counts = (None, None)
        super()._account(prompt_chars, out_chars, seconds, counts[0], counts[1])
