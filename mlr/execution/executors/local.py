"""The local executor: the run's child process on this machine, watched from this process (the default)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

from mlr import system
from mlr.config import REPO_ROOT
from mlr.execution import isolation, procs
from mlr.execution.executors.base import (
    GRACE_S,
    PROGRESS_EVERY_S,
    SCAN_EVERY_S,
    TICK_S,
    Launch,
    RunContext,
    Watched,
    progress_snapshot,
)

log = logging.getLogger(__name__)

# The child imports mlr from this checkout without PYTHONPATH, which the kernel would inherit.
CHILD_BOOT = (f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); "
              "from mlr.execution.child import main, leave; leave(main(sys.argv[1:]))")


def child_env(launch: Launch, run_dir, notebook_dir, isolated: bool, environ=None) -> dict[str, str]:
    """The child's (and kernel's) environment: allow-listed from ``environ``, plus the run's own variables."""
    return isolation.kernel_env(os.environ if environ is None else environ, {
        **launch.env_extra, "MLR_RUN_DIR": str(run_dir), "PYTHONUNBUFFERED": "1",
        "MLR_NOTEBOOK_DIR": str(notebook_dir), "MLR_NET_ISOLATED": "1" if isolated else "0"},
        allow=launch.env_allow)


def start_child(spec_path, run_dir, env: dict, isolated: bool) -> subprocess.Popen:
    """``python -c CHILD_BOOT spec.json`` in its own session (its process group can be killed as a whole)."""
    with open(run_dir / "child.log", "ab") as child_log:
        return subprocess.Popen(isolation.command([sys.executable, "-c", CHILD_BOOT, str(spec_path)], isolated),
                                cwd=run_dir, env=env, stdin=subprocess.DEVNULL, stdout=child_log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def signal_child(proc: subprocess.Popen, sig: int) -> None:
    try:
        proc.send_signal(sig)
    except ProcessLookupError:
        pass


class ChildWatch:
    """Remembers a child's process tree while it lives, so everything it started can be killed at the end."""

    def __init__(self, proc: subprocess.Popen):
        self.proc, self.seen, self.groups, self.last_scan = proc, {}, set(), 0.0

    def scan(self, now: float) -> bool:
        if now - self.last_scan < SCAN_EVERY_S:
            return False
        self.last_scan = now
        tree = procs.tree(self.proc.pid)
        self.seen.update({p.pid: p for p in tree})
        self.groups |= procs.groups_of(tree)
        return True

    def kill(self, wait_s: float = 2.0) -> list[int]:
        return procs.kill_tree(self.proc.pid, list(self.seen.values()), self.groups, wait_s=wait_s)


class LocalExecutor:
    kind = "local"

    def __init__(self, config):
        self.config = config

    def slots(self) -> int:
        return max(1, self.config.max_parallel_runs)

    def problem(self) -> str | None:
        return None

    def describe(self) -> dict:
        gpus = system.gpus()
        return {"kind": "local", "address": None, "nodes": 1, "gpus_free": len(gpus), "slots": self.slots(),
                "problem": None}

    def run(self, launch: Launch, ctx: RunContext) -> Watched:
        network = isolation.state(launch.kernel_network, launch.online_sources)
        env = child_env(launch, launch.run_dir, launch.notebook.resolve().parent, network.isolated)
        if "gpu_index" in launch.extra:
            env["CUDA_VISIBLE_DEVICES"] = str(launch.extra["gpu_index"])
        spec_path = launch.run_dir / "spec.json"
        started = time.monotonic()
        proc = start_child(spec_path, launch.run_dir, env, network.isolated)
        ctx.started(pid=proc.pid, pid_identity=procs.process_identity(proc.pid))
        extra = {**launch.extra, "net_isolated": network.isolated}
        watch = ChildWatch(proc)
        stop_reason, stop_at, last_write, progress = None, 0.0, 0.0, {}
        while True:
            try:
                returncode = proc.wait(timeout=TICK_S)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if stop_reason is None:
                if ctx.cancel_event.is_set():
                    stop_reason = "cancelled"
                elif now - started > launch.timeout_s:
                    stop_reason = "timed_out"
                if stop_reason:
                    log.info("run %s: %s, stopping it", launch.run_id, stop_reason)
                    stop_at = now
                    signal_child(proc, signal.SIGTERM)
            elif now - stop_at > GRACE_S:
                log.warning("run %s did not stop within %.0f s: killing its process tree", launch.run_id, GRACE_S)
                watch.kill()
            watch.scan(now)  # remember the kernel and its children while they exist
            if now - last_write >= PROGRESS_EVERY_S:
                last_write = now
                progress = progress_snapshot(launch.run_dir, proc.pid, now - started, extra)
                ctx.report(progress)  # also notices a cancel asked from another process: acted on at the next tick
        # Whatever the notebook left behind (a daemon, a worker that outlived the kernel) goes too.
        leftovers = watch.kill()
        if leftovers:
            log.error("run %s: processes %s survived SIGKILL", launch.run_id, leftovers)
        return Watched(stop_reason, returncode, progress)
