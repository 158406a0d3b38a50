"""What a notebook lacks before the app can run it as is, and how to fix it: the way forward the Experiment page
offers instead of only an error (the contract: docs/ARCHITECTURE.md, "The notebook contract").

:func:`check` reads a notebook (an upload's bytes or a file) without running it and lists each :class:`Missing`
piece with what it is, why the app needs it, how to add it and a snippet to copy. Pure; no Streamlit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import nbformat

from mlr.execution.mark_parameters import propose
from mlr.execution.metrics import METRICS_FILE
from mlr.execution.parameters import HOW_TO_TAG, PARAMETERS_TAG, parameters_cell_index

_GLUE = re.compile(r"\bglue\s*\(")


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
        found = propose(nb)
        where = (f"Cell {found.cell_index} looks like the settings "
                 f"({', '.join(f'`{n}`' for n in found.names[:4])}): mark it below (the app tags a copy; your "
                 "file stays as it is), or tag it yourself. " if found else
                 "Put the settings a run may change in one cell near the top and tag it "
                 f"`{PARAMETERS_TAG}`. ")
        missing.append(Missing(
            f"No cell tagged `{PARAMETERS_TAG}`",
            "It runs as is; to run a variant the app gives the notebook new values for its settings, and finds "
            "them in that cell.",
            where + HOW_TO_TAG,
            '# %% tags=["parameters"]\nlearning_rate = 0.01  # the defaults: the paper\'s baseline\nepochs = 10\nseed = 0',
            blocking=False))
    meta = (nb.metadata.get("mlr") or {}) if hasattr(nb, "metadata") else {}
    metric = meta.get("primary_metric") or "accuracy"
    code = _code(nb)
    if METRICS_FILE not in code and not _GLUE.search(code):
        missing.append(Missing(
            f"No results written to `{METRICS_FILE}` or glued with scrapbook",
            "The app compares runs by their numbers. Without these it reads numbers printed by the last cell "
            "(`accuracy: 0.93`, or a dict); a run that reports none succeeds with \"no metric found\".",
            f"End the notebook with a cell that writes the summary numbers to `{METRICS_FILE}` in its working "
            "directory (a JSON object of metric names to numbers), or glue them with scrapbook.",
            f"import json\n\nwith open(\"{METRICS_FILE}\", \"w\") as f:\n    json.dump({{\"{metric}\": {metric}}}, f)",
            blocking=False))
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
