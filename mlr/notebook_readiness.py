"""What a notebook lacks before the app can run it as is, and how to fix it: the way forward the Experiment page
offers instead of only an error (the contract: docs/ARCHITECTURE.md, "The notebook contract").

:func:`check` reads a notebook (an upload's bytes or a file) without running it and lists each :class:`Missing`
piece with what it is, why the app needs it, how to add it and a snippet to copy. Pure; no Streamlit.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from mlr.execution.metrics import METRICS_FILE
from mlr.execution.parameters import HOW_TO_TAG, PARAMETERS_TAG, parameters_cell_index


@dataclass(frozen=True)
class Missing:
    what: str  # "No cell tagged `parameters`"
    why: str  # what the app cannot do without it
    fix: str  # how to add it, in words
    snippet: str = ""  # code to copy
    language: str = "python"
    blocking: bool = True  # False: the app runs it, but something is left to the researcher (e.g. the metric)


def read(name: str, content: bytes) -> nbformat.NotebookNode | None:
    """An uploaded ``.ipynb`` or ``.py`` script as a notebook (converted as a run converts it); None when it is
    neither."""
    from mlr.execution.notebook_source import notebook_from_text

    try:
        return notebook_from_text(name, content.decode("utf-8"))
    except Exception:  # noqa: BLE001  (boundary: any unreadable upload is "not a notebook")
        return None


def _settings_cell(nb: nbformat.NotebookNode) -> tuple[int, list[str]] | None:
    """The first code cell made only of assignments of literal values: the likely settings, and their names."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        try:
            body = ast.parse(cell.source).body
        except SyntaxError:
            continue
        names = []
        for node in body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                break
            try:
                ast.literal_eval(node.value)
            except ValueError:
                break
            names.append(node.targets[0].id)
        else:
            if names:
                return i, names
    return None


def _code(nb: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def check(nb: nbformat.NotebookNode | None, name: str = "the notebook") -> list[Missing]:
    """Everything ``nb`` lacks to take part, most blocking first; [] when it can run as is."""
    if nb is None:
        return [Missing(f"{name} is not a notebook the app can read",
                        "Only Jupyter notebooks (.ipynb) and Python scripts in jupytext's percent format (.py) can be "
                        "added.", "Save it from Jupyter as .ipynb, or convert a script with `jupytext --to ipynb`.",
                        "jupytext --to ipynb my_script.py", language="bash")]
    missing = []
    if parameters_cell_index(nb) is None:
        found = _settings_cell(nb)
        where = (f"Cell {found[0] + 1} looks like the settings ({', '.join(f'`{n}`' for n in found[1][:4])}): tag it "
                 f"`{PARAMETERS_TAG}`. " if found else "Put the settings a run may change in one cell near the top and "
                 f"tag it `{PARAMETERS_TAG}`. ")
        missing.append(Missing(
            f"No cell tagged `{PARAMETERS_TAG}`",
            "The app runs a variant by giving the notebook new values for its settings; it finds them in that cell.",
            where + HOW_TO_TAG,
            '# %% tags=["parameters"]\nlearning_rate = 0.01  # the defaults: the paper\'s baseline\nepochs = 10\nseed = 0'))
    meta = (nb.metadata.get("mlr") or {}) if hasattr(nb, "metadata") else {}
    metric = meta.get("primary_metric") or "accuracy"
    if METRICS_FILE not in _code(nb):
        missing.append(Missing(
            f"No results written to `{METRICS_FILE}`",
            "The app compares runs by the numbers the notebook writes there; a run without it ends as failed.",
            f"End the notebook with a cell that writes the summary numbers to `{METRICS_FILE}` in its working "
            "directory (a JSON object of metric names to numbers).",
            f"import json\n\nwith open(\"{METRICS_FILE}\", \"w\") as f:\n    json.dump({{\"{metric}\": {metric}}}, f)"))
    if not meta.get("primary_metric"):
        missing.append(Missing(
            "No primary metric named",
            "Without it runs are compared on the plan's metric, if the plan names one; otherwise nothing decides "
            "which run is better.",
            "Name the metric that decides, and its direction, in the notebook's metadata (Jupyter: Edit → Edit "
            "Notebook Metadata).",
            json.dumps({"mlr": {"primary_metric": metric, "higher_is_better": True}}, indent=1),
            language="json", blocking=False))
    return missing
