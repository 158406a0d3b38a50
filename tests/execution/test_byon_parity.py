"""Papermill's own verdict is the reference: a notebook that fails or succeeds under the papermill CLI fails or
succeeds the same way under ``python -m mlr run`` (issue 17). The set is built here: exits, interrupts, magics,
older nbformat minor versions without cell ids, no cells at all."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from nbformat import v4

from mlr.config import REPO_ROOT

pytestmark = pytest.mark.timeout(600)

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _nb(*sources: str, minor: int = 5, markdown: str | None = None) -> nbformat.NotebookNode:
    nb = v4.new_notebook(metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    if markdown:
        nb.cells.append(v4.new_markdown_cell(markdown))
    nb.cells += [v4.new_code_cell(s) for s in sources]
    nb.nbformat_minor = minor
    if minor < 5:
        for cell in nb.cells:
            cell.pop("id", None)
    return nb


# name -> (notebook, what papermill says; the test checks it too, so a papermill upgrade that changes its mind shows)
CASES = {
    "prints": (_nb("x = 2", "print(x * 21)"), True),
    "raises": (_nb("x = 1", "raise ValueError('boom')", "print('never')"), False),
    "sys_exit_0": (_nb("import sys", "sys.exit(0)", "print('after')"), True),  # IPython: exit 0 is no error
    "sys_exit_1": (_nb("import sys", "sys.exit(1)"), False),
    "system_exit": (_nb("raise SystemExit('done')"), False),
    "keyboard_interrupt": (_nb("raise KeyboardInterrupt"), False),
    "line_magics": (_nb("%time y = sum(range(10))", "%%capture\nprint('hidden')", "!echo shell", "y"), True),
    "nbformat_4_0": (_nb("a = 1", "a + 1", minor=0), True),
    "nbformat_4_1_fails": (_nb("import math", "math.sqrt(-1)", minor=1), False),
    "no_cells": (_nb(), True),
    "markdown_only": (_nb(markdown="# Just words"), True),
    "syntax_error": (_nb("def f(:\n    pass"), False),
    "stderr_is_not_failure": (_nb("import sys; sys.stderr.write('warning: careful\\n')", "import warnings; "
                                  "warnings.warn('deprecated')"), True),
}


def _papermill(path, out) -> bool:
    proc = subprocess.run([sys.executable, "-m", "papermill", str(path), str(out), "--no-progress-bar"],
                          capture_output=True, text=True, timeout=240, check=False)
    return proc.returncode == 0


def _mlr(path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "mlr", "run", str(path), "--json"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=240, check=False)
    assert proc.stdout.strip(), proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert proc.returncode == (0 if out["status"] == "succeeded" else 1)
    return out


def test_papermill_and_mlr_run_agree_on_every_notebook_of_the_set(data_dir, tmp_path):
    paths = {}
    for name, (nb, _) in CASES.items():
        paths[name] = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, str(paths[name]), version=4)
    with ThreadPoolExecutor(2) as pool:  # papermill's verdicts beside ours; the app's runs queue one at a time
        papermill = dict(zip(CASES, pool.map(lambda n: _papermill(paths[n], tmp_path / f"{n}.pm.ipynb"), CASES)))
        ours = dict(zip(CASES, pool.map(lambda n: _mlr(paths[n]), CASES)))
    disagree = {n: (papermill[n], ours[n]["status"], ours[n]["error"]) for n in CASES
                if papermill[n] != (ours[n]["status"] == "succeeded")}
    assert not disagree, f"papermill and mlr disagree: {disagree}"
    assert {n: papermill[n] for n in CASES} == {n: expected for n, (_, expected) in CASES.items()}
    # A notebook that succeeds without reporting a metric is a success with a note, not a failure.
    assert ours["prints"]["metrics"] == {} and "no metric found" in ours["prints"]["metrics_found"]["note"]
    assert "no metric found" in ours["no_cells"]["metrics_found"]["note"]
    assert ours["raises"]["error"]["ename"] == "ValueError" and ours["raises"]["error"]["cell_index"] == 1
