"""The shared implementation of the ``mlr.protocols.LLM`` seam: chat, streaming and validated
structured output over one backend method.

A backend implements ``_generate`` only. Structured output asks the backend for JSON under the
model's JSON schema (Ollama ``format=``, llama.cpp grammar), validates it with pydantic and, when
it is invalid, retries with the validation error appended to the conversation. After the last
retry it raises :class:`StructuredOutputError`; nothing is silently patched.
"""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from pydantic import BaseModel, ValidationError

from mlr.llm.errors import StructuredOutputError
from mlr.protocols import Message, T

log = logging.getLogger(__name__)

# Who hears that a structured answer is being tried ("attempt 2 of 3"): ``listener(number, of)``, set per thread
# (a context variable) by whoever shows the work, e.g. the job board (mlr/jobs.py); nobody by default.
ATTEMPT_LISTENER: ContextVar[Callable[[int, int], None] | None] = ContextVar("attempt_listener", default=None)

@dataclass
class Usage:
    """What the model was asked to do; read by benchmarks and the closing notes."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    structured: int = 0
    first_try_valid: int = 0
    history: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "history"}


class BaseLLM(ABC):
    """Shared behaviour of every backend (it implements ``mlr.protocols.LLM``); subclasses implement ``_generate``."""

    backend = "base"
    demo_grade = False  # True for tiny models: the UI labels their output as a demo

    def __init__(self, model: str, *, retries: int = 2, temperature: float = 0.2, max_tokens: int = 1024):
        self.model = model
        self.retries = retries
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.usage = Usage()

    # -- the one method a backend writes ----------------------------------------------------------
    @abstractmethod
    def _generate(self, messages: list[Message], *, json_schema: dict | None, stream: bool,
                  max_tokens: int, temperature: float) -> Iterator[str]:
        """Yield the answer's text in pieces (one piece when not streaming)."""

    def warm_up(self) -> None:
        """Load what the first call would load (weights, connections); a no-op for remote backends."""

    # -- public API -------------------------------------------------------------------------------
    def chat(self, messages: list[Message], *, max_tokens: int | None = None) -> str:
        return "".join(self._timed(messages, None, False, max_tokens))

    def stream(self, messages: list[Message], *, max_tokens: int | None = None) -> Iterator[str]:
        yield from self._timed(messages, None, True, max_tokens)

    def structured(self, messages: list[Message], schema: type[T], *, retries: int | None = None,
                   on_token: Callable[[str], None] | None = None, max_tokens: int | None = None) -> T:
        json_schema = schema.model_json_schema()
        conversation = list(messages)
        attempts = (self.retries if retries is None else retries) + 1
        answer, error_text = "", ""
        self.usage.structured += 1
        listener = ATTEMPT_LISTENER.get()
        for attempt in range(attempts):
            if listener is not None:
                listener(attempt + 1, attempts)
            pieces = []
            # A retry at the same temperature mostly repeats the same bad answer (seen with small local
            # models at a fixed seed): each retry samples a little more freely.
            temperature = min(1.0, self.temperature + RETRY_TEMPERATURE_STEP * attempt)
            for piece in self._timed(conversation, json_schema, on_token is not None, max_tokens, temperature):
                pieces.append(piece)
                if on_token is not None:
                    on_token(piece)
            answer = "".join(pieces)
            try:
                value = parse_answer(schema, answer)
            except _InvalidAnswer as exc:
                error_text = str(exc)
            else:
                if attempt == 0:
                    self.usage.first_try_valid += 1
                return value
            log.info("structured answer invalid (attempt %d/%d): %s", attempt + 1, attempts, error_text)
            conversation = [
                *messages,
                {"role": "assistant", "content": answer[:4000]},
                {"role": "user", "content": (
                    "Your answer was not valid for the required JSON schema:\n" + error_text
                    + "\nAnswer again with only a JSON object that fixes these errors.")},
            ]
        raise StructuredOutputError(
            f"The model ({self.backend}:{self.model}) gave no valid {schema.__name__} after {attempts} tries: "
            f"{error_text}", last_answer=answer, errors=error_text, attempts=attempts, schema=schema.__name__)

    def _timed(self, messages, json_schema, stream, max_tokens, temperature=None) -> Iterator[str]:
        start = time.perf_counter()
        out_chars = 0
        try:
            for piece in self._generate(messages, json_schema=json_schema, stream=stream,
                                        max_tokens=max_tokens or self.max_tokens,
                                        temperature=self.temperature if temperature is None else temperature):
                out_chars += len(piece)
                yield piece
        finally:
            seconds = time.perf_counter() - start
            prompt_chars = sum(len(m.get("content", "")) for m in messages)
            self._account(prompt_chars, out_chars, seconds)

    def _account(self, prompt_chars: int, out_chars: int, seconds: float,
                 prompt_tokens: int | None = None, completion_tokens: int | None = None) -> None:
        """Record one call; backends that know exact token counts override the estimate."""
        self.usage.calls += 1
        self.usage.seconds += seconds
        # ~4 characters per token when the backend does not report counts.
        p = prompt_tokens if prompt_tokens is not None else prompt_chars // 4
        c = completion_tokens if completion_tokens is not None else max(1, out_chars // 4)
        self.usage.prompt_tokens += p
        self.usage.completion_tokens += c
        self.usage.history.append({"prompt_tokens": p, "completion_tokens": c, "seconds": round(seconds, 3)})


RETRY_TEMPERATURE_STEP = 0.25


class _InvalidAnswer(ValueError):
    """An answer that is not valid JSON for the schema; the message lists what is wrong."""


def parse_answer(schema: type[T], answer: str) -> T:
    """Validate a model's JSON answer against ``schema``.

    ``strict=False`` accepts raw newlines and tabs inside strings: local models write them often
    and they carry no ambiguity, so refusing them only costs a retry.
    """
    try:
        data = json.loads(_strip_fences(answer), strict=False)
    except json.JSONDecodeError as exc:
        raise _InvalidAnswer(f"- (root): not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise _InvalidAnswer(_short_errors(exc)) from exc


def _strip_fences(text: str) -> str:
    """Small models sometimes wrap JSON in ``` fences even under a schema; the content is what counts."""
    text = text.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text.strip()


def _short_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors()[:8]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "(root)"
        lines.append(f"- {where}: {err.get('msg')}")
    return "\n".join(lines)


def schema_prompt(schema: type[BaseModel]) -> str:
    """The schema as text, for prompts: small models follow it better when they also read it."""
    return json.dumps(schema.model_json_schema(), ensure_ascii=False)
