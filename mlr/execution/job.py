"""One claimed run, from start to its final record: spawn the child, watch it, stop it, read results.

Runs in a worker thread of the process that claimed the run. The child (``mlr.execution.child``)
writes progress and results to files in the run directory; this side adds what only the parent can
see (elapsed time, CPU/RAM of the process tree, GPUs, the output tail) and writes it to the record,
so every browser tab, a refresh and the CLI read the same live state.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from mlr import system
from mlr.config import REPO_ROOT
from mlr.execution import found_metrics, isolation, kernels, procs
from mlr.execution.child import OUTPUT_LOG, PROGRESS_FILE, RESULT_FILE, write_json_atomic
from mlr.execution.runner_config import RunnerConfig
from mlr.store import Store
from mlr.store.records import Run

log = logging.getLogger(__name__)

TICK_S = 0.05  # how soon the end of a run is noticed
PROGRESS_EVERY_S = 1.0  # how often the record's progress is rewritten (and a cross-process cancel is seen)
SCAN_EVERY_S = 0.3  # how often the process tree is re-read (the kernel appears ~1 s after start)
GRACE_S = 5.0  # after SIGTERM, how long the child may take to save the notebook before everything is killed
TAIL_LINES = 30
# The child imports mlr from this checkout without PYTHONPATH, which the kernel would inherit.
CHILD_BOOT = (f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); "
              "from mlr.execution.child import main, leave; leave(main(sys.argv[1:]))")


def tail(path: Path, lines: int = TAIL_LINES, max_bytes: int = 16384) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


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
    """Executes the claimed run ``run`` (a record with status 'running') to its end."""

    def __init__(self, settings: RunnerConfig, store: Store, run: Run, cancel_event: threading.Event):
        self.settings, self.store, self.run, self.cancel_event = settings, store, run, cancel_event
        self.run_id = run.id
        self.run_dir = settings.runs_dir / f"run-{self.run_id:05d}"
        self.output = self.run_dir / "output.ipynb"

    def execute(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        gpus = system.gpus()
        unloaded = unload_llm_if_gpu(self.settings, gpus)
        spec = {"notebook": self.run.notebook, "output": str(self.output), "parameters": self.run.parameters,
                # None: the child takes the notebook's own kernel when installed (it reads the notebook and the
                # kernelspecs anyway; doing it here cost the command line ~150 ms of imports before the child started)
                "kernel_name": self.run.kernel, "kernel_fallback": self.settings.kernel_name,
                "cell_timeout_s": self.settings.cell_timeout_s,
                "parent_pid": os.getpid()}
        spec_path = self.run_dir / "spec.json"
        write_json_atomic(spec_path, spec)
        network = isolation.state(self.settings.kernel_network, self.settings.online_sources)
        # Allow-listed: tokens, keys and passwords of the app's environment never reach the notebook.
        env = isolation.kernel_env(os.environ, {
            "MLR_RUN_ID": str(self.run_id), "MLR_RUN_DIR": str(self.run_dir), "PYTHONUNBUFFERED": "1",
            "MLR_NOTEBOOK_DIR": str(Path(self.run.notebook).resolve().parent),
            "MLR_NET_ISOLATED": "1" if network.isolated else "0"}, allow=self.settings.kernel_env_allow)
        extra: dict = {"llm_unloaded": unloaded, "net_isolated": network.isolated}
        with _gpu_lock:
            gpu = self._assign_gpu(gpus)
            if gpu is not None:
                env["CUDA_VISIBLE_DEVICES"] = str(gpu)
                extra["gpu_index"] = gpu
                self.store.set_progress(self.run_id, {"phase": "starting", "gpu_index": gpu})
        started = time.monotonic()
        with open(self.run_dir / "child.log", "ab") as child_log:
            proc = subprocess.Popen(isolation.command([sys.executable, "-c", CHILD_BOOT, str(spec_path)],
                                                      network.isolated),
                                    cwd=self.run_dir, env=env, stdin=subprocess.DEVNULL, stdout=child_log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.store.update_run(self.run_id, pid=proc.pid, pid_identity=procs.process_identity(proc.pid),
                              run_dir=str(self.run_dir))
        stop_reason, returncode, progress = self._watch(proc, started, extra)
        self._finish(stop_reason, returncode, progress, time.monotonic() - started)

    def _assign_gpu(self, gpus: list[dict]) -> int | None:
        """With several runs at once on several GPUs, give this run a GPU no other running run holds."""
        if len(gpus) < 2 or self.settings.max_parallel_runs < 2:
            return None  # one run at a time: it may use every GPU
        held = [r.progress.gpu_index for r in self.store.list_runs(status=("running",)) if r.id != self.run_id]
        return pick_gpu(gpus, held)

    # -- watching ---------------------------------------------------------------------------------
    def _watch(self, proc: subprocess.Popen, started: float, extra: dict) -> tuple[str | None, int, dict]:
        timeout = self.run.timeout_s or self.settings.run_timeout_s
        seen: dict[int, object] = {}
        groups: set[int] = set()
        stop_reason, stop_at, last_write, last_scan, progress = None, 0.0, 0.0, 0.0, {}
        while True:
            try:
                returncode = proc.wait(timeout=TICK_S)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if stop_reason is None:
                if self.cancel_event.is_set():
                    stop_reason = "cancelled"
                elif now - started > timeout:
                    stop_reason = "timed_out"
                if stop_reason:
                    log.info("run %s: %s, stopping it", self.run_id, stop_reason)
                    stop_at = now
                    self._signal(proc, signal.SIGTERM)
            elif now - stop_at > GRACE_S:
                log.warning("run %s did not stop within %.0f s: killing its process tree", self.run_id, GRACE_S)
                procs.kill_tree(proc.pid, list(seen.values()), groups, wait_s=2.0)
            if now - last_scan >= SCAN_EVERY_S:  # remember the kernel and its children while they exist
                last_scan = now
                tree = procs.tree(proc.pid)
                seen.update({p.pid: p for p in tree})
                groups |= procs.groups_of(tree)
            if now - last_write >= PROGRESS_EVERY_S:
                last_write = now
                progress = self._progress(proc.pid, now - started, extra)
                self.store.set_progress(self.run_id, progress)
                current = self.store.get_run(self.run_id)
                if stop_reason is None and current is not None and current.cancel_requested:
                    self.cancel_event.set()  # asked from another process or tab: acted on at the next tick
        # Whatever the notebook left behind (a daemon, a worker that outlived the kernel) goes too.
        leftovers = procs.kill_tree(proc.pid, list(seen.values()), groups, wait_s=2.0)
        if leftovers:
            log.error("run %s: processes %s survived SIGKILL", self.run_id, leftovers)
        return stop_reason, returncode, progress

    def _signal(self, proc: subprocess.Popen, sig: int) -> None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass

    def _progress(self, pid: int, elapsed: float, extra: dict) -> dict:
        child = _read_json(self.run_dir / PROGRESS_FILE) or {"phase": "starting"}
        child.pop("child_pid", None)
        return {**child, **extra, "elapsed_s": round(elapsed, 1),
                "cell_elapsed_s": round(max(0.0, time.time() - child.get("cell_started", time.time())), 1),
                "output_tail": tail(self.run_dir / OUTPUT_LOG, 12), **system.process_tree(pid),
                "gpus": system.gpus()}

    # -- the end ----------------------------------------------------------------------------------
    def _finish(self, stop_reason: str | None, returncode: int, progress: dict, seconds: float) -> None:
        result = _read_json(self.run_dir / RESULT_FILE)
        child_progress = _read_json(self.run_dir / PROGRESS_FILE) or {}
        metrics, error = None, None
        if stop_reason == "cancelled":
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
