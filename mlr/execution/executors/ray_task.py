"""The worker side of a Ray run: a generator task that runs ``mlr.execution.child`` on the node it landed on.

``run_notebook(payload, bundle, control)`` is wrapped by :mod:`ray_executor` as a Ray generator task. It

1. sweeps the node: process groups of earlier runs whose task worker died (``ray.cancel(force=True)`` kills the
   worker, never a process the worker started in a session of its own) are killed, from the pid files in
   ``<tmp>/mlr-ray/pids/``;
2. unpacks the prototype's folder (``bundle``, through the object store) into a temporary folder, or reads it in
   place under ``MLR_RAY_SHARED_DIR``;
3. starts the child exactly as the local executor does (own session, allow-listed environment, network
   namespace when the node allows it) and yields ``{"type": "progress", ...}`` about once a second: cell i of n,
   the last output lines, CPU/RAM of the child's process tree, the node's GPUs;
4. stops the child when the driver asks (``control``, a small actor: cancel) or the whole-run timeout passes:
   SIGTERM, the child saves the notebook, then the process tree and its groups are killed; when the driver is
   gone (its actor unreachable) the run is stopped the same way;
5. yields ``{"type": "done", "files": <the run folder as .tar.gz>}`` last, and removes its temporary folder.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from mlr.execution import isolation, procs
from mlr.execution.child import write_json_atomic
from mlr.execution.executors import packing
from mlr.execution.executors.base import GRACE_S, PROGRESS_EVERY_S, TICK_S, Launch, progress_snapshot
from mlr.execution.executors.local import ChildWatch, child_env, signal_child, start_child

log = logging.getLogger(__name__)

CONTROL_EVERY_S = 0.5  # how often the driver's stop request is read
KEY_FILES = {"output.ipynb", "metrics.json", "result.json", "output.log", "child.log", "progress.json", "input.ipynb",
             "spec.json"}


def node_base() -> Path:
    path = Path(tempfile.gettempdir()) / "mlr-ray"
    (path / "pids").mkdir(parents=True, exist_ok=True)
    return path


def node_id() -> str:
    try:
        import ray

        return ray.get_runtime_context().get_node_id()
    except Exception:  # boundary: outside a Ray worker (unit use)
        return ""


def node_ip() -> str:
    try:
        import ray

        return ray.util.get_node_ip_address()
    except Exception:  # boundary: outside a Ray worker (unit use)
        return socket.gethostname()


# -- the per-node sweep -------------------------------------------------------------------------------------
def _write_pidfile(path: Path, task_identity: str, watch: ChildWatch | None, temp: Path) -> None:
    identities = {}
    for pid in (watch.seen if watch is not None else ()):
        identity = _identity_or_none(pid)
        if identity:
            identities[str(pid)] = identity
    write_json_atomic(path, {"task": task_identity, "groups": sorted(watch.groups) if watch is not None else [],
                             "identities": identities, "dir": str(temp)})


def _identity_or_none(pid: int) -> str | None:
    try:
        return procs.process_identity(pid)
    except Exception:  # boundary: the process is gone
        return None


def sweep(base: Path | None = None) -> list[int]:
    """Kill what runs of dead task workers left on this node; returns the pids killed."""
    base = base or node_base()
    killed: list[int] = []
    for pidfile in (base / "pids").glob("*.json"):
        try:
            info = json.loads(pidfile.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if procs.identity_alive(info.get("task")):
            continue  # its task is still running
        alive = [int(pid) for pid, identity in info.get("identities", {}).items() if procs.identity_alive(identity)]
        for pgid in info.get("groups", []):
            try:
                os.killpg(int(pgid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in alive:  # by pid too: one that left its group (a new session) still goes
            procs.kill_tree(pid, wait_s=1.0)
        killed.extend(alive)
        if info.get("dir") and Path(info["dir"]).parent == base:  # the dead run's temporary folder
            shutil.rmtree(info["dir"], ignore_errors=True)
        pidfile.unlink(missing_ok=True)
        if alive:
            log.warning("swept processes %s of a run whose Ray worker died", alive)
    return killed


# -- the task -----------------------------------------------------------------------------------------------
def _stop_asked(control, run_id: int) -> str | None:
    import ray

    try:
        return ray.get(control.reason.remote(run_id), timeout=5)
    except ray.exceptions.GetTimeoutError:
        return None
    except ray.exceptions.RayError:  # the driver (which owns the actor) is gone: nobody will read the result
        return "interrupted"


def run_notebook(payload: dict, bundle: bytes | None, control):
    """The generator task (see the module's docstring). ``payload``: the Launch's fields and paths."""
    sweep()
    launch = Launch(**{**payload["launch"], "run_dir": Path(payload["launch"]["run_dir"]),
                       "notebook": Path(payload["launch"]["notebook"])})
    run_id = launch.run_id
    early = _stop_asked(control, run_id)
    if early:  # cancelled while it waited for a node: nothing started, nothing to send back
        yield {"type": "done", "returncode": -1, "stop_reason": early, "progress": {}, "files": None, "note": ""}
        return
    task_identity = procs.process_identity()
    temp = Path(tempfile.mkdtemp(prefix=f"run-{run_id:05d}-", dir=node_base()))
    run_dir = launch.run_dir if payload["shared_run_dir"] else temp / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    pidfile = node_base() / "pids" / f"{run_id}-{temp.name}.json"
    _write_pidfile(pidfile, task_identity, None, temp)  # a sweep removes the folder if this worker dies
    proc: subprocess.Popen | None = None
    try:
        if bundle is not None:
            packing.unpack(bundle, temp / "prototype")
            notebook = temp / "prototype" / launch.notebook.name
        else:
            notebook = launch.notebook  # on the shared filesystem
        spec = {**launch.spec, "notebook": str(notebook), "output": str(run_dir / "output.ipynb"),
                "parent_pid": os.getpid()}
        spec_path = run_dir / "spec.json"
        write_json_atomic(spec_path, spec)
        network = isolation.state(launch.kernel_network, launch.online_sources)
        env = child_env(launch, run_dir, notebook.parent, network.isolated)  # this node's, allow-listed
        started = time.monotonic()
        proc = start_child(spec_path, run_dir, env, network.isolated)
        watch = ChildWatch(proc)
        extra = {**launch.extra, "net_isolated": network.isolated, "node": node_ip(), "node_id": node_id(),
                 "worker_dir": str(run_dir)}
        stop_reason, stop_at, last_yield, last_control, progress = None, 0.0, 0.0, 0.0, {}
        while True:
            try:
                returncode = proc.wait(timeout=TICK_S)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if stop_reason is None:
                if now - last_control >= CONTROL_EVERY_S:
                    last_control = now
                    stop_reason = _stop_asked(control, run_id)
                if stop_reason is None and now - started > launch.timeout_s:
                    stop_reason = "timed_out"
                if stop_reason:
                    log.info("run %s: %s, stopping it", run_id, stop_reason)
                    stop_at = now
                    signal_child(proc, signal.SIGTERM)
            elif now - stop_at > GRACE_S:
                watch.kill()
            if watch.scan(now):
                _write_pidfile(pidfile, task_identity, watch, temp)
            if now - last_yield >= PROGRESS_EVERY_S:
                last_yield = now
                progress = progress_snapshot(run_dir, proc.pid, now - started, extra)
                yield {"type": "progress", "progress": progress}
        leftovers = watch.kill()
        if leftovers:
            log.error("run %s: processes %s survived SIGKILL", run_id, leftovers)
        # The last live snapshot (as the local executor keeps it): the processes it counted are gone by now.
        progress = progress or progress_snapshot(run_dir, proc.pid, time.monotonic() - started, extra)
        files, note = None, ""
        if not payload["shared_run_dir"]:
            try:
                files = packing.pack(run_dir, payload["max_ship_bytes"])
            except packing.FolderTooLarge as exc:  # outputs too large: bring back what the record needs
                note = f"{exc}; only the executed notebook, metrics and logs came back"
                files = packing.pack(run_dir, 1 << 40, only=KEY_FILES)
        yield {"type": "done", "returncode": returncode, "stop_reason": stop_reason, "progress": progress,
               "files": files, "note": note}
    finally:
        if proc is not None and proc.poll() is None:  # the generator was closed early: nothing may survive
            watch.scan(float("inf"))
            watch.kill()
        pidfile.unlink(missing_ok=True)
        shutil.rmtree(temp, ignore_errors=True)


class RunControl:
    """A small actor on the driver's node: the driver writes "stop run N" here, the run's task reads it."""

    def __init__(self):
        self._stops: dict[int, str] = {}

    def stop(self, run_id: int, reason: str) -> None:
        self._stops[run_id] = reason

    def reason(self, run_id: int) -> str | None:
        return self._stops.get(run_id)

    def forget(self, run_id: int) -> None:
        self._stops.pop(run_id, None)
