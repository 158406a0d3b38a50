"""Evidence from a live kernel: replay the failed notebook up to its failing cell and look at its state.

A fresh kernel of the notebook's own kernelspec (its Python, its packages) runs the notebook's own cells,
with the run's parameters, up to and including the failing one (which fails again, leaving the state the
error saw); then a fixed introspection cell of ours (``kernel_probe.py``) asks, by error kind: the names defined
(NameError), ``type(obj)`` and ``dir(obj)`` (AttributeError), ``inspect.signature`` of the callees on the
failing line (TypeError), the mapping's keys (KeyError), shapes/lengths/values of the names on the failing
line (IndexError, ValueError, ZeroDivisionError, ...), the files near a missing path (FileNotFoundError).
Model-written code is never executed here: only the notebook version that failed, and the probe.
Everything runs in a child process in its own session, killed as a group at the time limit.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

MARKER = "@@MLR_EVIDENCE@@"
TIMEOUT_S = 120.0
CELL_TIMEOUT_S = 60  # the probe cell holds the parameter search (<= 15 s) and the edit search (<= EDIT_SEARCH_S)
EDIT_SEARCH_S = 20
SKIP = {"ModuleNotFoundError", "ImportError", "SyntaxError", "IndentationError", "TabError", "KeyboardInterrupt"}
_ARROW = re.compile(r"^-+>\s*\d+\s?(.*)$", re.MULTILINE)


def _kernel_cell(probe_spec: dict) -> str:
    """The probe cell: our two kernel-side modules loaded from their source text (the kernel may be another Python
    without this package), run on the replayed state, their answer printed after MARKER."""
    here = Path(__file__).resolve().parent
    source = {name: (here / f"{name}.py").read_text(encoding="utf-8") for name in ("kernel_probe", "edit_search")}
    return (f"_MLR_SPEC = __import__('json').loads({json.dumps(probe_spec, default=repr)!r})\n"
            "_mlr_kp, _mlr_es = {}, {}\n"
            f"exec(compile({source['kernel_probe']!r}, 'mlr/execution/kernel_probe.py', 'exec'), _mlr_kp)\n"
            f"exec(compile({source['edit_search']!r}, 'mlr/execution/edit_search.py', 'exec'), _mlr_es)\n"
            f"print({MARKER!r} + __import__('json').dumps(_mlr_kp['probe'](_MLR_SPEC, globals(), "
            "_mlr_es['edit_search']), default=str))\n")


def failing_line(report) -> str:
    """The failing cell's line the traceback points at (IPython's ``---->`` in the cell's own frame), else the whole
    cell. With chained exceptions (pandas' KeyError: "The above exception was the direct cause...") the first arrow
    is inside the library: the last ``Cell In[...]`` frame is the notebook's."""
    text = report.traceback or ""
    cell_frames = [m.start() for m in re.finditer(r"^Cell In\s*\[", text, re.MULTILINE)]
    m = _ARROW.search(text, cell_frames[-1] if cell_frames else 0)
    return m.group(1).strip() if m else (report.cell_source or "")


def _kernel_name(nb) -> str:
    from jupyter_client.kernelspec import KernelSpecManager

    wanted = (nb.metadata.get("kernelspec") or {}).get("name") or "python3"
    return wanted if wanted in KernelSpecManager().find_kernel_specs() else "python3"


def _replay(spec: dict) -> dict:
    """In the child: build the replay notebook, run it in a fresh kernel, return the probe's JSON."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(spec["notebook"], as_version=4)
    cells = []
    for i, c in enumerate(nb.cells[: spec["cell_index"] + 1]):
        if c.cell_type != "code":
            continue
        cells.append(nbformat.v4.new_code_cell(c.source))
        if "parameters" in (c.get("metadata", {}).get("tags") or []) and spec["parameters"]:
            cells.append(nbformat.v4.new_code_cell(
                "\n".join(f"{k} = {v!r}" for k, v in spec["parameters"].items())))
    probe = {k: spec.get(k) for k in ("ename", "evalue", "line", "cell", "parameters", "deps", "stmts", "cells",
                                      "later", "param_index", "search_s")}
    cells.append(nbformat.v4.new_code_cell(_kernel_cell(probe)))
    replay = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    NotebookClient(replay, timeout=CELL_TIMEOUT_S, kernel_name=_kernel_name(nb), allow_errors=True,
                   resources={"metadata": {"path": spec["cwd"]}}).execute()
    for out in replay.cells[-1].get("outputs", []):
        text = out.get("text", "")
        if MARKER in text:
            return json.loads(text.split(MARKER, 1)[1].strip().splitlines()[0])
    errors = [o.get("evalue") for o in replay.cells[-1].get("outputs", []) if o.get("output_type") == "error"]
    return {"facts": [], "error": f"the probe gave nothing {errors}"}


def _env(isolated: bool, allow: str) -> dict:
    """The replay runs the notebook's own code: it gets what a run gets, the allow-listed environment (no tokens,
    keys or credentials of the app's) and, when runs are isolated, no network (mlr.execution.isolation)."""
    from mlr.execution import isolation

    root = str(Path(__file__).resolve().parents[2])  # this package importable from the run's folder
    return isolation.kernel_env(os.environ, {
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        "MLR_NET_ISOLATED": "1" if isolated else "0"}, allow=allow)


def gather(report, notebook: str | Path, parameters: dict, *, cwd: str | Path,
           timeout_s: float = TIMEOUT_S, isolated: bool = False, allow: str = "") -> dict:
    """The evidence for ``report`` (a failed run of ``notebook``), or ``{}`` when there is none to take.

    ``isolated``: start the replay without network, as runs start (``isolation.state``); ``allow``: more
    environment names the kernel may see (``MLR_KERNEL_ENV_ALLOW``)."""
    drift = report.ename == "ImportError" and "cannot import name" in (report.evalue or "")  # an API that moved
    if report.cell_index is None or report.status != "failed" or (report.ename in SKIP and not drift) \
            or not report.ename:
        return {}
    deps, stmts = _assignments(notebook, report.cell_index, set(parameters or {}))
    cells, later, param_index = _code_cells(notebook, report.cell_index)
    spec = {"notebook": str(Path(notebook).resolve()), "cell_index": report.cell_index, "parameters": parameters or {},
            "cwd": str(cwd), "ename": report.ename, "evalue": report.evalue, "line": failing_line(report),
            "cell": report.cell_source, "deps": deps, "stmts": stmts, "cells": cells, "later": later,
            "param_index": param_index, "search_s": EDIT_SEARCH_S}
    try:
        from mlr.execution import isolation

        proc = subprocess.Popen(isolation.command([sys.executable, "-m", "mlr.execution.evidence"], isolated),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, cwd=str(cwd), env=_env(isolated, allow))
    except OSError as exc:
        log.info("no evidence: %s", exc)
        return {}
    try:
        stdout, stderr = proc.communicate(json.dumps(spec, default=str), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the child and its kernel
        proc.communicate()
        return {"facts": [], "error": f"no evidence within {timeout_s:g} s"}
    try:
        evidence = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        log.info("no evidence for %s: %s", report.headline(), stderr.strip()[-400:])
        return {}
    return evidence


def _code_cells(notebook, cell_index: int) -> tuple[list, list, int | None]:
    """The edit search's view of the notebook: ``[index, source]`` of the code cells up to and including the failing
    one, of the code cells after it, and the index of the parameters cell."""
    from mlr.execution import notebook_edit
    from mlr.execution.parameters import parameters_cell_index, read_notebook

    code = [[i, src] for i, kind, src in notebook_edit.cell_sources(notebook) if kind == "code" and src.strip()]
    return ([c for c in code if c[0] <= cell_index], [c for c in code if c[0] > cell_index],
            parameters_cell_index(read_notebook(notebook)))


def _assignments(notebook, cell_index: int, parameters: set[str]) -> tuple[dict, list]:
    """What the probe's parameter search needs: ``deps`` (name -> names its value is computed from, over every
    assignment and loop target up to and including the failing cell) and ``stmts`` (``[targets, source]`` of the
    top-level assignments of the earlier cells, in order, the parameters cell left out: those it re-runs)."""
    import ast

    from mlr.execution import notebook_edit

    deps: dict[str, list[str]] = {}
    stmts: list = []
    for i, kind, src in notebook_edit.cell_sources(notebook):
        if kind != "code" or i > cell_index:
            continue
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        top = set(map(id, tree.body))
        for node in ast.walk(tree):  # nested ones too (a loop's body): they say where a value comes from
            if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                targets, value = [node.target], node.iter
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
                targets, value = (node.targets if isinstance(node, ast.Assign) else [node.target]), node.value
            else:
                continue
            names = sorted({n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)})
            if set(names) & parameters:
                continue  # the parameters cell (or a reassignment of one): the search sets these itself
            used = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
            for name in names:
                deps[name] = sorted(set(deps.get(name, [])) | used)
            if id(node) in top and i < cell_index:  # re-run only whole top-level statements of earlier cells
                stmts.append([names, ast.get_source_segment(src, node) or ast.unparse(node)])
    return deps, stmts


if __name__ == "__main__":
    try:
        if os.environ.get("MLR_NET_ISOLATED") == "1":  # our own network namespace: the kernel needs its loopback
            from mlr.execution.isolation import loopback_up

            loopback_up()
        print(json.dumps(_replay(json.loads(sys.stdin.read())), default=str))
    except Exception as exc:  # noqa: BLE001  boundary: the parent reads a failure as "no evidence"
        print(json.dumps({"facts": [], "error": f"{type(exc).__name__}: {exc}"}))
