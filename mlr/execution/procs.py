"""Process-tree handling for runs: who owns a run, is a recorded pid still that process, kill a tree.

A run's child (papermill) has its own session, and jupyter_client starts the kernel in yet another
session; killing one process group therefore misses the kernel. We kill every process group found in
the tree (and every process by pid), which also catches grandchildren that were re-parented to init
but stayed in the kernel's group (DataLoader workers, subprocesses a notebook started).
"""

from __future__ import annotations

import logging
import os
import signal
import socket

import psutil

log = logging.getLogger(__name__)


def process_identity(pid: int | None = None) -> str:
    """``host:pid:create_time``: names a process unambiguously even after its pid is reused."""
    proc = psutil.Process(pid or os.getpid())
    return f"{socket.gethostname()}:{proc.pid}:{proc.create_time():.3f}"


def identity_alive(identity: str | None) -> bool | None:
    """True/False for a process of this host; None when it belongs to another host (cannot tell)."""
    if not identity:
        return False
    try:
        host, pid, started = identity.rsplit(":", 2)
        pid_i, started_f = int(pid), float(started)
    except ValueError:
        return False
    if host != socket.gethostname():
        return None
    try:
        proc = psutil.Process(pid_i)
        return abs(proc.create_time() - started_f) < 0.01 and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (empty when it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def groups_of(procs: list[psutil.Process]) -> set[int]:
    own = os.getpgrp()
    out = set()
    for proc in procs:
        try:
            pgid = os.getpgid(proc.pid)
        except (ProcessLookupError, PermissionError):
            continue
        if pgid != own and pgid > 1:  # never our own group (that would kill the app)
            out.add(pgid)
    return out


def kill_tree(pid: int, known: list[psutil.Process] | None = None, known_groups: set[int] | None = None,
              wait_s: float = 5.0) -> list[int]:
    """SIGKILL ``pid``, its descendants and their process groups; returns pids still alive after ``wait_s``."""
    procs = {p.pid: p for p in (known or [])}
    procs.update({p.pid: p for p in tree(pid)})
    groups = set(known_groups or ()) | groups_of(list(procs.values()))
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for proc in procs.values():
        try:
            proc.kill()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(list(procs.values()), timeout=wait_s)
    if alive:
        log.warning("processes still alive after kill: %s", [p.pid for p in alive])
    return [p.pid for p in alive]
