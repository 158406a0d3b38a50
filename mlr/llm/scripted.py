"""A scripted model for tests and demos: answers come from a queue, prompts are recorded."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

from pydantic import BaseModel

from mlr.llm.base import BaseLLM
from mlr.protocols import Message
from mlr.llm.errors import LLMError


class ScriptedLLM(BaseLLM):
    """Answers each call with the next queued item.

    An item is a string (returned as is), a dict/list or pydantic model (returned as JSON), an
    exception instance (raised), or a callable ``f(messages) -> item`` for answers that depend on
    the prompt. ``default`` answers once the queue is empty; without one an empty queue is an error.
    """

    backend = "scripted"

    def __init__(self, answers=(), *, model: str = "scripted", default=None, **kwargs):
        super().__init__(model, **kwargs)
        self._queue = list(answers)
        self._default = default
        self._lock = threading.Lock()
        self.prompts: list[list[Message]] = []
        self.schemas: list[dict | None] = []

    def enqueue(self, *answers) -> "ScriptedLLM":
        with self._lock:
            self._queue.extend(answers)
        return self

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _next(self, messages: list[Message]):
        with self._lock:
            if self._queue:
                item = self._queue.pop(0)
            elif self._default is not None:
                item = self._default
            else:
                raise LLMError("scripted model: no answer left in the queue")
        if callable(item) and not isinstance(item, BaseModel):
            item = item(messages)
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, BaseModel):
            return item.model_dump_json()
        if isinstance(item, (dict, list)):
            return json.dumps(item)
        return str(item)

    def _generate(self, messages, *, json_schema, stream, max_tokens, temperature) -> Iterator[str]:
        self.prompts.append([dict(m) for m in messages])
        self.schemas.append(json_schema)
        text = self._next(messages)
        if not stream:
            yield text
            return
        for start in range(0, len(text), 16):
            yield text[start:start + 16]
