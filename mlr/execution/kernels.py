"""The Jupyter kernels installed on this machine, and which one a run uses.

A run uses the kernel the researcher picked (the Experiment page's "Kernel", ``python -m mlr run --kernel``);
without a pick, the notebook's own ``kernelspec.name`` when that kernel is installed, else the app's default
(``MLR_KERNEL_NAME``, ``python3``). Kernelspecs are found where Jupyter finds them (``jupyter kernelspec list``:
the environment's ``share/jupyter/kernels``, the user's, ``JUPYTER_PATH``), and a run's child sees the same
places: ``JUPYTER_*`` variables pass the allow-list of :mod:`mlr.execution.isolation`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel

from mlr.execution.errors import ExecutionError

log = logging.getLogger(__name__)


class KernelNotFoundError(ExecutionError, ValueError):
    """A kernel name that is not installed (the message names the installed ones)."""


class Kernel(BaseModel):
    """One installed kernelspec, as the page, ``status --json`` and ``--kernel`` show it."""

    name: str
    display_name: str
    language: str = ""
    executable: str = ""  # argv[0] of the kernel's command: the interpreter it runs ("python": the app's)
    resource_dir: str = ""


def installed() -> list[Kernel]:
    """Every installed kernelspec, by name; [] (logged) when Jupyter cannot list them."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        specs = KernelSpecManager().get_all_specs()
    except Exception:  # boundary: a broken kernel.json or an unreadable Jupyter path must not break the page
        log.exception("cannot list the installed Jupyter kernels")
        return []
    out = []
    for name, info in sorted(specs.items()):
        spec = info.get("spec") or {}
        argv = spec.get("argv") or [""]
        out.append(Kernel(name=name, display_name=spec.get("display_name") or name, language=spec.get("language", ""),
                          executable=str(argv[0]), resource_dir=str(info.get("resource_dir", ""))))
    return out


def names_in_words(kernels: list[Kernel]) -> str:
    return ", ".join(f"{k.name} ({k.display_name})" for k in kernels) or "none (install one with " \
        "`python -m ipykernel install --user --name NAME` in the environment it should use)"


def not_installed_message(name: str, kernels: list[Kernel] | None = None) -> str:
    kernels = installed() if kernels is None else kernels
    return f"the kernel {name!r} is not installed on this machine; the installed kernels are: {names_in_words(kernels)}"


def check(name: str) -> Kernel:
    """The installed kernel ``name``, or :class:`KernelNotFoundError` naming the kernels that exist."""
    kernels = installed()
    for kernel in kernels:
        if kernel.name == name:
            return kernel
    raise KernelNotFoundError(not_installed_message(name, kernels))


def notebook_kernel(nb) -> str | None:
    """The kernel a notebook names in its metadata (``kernelspec.name``), if any."""
    spec = (nb.metadata.get("kernelspec") or {}) if hasattr(nb, "metadata") else {}
    return str(spec.get("name") or "") or None


def default_for(notebook: str | Path | None, fallback: str, kernels: list[Kernel] | None = None) -> str:
    """The notebook's own kernel when it is installed, else ``fallback`` (the app's ``python3``)."""
    if notebook is None:
        return fallback
    from mlr.execution.notebook_source import read_notebook

    try:
        own = notebook_kernel(read_notebook(notebook))
    except ExecutionError:
        return fallback
    return choose(own, fallback, kernels)


def choose(own: str | None, fallback: str, kernels: list[Kernel] | None = None) -> str:
    """``own`` (the kernel a notebook names) when it is installed, else ``fallback``."""
    if not own:
        return fallback
    names = {k.name for k in (installed() if kernels is None else kernels)}
    return own if own in names else fallback
