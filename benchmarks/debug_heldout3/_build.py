"""Writes the third held-out set (the TEST set) of broken notebooks and manifest.json (run: python _build.py).

Held out and written blind (issue 12): the author did not read the repair rules, the rule-targeted
fixtures or the other held-out sets, and this set is never used to tune a rule. Each notebook follows
the prototype contract (a `parameters` cell, metrics.json at the end) and carries one bug as a
researcher would make it. ``expect``: fixed | stop; ``command``: the right pip line for a stop.
Standard library, numpy and pandas only (plus one import of a package that is not installed).
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
METRICS = 'import json\njson.dump({"accuracy": float(accuracy)}, open("metrics.json", "w"))\nprint("accuracy", accuracy)'

NOTEBOOKS = {
    # library API drift: np.trapz was removed in NumPy 2.x (renamed np.trapezoid)
    "api_removed_trapz": dict(cls="api_drift", expect="fixed", params="n_points = 200", cells=[
        "import numpy as np\nrng = np.random.default_rng(3)\ny = rng.integers(0, 2, n_points)\n"
        "scores = y * 0.6 + rng.random(n_points) * 0.8",
        "order = np.argsort(-scores)\ntp = np.cumsum(y[order]) / y.sum()\nfp = np.cumsum(1 - y[order]) / (1 - y).sum()\n"
        "tpr = np.concatenate([[0.0], tp])\nfpr = np.concatenate([[0.0], fp])",
        "auc = np.trapz(tpr, fpr)\nprint('ROC AUC', auc)\naccuracy = float(auc)", METRICS]),
    # wrong keyword: DataFrame.rename(column=...) instead of columns=...
    "rename_column_kwarg": dict(cls="wrong_kwarg", expect="fixed", params="pass_mark = 0.5", cells=[
        "import pandas as pd\nlog = pd.DataFrame({'ep': [1, 2, 3, 4], 'val_acc': [0.41, 0.55, 0.63, 0.67]})",
        "log = log.rename(column={'ep': 'epoch', 'val_acc': 'accuracy'})\nprint(log)",
        "final = log.sort_values('epoch').iloc[-1]\nassert final['accuracy'] > pass_mark\naccuracy = float(final['accuracy'])",
        METRICS]),
    # dtype: np.bincount on float labels parsed by genfromtxt
    "dtype_bincount_float": dict(cls="dtype", expect="fixed", params="", cells=[
        "import io\nimport numpy as np\ncsv_text = 'x,label\\n0.1,0\\n0.4,1\\n0.35,1\\n0.8,2\\n0.9,2\\n0.2,0\\n0.7,2\\n'\n"
        "data = np.genfromtxt(io.StringIO(csv_text), delimiter=',', skip_header=1)\nx, labels = data[:, 0], data[:, 1]",
        "counts = np.bincount(labels)\nmajority = counts.argmax()\nprint('class counts', counts)",
        "accuracy = float((labels == majority).mean())", METRICS]),
    # broadcast: standardising features with per-row statistics (axis=1) instead of per-column
    "broadcast_standardise_axis": dict(cls="wrong_shape", expect="fixed", params="n_samples = 30\nn_features = 4", cells=[
        "import numpy as np\nrng = np.random.default_rng(4)\nX = rng.normal(loc=5.0, scale=2.0, size=(n_samples, n_features))\n"
        "w_true = np.array([1.0, -2.0, 0.5, 0.0])[:n_features]\ny = ((X - 5.0) @ w_true > 0).astype(int)",
        "mu = X.mean(axis=1)\nsigma = X.std(axis=1)\nX_std = (X - mu) / sigma",
        "w, *_ = np.linalg.lstsq(X_std, 2.0 * y - 1.0, rcond=None)\npred = (X_std @ w > 0).astype(int)\n"
        "accuracy = float((pred == y).mean())", METRICS]),
    # logic assert: softmax normalised over the batch axis instead of the class axis
    "logic_softmax_axis": dict(cls="logic_bug", expect="fixed", params="n_classes = 3", cells=[
        "import numpy as np\nrng = np.random.default_rng(5)\nlogits = rng.normal(size=(12, n_classes))\n"
        "y = logits.argmax(axis=1)\nlogits = logits + rng.normal(scale=0.3, size=logits.shape)",
        "def softmax(z):\n    e = np.exp(z - z.max(axis=1, keepdims=True))\n    return e / e.sum(axis=0)\n\n"
        "probs = softmax(logits)\nassert np.allclose(probs.sum(axis=1), 1.0), 'probabilities must sum to 1 per example'",
        "accuracy = float((probs.argmax(axis=1) == y).mean())", METRICS]),
    # wrong path: the export step writes .tsv files, the loader helper looks for .csv (pathlib)
    "path_wrong_suffix": dict(cls="wrong_path", expect="fixed", params="data_dir = 'data'", cells=[
        "from pathlib import Path\nimport pandas as pd\nDATA = Path(data_dir)\nDATA.mkdir(exist_ok=True)\n"
        "pd.DataFrame({'x': [0.1, 0.9, 0.2, 0.8], 'y': [0, 1, 0, 1]}).to_csv(DATA / 'train.tsv', sep='\\t', index=False)\n"
        "pd.DataFrame({'x': [0.3, 0.7, 0.6], 'y': [0, 1, 0]}).to_csv(DATA / 'test.tsv', sep='\\t', index=False)",
        "def load_split(split):\n    return pd.read_csv(DATA / f'{split}.csv', sep='\\t')\n\ntrain = load_split('train')\ntest = load_split('test')",
        "threshold = train.groupby('y')['x'].mean().mean()\naccuracy = float(((test['x'] > threshold).astype(int) == test['y']).mean())",
        METRICS]),
    # encoding: an Excel "Unicode text" export (UTF-16 with BOM) read as UTF-8
    "encoding_utf16_export": dict(cls="encoding", expect="fixed", params="export_file = 'annotations.txt'", cells=[
        "# the annotators' sheet, saved from Excel as 'Unicode Text'\n"
        "rows = ['item\\tgold\\tpred', 'caf\\u00e9\\tpos\\tpos', 'na\\u00efve\\tneg\\tpos', 'r\\u00e9sum\\u00e9\\tneg\\tneg', 'd\\u00e9j\\u00e0 vu\\tpos\\tpos']\n"
        "with open(export_file, 'w', encoding='utf-16') as f:\n    f.write('\\n'.join(rows) + '\\n')",
        "import pandas as pd\nann = pd.read_csv(export_file, sep='\\t')\nprint(ann)",
        "accuracy = float((ann['gold'] == ann['pred']).mean())", METRICS]),
    # off-by-one: the epoch loop runs one step past the end of the history array
    "off_by_one_epoch_delta": dict(cls="off_by_one", expect="fixed", params="patience = 2", cells=[
        "import numpy as np\nval_acc = np.array([0.52, 0.58, 0.63, 0.66, 0.65, 0.68, 0.67, 0.66, 0.69, 0.68])\nn_epochs = len(val_acc)",
        "stale = 0\nbest_epoch = 0\nfor t in range(1, n_epochs + 1):\n    if val_acc[t] > val_acc[best_epoch]:\n"
        "        best_epoch, stale = t, 0\n    else:\n        stale += 1\n    if stale > patience:\n        break\n"
        "print('stopped at', t, 'best epoch', best_epoch)",
        "accuracy = float(val_acc[best_epoch])", METRICS]),
    # misspelled method: Counter.most_comon for a majority-vote ensemble
    "counter_method_typo": dict(cls="attribute_typo", expect="fixed", params="n_models = 3", cells=[
        "from collections import Counter\nvotes = [\n    ['cat', 'dog', 'cat', 'bird', 'dog'],\n    ['cat', 'dog', 'dog', 'bird', 'dog'],\n"
        "    ['dog', 'dog', 'cat', 'bird', 'cat'],\n][:n_models]\ngold = ['cat', 'dog', 'cat', 'bird', 'dog']",
        "ensemble = []\nfor i in range(len(gold)):\n    c = Counter(model[i] for model in votes)\n    ensemble.append(c.most_comon(1)[0][0])",
        "accuracy = sum(p == g for p, g in zip(ensemble, gold)) / len(gold)", METRICS]),
    # KeyError: the evaluation helper returns 'acc', the caller asks for 'accuracy'
    "result_dict_key": dict(cls="key_error", expect="fixed", params="threshold = 0.5", cells=[
        "import numpy as np\nrng = np.random.default_rng(6)\ny = rng.integers(0, 2, 50)\np = np.clip(y * 0.5 + rng.normal(0.25, 0.2, 50), 0, 1)",
        "def evaluate(y_true, prob, thr):\n    pred = (prob >= thr).astype(int)\n"
        "    return {'acc': float((pred == y_true).mean()), 'n': int(len(y_true)), 'pos_rate': float(pred.mean())}",
        "results = evaluate(y, p, threshold)\nprint('n =', results['n'])\naccuracy = results['accuracy']", METRICS]),
    # NameError: a variable used one cell before the cell that defines it (cells reordered)
    "name_used_before_defined": dict(cls="name_error", expect="fixed", params="lr = 0.5\nepochs = 50", cells=[
        "import numpy as np\nrng = np.random.default_rng(7)\nX = rng.normal(size=(60, 2))\ny = (X[:, 0] - X[:, 1] > 0).astype(int)",
        "W = np.zeros((X.shape[1], n_classes))\nY = np.eye(n_classes)[y]\nfor _ in range(epochs):\n"
        "    Z = X @ W\n    P = np.exp(Z - Z.max(axis=1, keepdims=True))\n    P /= P.sum(axis=1, keepdims=True)\n"
        "    W -= lr * X.T @ (P - Y) / len(X)",
        "n_classes = len(np.unique(y))\nprint('classes:', n_classes)",
        "accuracy = float(((X @ W).argmax(axis=1) == y).mean())", METRICS]),
    # wrong number of arguments: the notebook's own train() called without its epochs argument
    "missing_positional_arg": dict(cls="wrong_arity", expect="fixed", params="lr = 0.1\nn_epochs = 100", cells=[
        "import numpy as np\nrng = np.random.default_rng(8)\nX = np.c_[rng.normal(size=(80, 2)), np.ones(80)]\n"
        "y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)",
        "def train(X, y, lr, epochs):\n    w = np.zeros(X.shape[1])\n    for _ in range(epochs):\n"
        "        p = 1.0 / (1.0 + np.exp(-X @ w))\n        w -= lr * X.T @ (p - y) / len(y)\n    return w",
        "w = train(X, y, lr)\naccuracy = float(((X @ w > 0).astype(float) == y).mean())", METRICS]),
    # empty batches caused by a parameter: batch_size larger than the 40-row dataset, drop-last batching
    "empty_batches_param": dict(cls="empty_split", expect="fixed", params="batch_size = 64\nlr = 0.2\nepochs = 20", cells=[
        "import numpy as np\nrng = np.random.default_rng(9)\nX = rng.normal(size=(40, 3))\ny = (X.sum(axis=1) > 0).astype(float)",
        "w = np.zeros(3)\nn_batches = len(X) // batch_size  # drop the last incomplete batch\nfor epoch in range(epochs):\n"
        "    epoch_loss = 0.0\n    for b in range(n_batches):\n        xb, yb = X[b * batch_size:(b + 1) * batch_size], y[b * batch_size:(b + 1) * batch_size]\n"
        "        p = 1.0 / (1.0 + np.exp(-xb @ w))\n        epoch_loss += float(-np.mean(yb * np.log(p + 1e-9) + (1 - yb) * np.log(1 - p + 1e-9)))\n"
        "        w -= lr * xb.T @ (p - yb) / len(yb)\n    mean_loss = epoch_loss / n_batches\nprint('final loss', mean_loss)",
        "accuracy = float(((X @ w > 0).astype(float) == y).mean())", METRICS]),
    # None from an in-place method: ranked = scores.sort(...) returns None
    "sort_returns_none": dict(cls="inplace_none", expect="fixed", params="k = 3", cells=[
        "docs = [('d1', 0.91, 1), ('d2', 0.15, 0), ('d3', 0.78, 1), ('d4', 0.66, 0), ('d5', 0.83, 1), ('d6', 0.05, 0)]",
        "ranked = docs.sort(key=lambda d: d[1], reverse=True)\ntop = ranked[:k]",
        "precision_at_k = sum(rel for _, _, rel in top) / k\naccuracy = precision_at_k", METRICS]),
    # missing package (stop): OpenCV is imported as cv2 but installed as opencv-python
    "missing_cv2": dict(cls="missing_package", expect="stop", command="pip install opencv-python", params="ksize = 5", cells=[
        "import numpy as np\nimport cv2",
        "rng = np.random.default_rng(10)\nclean = np.zeros((32, 32), dtype=np.float32)\nclean[8:24, 8:24] = 1.0\n"
        "noisy = clean + rng.normal(scale=0.3, size=clean.shape).astype(np.float32)\n"
        "smooth = cv2.GaussianBlur(noisy, (ksize, ksize), 0)",
        "accuracy = float(((smooth > 0.5) == (clean > 0.5)).mean())", METRICS]),
    # hang (stop): train until validation accuracy reaches 1.0, impossible with conflicting duplicate labels
    "hang_unreachable_target": dict(cls="hang", expect="stop", params="target_acc = 1.0\nlr = 0.1", cells=[
        "import numpy as np\nrng = np.random.default_rng(11)\nX = rng.normal(size=(50, 2))\ny = (X[:, 0] > 0).astype(float)\n"
        "# annotators disagreed on a few items: same input, both labels\nX = np.vstack([X, X[:5]])\ny = np.concatenate([y, 1 - y[:5]])",
        "w = np.zeros(2)\nepoch = 0\nval_acc = 0.0\nwhile val_acc < target_acc:\n    p = 1.0 / (1.0 + np.exp(-X @ w))\n"
        "    w -= lr * X.T @ (p - y) / len(y)\n    val_acc = float(((X @ w > 0).astype(float) == y).mean())\n    epoch += 1\n"
        "print('converged after', epoch, 'epochs')",
        "accuracy = val_acc", METRICS]),
}


def _cell(i, src, tags=None):
    return {"cell_type": "code", "execution_count": None, "id": f"cell-{i}",
            "metadata": {"tags": tags} if tags else {}, "outputs": [], "source": src}


def build():
    manifest = {}
    for name, nb in NOTEBOOKS.items():
        cells = [_cell(0, nb["params"], ["parameters"])] + [_cell(i + 1, s) for i, s in enumerate(nb["cells"])]
        doc = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
               "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                            "language_info": {"name": "python"}}}
        (HERE / f"{name}.ipynb").write_text(json.dumps(doc, indent=1) + "\n")
        manifest[name] = {"cls": nb["cls"], "expect": nb["expect"], "command": nb.get("command")}
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


if __name__ == "__main__":
    print(len(build()), "notebooks written")
