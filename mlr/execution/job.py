"""One claimed run, from start to its final record: prepare it, hand it to the executor, read the results.

Runs in a worker thread of the process that claimed the run. The executor (:mod:`mlr.execution.executors`:
``local`` or ``ray``) starts the child (``mlr.execution.child``), which writes progress and results to files
in its run directory; the executor adds what only the watching side can see (elapsed time, CPU/RAM of the
process tree, GPUs, the output tail), this job writes it to the record, so every browser tab, a refresh and
the CLI read the same live state, and the files end in this run's folder whichever machine ran it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from mlr import system
from mlr.execution import found_metrics
from mlr.execution.child import OUTPUT_LOG, PROGRESS_FILE, RESULT_FILE, write_json_atomic
from mlr.execution.executors.base import PROGRESS_EVERY_S, Executor, Launch
from mlr.execution.executors.base import read_json as _read_json
from mlr.execution.executors.base import tail
from mlr.execution.runner_config import RunnerConfig
from mlr.store import Store
from mlr.store.records import Run

log = logging.getLogger(__name__)

__all__ = ["RunJob", "tail", "unload_llm_if_gpu", "pick_gpu"]


def unload_llm_if_gpu(settings: RunnerConfig, gpus: list[dict]) -> bool:
    """GPU etiquette: free the chat model's GPU memory before training when a GPU is there."""
    if not (gpus and settings.unload_llm_before_run):
        return False
    from mlr.llm.ollama_backend import OllamaClient

    client = OllamaClient(settings.ollama_host, timeout_s=settings.ollama_probe_timeout_s,
                          probe_timeout_s=settings.ollama_probe_timeout_s)
    unloaded = client.unload(settings.chat_model)
    log.info("asked Ollama to unload %s before the run: %s", settings.chat_model, unloaded)
    return unloaded


_gpu_lock = threading.Lock()  # two runs starting together in this process must not pick the same GPU


def pick_gpu(gpus: list[dict], held: list[int | None]) -> int | None:
    """The first GPU index not held by another run; the least-used one when all are held."""
    free = [g["index"] for g in gpus if g["index"] not in held]
    if free:
        return free[0]
    return min((g["index"] for g in gpus), key=held.count, default=None)


class RunJob:
    """Executes the claimed run ``run`` (a record with status 'running') to its end, through ``executor``."""

    def __init__(self, settings: RunnerConfig, store: Store, run: Run, cancel_event: threading.Event,
                 executor: Executor | None = None):
        if executor is None:
            from mlr.execution.executors.local import LocalExecutor

            executor = LocalExecutor(settings)
        self.settings, self.store, self.run, self.cancel_event = settings, store, run, cancel_event
        self.executor = executor
        self.run_id = run.id
        self.run_dir = settings.runs_dir / f"run-{self.run_id:05d}"
        self.output = self.run_dir / "output.ipynb"
        self._last_check = 0.0

    def execute(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.store.update_run(self.run_id, run_dir=str(self.run_dir))
        gpus = system.gpus()
        unloaded = unload_llm_if_gpu(self.settings, gpus)
        spec = {"notebook": self.run.notebook, "output": str(self.output), "parameters": self.run.parameters,
                # None: the child takes the notebook's own kernel when installed (it reads the notebook and the
                # kernelspecs anyway; doing it here cost the command line ~150 ms of imports before the child started)
                "kernel_name": self.run.kernel, "kernel_fallback": self.settings.kernel_name,
                "cell_timeout_s": self.settings.cell_timeout_s,
                "parent_pid": os.getpid()}
        write_json_atomic(self.run_dir / "spec.json", spec)
        extra: dict = {"llm_unloaded": unloaded, "executor": self.executor.kind}
        if self.executor.kind == "local":  # Ray gives each task its own GPUs (CUDA_VISIBLE_DEVICES)
            with _gpu_lock:
                gpu = self._assign_gpu(gpus)
                if gpu is not None:
                    extra["gpu_index"] = gpu
                    self.store.set_progress(self.run_id, {"phase": "starting", "gpu_index": gpu})
        # Allow-listed: tokens, keys and passwords of the app's environment never reach the notebook.
        launch = Launch(run_id=self.run_id, run_dir=self.run_dir, notebook=Path(self.run.notebook), spec=spec,
                        env_extra={"MLR_RUN_ID": str(self.run_id)}, env_allow=self.settings.kernel_env_allow,
                        kernel_network=self.settings.kernel_network, online_sources=self.settings.online_sources,
                        timeout_s=self.run.timeout_s or self.settings.run_timeout_s, extra=extra)
        started = time.monotonic()
        watched = self.executor.run(launch, self)
        self._finish(watched.stop_reason, watched.returncode, watched.progress, time.monotonic() - started,
                     executor_error=watched.error)

    def _assign_gpu(self, gpus: list[dict]) -> int | None:
        """With several runs at once on several GPUs, give this run a GPU no other running run holds."""
        if len(gpus) < 2 or self.settings.max_parallel_runs < 2:
            return None  # one run at a time: it may use every GPU
        held = [r.progress.gpu_index for r in self.store.list_runs(status=("running",)) if r.id != self.run_id]
        return pick_gpu(gpus, held)

    # -- what an executor may ask (mlr.execution.executors.base.RunContext) ------------------------------
    def report(self, progress: dict) -> None:
        self.store.set_progress(self.run_id, progress)
        now = time.monotonic()
        if now - self._last_check >= PROGRESS_EVERY_S and not self.cancel_event.is_set():
            self._last_check = now
            current = self.store.get_run(self.run_id)
            if current is not None and current.cancel_requested:
                self.cancel_event.set()  # asked from another process or tab

    def started(self, *, pid: int | None = None, pid_identity: str | None = None) -> None:
        if pid is not None:
            self.store.update_run(self.run_id, pid=pid, pid_identity=pid_identity)

    # -- the end ----------------------------------------------------------------------------------
    def _finish(self, stop_reason: str | None, returncode: int, progress: dict, seconds: float, *,
                executor_error: dict | None = None) -> None:
        result = _read_json(self.run_dir / RESULT_FILE)
        child_progress = _read_json(self.run_dir / PROGRESS_FILE) or {}
        metrics, error = None, None
        if executor_error is not None:  # the executor lost the run (a Ray worker died) or could not start it
            status = "failed"
            error = {"traceback": "", "cell_index": child_progress.get("cell_index"), **executor_error}
        elif stop_reason == "cancelled":
            status = "cancelled"
        elif stop_reason == "timed_out":
            status = "timed_out"
            limit = self.run.timeout_s or self.settings.run_timeout_s
            error = {"ename": "RunTimeout", "evalue": f"the run exceeded its time limit of {limit:g} s and was "
                     "stopped", "traceback": "", "cell_index": child_progress.get("cell_index")}
        elif result is None:
            status = "failed"
            error = {"ename": "RunnerError", "evalue": f"the notebook process exited (code {returncode}) without "
                     "a result", "traceback": tail(self.run_dir / "child.log", 40),
                     "cell_index": child_progress.get("cell_index")}
        else:
            status, error = result["status"], result.get("error")
            if status == "succeeded":  # papermill's verdict stands; a run that reports no metric says so beside it
                found = found_metrics.collect(self.run_dir, self.output)
                metrics = found.values
                self.store.update_run(self.run_id, data={**self.run.data, "metrics_found": found.record().model_dump()})
        if error is not None:
            error["last_output"] = tail(self.run_dir / OUTPUT_LOG)
        final = {**progress, **{k: v for k, v in child_progress.items() if k != "child_pid"},
                 "phase": "finished", "elapsed_s": round(seconds, 1)}
        output = str(self.output) if self.output.is_file() else None
        if not self.store.finish_run(self.run_id, status, metrics=metrics, error=error, output_notebook=output,
                                     seconds=round(seconds, 3), progress=final):
            log.warning("run %s was already finished elsewhere; result %s not recorded", self.run_id, status)
        log.info("run %s %s in %.1f s", self.run_id, status, seconds)
