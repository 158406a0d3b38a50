"""A background queue of library work (uploads, samples, rebuild) for the UI.

The Streamlit page submits and returns at once; one worker thread does the work in order (one
writer at a time, and two embedding jobs would only fight over the same cores) and records each
job's stage and fraction, which the page polls. Shared by every session of a server process.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import OrderedDict
from pathlib import Path
from queue import Queue

from pydantic import BaseModel

log = logging.getLogger(__name__)

KEEP_FINISHED = 50


class Job(BaseModel):
    id: int
    label: str
    stage: str = "queued"
    fraction: float = 0.0
    state: str = "queued"  # queued | running | added | duplicate | rejected | failed | done
    message: str = ""
    paper_id: int | None = None

    @property
    def finished(self) -> bool:
        return self.state not in ("queued", "running")


class LibraryJobs:
    def __init__(self, library):
        self.library = library
        self._jobs: OrderedDict[int, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._queue: Queue = Queue()
        self._worker = threading.Thread(target=self._run, name="library-jobs", daemon=True)
        self._worker.start()

    # -- submit ------------------------------------------------------------------------------------
    def _new(self, label: str) -> Job:
        with self._lock:
            job = Job(id=next(self._ids), label=label)
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP_FINISHED and next(iter(self._jobs.values())).finished:
                self._jobs.popitem(last=False)
        return job

    def submit_file(self, path: Path, file_name: str, *, delete_after: bool = False) -> int:
        """Queue one PDF; ``delete_after`` removes ``path`` (an upload's temporary file) when done."""
        job = self._new(file_name)
        self._queue.put(("file", job.id, (Path(path), file_name, delete_after)))
        return job.id

    def submit_samples(self) -> list[int]:
        pdfs = sorted(self.library.settings.samples_dir.glob("*/paper.pdf"))
        return [self.submit_file(p, f"{p.parent.name}.pdf") for p in pdfs]

    def submit_rebuild(self) -> int:
        job = self._new("Rebuild the index")
        self._queue.put(("rebuild", job.id, None))
        return job.id

    # -- read --------------------------------------------------------------------------------------
    def jobs(self) -> list[Job]:
        with self._lock:
            return [j.model_copy() for j in self._jobs.values()]

    def active(self) -> bool:
        return any(not j.finished for j in self.jobs())

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until the queue is empty (tests and the CLI); False on timeout."""
        done = threading.Event()
        self._queue.put(("signal", 0, done))
        return done.wait(timeout)

    def clear_finished(self) -> None:
        with self._lock:
            for job_id in [j.id for j in self._jobs.values() if j.finished]:
                del self._jobs[job_id]

    # -- work --------------------------------------------------------------------------------------
    def _update(self, job_id: int, **fields) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                for k, v in fields.items():
                    setattr(job, k, v)

    def _run(self) -> None:
        while True:
            kind, job_id, arg = self._queue.get()
            if kind == "signal":
                arg.set()
                continue
            self._update(job_id, state="running", stage="starting")
            try:
                if kind == "file":
                    self._add(job_id, *arg)
                else:
                    results = self.library.rebuild(
                        progress=lambda i, s, f, job_id=job_id: self._update(job_id, stage=f"paper {i + 1}: {s}",
                                                                           fraction=f))
                    bad = [r for r in results if r.status == "rejected"]
                    self._update(job_id, state="failed" if bad else "done", fraction=1.0, stage="done",
                                 message="; ".join(f"{r.file}: {r.error}" for r in bad) or
                                 f"Re-embedded {len(results)} papers.")
            except Exception as exc:  # the worker must survive anything; the page shows the message
                log.exception("library job %s failed", job_id)
                self._update(job_id, state="failed", message=f"{type(exc).__name__}: {exc}")

    def _add(self, job_id: int, path: Path, file_name: str, delete_after: bool) -> None:
        try:
            result = self.library.add_file(path, file_name=file_name,
                                           progress=lambda s, f: self._update(job_id, stage=s, fraction=f))
        finally:
            if delete_after:
                path.unlink(missing_ok=True)
        message = {"added": f"Added: {result.pages} pages, {result.chunks} passages.",
                   "duplicate": f"Already in the library (paper {result.paper_id}); nothing to do."}
        self._update(job_id, state=result.status, stage="done", fraction=1.0, paper_id=result.paper_id,
                     message=result.error or message.get(result.status, ""))
