"""The Ray executor: each run is a Ray generator task on whichever node has the resources (driver side).

- Connecting: ``MLR_RAY_ADDRESS`` empty starts a local Ray instance with the first run (no dashboard, a small
  object store, token authentication as Ray sets it up); ``auto`` or ``ray://host:10001`` joins a cluster. A
  cluster that does not answer is retried every :data:`RETRY_S`; meanwhile :meth:`RayExecutor.slots` is 0, so
  runs wait in the queue, and :meth:`problem` says why (the sidebar, ``status --json``).
- Slots: the cluster's CPUs (GPUs, custom resources) divided by what one run asks for, capped by
  ``MLR_MAX_PARALLEL_RUNS`` when it is set; Ray places each task.
- A run: the prototype's folder travels through the object store (``packing``; above ``MLR_RAY_MAX_SHIP_MB`` the
  run fails with a message), unless it lies under ``MLR_RAY_SHARED_DIR``; the task (:mod:`ray_task`) streams
  progress events, written to the record as the local executor's are; its last event carries the run folder,
  unpacked into this run's folder. ``max_retries=0``: a user's notebook never runs twice silently.
- Cancel and timeout: the driver asks the task to stop through a small actor (:class:`ray_task.RunControl`), so
  the task kills the run's process groups itself and still sends the executed notebook back; only when it does
  not answer within a grace period is the task force-cancelled (``ray.cancel(force=True)``; the child then
  notices its parent's death and kills its kernel, and the next task on that node sweeps what is left).
- A worker or node that dies mid-run: the run fails with "worker lost" and can be run again.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import queue
import sys
import threading
import time
from pathlib import Path

from mlr import system
from mlr.config import REPO_ROOT
from mlr.execution.executors import packing
from mlr.execution.executors.base import GRACE_S, PROGRESS_EVERY_S, Launch, RunContext, Watched

log = logging.getLogger(__name__)

# Ray 2.60 reads RAY_AUTH_MODE when it is imported: a driver joining a cluster that `ray start` set up with token
# authentication (~/.ray/auth_token) must say "token" too. Never turned off here (RAY_AUTH_MODE=disabled opts out).
if "ray" not in sys.modules:
    os.environ.setdefault("RAY_AUTH_MODE", "token")

MIB = 1024 * 1024
RETRY_S = 15.0  # how often an unreachable cluster is tried again
RESOURCES_EVERY_S = 5.0  # how long the cluster's resources are cached for slot counting
FORCE_AFTER_S = GRACE_S + 20.0  # after asking a task to stop: force-cancel it when it has not ended
TIMEOUT_MARGIN_S = GRACE_S + 30.0  # the task enforces the whole-run timeout; this is the driver's backstop
UNSTARTED_S = 3.0  # a cancelled task that has sent no event yet (waiting for a node) is force-cancelled after this

_lock = threading.RLock()
_state: dict = {"problem": None, "last_try": 0.0, "control": None, "resources": None, "resources_at": 0.0,
                "task": None}


def _address_words(address: str) -> str:
    return address or "a local Ray instance"


PROBE_TIMEOUT_S = 3.0


def _head(address: str) -> tuple[str, int] | None:
    """The head's host and port for ``address`` (``auto``: the address Ray itself would use, from RAY_ADDRESS or
    the cluster file ``ray start`` writes); None when ``auto`` finds no cluster."""
    import os
    import tempfile

    if address == "auto":
        address = os.environ.get("RAY_ADDRESS", "")
        if not address or address == "auto":
            current = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
            try:
                address = current.read_text(encoding="utf-8").strip()
            except OSError:
                return None
    hostport = address.split("://", 1)[-1].rsplit("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    try:
        return (host or "127.0.0.1").strip("[]"), int(port or (10001 if address.startswith("ray://") else 6379))
    except ValueError:
        return None


def probe(address: str, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """A TCP connect to the head before ``ray.init``, which waits minutes on an address where nothing answers."""
    import socket

    head = _head(address)
    if head is None:
        return "MLR_RAY_ADDRESS=auto, but no Ray cluster was started on this machine (`ray start --head`)"
    try:
        with socket.create_connection(head, timeout=timeout_s):
            return None
    except OSError as exc:
        return f"nothing answers at {head[0]}:{head[1]} ({exc})"


def connect(config) -> str | None:
    """Connect this process to Ray once (or reuse a connection made elsewhere, e.g. a test's); returns the
    problem in words when the cluster cannot be reached (tried again after :data:`RETRY_S`)."""
    import ray

    with _lock:
        if ray.is_initialized():
            _state["problem"] = None
            return None
        if _state["problem"] and time.monotonic() - _state["last_try"] < RETRY_S:
            return _state["problem"]
        _state["last_try"] = time.monotonic()
        common = {"namespace": "mlr", "log_to_driver": False, "logging_level": logging.WARNING,
                  # workers import mlr from this checkout's path (the same path on every node of a cluster)
                  "job_config": ray.job_config.JobConfig(code_search_path=[str(REPO_ROOT)])}
        unreachable = probe(config.ray_address) if config.ray_address else None
        if unreachable:
            _state["problem"] = (f"the Ray cluster at {config.ray_address} is unreachable: {unreachable}; runs wait in "
                                 "the queue until it answers (MLR_RAY_ADDRESS)")
            log.warning("%s", _state["problem"])
            return _state["problem"]
        try:
            if config.ray_address:
                ray.init(address=config.ray_address, **common)
            else:
                ray.init(num_cpus=config.ray_num_cpus or None, include_dashboard=False,
                         object_store_memory=config.ray_object_store_mb * MIB, **common)
        except Exception as exc:  # boundary: ConnectionError, a timeout, a version mismatch: all mean "not now"
            try:
                ray.shutdown()
            except Exception:  # boundary: a half-made connection that cannot even be shut down
                log.debug("ray.shutdown after a failed connect", exc_info=True)
            _state["problem"] = (f"the Ray cluster at {_address_words(config.ray_address)} is unreachable "
                                 f"({type(exc).__name__}: {str(exc)[:300]}); runs wait in the queue until it answers "
                                 "(MLR_RAY_ADDRESS)")
            log.warning("%s", _state["problem"])
            return _state["problem"]
        _state["problem"] = None
        log.info("connected to Ray (%s)", _address_words(config.ray_address))
        return None


def _resources(refresh: bool = False) -> dict:
    import ray

    with _lock:
        if refresh or _state["resources"] is None or time.monotonic() - _state["resources_at"] > RESOURCES_EVERY_S:
            _state["resources"] = ray.cluster_resources()
            _state["resources_at"] = time.monotonic()
        return dict(_state["resources"])


def _control():
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from mlr.execution.executors.ray_task import RunControl

    with _lock:
        if _state["control"] is None:
            here = ray.get_runtime_context().get_node_id()  # on the driver's node: it lives as long as the driver
            _state["control"] = ray.remote(RunControl).options(
                num_cpus=0, max_restarts=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=True)).remote()
        return _state["control"]


def _pump(gen, out: queue.Queue) -> None:
    """Read the task's events as they come (a thread: the watcher must go on while the task is silent)."""
    import ray

    try:
        for ref in gen:
            out.put(("event", ray.get(ref)))
        out.put(("end", None))
    except Exception as exc:  # boundary: every Ray failure ends the run; classified by the watcher
        out.put(("error", exc))


class RayExecutor:
    kind = "ray"

    def __init__(self, config):
        self.config = config
        self.custom = json.loads(config.ray_resources) if config.ray_resources.strip() else {}
        if not isinstance(self.custom, dict):
            raise TypeError(f"MLR_RAY_RESOURCES must be a JSON object, got {config.ray_resources!r}")

    # -- capacity --------------------------------------------------------------------------------------------
    def gpus_per_run(self, resources: dict | None = None) -> float:
        if self.config.ray_gpus_per_run is not None:
            return float(self.config.ray_gpus_per_run)
        resources = _resources() if resources is None else resources
        return 1.0 if resources.get("GPU", 0) > 0 else 0.0

    def slots(self) -> int:
        if connect(self.config) is not None:
            return 0
        res = _resources()
        asks = {"CPU": self.config.ray_cpus_per_run, "GPU": self.gpus_per_run(res), **self.custom}
        counts = [int(res.get(name, 0) // amount) for name, amount in asks.items() if amount > 0]
        n = min(counts) if counts else max(1, self.config.max_parallel_runs)
        if self.config.max_parallel_set:
            n = min(n, max(1, self.config.max_parallel_runs))
        return max(0, n)

    def problem(self) -> str | None:
        import ray

        if _state["problem"]:
            return _state["problem"]
        if ray.is_initialized() and self.slots() == 0:
            return (f"no node of the Ray cluster has what one run asks for (CPU {self.config.ray_cpus_per_run:g}, "
                    f"GPU {self.gpus_per_run():g}, {self.custom or 'no custom resources'}): runs wait in the queue")
        return None

    def describe(self) -> dict:
        import ray

        address = self.config.ray_address or "local"
        if not ray.is_initialized() and not self.config.ray_address:
            return {"kind": "ray", "address": address, "nodes": 1, "gpus_free": len(system.gpus()),
                    "slots": None, "problem": None, "note": "a local Ray instance starts with the first run"}
        problem = connect(self.config)
        if problem:
            return {"kind": "ray", "address": address, "nodes": 0, "gpus_free": 0, "slots": 0, "problem": problem}
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        free = ray.available_resources()
        return {"kind": "ray", "address": address, "nodes": len(nodes), "gpus_free": free.get("GPU", 0.0),
                "cpus_free": free.get("CPU", 0.0), "slots": self.slots(), "problem": self.problem()}

    # -- one run ---------------------------------------------------------------------------------------------
    def _shared(self, path: Path) -> bool:
        shared = self.config.ray_shared_dir.strip()
        return bool(shared) and path.resolve().is_relative_to(Path(shared).expanduser().resolve())

    def run(self, launch: Launch, ctx: RunContext) -> Watched:
        import ray

        from mlr.execution.executors.ray_task import run_notebook

        problem = connect(self.config)
        if problem:
            return Watched(None, -1, {}, error={"ename": "RayUnavailable", "evalue": problem})
        limit = int(self.config.ray_max_ship_mb * MIB)
        bundle = None
        if not self._shared(launch.notebook.parent):
            try:
                # never the app's own workspace (record, runs) when it lies inside the prototype's folder
                bundle = ray.put(packing.pack(launch.notebook.resolve().parent, limit,
                                              exclude=(self.config.runs_dir.parent,)))
            except packing.FolderTooLarge as exc:
                return Watched(None, -1, {}, error={"ename": "PrototypeTooLarge", "evalue": (
                    f"the prototype's folder cannot be sent to a Ray worker: {exc}. Keep large data files out of the "
                    "notebook's folder (on storage every node mounts, with MLR_RAY_SHARED_DIR naming it) or raise "
                    "MLR_RAY_MAX_SHIP_MB.")})
        fields = dataclasses.asdict(launch)
        payload = {"launch": {**fields, "run_dir": str(launch.run_dir), "notebook": str(launch.notebook)},
                   "shared_run_dir": self._shared(launch.run_dir), "max_ship_bytes": limit}
        control = _control()
        gpus = self.gpus_per_run()
        with _lock:
            if _state.get("task") is None:
                _state["task"] = ray.remote(run_notebook)
        task = _state["task"].options(
            num_cpus=self.config.ray_cpus_per_run, num_gpus=gpus, resources=self.custom or None, max_retries=0,
            name=f"mlr-run-{launch.run_id}")
        started = time.monotonic()
        gen = task.remote(payload, bundle, control)
        events: queue.Queue = queue.Queue()
        threading.Thread(target=_pump, args=(gen, events), name=f"mlr-ray-run-{launch.run_id}", daemon=True).start()
        waiting = {**launch.extra, "phase": "waiting for a Ray node", "elapsed_s": 0.0}
        progress: dict = {}
        done, failure, asked_at, forced, last_wait = None, None, None, None, 0.0
        try:
            while True:
                try:
                    kind, value = events.get(timeout=0.2)
                except queue.Empty:
                    kind, value = None, None
                now = time.monotonic()
                if kind == "event" and value.get("type") == "progress":
                    progress = value["progress"]
                    ctx.report(progress)
                elif kind == "event" and value.get("type") == "done":
                    done = value
                elif kind == "end":
                    break
                elif kind == "error":
                    failure = value
                    break
                if not progress and now - last_wait >= PROGRESS_EVERY_S:  # queued in Ray: say so, see cancels
                    last_wait = now
                    ctx.report({**waiting, "elapsed_s": round(now - started, 1)})
                if ctx.cancel_event.is_set() and asked_at is None:
                    log.info("run %s: cancelled, asking its Ray task to stop", launch.run_id)
                    asked_at = now
                    control.stop.remote(launch.run_id, "cancelled")  # a task not started yet reads it first thing
                waited = now - asked_at if asked_at is not None else 0.0
                # A task still waiting for a node (no event yet) has nothing to save: it goes after a short wait.
                if forced is None and ((asked_at is not None and (waited > FORCE_AFTER_S
                                                                  or (not progress and waited > UNSTARTED_S)))
                                       or now - started > launch.timeout_s + TIMEOUT_MARGIN_S):
                    forced = "cancelled" if asked_at is not None else "timed_out"
                    log.warning("run %s: its Ray task did not stop: force-cancelling it", launch.run_id)
                    ray.cancel(gen, force=True)
        finally:
            control.forget.remote(launch.run_id)
        if done is not None:
            if done.get("files"):
                packing.unpack(done["files"], launch.run_dir)
            if done.get("note"):
                log.warning("run %s: %s", launch.run_id, done["note"])
            return Watched(done.get("stop_reason"), int(done.get("returncode") or 0), done.get("progress") or progress)
        if forced is not None:
            return Watched(forced, -1, progress)
        return Watched(None, -1, progress, error=self._lost(failure, progress))

    @staticmethod
    def _lost(failure: BaseException | None, progress: dict) -> dict:
        import ray

        where = f" on node {progress['node']}" if progress.get("node") else ""
        if isinstance(failure, ray.exceptions.RayTaskError):  # our task code raised: say what
            return {"ename": "RayTaskError", "evalue": f"the run's Ray task failed{where}: {str(failure)[-1500:]}"}
        what = type(failure).__name__ if failure is not None else "the task ended without a result"
        return {"ename": "WorkerLost", "evalue": f"worker lost: the Ray worker running this notebook{where} died "
                f"({what}). The run can be run again."}
