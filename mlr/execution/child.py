"""The process that runs one notebook: ``python -m mlr.execution.child SPEC.json``.

Started by :mod:`mlr.execution.job` in its own session with the run directory as working directory,
so papermill's ``os.chdir`` and the kernel never touch the app. It writes three files there:
``progress.json`` (cell i of n, rewritten atomically at each cell), ``output.log`` (the cells' printed
output as it streams) and ``result.json`` (status and error, once, at the end).

SIGTERM (cancel, whole-run timeout) and the death of the parent both kill the kernel's process
group; nbclient then stops with a dead kernel and papermill still saves the output notebook.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from mlr import atomic
from mlr.execution import kernels

log = logging.getLogger("mlr.execution.child")

PROGRESS_FILE, RESULT_FILE, OUTPUT_LOG = "progress.json", "result.json", "output.log"


def write_json_atomic(path: Path, value) -> None:
    atomic.write_text(path, json.dumps(value, default=str))


class Tracker:
    """nbclient hooks → progress.json, and which user cell was running when something went wrong."""

    def __init__(self, run_dir: Path, user_ids: list[str], code_ids: list[str]):
        self.run_dir = run_dir
        self.index_of = {cid: i for i, cid in enumerate(user_ids)}  # cell id -> index in the user's notebook
        self.number_of = {cid: n for n, cid in enumerate(code_ids, start=1)}
        self.total = len(code_ids)
        self.current: int | None = None
        self.error_cell: int | None = None
        self.done = 0
        self.stop_reason: str | None = None
        self.cells_started = False  # False while the kernel is starting: an error then is the kernel's
        self.write("starting")

    def write(self, phase: str, number: int | None = None) -> None:
        write_json_atomic(self.run_dir / PROGRESS_FILE, {
            "phase": phase, "cell_index": self.current, "cell_number": number, "cells_total": self.total,
            "cells_done": self.done, "cell_started": time.time(), "child_pid": os.getpid()})

    def on_cell_start(self, cell, cell_index, **_):
        cid = cell.get("id")
        self.cells_started = True
        self.current = self.index_of.get(cid)  # None: papermill's injected parameters cell
        self.write("parameters" if self.current is None else "running", self.number_of.get(cid))

    def on_cell_executed(self, cell, cell_index, **_):
        if cell.get("id") in self.number_of:
            self.done += 1

    def on_cell_error(self, cell, cell_index, **_):
        self.error_cell = self.index_of.get(cell.get("id"))


def kill_kernels(reason: str, tracker: Tracker) -> None:
    """Kill every process below us (the kernel and what it started), each by its process group too."""
    import psutil

    tracker.stop_reason = tracker.stop_reason or reason
    me = os.getpid()
    for proc in psutil.Process(me).children(recursive=True):
        try:
            pgid = os.getpgid(proc.pid)
            if pgid not in (os.getpgrp(), 0, 1):
                os.killpg(pgid, signal.SIGKILL)
            proc.kill()
        except (OSError, psutil.Error):
            continue


def watch_parent(parent: int, tracker: Tracker) -> None:
    # Own session: nobody signals us when the app dies, so notice it and take the kernel down with us.
    # Once stopping, keep killing: a kernel still starting when SIGTERM came appears only later.
    while True:
        time.sleep(0.5)
        if os.getppid() != parent and tracker.stop_reason is None:
            log.warning("parent %s is gone: stopping the run", parent)
            kill_kernels("interrupted", tracker)
        elif tracker.stop_reason:
            kill_kernels(tracker.stop_reason, tracker)


def prepare(spec: dict, run_dir: Path):
    """Snapshot the notebook into the run directory with a stable id on every cell."""
    import uuid

    import nbformat

    from mlr.execution.notebook_source import read_notebook

    nb = read_notebook(spec["notebook"])  # an .ipynb, or a .py script converted as the page converts it
    if not spec.get("kernel_name"):  # none chosen for this run: the notebook's own when installed
        spec["kernel_name"] = kernels.choose(kernels.notebook_kernel(nb), spec.get("kernel_fallback") or "python3")
    if not ((nb.metadata.get("kernelspec") or {}).get("language") or (nb.metadata.get("language_info") or {})
            .get("name")):  # papermill writes the parameters in the notebook's language: the kernel's, if unsaid
        kernel = next((k for k in kernels.installed() if k.name == spec["kernel_name"]), None)
        nb.metadata["language_info"] = {"name": kernel.language if kernel and kernel.language else "python"}
    if nb.get("nbformat_minor", 0) < 5:
        nb.nbformat_minor = 5  # cell ids exist from 4.5 on
    for cell in nb.cells:
        if not cell.get("id"):
            cell["id"] = uuid.uuid4().hex[:12]
    snapshot = run_dir / "input.ipynb"
    nbformat.write(nb, str(snapshot))
    user_ids = [c["id"] for c in nb.cells]
    code_ids = [c["id"] for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    return snapshot, user_ids, code_ids


def execute(spec: dict, run_dir: Path, tracker: Tracker, snapshot: Path) -> dict:
    import papermill
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError, strip_color

    started = time.monotonic()
    error = None
    with open(run_dir / OUTPUT_LOG, "a", encoding="utf-8", buffering=1) as out:
        try:
            papermill.execute_notebook(
                str(snapshot), spec["output"], parameters=spec["parameters"], kernel_name=spec["kernel_name"],
                execution_timeout=spec["cell_timeout_s"], start_timeout=spec.get("start_timeout_s", 60),
                progress_bar=False, log_output=True, stdout_file=out, stderr_file=out,
                autosave_cell_every=spec.get("autosave_s", 10),
                on_cell_start=tracker.on_cell_start, on_cell_executed=tracker.on_cell_executed,
                on_cell_error=tracker.on_cell_error)
            status = "succeeded"
        except PapermillExecutionError as exc:
            status = "failed"
            error = {"ename": exc.ename, "evalue": strip_color(str(exc.evalue)),
                     "traceback": strip_color("\n".join(exc.traceback or [])), "cell_index": tracker.error_cell}
        except CellTimeoutError as exc:
            status = "timed_out"
            error = {"ename": "CellTimeoutError", "evalue": f"a cell ran longer than the per-cell limit of "
                     f"{spec['cell_timeout_s']:g} s ({exc})", "traceback": "", "cell_index": tracker.current}
        except DeadKernelError as exc:
            status = "failed"
            error = {"ename": "DeadKernelError", "evalue": "the kernel died while running this cell (a crash, "
                     f"os._exit, or the out-of-memory killer): {exc}", "traceback": "",
                     "cell_index": tracker.current}
        except NoSuchKernel:
            status = "failed"
            error = {"ename": "KernelNotFound", "evalue": kernels.not_installed_message(spec["kernel_name"]),
                     "traceback": "", "cell_index": None}
        except Exception as exc:  # boundary: anything else papermill or the kernel manager raises
            if tracker.stop_reason:
                log.info("stopped (%s): %s", tracker.stop_reason, exc)
            else:
                log.exception("run failed")
            status = "failed"
            error = {"ename": type(exc).__name__, "evalue": str(exc), "traceback": "",
                     "cell_index": tracker.current}
            if not (tracker.cells_started or tracker.stop_reason) and isinstance(exc, (OSError, RuntimeError)):
                # nothing ran and the launch or the first reply failed: the kernel did not start
                error = {"ename": "KernelStartError", "evalue": f"the kernel {spec['kernel_name']!r} could not "
                         f"start ({type(exc).__name__}: {exc}); the installed kernels are: "
                         f"{kernels.names_in_words(kernels.installed())}", "traceback": "", "cell_index": None}
    if tracker.stop_reason:  # the kernel died because we killed it
        status = tracker.stop_reason
    return {"status": status, "error": error, "seconds": round(time.monotonic() - started, 3)}


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # papermill also logs every printed line at INFO: output.log has them already.
    logging.getLogger("papermill").setLevel(logging.WARNING)
    if os.environ.get("MLR_NET_ISOLATED") == "1":  # a network namespace of our own: papermill needs its loopback
        from mlr.execution.isolation import loopback_up

        loopback_up()
    spec_path = Path(argv[0])
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    run_dir = spec_path.parent
    try:
        snapshot, user_ids, code_ids = prepare(spec, run_dir)
    except Exception as exc:  # boundary: the notebook vanished or became unreadable since it was queued
        write_json_atomic(run_dir / RESULT_FILE, {"status": "failed", "seconds": 0.0, "error": {
            "ename": "NotebookContractError", "evalue": f"cannot read {spec['notebook']}: {exc}",
            "traceback": "", "cell_index": None}})
        return 1
    tracker = Tracker(run_dir, user_ids, code_ids)
    signal.signal(signal.SIGTERM, lambda *_: kill_kernels("cancelled", tracker))
    threading.Thread(target=watch_parent, args=(spec["parent_pid"], tracker), daemon=True).start()
    result = execute(spec, run_dir, tracker, snapshot)
    tracker.write("finished")
    write_json_atomic(run_dir / RESULT_FILE, result)
    return 0


def leave(code: int) -> None:
    """Exit at once once the result is written: the kernel is already shut down and every file this process wrote
    is on disk (atomic, fsynced), so the interpreter's teardown of papermill, zmq and jupyter_client would only
    keep the run's caller waiting."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    leave(main(sys.argv[1:]))
