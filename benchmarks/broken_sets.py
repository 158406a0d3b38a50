"""The writer the broken-notebook sets of the debug benchmark share (debug_heldout, debug_heldout2).

Each set's ``_build.py`` holds its notebooks as data (``NOTEBOOKS``: name -> cls, expect, command, params,
cells) and calls :func:`write`; the ``.ipynb`` files and ``manifest.json`` it writes are what the benchmark reads.
"""

from __future__ import annotations

import json
from pathlib import Path

METRICS = 'import json\njson.dump({"accuracy": float(accuracy)}, open("metrics.json", "w"))\nprint("accuracy", accuracy)'


def cell(source, cell_type="code", tags=None, idx=0):
    c = {"cell_type": cell_type, "id": f"c{idx}", "metadata": {"tags": tags} if tags else {}, "source": source}
    if cell_type == "code":
        c.update(execution_count=None, outputs=[])
    return c


def write(folder: Path, notebooks: dict) -> None:
    """A heading cell, the tagged parameters cell, then the notebook's cells; and manifest.json."""
    manifest = {}
    for name, spec in notebooks.items():
        cells = [cell(f"# {name}\nA held-out broken prototype ({spec['cls']}).", "markdown", idx=0),
                 cell(spec["params"], tags=["parameters"], idx=1)]
        cells += [cell(src, idx=i + 2) for i, src in enumerate(spec["cells"])]
        nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                          "language": "python"},
                                           "mlr": {"primary_metric": "accuracy", "higher_is_better": True}},
              "nbformat": 4, "nbformat_minor": 5}
        (folder / f"{name}.ipynb").write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
        manifest[name] = {k: spec.get(k) for k in ("cls", "expect", "command")}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
