"""A succeeded run's metrics, from what the notebook already reports, in this order:

1. values glued with scrapbook (``sb.glue("accuracy", 0.93)``), read from the executed notebook's outputs
   (mimetype ``application/scrapbook.scrap.json+json``; the ``scrapbook`` package itself is not needed);
2. ``metrics.json`` in the run's working directory (the app's own contract);
3. numbers in the output of the notebook's last cell that printed or returned something: a dict or JSON object,
   or ``name: value`` / ``name = value`` lines.

The first source that yields a number wins. A notebook that reports none still succeeded (papermill's verdict):
its :class:`FoundMetrics` says "no metric found" and the places the app looked.
"""

from __future__ import annotations

import ast
import json
import logging
import math
import re
from pathlib import Path
from typing import Any

from pydantic import Field

from mlr.execution.errors import MetricsError
from mlr.execution.metrics import METRICS_FILE, read_metrics
from mlr.store.payloads import MetricsFound

log = logging.getLogger(__name__)

SCRAP_JSON = "application/scrapbook.scrap.json+json"
SCRAP_TEXT = "application/scrapbook.scrap.text+json"
SCRAPBOOK, METRICS_JSON, LAST_OUTPUT = "scrapbook", METRICS_FILE, "last output"
NO_METRIC = ("no metric found: the notebook glued no value with scrapbook, wrote no metrics.json and its last "
             "output holds no numbers")
MAX_OUTPUT_CHARS = 100_000
_LINE = re.compile(r"^\s*([A-Za-z_][\w.\- ]{0,60}?)\s*[:=]\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*%?\s*$")


class Collected(MetricsFound):
    """:class:`MetricsFound` with the values themselves (the values go to the run's ``metrics``)."""

    values: dict[str, Any] = Field(default_factory=dict)

    def record(self) -> MetricsFound:
        return MetricsFound(source=self.source, note=self.note, cell_index=self.cell_index)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _has_number(values: dict[str, Any]) -> bool:
    return any(is_number(v) for v in values.values())


def scraps(nb: dict) -> dict[str, Any]:
    """Every scrapbook scrap in ``nb``'s outputs, by name (a later glue of the same name wins). ``nb``: the executed
    notebook as JSON (a plain dict or an nbformat node)."""
    out: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data") or {}
            for mime in (SCRAP_JSON, SCRAP_TEXT):
                scrap = data.get(mime)
                if isinstance(scrap, str):
                    try:
                        scrap = json.loads(scrap)
                    except ValueError:
                        continue
                if isinstance(scrap, dict) and isinstance(scrap.get("name"), str) and "data" in scrap:
                    out[scrap["name"]] = scrap["data"]
    return out


def _output_text(output) -> str:
    if output.get("output_type") == "stream" and output.get("name") == "stdout":
        return "".join(output.get("text", ""))
    if output.get("output_type") in ("execute_result", "display_data"):
        data = output.get("data") or {}
        if "application/json" in data and isinstance(data["application/json"], dict):
            return json.dumps(data["application/json"])
        return "".join(data.get("text/plain", ""))
    return ""


def last_output(nb: dict) -> tuple[int | None, str]:
    """The index (user's notebook) and text of the last code cell with printed or returned output."""
    found, index = (None, ""), 0
    for cell in nb.get("cells", []):
        tags = cell.get("metadata", {}).get("tags") or []
        if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
            continue
        if cell.get("cell_type") == "code":
            text = "\n".join(t for t in (_output_text(o) for o in cell.get("outputs", [])) if t.strip())
            if text.strip():
                found = (index, text[:MAX_OUTPUT_CHARS])
        index += 1
    return found


def numbers_in(text: str) -> dict[str, Any]:
    """Named numbers in an output: a whole dict/JSON object (its number values), else ``name: value`` lines."""
    stripped = text.strip()
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(stripped)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items() if is_number(v)}
    out: dict[str, Any] = {}
    for line in stripped.splitlines():
        match = _LINE.match(line)
        if match:
            number = float(match.group(2))
            out[match.group(1).strip()] = int(number) if number.is_integer() and "." not in match.group(2) \
                and "e" not in match.group(2).lower() else number
    return out


def collect(run_dir: str | Path, output_notebook: str | Path | None) -> Collected:
    """The metrics of a succeeded run (see the module's docstring for the order)."""
    nb = None
    if output_notebook and Path(output_notebook).is_file():
        try:
            # Plain JSON: papermill writes v4; nbformat's import and schema validation would add ~0.1 s to every run.
            nb = json.loads(Path(output_notebook).read_text(encoding="utf-8"))
            if not isinstance(nb, dict):
                raise ValueError("not a notebook")
        except Exception:  # boundary: a damaged output notebook still lets metrics.json count
            log.exception("cannot read the executed notebook %s", output_notebook)
    notes = []
    if nb is not None:
        glued = {k: v for k, v in scraps(nb).items()}
        if _has_number(glued):
            return Collected(values=glued, source=SCRAPBOOK)
    try:
        written = read_metrics(run_dir)
    except MetricsError as exc:
        if (Path(run_dir) / METRICS_FILE).is_file():
            notes.append(f"{METRICS_FILE} was not used: {exc}")
    else:
        if written:
            return Collected(values=written, source=METRICS_JSON)
    if nb is not None:
        index, text = last_output(nb)
        found = numbers_in(text) if text else {}
        if found:
            return Collected(values=found, source=LAST_OUTPUT, cell_index=index,
                             note=f"read from the output of cell {index}")
    return Collected(values={}, source=None, note="; ".join([NO_METRIC, *notes]))
