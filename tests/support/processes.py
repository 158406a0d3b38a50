"""Finding what a notebook run left behind on this machine."""

from __future__ import annotations


def run_processes(marker: str, value: str) -> list:
    """Live processes of this machine whose environment has ``marker=value`` (a run's MLR_RUN_DIR): what a run
    left behind on the worker, whoever its parent is now."""
    import psutil

    out = []
    for proc in psutil.process_iter():
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and proc.environ().get(marker) == value:
                out.append(proc)
        except psutil.Error:
            continue
    return out
