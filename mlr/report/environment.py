"""The kernel's environment (every installed distribution, as ``pip freeze`` would list it) and the machine.

The kernel's Python is asked itself (its kernelspec's interpreter runs ``importlib.metadata``), so the
versions are those the notebooks import, not the app's. Read when a report or bundle is made; the report
says so.
"""

from __future__ import annotations

import ast
import json
import logging
import platform
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import nbformat
import psutil

from mlr import system
from mlr.report.model import Environment

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 60
TOOLS = ("papermill", "ipykernel", "nbclient", "nbformat")  # what ran every notebook, always listed
# Run by the kernel's interpreter: its version, every distribution, and which distribution each import name is.
_PROBE = """
import json, platform, importlib.metadata as md
dists = {}
for d in md.distributions():
    name = d.metadata["Name"]
    if name:
        dists.setdefault(name, d.version)
print(json.dumps({"python": platform.python_version(), "packages": dists,
                  "imports": {k: v for k, v in md.packages_distributions().items()}}))
"""


def kernel_executable(kernel_name: str) -> str:
    """The interpreter a kernelspec starts (``python`` on the PATH resolved), else this process's."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = KernelSpecManager().get_kernel_spec(kernel_name).argv
        exe = argv[0] if argv else ""
    except Exception as exc:  # boundary: no such kernel, jupyter not importable
        log.info("kernelspec %s not found (%s); using this interpreter", kernel_name, exc)
        exe = ""
    if exe and not Path(exe).is_absolute():
        exe = shutil.which(exe) or ""
    return exe or sys.executable


@lru_cache(maxsize=8)
def _probe(executable: str) -> dict:
    done = subprocess.run([executable, "-c", _PROBE], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-400:] or f"exit code {done.returncode}")
    return json.loads(done.stdout)


def freeze(env: Environment) -> str:
    """``name==version`` lines, sorted: the environment lock of the bundle."""
    return "".join(f"{name}=={version}\n" for name, version in sorted(env.packages.items(), key=lambda kv: kv[0].lower()))


def imported_names(notebooks: list[str | Path]) -> set[str]:
    """Top-level module names the notebooks' code cells import."""
    names: set[str] = set()
    for path in notebooks:
        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception:  # boundary: a missing or damaged notebook imports nothing we can see
            continue
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse("\n".join(line for line in cell.source.splitlines()
                                           if not line.lstrip().startswith(("%", "!"))))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(kernel_name: str, notebooks: list[str | Path]) -> Environment:
    """The kernel's environment and the machine; ``problem`` says what could not be read."""
    exe = kernel_executable(kernel_name)
    env = Environment(kernel=kernel_name, executable=exe, cpu=cpu_name(), cores=psutil.cpu_count(logical=True) or 1,
                      ram_gib=round(psutil.virtual_memory().total / 2**30, 1),
                      gpus=[g["name"] for g in system.gpus()], platform=platform.platform())
    try:
        found = _probe(exe)
    except (OSError, ValueError, RuntimeError, subprocess.TimeoutExpired) as exc:
        env.problem = f"the kernel's interpreter {exe} could not list its packages: {exc}"
        return env
    env.python, env.packages = found["python"], found["packages"]
    for dist in TOOLS:
        if dist in env.packages:
            env.used[dist] = env.packages[dist]
    for name in sorted(imported_names(notebooks)):
        for dist in found["imports"].get(name, []):
            if dist in env.packages:
                env.used[dist] = env.packages[dist]
    return env
