"""The notebook runner: a persisted queue in the record and a worker that executes it.

``NotebookRunner(config, store)`` implements ``mlr.protocols.Runner``. ``submit`` queues a run and
returns at once; a dispatcher thread (one per runner, started on first use or by ``start()``) claims
queued runs while fewer than ``config.max_parallel_runs`` are running (across every process that
shares the record) and executes each in its own thread (:class:`mlr.execution.job.RunJob`).
``run`` = submit + wait. ``cancel`` works for queued and running runs, from any process.

Restart: ``start()`` marks runs whose owning process is gone 'interrupted' (killing an orphaned
notebook if one survived) and keeps queued runs, which the dispatcher then resumes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from mlr.config import Settings
from mlr.execution import procs
from mlr.execution.errors import NotebookContractError, UnknownRunError
from mlr.execution.executors import Executor, build_executor
from mlr.execution.job import RunJob
from mlr.execution.runner_config import RunnerConfig
from mlr.protocols import RunError, RunOutcome
from mlr.store import FINAL, Store
from mlr.store.records import Run, RunErrorData

log = logging.getLogger(__name__)

IDLE_POLL_S = 1.0  # the dispatcher also wakes at once on submit and when a run ends
RECOVER_EVERY_S = 15.0
WAIT_POLL_S = 0.2


def outcome_of(run: Run) -> RunOutcome:
    err = run.error
    error = None
    if err:
        error = RunError(cell_index=err.cell_index, ename=err.ename or "Error", evalue=err.evalue,
                         traceback=err.traceback)
    return RunOutcome(run_id=run.id, status=run.status, metrics=run.metrics or {}, error=error,
                      output_notebook=run.output_notebook if run.status in FINAL else None,
                      seconds=float(run.seconds or 0.0))


class NotebookRunner:
    """Runs notebooks through the persisted queue. Thread-safe; share one per process.

    ``adopt_queue=False`` (the CLI) executes only the runs this instance submitted, leaving other
    queued runs to the app.
    """

    def __init__(self, config: RunnerConfig | Settings, store: Store, *, adopt_queue: bool = True,
                 executor: Executor | None = None):
        """``config``: a :class:`RunnerConfig` (the settings it reads); full ``Settings`` are narrowed to one.
        ``executor``: where runs execute; by default the one ``config.executor`` names (local or ray)."""
        if isinstance(config, Settings):
            config = RunnerConfig.from_settings(config)
        self.settings, self.store, self.adopt_queue = config, store, adopt_queue
        self.executor = executor or build_executor(config)
        self.identity = procs.process_identity()
        self._lock = threading.Lock()
        self._wake, self._stop = threading.Event(), threading.Event()
        self._cancel: dict[int, threading.Event] = {}
        self._done: dict[int, threading.Event] = {}
        self._jobs: dict[int, threading.Thread] = {}
        self._own: set[int] = set()
        self._dispatcher: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> NotebookRunner:
        """Recover runs of dead processes and start the dispatcher (idempotent)."""
        with self._lock:
            if self._dispatcher is not None and self._dispatcher.is_alive():
                return self
            self._stop.clear()
            self.settings.runs_dir.mkdir(parents=True, exist_ok=True)
            self.recover()
            self._dispatcher = threading.Thread(target=self._dispatch, name="mlr-runner", daemon=True)
            self._dispatcher.start()
        return self

    def stop(self, *, cancel_running: bool = False, timeout: float = 30.0) -> None:
        """Stop claiming runs; with ``cancel_running`` also cancel and wait for the ones this process runs."""
        self._stop.set()
        self._wake.set()
        if self._dispatcher is not None:
            self._dispatcher.join(timeout)
        with self._lock:
            jobs = dict(self._jobs)
        if cancel_running:
            for run_id in jobs:
                self.cancel(run_id)
            for thread in jobs.values():
                thread.join(timeout)

    def recover(self) -> list[int]:
        """Mark 'interrupted' every running run whose owning process is gone; returns their ids."""
        out = []
        for run in self.store.list_runs(status=("running",), limit=100000):
            if run.owner == self.identity:
                if run.id in self._jobs:
                    continue
            elif procs.identity_alive(run.owner) is not False:
                continue  # a live process (or another host) owns it
            if run.pid and procs.identity_alive(run.pid_identity):
                procs.kill_tree(run.pid)  # an orphaned notebook: nobody would ever read its result
            error = RunErrorData(ename="Interrupted", evalue="the app stopped while this run was running; its "
                                 "partial output notebook is kept. Run it again.", cell_index=run.progress.cell_index)
            out_nb = run.output_notebook
            if self.store.finish_run(run.id, "interrupted", error=error,
                                     output_notebook=out_nb if out_nb and Path(out_nb).is_file() else None):
                log.warning("run %s was running when its process died: marked interrupted", run.id)
                out.append(run.id)
        return out

    # -- the Runner protocol ----------------------------------------------------------------------
    def submit(self, notebook: str | Path, parameters: dict[str, Any] | None = None, *, kind: str = "adhoc",
               plan_id: int | None = None, timeout_s: float | None = None, data: dict | None = None) -> int:
        """Queue a run and return its id at once."""
        path = Path(notebook).expanduser().resolve()
        if not path.is_file():
            raise NotebookContractError(f"notebook not found: {path}")
        parameters = dict(parameters or {})
        try:
            json.dumps(parameters)  # strictly: the record's dumps() would turn an object into its str()
        except (TypeError, ValueError) as exc:
            raise ValueError(f"parameters must be JSON values (numbers, strings, lists, dicts): {exc}") from exc
        if timeout_s is not None and timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        run_id = self.store.add_run(str(path), parameters, kind=kind, plan_id=plan_id, data=data, timeout_s=timeout_s)
        with self._lock:
            self._own.add(run_id)
            self._done.setdefault(run_id, threading.Event())
        self.start()
        self._wake.set()
        return run_id

    def run(self, notebook: str, parameters: dict[str, Any], *, kind: str = "adhoc", plan_id: int | None = None,
            timeout_s: float | None = None) -> RunOutcome:
        """Queue, wait for the turn, execute, return (blocking)."""
        return self.wait(self.submit(notebook, parameters, kind=kind, plan_id=plan_id, timeout_s=timeout_s))

    def wait(self, run_id: int, timeout: float | None = None) -> RunOutcome:
        """Block until ``run_id`` ends; ``TimeoutError`` after ``timeout`` seconds (the run goes on)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        done = self._done.get(run_id)
        while True:
            run = self.store.get_run(run_id)
            if run is None:
                raise UnknownRunError(f"no run {run_id} in the record")
            if run.status in FINAL:
                return outcome_of(run)
            left = WAIT_POLL_S if deadline is None else min(WAIT_POLL_S, deadline - time.monotonic())
            if left <= 0:
                raise TimeoutError(f"run {run_id} is still {run.status} after {timeout:g} s")
            if done is not None:
                done.wait(left)
            else:
                time.sleep(left)

    def cancel(self, run_id: int) -> str:
        """Cancel a queued run at once or stop a running one; returns its status now ('cancelled' or
        'running' while it stops). Ending runs are left as they are."""
        status = self.store.request_cancel(run_id)
        if status is None:
            raise UnknownRunError(f"no run {run_id} in the record")
        with self._lock:
            event = self._cancel.get(run_id)
        if event is not None:
            event.set()
        if status == "cancelled":
            self._notify(run_id)
        return status

    def outcome(self, run_id: int) -> RunOutcome:
        run = self.store.get_run(run_id)
        if run is None:
            raise UnknownRunError(f"no run {run_id} in the record")
        return outcome_of(run)

    # -- the dispatcher ---------------------------------------------------------------------------
    def _dispatch(self) -> None:
        last_recover = time.monotonic()
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_recover > RECOVER_EVERY_S:
                    last_recover = time.monotonic()
                    self.recover()  # another process sharing the record may have died
                run = self._claim()
            except Exception:  # boundary: a vanished data dir or a locked record must not kill the worker
                log.exception("the run queue could not be read")
                run = None
                self._stop.wait(IDLE_POLL_S)
            if run is not None:
                self._launch(run)
                continue
            self._wake.wait(IDLE_POLL_S)
            self._wake.clear()

    def _claim(self) -> Run | None:
        with self._lock:
            only = None if self.adopt_queue else tuple(i for i in self._own if i not in self._jobs)
        if only == ():
            return None
        queued = [r.id for r in self.store.list_runs(status=("queued",), limit=100000)]
        if not any(only is None or i in only for i in queued):
            return None  # nothing to run: a Ray executor is not even connected yet
        slots = self.executor.slots()  # the cluster's run slots for Ray (capped by MLR_MAX_PARALLEL_RUNS)
        if slots < 1:
            return None  # the executor cannot take runs now (its problem() says why): they wait in the queue
        return self.store.claim_next_run(slots, owner=self.identity, only_ids=only)

    def _launch(self, run: Run) -> None:
        run_id = run.id
        with self._lock:
            cancel = self._cancel.setdefault(run_id, threading.Event())
            self._done.setdefault(run_id, threading.Event())
            thread = threading.Thread(target=self._execute, args=(run, cancel), name=f"mlr-run-{run_id}",
                                      daemon=True)
            self._jobs[run_id] = thread
        thread.start()

    def _execute(self, run: Run, cancel: threading.Event) -> None:
        run_id = run.id
        try:
            RunJob(self.settings, self.store, run, cancel, self.executor).execute()
        except Exception as exc:  # boundary: the run must end in the record whatever happened here
            log.exception("run %s: the runner failed", run_id)
            self.store.finish_run(run_id, "failed", error=RunErrorData(
                ename="RunnerError", evalue=f"the runner failed before the notebook ended: {exc}"))
        finally:
            with self._lock:
                self._jobs.pop(run_id, None)
                self._cancel.pop(run_id, None)
            self._notify(run_id)
            self._wake.set()  # a slot is free

    def _notify(self, run_id: int) -> None:
        with self._lock:
            event = self._done.get(run_id)
        if event is not None:
            event.set()
