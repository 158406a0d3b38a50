"""A minimal real runner for these tests: papermill + a real python3 kernel, one run folder per run.

It follows ``mlr.protocols.Runner`` and the execution engine's conventions (a ``runs`` row per run,
the notebook's working directory is the run folder, ``cell_index`` counts the user's cells only), so
the debug loop is exercised against real failures without depending on the engine's job machinery.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import papermill as pm
from papermill.exceptions import PapermillExecutionError

from mlr.protocols import RunError, RunOutcome


class PapermillRunner:
    def __init__(self, settings, store):
        self.settings, self.store = settings, store
        self.calls: list[tuple[str, dict]] = []

    def run(self, notebook, parameters, *, kind="adhoc", plan_id=None, timeout_s=None) -> RunOutcome:
        self.calls.append((str(notebook), dict(parameters)))
        run_id = self.store.add_run(str(notebook), parameters, kind=kind, plan_id=plan_id)
        run_dir = self.settings.runs_dir / str(run_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        out = run_dir / "output.ipynb"
        start = time.perf_counter()
        status, error, metrics = "succeeded", None, {}
        try:
            pm.execute_notebook(str(notebook), str(out), parameters=parameters, kernel_name="python3",
                                cwd=str(run_dir), progress_bar=False, execution_timeout=timeout_s)
        except PapermillExecutionError as exc:
            status = "failed"
            error = RunError(cell_index=_user_index(out, exc.cell_index), ename=exc.ename, evalue=exc.evalue,
                             traceback="\n".join(exc.traceback))
        except Exception as exc:  # nbclient's CellTimeoutError and kernel deaths
            status = "timed_out" if "timeout" in type(exc).__name__.lower() or "timed out" in str(exc) else "failed"
            error = RunError(ename=type(exc).__name__, evalue=str(exc)[:500])
        if status == "succeeded" and (run_dir / "metrics.json").exists():
            metrics = json.loads((run_dir / "metrics.json").read_text())
        seconds = time.perf_counter() - start
        self.store.update_run(run_id, status=status, output_notebook=str(out), run_dir=str(run_dir),
                              metrics=metrics, error=error.model_dump() if error else None)
        return RunOutcome(run_id=run_id, status=status, metrics=metrics, error=error,
                          output_notebook=str(out) if out.exists() else None, seconds=seconds)


def _user_index(output: Path, index: int) -> int:
    """papermill counts its injected parameters cell; the user's notebook does not have it."""
    try:
        cells = nbformat.read(str(output), as_version=4).cells
    except Exception:
        return index
    injected = [i for i, c in enumerate(cells) if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    return index - 1 if injected and injected[0] < index else index
