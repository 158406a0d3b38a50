"""Evidence from a real kernel (replay up to the failing cell, then look), the rules and the prompt using it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mlr.agents.experiment_debug import Debugger
from mlr.execution.evidence import gather
from mlr.execution.fixers import FixContext, run_fixers
from mlr.execution.workbench import NotebookWorkbench
from mlr.llm.scripted import ScriptedLLM
from mlr.protocols import ErrorReport

HELDOUT = Path(__file__).resolve().parents[2] / "benchmarks" / "debug_heldout"


def notebook(tmp_path: Path, *cells: str, params: str = "n = 3") -> Path:
    raw = [{"cell_type": "code", "id": "p", "metadata": {"tags": ["parameters"]}, "source": params,
            "execution_count": None, "outputs": []}]
    raw += [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": src, "execution_count": None, "outputs": []}
            for i, src in enumerate(cells)]
    nb = {"cells": raw, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                    "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    return path


def look(tmp_path, nb, ename, evalue, cell_index, params=None):
    from mlr.execution import notebook_edit

    report = ErrorReport(cell_index=cell_index, ename=ename, evalue=evalue,
                         cell_source=notebook_edit.cell_source(nb, cell_index),
                         traceback=f"Cell In[3], line 1\n----> 1 {notebook_edit.cell_source(nb, cell_index)}\n")
    return report, gather(report, nb, params or {"n": 3}, cwd=tmp_path)


def test_name_error_evidence_is_the_kernels_namespace(tmp_path):
    nb = notebook(tmp_path, "total_count = n * 2", "accuracy = total_cont / 10")
    _, ev = look(tmp_path, nb, "NameError", "name 'total_cont' is not defined", 2)
    assert "total_count" in ev["names"] and "n" in ev["names"]
    assert any("total_count" in f for f in ev["facts"])


def test_attribute_error_evidence_is_type_and_dir_of_the_object(tmp_path):
    nb = notebook(tmp_path, "import numpy as np\narr = np.arange(n, dtype=float)", "spread = arr.stdd()")
    report, ev = look(tmp_path, nb, "AttributeError", "'numpy.ndarray' object has no attribute 'stdd'", 2)
    assert "numpy.ndarray" in ev["attributes"]["type"] and "std" in ev["attributes"]["dir"]
    # The rule follows the live dir(): without evidence it has nothing to suggest from.
    fix = run_fixers(report.model_copy(update={"evidence": ev}), FixContext(notebook=nb, notebook_code=""))
    assert fix is not None and fix.new_source == "spread = arr.std()"
    assert run_fixers(report, FixContext(notebook=nb, notebook_code="")) is None


def test_type_error_evidence_is_the_real_signature_and_the_kwarg_rule_uses_it(tmp_path):
    nb = notebook(tmp_path, "from functools import partial\ndef fit(data, *, learning_rate=0.1, epochs=1):\n"
                  "    return len(data)\ntrain = partial(fit, epochs=2)", "accuracy = train([1], lerning_rate=0.2)")
    report, ev = look(tmp_path, nb, "TypeError", "fit() got an unexpected keyword argument 'lerning_rate'", 2)
    assert "learning_rate" in ev["signatures"]["train"]["parameters"]
    fix = run_fixers(report.model_copy(update={"evidence": ev}), FixContext(notebook=nb, notebook_code=""))
    assert fix is not None and "learning_rate=0.2" in fix.new_source


def test_key_error_evidence_is_the_mappings_keys(tmp_path):
    nb = notebook(tmp_path, "cfg = dict(zip(['alpha', 'beta'], [1, 2]))", "accuracy = cfg['alpah']")
    report, ev = look(tmp_path, nb, "KeyError", "'alpah'", 2)
    assert ev["keys"]["cfg"] == ["'alpha'", "'beta'"]
    fix = run_fixers(report.model_copy(update={"evidence": ev}), FixContext(notebook=nb, notebook_code=""))
    assert fix is not None and fix.new_source == "accuracy = cfg['alpha']"


def test_shape_evidence_is_the_shapes_and_lengths_on_the_failing_line(tmp_path):
    nb = notebook(tmp_path, "import numpy as np\nA = np.ones((n, 2))\nB = np.ones((n, 2))\nrows = [1, 2]",
                  "C = A @ B")
    _, ev = look(tmp_path, nb, "ValueError", "matmul: mismatch in core dimension", 2)
    assert "shape=(3, 2)" in ev["values"]["A"] and "shape=(3, 2)" in ev["values"]["B"]


def test_file_not_found_evidence_is_the_files_near_the_path(tmp_path):
    nb = notebook(tmp_path, "import os\nos.makedirs('inputs', exist_ok=True)\nopen('inputs/a.csv', 'w').write('1')",
                  "x = open(os.path.join('input', 'a.csv')).read()")
    _, ev = look(tmp_path, nb, "FileNotFoundError", "[Errno 2] No such file or directory: 'input/a.csv'", 2)
    assert "inputs/a.csv" in ev["files"]


def test_no_evidence_for_a_missing_package_and_within_the_time_limit(tmp_path):
    nb = notebook(tmp_path, "import time\ntime.sleep(60)", "x = y")
    report = ErrorReport(cell_index=1, ename="ModuleNotFoundError", evalue="No module named 'cv2'")
    assert gather(report, nb, {}, cwd=tmp_path) == {}
    slow = ErrorReport(cell_index=2, ename="NameError", evalue="name 'y' is not defined", cell_source="x = y")
    assert gather(slow, nb, {"n": 3}, cwd=tmp_path, timeout_s=8)["error"].startswith("no evidence within")


def test_heldout_notebook_fixed_end_to_end_with_the_evidence_in_the_prompt(tmp_path, runner, store, settings):
    # A held-out (development set) logic bug: accuracy computed as a percentage where a fraction is asserted. No rule
    # and no tested edit fixes it (asserts are never edited), so the model is asked, and its prompt shows what the
    # kernel saw on the failing line.
    nb = tmp_path / "prototypes" / "logic_percent_scale.ipynb"
    nb.parent.mkdir(parents=True)
    shutil.copyfile(HELDOUT.parent / "debug_heldout2" / "logic_percent_scale.ipynb", nb)
    fixed = ("accuracy = (y_pred == y_true).sum() / len(y_true)\n"
             "assert 0.0 <= accuracy <= 1.0, f'accuracy must be a fraction, got {accuracy}'")
    llm = ScriptedLLM([{"cell_index": 3, "new_source": fixed, "explanation": "a fraction, not a percentage"}])
    result = Debugger(llm, NotebookWorkbench(runner), store, settings).run_loop(nb, {}, autopilot=True)
    prompt = llm.prompts[0][-1]["content"]
    assert "What the kernel shows at the failure" in prompt
    assert "`accuracy` is numpy.float64 = 75.0" in prompt  # the percentage the assert saw
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 2, 40)
    y_pred = np.where(rng.random(40) < 0.8, y_true, 1 - y_true)
    assert result.fixed and result.metrics["accuracy"] == pytest.approx(float((y_pred == y_true).mean()))
    root = store.get_attempt(result.root_id)
    assert root.data.report.evidence["values"]["accuracy"] == "numpy.float64 = 75.0"
    assert root.data.report.evidence["edit_search"]["found"] is False  # the search ran and found no edit


def test_a_logic_bug_over_the_wrong_axis_is_fixed_by_a_tested_edit(tmp_path, runner, store, settings):
    # Held-out development notebook: softmax normalised over the whole array; the assert is never edited, the
    # reduction is, and the edit was run in the kernel before it was proposed.
    nb = tmp_path / "prototypes" / "logic_normalise_axis.ipynb"
    nb.parent.mkdir(parents=True)
    shutil.copyfile(HELDOUT / "logic_normalise_axis.ipynb", nb)
    result = Debugger(ScriptedLLM(), NotebookWorkbench(runner), store, settings).run_loop(nb, {}, autopilot=True)
    logits = np.arange(6, dtype=float).reshape(2, 3)
    expected = float((np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).max(axis=1).mean())
    assert result.fixed and result.metrics["accuracy"] == pytest.approx(expected)
    fix = [a for a in result.attempts if a["source"] == "rule:tested_edit"]
    assert len(fix) == 1 and "keepdims=True" in fix[0]["diff"] and "-assert" not in fix[0]["diff"]


def test_a_heldout_shape_error_is_fixed_by_the_rule_reading_the_kernels_shapes(tmp_path, runner, store, settings):
    nb = tmp_path / "prototypes" / "shape_not_transposed.ipynb"
    nb.parent.mkdir(parents=True)
    shutil.copyfile(HELDOUT / "shape_not_transposed.ipynb", nb)
    llm = ScriptedLLM()  # an empty queue: asking the model would raise
    result = Debugger(llm, NotebookWorkbench(runner), store, settings).run_loop(nb, {}, autopilot=True)
    assert result.fixed and result.attempts[-1]["source"] == "rule:shapes" and llm.usage.calls == 0
    assert "projection.T" in result.attempts[-1]["diff"] and "(6, 3)" in result.attempts[-1]["explanation"]


@pytest.mark.parametrize("evidence", [False])
def test_without_evidence_the_prompt_has_none(tmp_path, runner, store, settings, evidence):
    nb = tmp_path / "p" / "shape_not_transposed.ipynb"
    nb.parent.mkdir(parents=True)
    shutil.copyfile(HELDOUT / "shape_not_transposed.ipynb", nb)
    llm = ScriptedLLM(default={"cell_index": 3, "new_source": "scores = features @ projection.T\n"
                               "accuracy = float(np.clip(scores.mean(), 0, 1))", "explanation": "t"})
    Debugger(llm, NotebookWorkbench(runner, evidence=evidence), store, settings).run_loop(nb, {}, autopilot=True)
    assert "What the kernel shows" not in llm.prompts[0][-1]["content"]


def test_a_division_by_an_empty_split_is_traced_to_its_parameter(tmp_path):
    nb = notebook(tmp_path, "rows = list(range(8))\ncut = int(len(rows) * frac)\nheld = rows[:cut]",
                  "score = 1 / len(held)", params="frac = 0.1")
    _, ev = look(tmp_path, nb, "ZeroDivisionError", "division by zero", 2, params={"frac": 0.1})
    assert "len=0" in ev["values"]["held"] and ev["causes"]["held"] == {"frac": 0.1}
    assert any("`frac` = 0.1" in f for f in ev["facts"])
    # The nearest value with which the notebook's own statements and the failing line run, found in the kernel:
    # 0.05 and 0.15 are equally near; 0.05 leaves `held` empty (int(0.4) == 0), 0.15 gives one row.
    assert ev["parameter_fix"]["frac"]["from"] == 0.1 and ev["parameter_fix"]["frac"]["to"] == 0.15


def test_the_parameter_search_skips_values_that_still_fail(tmp_path):
    # A filter threshold: 0.85, 0.8, ... keep nothing above them until 0.55 (0.6 is kept).
    nb = notebook(tmp_path, "scores = [0.2, 0.4, 0.6]\nkept = [s for s in scores if s > threshold]",
                  "accuracy = sum(kept) / len(kept)", params="threshold = 0.9")
    report, ev = look(tmp_path, nb, "ZeroDivisionError", "division by zero", 2, params={"threshold": 0.9})
    assert ev["parameter_fix"]["threshold"]["to"] == 0.55
    report = report.model_copy(update={"evidence": ev, "parameters": {"threshold": 0.9}})
    fix = run_fixers(report, FixContext(notebook=nb, notebook_code=""))
    assert fix.action == "parameters" and fix.parameters == {"threshold": 0.55}


def test_the_parameter_search_follows_values_computed_inside_a_loop(tmp_path):
    # `chunk` is empty for every step because `steps` (a parameter) exceeds the rows: the failing line sits in a
    # loop, so the trace follows the loop's assignments and the search re-runs the whole failing cell.
    nb = notebook(tmp_path, "rows = list(range(6))\nwidth = len(rows) // steps",
                  "means = []\nfor s in range(steps):\n    chunk = rows[s * width:(s + 1) * width]\n"
                  "    means.append(sum(chunk) / len(chunk))\naccuracy = 1 / (1 + sum(means))",
                  params="steps = 8")
    from mlr.execution import notebook_edit

    source = notebook_edit.cell_source(nb, 2)
    report = ErrorReport(cell_index=2, ename="ZeroDivisionError", evalue="division by zero", cell_source=source,
                         traceback="Cell In[3], line 4\n----> 4     means.append(sum(chunk) / len(chunk))\n")
    ev = gather(report, nb, {"steps": 8}, cwd=tmp_path)
    assert ev["causes"]["chunk"] == {"steps": 8}
    assert ev["parameter_fix"]["steps"]["to"] == 6  # the nearest value that runs: 7 still leaves width 0


def test_a_removed_library_function_is_renamed_from_the_modules_full_dir(tmp_path):
    # NumPy has over 400 public names; the renamed function sorts late (`trapezoid`), so dir() is taken whole.
    nb = notebook(tmp_path, "import numpy as np\nys = np.linspace(0, 1, n)", "area = np.trapz(ys)")
    report, ev = look(tmp_path, nb, "AttributeError", "module 'numpy' has no attribute 'trapz'", 2)
    assert "trapezoid" in ev["attributes"]["dir"] and len(ev["attributes"]["dir"]) > 400
    fix = run_fixers(report.model_copy(update={"evidence": ev}), FixContext(notebook=nb, notebook_code=""))
    assert fix is not None and fix.new_source == "area = np.trapezoid(ys)"


def test_the_failing_line_of_a_chained_pandas_error_is_the_cells_own():
    # pandas raises KeyError from inside its index, then again from DataFrame.__getitem__: the first arrows are
    # library lines; the evidence must look at the cell's line.
    from mlr.execution.evidence import failing_line

    tb = ("KeyError                                  Traceback (most recent call last)\n"
          "File ~/pandas/core/indexes/base.py:3812, in Index.get_loc(self, key)\n"
          "-> 3812     return self._engine.get_loc(casted_key)\n\nKeyError: 'Target'\n\n"
          "The above exception was the direct cause of the following exception:\n\n"
          "KeyError                                  Traceback (most recent call last)\n"
          "Cell In[4], line 3\n      2 X = df[features]\n----> 3 y = df[\"Target\"]\n\n"
          "File ~/pandas/core/frame.py:4113, in DataFrame.__getitem__(self, key)\n"
          "-> 4113 indexer = self.columns.get_loc(key)\n")
    report = ErrorReport(cell_index=4, ename="KeyError", evalue="'Target'", traceback=tb, cell_source="")
    assert failing_line(report) == 'y = df["Target"]'


def test_api_drift_reaches_the_model_with_the_library_version_installed_in_the_kernel(tmp_path, runner, store, settings):
    # An old scikit-learn example: `metrics.plot_confusion_matrix` was removed in 1.2. The report names the installed
    # version; no rule can know the replacement (the error does not say it), so the model does the rest.
    import sklearn

    (tmp_path / "prototypes").mkdir()
    nb = notebook(tmp_path / "prototypes",
                  "from sklearn import metrics\ny_true = [0, 1, 1, 0]\ny_pred = [0, 1, 0, 0]",
                  "metrics.plot_confusion_matrix(y_true, y_pred)\naccuracy = metrics.accuracy_score(y_true, y_pred)",
                  "import json\njson.dump({'accuracy': accuracy}, open('metrics.json', 'w'))")
    fixed = ("metrics.ConfusionMatrixDisplay.from_predictions(y_true, y_pred)\n"
             "accuracy = metrics.accuracy_score(y_true, y_pred)")
    llm = ScriptedLLM([{"cell_index": 2, "new_source": fixed, "explanation": "the current API"}])
    result = Debugger(llm, NotebookWorkbench(runner), store, settings).run_loop(nb, {}, autopilot=True)
    assert llm.prompts, [(a["source"], a["explanation"]) for a in result.attempts]
    prompt = llm.prompts[0][-1]["content"]
    assert f"scikit-learn {sklearn.__version__} is installed in the kernel" in prompt
    assert result.fixed and result.metrics["accuracy"] == 0.75
    root = store.get_attempt(result.root_id)
    assert root.data.report.evidence["library"] == {"name": "scikit-learn", "version": sklearn.__version__}


def test_an_import_of_a_name_a_library_no_longer_has_gets_evidence(tmp_path):
    import sklearn

    nb = notebook(tmp_path, "from sklearn.metrics import plot_confusion_matrix")
    _, ev = look(tmp_path, nb, "ImportError",
                 "cannot import name 'plot_confusion_matrix' from 'sklearn.metrics' (/x/sklearn/metrics/__init__.py)", 1)
    assert ev["library"] == {"name": "scikit-learn", "version": sklearn.__version__}
    assert "confusion_matrix" in ev["attributes"]["dir"]
