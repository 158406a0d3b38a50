"""Tested edits (mlr.execution.edit_search): each generic repair found in a real kernel, and what it must never do."""

from __future__ import annotations

import pytest

from mlr.execution.fixers import FixContext, run_fixers
from tests.expagent.test_evidence import look, notebook

CASES = {
    "key of the live mapping": (
        ["results = {'acc': 0.9, 'loss': 0.1}", "accuracy = results['accuracy']"],
        "KeyError", "'accuracy'", "accuracy = results['acc']"),
    "defined in a later cell": (
        ["import numpy as np\ny = np.array([0, 1, 2, 1])", "onehot = np.eye(n_classes)[y]",
         "n_classes = len(np.unique(y))"],
        "NameError", "name 'n_classes' is not defined", "n_classes = len(np.unique(y))\nonehot = np.eye(n_classes)[y]"),
    "missing import": (
        ["x = 16", "root = math.sqrt(x)"], "NameError", "name 'math' is not defined", "import math\nroot = math.sqrt(x)"),
    "missing argument from a similar name": (
        ["n_epochs = 4\ndef train(data, epochs):\n    return sum(data) * epochs", "score = train([1, 2])"],
        "TypeError", "train() missing 1 required positional argument: 'epochs'", "score = train([1, 2], epochs=n_epochs)"),
    "byte-order mark": (
        ["open('t.txt', 'w', encoding='utf-16').write('a,b\\n1,2\\n')", "text = open('t.txt').read()"],
        "UnicodeDecodeError", "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
        "text = open('t.txt', encoding='utf-16').read()"),
    "list.sort() used as a value": (
        ["scores = [3, 1, 2]\nranked = scores.sort()", "best = ranked[0]"],
        "TypeError", "'NoneType' object is not subscriptable", "scores = [3, 1, 2]\nranked = sorted(scores)"),
    "a bound one past the end": (
        ["losses = [1.0, 0.8, 0.7]", "deltas = []\nfor i in range(1, len(losses) + 1):\n    deltas.append(losses[i] - losses[i - 1])"],
        "IndexError", "list index out of range",
        "deltas = []\nfor i in range(1, len(losses)):\n    deltas.append(losses[i] - losses[i - 1])"),
    "integer cast": (
        ["import numpy as np\nlabels = np.array([0.0, 1.0, 1.0])", "counts = np.bincount(labels)"],
        "TypeError", "Cannot cast array data from dtype('float64') to dtype('int64') according to the rule 'safe'",
        "counts = np.bincount(labels.astype(int))"),
    "reductions along the wrong axis": (
        ["import numpy as np\nX = np.arange(12.0).reshape(4, 3)", "Z = (X - X.mean(axis=1)) / X.std(axis=1)"],
        "ValueError", "operands could not be broadcast together with shapes (4,3) (4,)",
        "Z = (X - X.mean(axis=0)) / X.std(axis=0)"),
    "the library's reshape advice": (
        ["import numpy as np\nfrom sklearn.linear_model import LinearRegression\nx = np.arange(6.0)\ny = 2 * x",
         "model = LinearRegression().fit(x, y)"],
        "ValueError", "Expected 2D array, got 1D array instead:\narray=[0. 1. 2. 3. 4. 5.].\nReshape your data either "
        "using array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) if it contains a single "
        "sample.", "model = LinearRegression().fit(x.reshape(-1, 1), y)"),
    "statistics on lines of their own along the wrong axis": (
        ["import numpy as np\nX = np.arange(12.0).reshape(4, 3)", "mu = X.mean(axis=1)\nsd = X.std(axis=1)\nZ = (X - mu) / sd"],
        "ValueError", "operands could not be broadcast together with shapes (4,3) (4,)",
        "mu = X.mean(axis=0)\nsd = X.std(axis=0)\nZ = (X - mu) / sd"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_of_tested_edit_is_found_in_the_kernel(tmp_path, case):
    cells, ename, evalue, expected = CASES[case]
    # The failing cell (index 0 is the parameters cell): the last one, except where a later cell defines the name.
    failing = 2 if case in ("list.sort() used as a value", "defined in a later cell") else len(cells)
    nb = notebook(tmp_path, *cells)
    report, ev = look(tmp_path, nb, ename, evalue, failing)
    assert ev.get("edit_fix"), ev
    assert ev["edit_fix"]["source"] == expected
    fix = run_fixers(report.model_copy(update={"evidence": ev}), FixContext(notebook=nb, notebook_code=""),
                     skip={"did_you_mean", "key_kwarg", "file_not_found"})
    assert fix is not None and fix.fixer == "tested_edit" and fix.new_source == expected
    assert "ran in a copy of the kernel" in fix.explanation


def test_a_path_literal_is_changed_to_the_file_that_exists(tmp_path):
    cells = ["from pathlib import Path\nDATA = Path('data')\nDATA.mkdir(exist_ok=True)\n"
             "(DATA / 'train.tsv').write_text('x\\n1\\n')",
             "def load(split):\n    return (DATA / f'{split}.csv').read_text()",
             "rows = load('train')"]
    nb = notebook(tmp_path, *cells)
    _, ev = look(tmp_path, nb, "FileNotFoundError", "[Errno 2] No such file or directory: 'data/train.csv'", 3)
    assert ev["edit_fix"]["cell_index"] == 2
    assert ev["edit_fix"]["source"] == "def load(split):\n    return (DATA / f'{split}.tsv').read_text()"


def test_an_assert_is_never_edited_to_pass(tmp_path):
    # Flipping the axis inside the assert would make it pass; the search must not touch an assert.
    nb = notebook(tmp_path, "import numpy as np\nm = np.ones((2, 3))", "assert m.sum(axis=0).shape == (2,)")
    _, ev = look(tmp_path, nb, "AssertionError", "", 2)
    assert "edit_fix" not in ev and ev["edit_search"]["found"] is False


def test_a_call_is_never_evaluated_to_find_keys(tmp_path):
    # The owner of the missing key is a call: reading its keys would run `fetch()` again (each call leaves a mark).
    nb = notebook(tmp_path, "def fetch():\n    open('calls.txt', 'a').write('x')\n    return {'acc': 1}",
                  "x = fetch()['accuracy']")
    _, ev = look(tmp_path, nb, "KeyError", "'accuracy'", 2)
    assert "edit_fix" not in ev
    assert (tmp_path / "calls.txt").read_text() == "x"  # the replay's own call, and no other


def test_a_loop_that_runs_once_too_often_is_shortened_before_an_index_is_changed(tmp_path):
    # `y[i + 1]` is the next step's target: changing it to `y[i]` would also run, and silently predict the present.
    nb = notebook(tmp_path, "y = [0.0, 1.0, 2.0, 3.0]",
                  "pairs = []\nfor i in range(1, len(y)):\n    pairs.append((y[i], y[i + 1]))")
    _, ev = look(tmp_path, nb, "IndexError", "list index out of range", 2)
    assert ev["edit_fix"]["source"] == "pairs = []\nfor i in range(1, len(y) - 1):\n    pairs.append((y[i], y[i + 1]))"
