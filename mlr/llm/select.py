"""Pick the active chat backend: the configured Ollama model when the server answers, else embedded."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mlr.config import Settings
from mlr.llm.base import BaseLLM
from mlr.llm.embedded import EmbeddedLLM
from mlr.llm.errors import LLMError, LLMUnavailable
from mlr.llm.ollama_backend import OllamaClient, OllamaLLM, down_message, missing_message

log = logging.getLogger(__name__)


@dataclass
class Selection:
    llm: BaseLLM
    ollama_reachable: bool
    ollama_models: list[str]
    reason: str  # why this backend, in words for the sidebar


def ollama_client(settings: Settings) -> OllamaClient:
    return OllamaClient(settings.ollama_host, timeout_s=settings.ollama_timeout_s,
                        probe_timeout_s=settings.ollama_probe_timeout_s)


def select_llm(settings: Settings) -> Selection:
    common = {"retries": settings.llm_retries, "temperature": settings.llm_temperature}
    client = ollama_client(settings)
    models: list[str] = []
    reachable = False
    reason = ""
    if settings.llm_backend != "embedded":
        try:
            models = client.list_models()
            reachable = True
        except LLMError:
            reason = down_message(settings.ollama_host)
        if reachable:
            if client.has_model(settings.chat_model):
                llm = OllamaLLM(settings.chat_model, client, max_tokens=2048, **common)
                return Selection(llm, True, models, f"Ollama answers and has {settings.chat_model}.")
            reason = missing_message(settings.chat_model, settings.ollama_host)
        if settings.llm_backend == "ollama":
            raise LLMUnavailable(reason)
    else:
        reason = "MLR_LLM_BACKEND=embedded."
    llm = EmbeddedLLM(n_ctx=settings.embedded_ctx, n_threads=settings.embedded_threads,
                      max_tokens=settings.embedded_max_tokens, model=settings.embedded_model, **common)
    log.info("using the embedded model: %s", reason)
    return Selection(llm, reachable, models, reason)
