"""Background work for the app: one facility for library ingest, IdeaAgent steps, agent actions and loops.

A Streamlit script must return within a rerun, and the CLI wants the same work without a UI, so long
work runs in worker threads that never touch Streamlit. :class:`Jobs` (one per server process, shared
by every session) keeps each job under a key:

- a second ``start`` under a key whose job still runs returns that job (one paper, one step at a time;
  a second tab sees the running step instead of starting another);
- jobs given the same ``lane`` run one after another in submission order (library writes: one writer,
  and two embedding jobs would only fight over the same cores); jobs without a lane start at once;
- a job reports a stage and fraction, progress lines and the text a model is streaming; the page polls
  them (``ui/jobs.py``). A failure is kept as a message, never lost with the thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from queue import Queue
from typing import Any

log = logging.getLogger(__name__)

MAX_TEXT = 20_000  # streamed characters kept for display; older text is dropped
KEEP_FINISHED = 100  # finished jobs kept for display; the oldest go first

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class Job:
    """One piece of background work and what it has reported so far (thread-safe)."""

    def __init__(self, key: str, label: str, lane: str | None = None):
        self.key, self.label, self.lane = key, label, lane
        self.state = QUEUED
        self.stage, self.fraction, self.message = "queued", 0.0, ""
        self.outcome: str | None = None  # a work-specific verdict, e.g. "added" / "duplicate" for a paper
        self.result: Any = None
        self.error: str | None = None
        self.lines: list[str] = []
        self.attempt: tuple[int, int] = (1, 1)  # the model's answer being tried: (number, of)
        self.exception: BaseException | None = None  # what ended a failed job (its message is ``error``)
        self.work: Callable[[Job], Any] | None = None  # what the job runs: ``Jobs.again`` runs it once more
        self.created = time.time()
        self.started: float | None = None
        self.finished: float | None = None
        self._text: list[str] = []
        self._size = 0
        self._lock = threading.Lock()

    # -- called from the worker thread ---------------------------------------------------------------
    def on_token(self, piece: str) -> None:
        """A piece of text the model is streaming."""
        with self._lock:
            self._text.append(piece)
            self._size += len(piece)
            if self._size > MAX_TEXT * 2:
                joined = "".join(self._text)[-MAX_TEXT:]
                self._text, self._size = [joined], len(joined)

    def note(self, line: str) -> None:
        """A progress line; a new answer starts, so the streamed text restarts too."""
        with self._lock:
            self.lines.append(line)
            self._text, self._size = [], 0

    def on_attempt(self, number: int, of: int) -> None:
        """The model starts answer ``number`` of ``of`` (a retry after an invalid one): its text restarts."""
        with self._lock:
            self.attempt = (number, of)
            self._text, self._size = [], 0

    def progress(self, stage: str, fraction: float | None = None) -> None:
        with self._lock:
            self.stage = stage
            if fraction is not None:
                self.fraction = max(0.0, min(1.0, float(fraction)))

    # -- read by the UI and the CLI -------------------------------------------------------------------
    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._text)[-MAX_TEXT:]

    @property
    def done(self) -> bool:
        return self.finished is not None

    @property
    def seconds(self) -> float:
        start = self.started or self.created
        return (self.finished or time.time()) - start

    def __repr__(self) -> str:
        return f"Job({self.key!r}, {self.state})"


class Jobs:
    """The job board: start work under a key, read its progress, clear it when seen."""

    def __init__(self, expected: tuple[type[BaseException], ...] = ()):
        """``expected``: exception types whose message is enough for the researcher (no traceback logged)."""
        from mlr.llm.errors import LLMError

        self.expected = (LLMError, RuntimeError, ValueError, KeyError, OSError, *expected)
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lanes: dict[str, Queue] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def start(self, key: str | None, label: str, work: Callable[[Job], Any], *, lane: str | None = None) -> Job:
        """Run ``work(job)`` in the background; returns the unfinished job under ``key`` if there is one.

        ``key=None`` makes a fresh unique key (work that may be queued many times, like an upload).
        """
        with self._lock:
            if key is None:
                key = f"{lane or 'job'}:{next(self._ids)}"
            current = self._jobs.get(key)
            if current is not None and not current.done:
                return current
            job = Job(key, label, lane)
            job.work = work
            self._jobs.pop(key, None)
            self._jobs[key] = job
            self._trim()
            if lane is not None:
                queue = self._lanes.get(lane)
                if queue is None:
                    queue = self._lanes[lane] = Queue()
                    threading.Thread(target=self._lane_worker, args=(queue,), name=f"jobs-{lane}",
                                     daemon=True).start()
                queue.put((job, work))
                return job
        threading.Thread(target=self._run, args=(job, work), name=f"job-{key}", daemon=True).start()
        return job

    def again(self, key: str) -> Job | None:
        """Run the finished job under ``key`` once more (same label, same work); None when there is none."""
        job = self.get(key)
        if job is None or job.work is None:
            return None
        return self.start(key, job.label, job.work, lane=job.lane)

    def get(self, key: str) -> Job | None:
        with self._lock:
            return self._jobs.get(key)

    def list(self, prefix: str = "") -> list[Job]:
        """Jobs whose key starts with ``prefix``, oldest first."""
        with self._lock:
            return [j for k, j in self._jobs.items() if k.startswith(prefix)]

    def running(self, prefix: str = "") -> list[Job]:
        return [j for j in self.list(prefix) if not j.done]

    def clear(self, key: str) -> None:
        """Forget a finished job (an unfinished one stays)."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.done:
                del self._jobs[key]

    def clear_finished(self, prefix: str = "") -> None:
        with self._lock:
            for key in [k for k, j in self._jobs.items() if k.startswith(prefix) and j.done]:
                del self._jobs[key]

    def wait(self, prefix: str = "", timeout: float = 120.0) -> bool:
        """Block until every job under ``prefix`` has finished (the CLI and tests); False on timeout."""
        deadline = time.monotonic() + timeout
        while self.running(prefix):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    # -- workers --------------------------------------------------------------------------------------
    def _trim(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.done]
        for key in finished[: max(0, len(self._jobs) - KEEP_FINISHED)]:
            del self._jobs[key]

    def _lane_worker(self, queue: Queue) -> None:
        while True:
            job, work = queue.get()
            self._run(job, work)

    def _run(self, job: Job, work: Callable[[Job], Any]) -> None:
        from mlr.llm.base import ATTEMPT_LISTENER

        job.started, job.state = time.time(), RUNNING
        job.progress("starting")
        listening = ATTEMPT_LISTENER.set(job.on_attempt)  # "attempt 2 of 3" while the model answers again
        try:
            job.result = work(job)
            job.state = DONE
        except self.expected as exc:  # failures the researcher can act on: their message is enough
            log.info("job %s failed: %s", job.key, exc)
            job.error, job.state, job.exception = str(exc), FAILED, exc
        except Exception as exc:  # boundary of the thread: never lose the failure
            log.exception("job %s crashed", job.key)
            job.error = f"Unexpected error ({exc.__class__.__name__}): {exc}. The log has the details."
            job.state, job.exception = FAILED, exc
        finally:
            ATTEMPT_LISTENER.reset(listening)
            job.finished = time.time()
