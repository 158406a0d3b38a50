"""Machine resources for the status panel and run monitor: GPUs (NVML), CPU and RAM (psutil)."""

from __future__ import annotations

import logging
import os
import sys
import threading

import psutil

log = logging.getLogger(__name__)
_nvml_lock = threading.Lock()
_nvml_state: dict[str, object] = {}


def _no_nvidia_driver() -> bool:
    """True when this is Linux and no NVIDIA device or driver is visible: importing pynvml (30 ms, every command-line
    start) would only fail. Elsewhere (Windows, WSL's /dev/dxg) NVML itself answers."""
    if not sys.platform.startswith("linux"):
        return False
    return not any(os.path.exists(p) for p in ("/proc/driver/nvidia", "/dev/nvidiactl", "/dev/nvidia0", "/dev/dxg"))


def _nvml():
    """Initialise NVML once; None when there is no NVIDIA driver (the common laptop case)."""
    with _nvml_lock:
        if "module" in _nvml_state:
            return _nvml_state["module"]
        if _no_nvidia_driver():
            log.info("no GPU: no NVIDIA driver on this machine")
            _nvml_state["module"] = None
            return None
        try:
            import pynvml

            pynvml.nvmlInit()
            _nvml_state["module"] = pynvml
        except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ImportError...
            log.info("no GPU: %s", exc)
            _nvml_state["module"] = None
        return _nvml_state["module"]


def gpus() -> list[dict]:
    """One dict per GPU: index, name, memory used/total (MiB), utilisation (%); [] when none."""
    nvml = _nvml()
    if nvml is None:
        return []
    out = []
    try:
        for i in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(i)
            name = nvml.nvmlDeviceGetName(handle)
            mem = nvml.nvmlDeviceGetMemoryInfo(handle)
            util = nvml.nvmlDeviceGetUtilizationRates(handle)
            out.append({
                "index": i,
                "name": name.decode() if isinstance(name, bytes) else str(name),
                "memory_used_mib": round(mem.used / 2**20),
                "memory_total_mib": round(mem.total / 2**20),
                "utilization_pct": int(util.gpu),
            })
    except Exception as exc:
        log.warning("reading GPU state failed: %s", exc)
    return out


def cpu_ram() -> dict:
    vm = psutil.virtual_memory()
    return {
        "cores": psutil.cpu_count(logical=True) or 1,
        "percent": psutil.cpu_percent(interval=None),
        "ram_used_gib": round((vm.total - vm.available) / 2**30, 2),
        "ram_total_gib": round(vm.total / 2**30, 2),
    }


# cpu_percent(interval=None) measures since the previous call on the same Process object (a new
# object always says 0.0), so the objects of watched trees are kept between calls.
_tree_lock = threading.Lock()
_tree_procs: dict[int, psutil.Process] = {}


def process_tree(pid: int) -> dict:
    """CPU % and RSS of a process and all its children (a run: papermill, kernel, workers).

    CPU % is measured since the previous call for the same processes (0.0 on the first call).
    """
    try:
        root = psutil.Process(pid)
        found = [root, *root.children(recursive=True)]
    except psutil.Error:
        return {"processes": 0, "cpu_percent": 0.0, "rss_mib": 0.0}
    with _tree_lock:
        procs = []
        for proc in found:
            known = _tree_procs.get(proc.pid)
            if known is None or not known.is_running():  # is_running also detects a reused pid
                _tree_procs[proc.pid] = known = proc
            procs.append(known)
        for stale in [p for p, obj in _tree_procs.items() if not obj.is_running()]:
            del _tree_procs[stale]
    cpu, rss, alive = 0.0, 0, 0
    for proc in procs:
        try:
            cpu += proc.cpu_percent(interval=None)
            rss += proc.memory_info().rss
            alive += 1
        except psutil.Error:
            continue
    return {"processes": alive, "cpu_percent": round(cpu, 1), "rss_mib": round(rss / 2**20, 1)}
