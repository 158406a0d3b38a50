"""The evaluation guard on the sample notebooks: edits of the metric, split, parameters or fixed values refused."""

from pathlib import Path

import nbformat
import pytest

from mlr.experiments.guard import Guard, check_code_edit
from mlr.experiments.space import space_for_notebook

SAMPLES = Path(__file__).resolve().parents[2] / "sample_papers"
DIGITS = SAMPLES / "digit-thumbnails" / "prototype.ipynb"
DIABETES = SAMPLES / "diabetes-progression" / "prototype.ipynb"


def cell(path, i):
    return nbformat.read(str(path), as_version=4).cells[i].source


@pytest.fixture(scope="module")
def digits():
    return Guard.for_notebook(DIGITS, "accuracy", [p.name for p in space_for_notebook(DIGITS).fixed])


def test_evaluation_cells_are_found(digits):
    assert set(digits.protected) == {3, 4}  # split + accuracy_score + metrics dict; the metrics.json write
    assert "train_test_split" in digits.protected[3] and "metrics.json" in digits.protected[4]
    assert {"X_test", "y_test", "accuracy_score", "train_test_split"} <= digits.protected_names


def test_model_change_in_the_model_cell_is_allowed(digits):
    new = cell(DIGITS, 2).replace('"svm_rbf": lambda: SVC(C=C, kernel="rbf", gamma="scale"),',
                                  '"svm_rbf": lambda: SVC(C=C, kernel="rbf", gamma="scale"),\n'
                                  '    "knn": lambda: __import__("sklearn.neighbors").neighbors.KNeighborsClassifier(3),')
    assert new != cell(DIGITS, 2)
    assert digits.check_cell(2, new).allowed, digits.check_cell(2, new).reasons
    # comments and formatting only are never a change
    assert digits.check_cell(3, "# a comment\n" + cell(DIGITS, 3)).allowed


@pytest.mark.parametrize("index,old,new,expect", [
    (3, "test_size=test_size", "test_size=0.05", "part of the evaluation"),
    (3, 'accuracy_score(y_test, pred)', 'accuracy_score(y_test, y_test)', "part of the evaluation"),
    (4, 'os.replace(tmp, "metrics.json")', 'metrics["accuracy"] = 1.0\nos.replace(tmp, "metrics.json")',
     "part of the evaluation"),
    (1, "seed: int = 0", "seed: int = 1", "parameters cell"),
    (2, "import time", "import time\ntest_size = 0.05", "test_size, a fixed parameter"),
    (2, "import time", "import time\nseed = 42", "seed, a fixed parameter"),
    (2, "from sklearn.metrics import accuracy_score, f1_score",
     "from sklearn.metrics import f1_score\naccuracy_score = lambda a, b: 1.0", "accuracy_score"),
    (2, "import time", "import time\nfrom sklearn.model_selection import train_test_split as tts\n"
                       "split = tts([1, 2], test_size=0.5)", "sets the split (test_size=)"),
    (2, "import time", "import time\nimport json\njson.dump({'accuracy': 1.0}, open('metrics.json', 'w'))",
     "writes metrics.json"),
])
def test_evaluation_edits_are_refused(digits, index, old, new, expect):
    source = cell(DIGITS, index)
    assert old in source
    result = digits.check_cell(index, source.replace(old, new))
    assert not result.allowed
    assert expect in result.text()


def test_data_loading_in_a_model_cell_is_protected():
    guard = Guard.for_notebook(DIABETES, "rmse", ["seed", "n_folds"])
    assert set(guard.protected) == {3, 4}
    source = cell(DIABETES, 2)
    ok = source.replace("max_depth=2", "max_depth=3")
    assert guard.check_cell(2, ok).allowed
    shrink = source.replace("names = list(data.feature_names)",
                            "data.data = data.data[:100]\nnames = list(data.feature_names)")
    assert "'data'" in guard.check_cell(2, shrink).text()
    reload = source.replace("data = load_diabetes()", "data = load_diabetes(scaled=False)")
    assert "loads the data" in guard.check_cell(2, reload).text()


def test_unparseable_and_missing_cells(digits):
    assert "not valid Python" in digits.check_cell(2, "def (:").text()
    assert not digits.check_cell(99, "x = 1").allowed


def test_check_code_edit_reads_metric_and_fixed_from_the_notebook():
    space = space_for_notebook(DIGITS)
    assert check_code_edit(DIGITS, 2, cell(DIGITS, 2) + "\nEXTRA = 1", space) is None
    problem = check_code_edit(DIGITS, 2, cell(DIGITS, 2) + "\ntest_size = 0.05", space)
    assert problem and "fixed parameter" in problem


def test_whole_notebook_edits(digits):
    cells = [(c.cell_type, c.source) for c in nbformat.read(str(DIGITS), as_version=4).cells]
    inserted = cells[:3] + [("code", "X_test = X_test[:10]")] + cells[3:]
    assert "X_test" in digits.check_notebook(inserted).text()
    dropped = cells[:4]
    assert "changed or removed" in digits.check_notebook(dropped).text()
    same_len = list(cells)
    same_len[2] = ("code", cells[2][1] + "\nEXTRA = 1")
    assert digits.check_notebook(same_len).allowed
