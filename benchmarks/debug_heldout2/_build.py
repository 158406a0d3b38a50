"""Writes the second held-out set of broken notebooks and manifest.json (run: python _build.py).

Held out and written blind (issue 12): the author did not read the repair rules or the rule-targeted
fixtures. A development set since its first measurement (README.md). Each notebook follows the prototype contract (a
`parameters` cell, metrics.json at the end) and carries one bug as a researcher would make it.
``expect``: fixed | stop; ``command``: the right pip line for a stop. Standard library, numpy and
pandas only (plus one import of a package that is not installed).
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from broken_sets import METRICS, write  # noqa: E402  (the shared writer)

NOTEBOOKS = {
    # library API drift: a pandas method removed in pandas 2 (Series.iteritems -> Series.items)
    "api_removed_iteritems": dict(cls="api_drift", expect="fixed", params="threshold = 0.5", cells=[
        "import pandas as pd\nscores = pd.Series([0.2, 0.7, 0.9, 0.4, 0.8], index=['a', 'b', 'c', 'd', 'e'])\n"
        "labels = {'a': 0, 'b': 1, 'c': 1, 'd': 1, 'e': 1}",
        "correct = 0\nfor key, score in scores.iteritems():\n    correct += int((score >= threshold) == bool(labels[key]))\n"
        "accuracy = correct / len(scores)", METRICS]),
    # a renamed keyword argument: np.histogram(normed=...) was replaced by density=...
    "histogram_normed_kwarg": dict(cls="api_drift", expect="fixed", params="bins = 5", cells=[
        "import numpy as np\nrng = np.random.default_rng(0)\nsample = rng.uniform(0.0, 1.0, 500)",
        "density, edges = np.histogram(sample, bins=bins, range=(0.0, 1.0), normed=True)\n"
        "# a uniform sample: every bin's density should be close to 1\n"
        "accuracy = float(np.mean(np.abs(density - 1.0) < 0.2))", METRICS]),
    # dtype: arithmetic on an object (str) column parsed from text
    "dtype_str_column": dict(cls="dtype", expect="fixed", params="total = 5", cells=[
        "import pandas as pd\nraw = ['run1,3', 'run2,4', 'run3,5']\nrows = [line.split(',') for line in raw]\n"
        "df = pd.DataFrame(rows, columns=['run', 'correct'])",
        "df['accuracy'] = df['correct'] / total\naccuracy = float(df['accuracy'].mean())", METRICS]),
    # wrong shape: a 1-D bias column concatenated to a 2-D design matrix
    "shape_bias_column": dict(cls="wrong_shape", expect="fixed", params="n = 8", cells=[
        "import numpy as np\nrng = np.random.default_rng(1)\nX = rng.normal(size=(n, 2))\n"
        "y = (X[:, 0] + X[:, 1] > 0).astype(float)",
        "bias = np.ones(n)\nX_aug = np.concatenate([X, bias], axis=1)\nw, *_ = np.linalg.lstsq(X_aug, y, rcond=None)\n"
        "pred = (X_aug @ w > 0.5).astype(float)\naccuracy = float((pred == y).mean())", METRICS]),
    # a logic assert: the metric computed on a percent scale where a fraction is required
    "logic_percent_scale": dict(cls="logic_bug", expect="fixed", params="n_eval = 40", cells=[
        "import numpy as np\nrng = np.random.default_rng(2)\ny_true = rng.integers(0, 2, n_eval)\n"
        "y_pred = np.where(rng.random(n_eval) < 0.8, y_true, 1 - y_true)",
        "accuracy = 100.0 * (y_pred == y_true).sum() / len(y_true)\n"
        "assert 0.0 <= accuracy <= 1.0, f'accuracy must be a fraction, got {accuracy}'", METRICS]),
    # a path built by string concatenation without a separator
    "path_concat_separator": dict(cls="file_not_found", expect="fixed", params="run_name = 'baseline'", cells=[
        "import os\nos.makedirs('outputs', exist_ok=True)\n"
        "with open(os.path.join('outputs', run_name + '_preds.csv'), 'w') as fh:\n"
        "    fh.write('label,pred\\n1,1\\n0,0\\n1,0\\n1,1\\n')",
        "results_dir = 'outputs'\npreds_path = results_dir + run_name + '_preds.csv'\n"
        "rows = [line.split(',') for line in open(preds_path).read().split()[1:]]",
        "accuracy = sum(a == b for a, b in rows) / len(rows)", METRICS]),
    # an encoding error: a Latin-1 export read by pandas as UTF-8
    "encoding_latin1_csv": dict(cls="encoding", expect="fixed", params="min_len = 3", cells=[
        "# a legacy tool exports its word list in Latin-1\nwords = ['café', 'naïve', 'señor', 'garçon', 'ok']\n"
        "with open('legacy_export.csv', 'w', encoding='latin-1') as fh:\n    fh.write('word\\n' + '\\n'.join(words) + '\\n')",
        "import pandas as pd\ndf = pd.read_csv('legacy_export.csv')\n"
        "accuracy = float((df['word'].str.len() >= min_len).mean())", METRICS]),
    # an off-by-one index: the last row taken with iloc[len(df)]
    "off_by_one_iloc": dict(cls="off_by_one", expect="fixed", params="metric = 'val_acc'", cells=[
        "import pandas as pd\nhistory = pd.DataFrame({'epoch': range(1, 7),\n"
        "                        'val_acc': [0.50, 0.60, 0.66, 0.70, 0.72, 0.74]})",
        "final = history.iloc[len(history)]\naccuracy = float(final[metric])", METRICS]),
    # a misspelled method on a DataFrame
    "pandas_method_typo": dict(cls="attribute_error", expect="fixed", params="key = 'sample_id'", cells=[
        "import pandas as pd\ndf = pd.DataFrame({'sample_id': [1, 2, 2, 3, 4, 4], 'correct': [1, 0, 0, 1, 1, 1]})",
        "dedup = df.drop_duplicate(subset=[key])\naccuracy = float(dedup['correct'].mean())", METRICS]),
    # a wrong keyword to a standard library function (NumPy's size= habit in random.sample)
    "stdlib_wrong_kwarg": dict(cls="wrong_kwarg", expect="fixed", params="n_val = 4", cells=[
        "import random\nrng = random.Random(0)\ndata = list(range(20))",
        "val = rng.sample(data, size=n_val)\naccuracy = sum(1 for v in val if v % 2 == 0) / len(val)", METRICS]),
    # a division by empty folds: the n_folds parameter exceeds the number of samples
    "empty_folds_param": dict(cls="empty_split", expect="fixed", params="n_folds = 20", cells=[
        "labels = [1, 0, 1, 1, 0, 1, 1, 0, 1, 1]\npreds = [1, 0, 1, 0, 0, 1, 1, 1, 1, 1]\n"
        "fold_size = len(labels) // n_folds",
        "fold_scores = []\nfor f in range(n_folds):\n    lo, hi = f * fold_size, (f + 1) * fold_size\n"
        "    hits = [labels[i] == preds[i] for i in range(lo, hi)]\n    fold_scores.append(sum(hits) / len(hits))\n"
        "accuracy = sum(fold_scores) / len(fold_scores)", METRICS]),
    # a KeyError: a typo in a DataFrame column name
    "column_name_typo": dict(cls="key_error", expect="fixed", params="subset = 4", cells=[
        "import pandas as pd\ndf = pd.DataFrame({'text': ['good', 'bad', 'fine', 'awful'],\n"
        "                   'label': [1, 0, 1, 0], 'prediction': [1, 0, 0, 0]}).head(subset)",
        "accuracy = float((df['prediction'] == df['lable']).mean())", METRICS]),
    # a NameError: a misspelled variable
    "variable_misspelled": dict(cls="name_error", expect="fixed", params="n = 12", cells=[
        "labels = [i % 3 == 0 for i in range(n)]\npreds = [i % 3 == 0 or i == 5 for i in range(n)]\n"
        "n_correct = sum(p == l for p, l in zip(preds, labels))",
        "accuracy = n_corect / n", METRICS]),
    # an extra argument to the notebook's own function (a scikit-learn habit)
    "extra_argument": dict(cls="extra_argument", expect="fixed", params="threshold = 0.5", cells=[
        "def accuracy_score(y_true, y_pred):\n    return sum(int(t == p) for t, p in zip(y_true, y_pred)) / len(y_true)",
        "probs = [0.9, 0.2, 0.7, 0.4, 0.6]\ny_true = [1, 0, 1, 1, 1]\ny_pred = [int(p >= threshold) for p in probs]\n"
        "accuracy = accuracy_score(y_true, y_pred, normalize=True)", METRICS]),
    # a missing package whose import name differs from its distribution (unfixable: needs an install)
    "missing_skimage": dict(cls="missing_package", expect="stop", command="pip install scikit-image",
                            params="win_size = 7", cells=[
        "import numpy as np\nfrom skimage.metrics import structural_similarity\n"
        "ref = np.linspace(0.0, 1.0, 64).reshape(8, 8)\nnoisy = ref + 0.01",
        "accuracy = float(structural_similarity(ref, noisy, win_size=win_size, data_range=1.0))", METRICS]),
    # a hang: waiting for a flag file that another job was meant to write (it never appears)
    "hang_wait_for_flag": dict(cls="timeout", expect="stop", params="poll_s = 0.2", cells=[
        "import os, time\n# the feature-extraction job writes this flag when cache/features.csv is ready\n"
        "os.makedirs('cache', exist_ok=True)\nwhile not os.path.exists(os.path.join('cache', 'features.done')):\n"
        "    time.sleep(poll_s)",
        "features = [float(v) for v in open(os.path.join('cache', 'features.csv')).read().split()]\n"
        "accuracy = sum(features) / len(features)", METRICS]),
}


if __name__ == "__main__":
    write(HERE, NOTEBOOKS)
