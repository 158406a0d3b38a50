"""Writes the held-out broken notebooks of this folder and manifest.json (run: python _build.py).

Written from real-world failure kinds (issue 12's list); a development set since its first measurement (README.md). Each
notebook follows the prototype contract (a `parameters` cell, metrics.json at the end) and carries one
bug as a researcher would make it. ``expect``: fixed | stop; ``command``: the right pip line for a stop.
Standard library, numpy and pandas only.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from broken_sets import METRICS, write  # noqa: E402  (the shared writer)

NOTEBOOKS = {
    # library API drift: a function removed in NumPy 2 (np.trapz -> np.trapezoid)
    "api_removed_function": dict(cls="api_drift", expect="fixed", params="steps = 11", cells=[
        "import numpy as np\nx = np.linspace(0.0, 1.0, steps)\ny = x ** 2",
        "area = np.trapz(y, x)\naccuracy = 1.0 - abs(area - 1 / 3)", METRICS]),
    # library API drift: a renamed keyword (pandas 2: line_terminator -> lineterminator)
    "api_renamed_kwarg": dict(cls="api_drift", expect="fixed", params="rows = 4", cells=[
        "import pandas as pd\ndf = pd.DataFrame({'x': range(rows), 'y': [v % 2 for v in range(rows)]})",
        "text = df.to_csv(index=False, line_terminator='\\n')\naccuracy = text.count('\\n') / (rows + 1)", METRICS]),
    # dtype: in-place float update of an int array
    "dtype_inplace": dict(cls="dtype", expect="fixed", params="lr = 0.5", cells=[
        "import numpy as np\nweights = np.zeros(4, dtype=np.int64)\ngrad = np.array([0.1, 0.2, 0.3, 0.4])",
        "weights -= lr * grad\naccuracy = float(1.0 + weights.mean())", METRICS]),
    # wrong array shape: a matrix product with the operand not transposed
    "shape_not_transposed": dict(cls="wrong_shape", expect="fixed", params="n = 6", cells=[
        "import numpy as np\nfeatures = np.ones((n, 3))\nprojection = np.ones((n, 3)) / 3",
        "scores = features @ projection\naccuracy = float(np.clip(scores.mean(), 0, 1))", METRICS]),
    # a logic assert: probabilities normalised over the wrong axis
    "logic_normalise_axis": dict(cls="logic_bug", expect="fixed", params="classes = 3", cells=[
        "import numpy as np\nlogits = np.arange(2 * classes, dtype=float).reshape(2, classes)",
        "probs = np.exp(logits) / np.exp(logits).sum(axis=0, keepdims=True)\n"
        "assert np.allclose(probs.sum(axis=1), 1.0), 'rows must sum to 1'\naccuracy = float(probs.max(axis=1).mean())",
        METRICS]),
    # a path built in a helper function, with the wrong folder name
    "path_in_helper": dict(cls="file_not_found", expect="fixed", params="split = 'train'", cells=[
        "import os\nos.makedirs('data', exist_ok=True)\nfor s in ('train', 'test'):\n"
        "    with open(os.path.join('data', f'{s}.txt'), 'w') as fh:\n        fh.write('1\\n0\\n1\\n1\\n')",
        "def data_file(name):\n    return os.path.join('dataset', f'{name}.txt')\n\n"
        "labels = [int(v) for v in open(data_file(split)).read().split()]",
        "accuracy = sum(labels) / len(labels)", METRICS]),
    # an encoding error: a UTF-8 file read as ASCII
    "encoding_ascii": dict(cls="encoding", expect="fixed", params="lines = 3", cells=[
        "with open('notes.txt', 'w', encoding='utf-8') as fh:\n    fh.write('café\\nnaïve\\nrésumé\\n'[: lines * 7])",
        "text = open('notes.txt', encoding='ascii').read()\naccuracy = len(text.split()) / lines", METRICS]),
    # an off-by-one in a loop bound
    "off_by_one_loop": dict(cls="off_by_one", expect="fixed", params="k = 4", cells=[
        "hits = [1, 0, 1, 1, 0, 1][:k]",
        "total = 0\nfor i in range(len(hits) + 1):\n    total += hits[i]\naccuracy = total / len(hits)", METRICS]),
    # a misspelled method on a NumPy array
    "array_method_typo": dict(cls="attribute_error", expect="fixed", params="n = 5", cells=[
        "import numpy as np\nvalues = np.linspace(0.5, 0.9, n)",
        "accuracy = float(values.men())", METRICS]),
    # a misspelled method on a string
    "str_method_typo": dict(cls="attribute_error", expect="fixed", params="label = 'Positive'", cells=[
        "normalised = label.lowr().strip()\naccuracy = 1.0 if normalised == 'positive' else 0.0", METRICS]),
    # a wrong keyword to a builtin
    "builtin_wrong_kwarg": dict(cls="wrong_kwarg", expect="fixed", params="top = 2", cells=[
        "scores = [0.3, 0.9, 0.6, 0.8]\nbest = sorted(scores, reversed=True)[:top]\naccuracy = sum(best) / top",
        METRICS]),
    # a division by an empty split: the split fraction parameter leaves the test set empty
    "empty_test_split": dict(cls="empty_split", expect="fixed", params="test_fraction = 0.05", cells=[
        "data = list(range(10))\nn_test = int(len(data) * test_fraction)\ntest = data[:n_test]\ntrain = data[n_test:]",
        "accuracy = sum(1 for v in test if v % 2 == 0) / len(test)", METRICS]),
    # a typo'd key of a config loaded from JSON
    "config_key_typo": dict(cls="key_error", expect="fixed", params="epochs = 2", cells=[
        "import json\nwith open('config.json', 'w') as fh:\n    json.dump({'learning_rate': 0.1, 'momentum': 0.9}, fh)\n"
        "config = json.load(open('config.json'))",
        "accuracy = 1 - config['learningrate'] * epochs", METRICS]),
    # a name used before its own definition cell (a typo of a variable from two cells up)
    "variable_typo_far": dict(cls="name_error", expect="fixed", params="n = 20", cells=[
        "train_losses = [1.0 / (i + 1) for i in range(n)]", "val_split = 0.2",
        "accuracy = 1 - train_loss[-1]", METRICS]),
    # a missing positional argument to the notebook's own function
    "missing_argument": dict(cls="missing_argument", expect="fixed", params="scale = 2.0", cells=[
        "def evaluate(values, scale):\n    return sum(values) / (len(values) * scale)",
        "accuracy = evaluate([1.0, 1.0, 2.0])", METRICS]),
    # a missing package (unfixable: needs an install)
    "missing_lightgbm": dict(cls="missing_package", expect="stop", command="pip install lightgbm",
                             params="rounds = 10", cells=[
        "import lightgbm as lgb\nmodel = lgb.LGBMClassifier(n_estimators=rounds)", "accuracy = 0.5", METRICS]),
    # a hang: a convergence loop that never converges (unfixable by a patch within the run's time limit)
    "hang_no_convergence": dict(cls="timeout", expect="stop", params="tol = 0.0", cells=[
        "import time\nloss = 1.0\nwhile loss > tol:\n    loss = max(loss * 0.5, 1e-3)\n    time.sleep(0.01)\naccuracy = 1 - loss",
        METRICS]),
}


if __name__ == "__main__":
    write(HERE, NOTEBOOKS)
