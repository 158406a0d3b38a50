"""Build the error report of a failed run: the failing cell, the exception, a cleaned traceback,
the parameters and the last output, in the shape both the rules and the model read."""

from __future__ import annotations

import re
from pathlib import Path

from papermill.exceptions import strip_color

from mlr.execution import notebook_edit
from mlr.execution.fixers.base import ErrorReport
from mlr.execution.notebook_view import ERROR_MARKER_TAG, INJECTED_TAG
from mlr.protocols import RunOutcome

MAX_TRACEBACK = 3000
MAX_OUTPUT_LINES = 20
_RULE = re.compile(r"^-{20,}\s*$", re.MULTILINE)


def clean_traceback(text: str) -> str:
    """ANSI colours out, separator rules out, and the middle cut when it is long (the ends matter)."""
    text = _RULE.sub("", strip_color(text or "")).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    if len(text) > MAX_TRACEBACK:
        text = text[:600] + "\n  [... frames cut ...]\n" + text[-(MAX_TRACEBACK - 650):]
    return text


def last_output(output_notebook: str | None, cell_index: int | None) -> str:
    """The failing cell's printed output (streams and text results), last lines only."""
    if not output_notebook or cell_index is None or not Path(output_notebook).exists():
        return ""
    try:
        cells = notebook_edit.read_notebook(output_notebook).cells
    except notebook_edit.NotebookEditError:
        return ""
    # Papermill inserts an "injected-parameters" cell and, on failure, error-banner cells (one at the
    # top, one before the failing cell); skip them all to map the user's index onto the output.
    papermill_tags = {INJECTED_TAG, ERROR_MARKER_TAG}
    user_cells = [c for c in cells if not papermill_tags & set(c.get("metadata", {}).get("tags") or [])]
    if not 0 <= cell_index < len(user_cells):
        return ""
    pieces = []
    for out in user_cells[cell_index].get("outputs", []):
        if out.get("output_type") == "stream":
            pieces.append(out.get("text", ""))
        elif out.get("output_type") in {"execute_result", "display_data"}:
            pieces.append(out.get("data", {}).get("text/plain", ""))
    lines = strip_color("".join(pieces)).splitlines()
    return "\n".join(lines[-MAX_OUTPUT_LINES:])


def build_report(outcome: RunOutcome, notebook: str | Path, parameters: dict) -> ErrorReport:
    """``parameters`` are the ones passed to the run; the notebook's defaults fill the rest."""
    effective = {**notebook_edit.parameter_defaults(notebook), **parameters}
    err = outcome.error
    report = ErrorReport(status=outcome.status, parameters=effective)
    if err is None:
        return report
    report.cell_index = err.cell_index
    report.ename, report.evalue = err.ename, strip_color(err.evalue or "")
    report.traceback = clean_traceback(err.traceback)
    if err.cell_index is not None:
        try:
            report.cell_source = notebook_edit.cell_source(notebook, err.cell_index)
        except notebook_edit.NotebookEditError:
            report.cell_index = None
    report.last_output = last_output(outcome.output_notebook, err.cell_index)
    return report
