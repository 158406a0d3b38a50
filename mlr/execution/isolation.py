"""What a notebook run may see of this machine: an allow-listed environment, and no network when it is off.

- Environment: a kernel gets the variables a Python process needs (paths, locale, Jupyter, CUDA, thread counts,
  offline switches of the Hub) and the run's own ``MLR_RUN_*``; tokens, keys, passwords and proxies of the app's
  environment never reach it. ``MLR_KERNEL_ENV_ALLOW`` names more variables to pass.
- Network: when ``MLR_KERNEL_NETWORK`` is ``off`` (``auto``: while online sources are off) the run's child
  process, papermill and the kernel start in a new user and network namespace (``unshare -rn``, Linux): only a
  loopback of their own, brought up by the child, on which papermill and the kernel talk. Where the OS refuses
  namespaces the run goes on with the network and :func:`state` says why, for the page and ``status``.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import shutil
import socket
import struct
import subprocess
import sys
from collections.abc import Mapping

from pydantic import BaseModel

log = logging.getLogger(__name__)

# Names passed as they are; prefixes pass every variable that starts with them.
ALLOWED_NAMES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR", "TEMP", "TMP",
    "PYTHONUNBUFFERED", "PYTHONHASHSEED", "PYTHONIOENCODING", "PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV",
    "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "IPYTHONDIR", "MPLBACKEND", "MPLCONFIGDIR", "LD_LIBRARY_PATH",
    "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "CUDA_PATH", "CUDA_DEVICE_ORDER", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE",
    "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "TRANSFORMERS_CACHE", "TORCH_HOME", "SENTENCE_TRANSFORMERS_HOME",
    "MLR_RUN_ID", "MLR_RUN_DIR", "MLR_NOTEBOOK_DIR", "MLR_NET_ISOLATED",
})
ALLOWED_PREFIXES = ("LC_", "JUPYTER_", "XDG_", "NVIDIA_")
MODES = ("auto", "off", "on")


def kernel_env(environ: Mapping[str, str], extra: Mapping[str, str] | None = None, allow: str = "") -> dict[str, str]:
    """The environment of a run's child and kernel: ``environ`` filtered through the allow-list (plus the names in
    ``allow``, comma-separated), then ``extra`` (the run's own variables)."""
    names = ALLOWED_NAMES | {n.strip() for n in allow.split(",") if n.strip()}
    env = {k: v for k, v in environ.items() if k in names or k.startswith(ALLOWED_PREFIXES)}
    env.update(extra or {})
    return env


class NetworkState(BaseModel):
    """Whether notebook runs start without network, and why (shown in the sidebar and ``status --json``)."""

    isolated: bool
    reason: str


@functools.lru_cache(maxsize=1)
def _namespaces_work() -> tuple[bool, str]:
    if not sys.platform.startswith("linux"):
        return False, f"network isolation needs Linux namespaces; this is {sys.platform}"
    if shutil.which("unshare") is None:
        return False, "the unshare command (util-linux) is not installed"
    try:
        probe = subprocess.run(["unshare", "-rn", sys.executable, "-S", "-I", "-c", _PROBE], capture_output=True,
                               text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"unshare -rn could not start: {exc}"
    if probe.returncode != 0:
        detail = (probe.stderr or probe.stdout).strip().splitlines()
        return False, "the OS refuses a new network namespace (unshare -rn: " + (detail[-1] if detail else "?") + ")"
    return True, "notebook runs start in a network namespace of their own (unshare -rn): no network"


# The probe brings up the loopback as the child will (loopback_up), in a bare interpreter (-S -I): ~30 ms.
_PROBE = ("import fcntl, socket, struct\n"
          "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
          "f = struct.unpack('16sH14x', fcntl.ioctl(s, 0x8913, struct.pack('16sH14x', b'lo', 0)))[1]\n"
          "fcntl.ioctl(s, 0x8914, struct.pack('16sH14x', b'lo', f | 1))\n")


def state(mode: str, online_sources: bool) -> NetworkState:
    """Whether runs are isolated under ``mode`` (auto | off | on: the kernel's network) and the online setting."""
    mode = mode if mode in MODES else "auto"
    if mode == "on" or (mode == "auto" and online_sources):
        why = "MLR_KERNEL_NETWORK=on" if mode == "on" else "online sources are on (MLR_ONLINE_SOURCES)"
        return NetworkState(isolated=False, reason=f"notebook runs have the network: {why}")
    ok, reason = _namespaces_work()
    if ok:
        return NetworkState(isolated=True, reason=reason)
    return NetworkState(isolated=False, reason=f"notebook runs have the network: {reason}")


def command(argv: list[str], isolated: bool) -> list[str]:
    """``argv`` started in a new user and network namespace when ``isolated``."""
    return [shutil.which("unshare") or "unshare", "-rn", *argv] if isolated else list(argv)


SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def loopback_up() -> None:
    """Bring up ``lo`` in this (new) network namespace: papermill and the kernel talk over it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH14x", b"lo", 0))
        flags = struct.unpack("16sH14x", ifreq)[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


__all__ = ["kernel_env", "state", "command", "loopback_up", "NetworkState", "ALLOWED_NAMES", "MODES"]
