"""The executor seam: what a run needs to start somewhere, what comes back, and the live progress of both.

:class:`mlr.execution.job.RunJob` orchestrates a claimed run (spec, environment, the final record) and hands
the "start the child process and watch it" part to an :class:`Executor`: ``local`` (a child process of this
process) or ``ray`` (a Ray task on whichever node has the resources). Both run the same
``mlr.execution.child`` and leave the same files in the run folder, so :meth:`RunJob._finish` reads them
the same way and every page, the CLI and the loop see no difference.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mlr import system
from mlr.execution.child import OUTPUT_LOG, PROGRESS_FILE

TICK_S = 0.05  # how soon the end of a run is noticed
PROGRESS_EVERY_S = 1.0  # how often the record's progress is rewritten (and a cross-process cancel is seen)
SCAN_EVERY_S = 0.3  # how often the process tree is re-read (the kernel appears ~1 s after start)
GRACE_S = 5.0  # after SIGTERM, how long the child may take to save the notebook before everything is killed
TAIL_LINES = 30


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


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def progress_snapshot(run_dir: Path, pid: int, elapsed: float, extra: dict | None = None) -> dict:
    """The live state of a run, measured where its processes are: cell i of n (the child's progress.json), the
    last output lines, CPU/RAM of the child's process tree, the GPUs."""
    child = read_json(run_dir / PROGRESS_FILE) or {"phase": "starting"}
    child.pop("child_pid", None)
    return {**child, **(extra or {}), "elapsed_s": round(elapsed, 1),
            "cell_elapsed_s": round(max(0.0, time.time() - child.get("cell_started", time.time())), 1),
            "output_tail": tail(run_dir / OUTPUT_LOG, 12), **system.process_tree(pid), "gpus": system.gpus()}


@dataclass
class Launch:
    """Everything an executor needs to start one run's child; paths are this (the driver's) machine's."""

    run_id: int
    run_dir: Path  # where the executed notebook, metrics.json and logs must end up
    notebook: Path
    spec: dict  # the child's spec (mlr.execution.child); an executor may rewrite its paths for another machine
    env_extra: dict[str, str]  # the run's own variables (MLR_RUN_ID…)
    env_allow: str  # MLR_KERNEL_ENV_ALLOW
    kernel_network: str
    online_sources: bool
    timeout_s: float  # the whole run
    extra: dict = field(default_factory=dict)  # merged into every progress write


@dataclass
class Watched:
    """How the child ended. ``error``: the executor's own failure (worker lost, folder too large) for the record."""

    stop_reason: str | None  # cancelled | timed_out | None
    returncode: int
    progress: dict
    error: dict | None = None


class RunContext(Protocol):
    """What an executor may ask of the run it executes (implemented by RunJob)."""

    cancel_event: threading.Event

    def report(self, progress: dict) -> None:
        """Write live progress to the record (and notice a cancel asked from another process)."""

    def started(self, *, pid: int | None = None, pid_identity: str | None = None) -> None:
        """Record where the run's process is (a local pid; None for a run on another machine)."""


class Executor(Protocol):
    kind: str

    def slots(self) -> int:
        """How many runs may execute at once now; 0 while the executor cannot take runs (they wait queued)."""

    def problem(self) -> str | None:
        """Why no run can start now (a cluster unreachable), in words for the sidebar; None when all is well."""

    def describe(self) -> dict:
        """``{"kind", "address", "nodes", "gpus_free", ...}`` for the sidebar and ``status --json``."""

    def run(self, launch: Launch, ctx: RunContext) -> Watched:
        """Start the child, stream its progress into ``ctx``, stop it on cancel or timeout, and leave its files in
        ``launch.run_dir``."""
