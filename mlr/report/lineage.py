"""Where each run's numbers come from: the code that ran (its hash), parameters, kernel, times, GPUs.

Read from the record and from the run's own folder (``spec.json``, the executed ``output.ipynb``); nothing
here runs a notebook.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import nbformat

from mlr.report.model import RunLineage
from mlr.store.records import Run

log = logging.getLogger(__name__)

INJECTED = "injected-parameters"  # papermill's tag on the cell it adds with the run's parameters


def code_cells(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(cell type, source) of every cell as written by its author: papermill's injected cell left out."""
    return [(c.cell_type, c.source) for c in nb.cells if INJECTED not in c.get("metadata", {}).get("tags", [])]


def code_hash(path: str | Path) -> str:
    """sha256 of a notebook's cells (type and source, no outputs): equal for a prototype and its executed copy."""
    nb = nbformat.read(str(path), as_version=4)
    return hashlib.sha256(json.dumps(code_cells(nb), ensure_ascii=False).encode("utf-8")).hexdigest()


def as_ran(output_notebook: str | Path) -> nbformat.NotebookNode:
    """The notebook as its author wrote it, rebuilt from an executed copy: no injected cell, no outputs."""
    nb = nbformat.read(str(output_notebook), as_version=4)
    nb.cells = [c for c in nb.cells if INJECTED not in c.get("metadata", {}).get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nb.metadata.pop("papermill", None)
    return nb


def _safe_hash(path: str | Path | None) -> str:
    if not path or not Path(path).is_file():
        return ""
    try:
        return code_hash(path)
    except Exception as exc:  # boundary: a damaged notebook file still leaves the rest of the lineage
        log.warning("could not hash %s: %s", path, exc)
        return ""


def lineage(run: Run, default_kernel: str) -> RunLineage:
    """The lineage of one run from the record and its folder."""
    out = RunLineage(run_id=run.id, kind=run.kind, status=run.status, notebook=run.notebook,
                     parameters=run.parameters, metrics=run.metrics or {}, queued_at=run.queued_at,
                     started_at=run.started_at, finished_at=run.finished_at, seconds=run.seconds,
                     loop_id=run.data.get("loop_id"), seed=run.data.get("seed"))
    run_dir = Path(run.run_dir) if run.run_dir else None
    spec = _json(run_dir / "spec.json") if run_dir else {}
    out.kernel = str(spec.get("kernel_name") or default_kernel)
    out.gpus = sorted({str(g.get("name") or f"GPU {g.get('index')}") for g in
                       (g.model_dump() for g in run.progress.gpus)})
    ran = _safe_hash(run.output_notebook)
    now = _safe_hash(run.notebook)
    out.code_hash = ran or now
    out.notebook_changed = (ran != now) if ran and now else None
    if run.output_notebook and Path(run.output_notebook).is_file():
        try:
            meta = nbformat.read(run.output_notebook, as_version=4).metadata
            out.kernel_python = str(meta.get("language_info", {}).get("version", ""))
            out.papermill = str(meta.get("papermill", {}).get("version", ""))
        except Exception as exc:  # boundary: see above
            log.warning("could not read %s: %s", run.output_notebook, exc)
    return out


def _json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
