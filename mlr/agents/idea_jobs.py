"""Background jobs for the Ideas page: a step runs in a worker thread, the page polls its progress.

A generation with the embedded model takes tens of seconds; run inside the Streamlit script it
would block that session's reruns and die with it. A :class:`JobBoard` (one per server, shared by
every session) runs each step in a thread, keeps the streamed text and progress lines, and refuses a
second job under the same key (one paper, one step at a time). Never touches Streamlit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from mlr.llm.errors import LLMError

log = logging.getLogger(__name__)

MAX_TEXT = 20_000  # streamed characters kept for display; older text is dropped


class Job:
    def __init__(self, key: str, label: str):
        self.key = key
        self.label = label
        self.started = time.time()
        self.finished: float | None = None
        self.result: Any = None
        self.error: str | None = None
        self.lines: list[str] = []
        self._text: list[str] = []
        self._size = 0
        self._lock = threading.Lock()
        self.thread: threading.Thread | None = None

    # Called from the worker thread.
    def on_token(self, piece: str) -> None:
        with self._lock:
            self._text.append(piece)
            self._size += len(piece)
            if self._size > MAX_TEXT * 2:
                joined = "".join(self._text)[-MAX_TEXT:]
                self._text, self._size = [joined], len(joined)

    def note(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)
            # A new answer starts: keep the text of the one being written now.
            self._text, self._size = [], 0

    # Read by the page.
    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._text)[-MAX_TEXT:]

    @property
    def done(self) -> bool:
        return self.finished is not None

    @property
    def seconds(self) -> float:
        return (self.finished or time.time()) - self.started


class JobBoard:
    def __init__(self, expected: tuple[type[BaseException], ...] = ()):
        """``expected``: exception types whose message is enough for the researcher (no traceback logged)."""
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self.expected = (LLMError, RuntimeError, ValueError, KeyError, *expected)

    def start(self, key: str, label: str, work: Callable[[Job], Any]) -> Job:
        """Run ``work(job)`` in a thread; returns the running job under ``key`` if there is one."""
        with self._lock:
            current = self._jobs.get(key)
            if current is not None and not current.done:
                return current
            job = Job(key, label)
            self._jobs[key] = job
        job.thread = threading.Thread(target=self._run, args=(job, work, self.expected), name=f"idea-{key}",
                                      daemon=True)
        job.thread.start()
        return job

    def get(self, key: str) -> Job | None:
        with self._lock:
            return self._jobs.get(key)

    def running(self) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if not j.done]

    def clear(self, key: str) -> None:
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.done:
                del self._jobs[key]

    @staticmethod
    def _run(job: Job, work: Callable[[Job], Any], expected) -> None:
        try:
            job.result = work(job)
        except expected as exc:  # failures the researcher can act on: their message is enough
            log.info("job %s failed: %s", job.key, exc)
            job.error = str(exc)
        except Exception as exc:  # boundary of the thread: never lose the failure
            log.exception("job %s crashed", job.key)
            job.error = f"Unexpected error ({exc.__class__.__name__}): {exc}. The log has the details."
        finally:
            job.finished = time.time()
