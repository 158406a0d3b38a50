"""Builder for the fourth held-out set of broken notebooks (the TEST set).

Run from the repository root:  python benchmarks/debug_heldout4/_build.py
It (re)writes the 16 notebooks, manifest.json and README.md in this folder.
Written blind; never use this set to tune a repair rule.
"""
import json
import os

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))

METRICS = 'import json\njson.dump({"accuracy": float(acc)}, open("metrics.json", "w"))\nprint("accuracy", acc)'

# Each entry: name -> dict(cls, expect, command, title, params, cells, error, fix)
# `fix` is (old, new): the intended minimal fix as a text replacement in the notebook source.
NB = {}


def add(name, cls, title, params, cells, error, fix, expect="fixed", command=None, fix_text=None):
    NB[name] = dict(cls=cls, expect=expect, command=command, title=title, params=params,
                    cells=cells, error=error, fix=fix, fix_text=fix_text)


# 1. misspelled variable (NameError) in the model cell
add("ridge_housing_typo", "misspelled_variable",
    "Ridge regression on a synthetic housing table, scored by a price-band accuracy",
    'seed = 0\nn_samples = 400\nalpha = 1.0\ntest_size = 0.25',
    [
        'import numpy as np\nimport pandas as pd\nfrom sklearn.linear_model import Ridge\nfrom sklearn.model_selection import train_test_split',
        'rng = np.random.default_rng(seed)\nn_features = 6\nX = rng.normal(size=(n_samples, n_features))\ncoef = rng.normal(size=n_features)\nprice = X @ coef + 0.3 * rng.normal(size=n_samples)\ndf = pd.DataFrame(X, columns=[f"f{i}" for i in range(n_features)])\ndf["price"] = price\ndf.head()',
        'X_train, X_test, y_train, y_test = train_test_split(\n    df.drop(columns="price").values, df["price"].values, test_size=test_size, random_state=seed)\nmodel = Ridge(alpha=alpah)\nmodel.fit(X_train, y_train)',
        '# accuracy = share of test houses put in the right price band (above / below median)\nmed = np.median(y_train)\npred = model.predict(X_test)\nacc = np.mean((pred > med) == (y_test > med))\nacc',
        METRICS,
    ],
    "NameError: name 'alpah' is not defined",
    ("Ridge(alpha=alpah)", "Ridge(alpha=alpha)"))

# 2. misspelled pandas method (AttributeError)
add("churn_dedup_method", "misspelled_pandas_method",
    "Churn logistic regression after de-duplicating customer rows",
    'seed = 1\nn_customers = 500\nC = 1.0',
    [
        'import numpy as np\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression\nfrom sklearn.model_selection import cross_val_score',
        'rng = np.random.default_rng(seed)\ndf = pd.DataFrame({\n    "customer_id": rng.integers(0, n_customers // 2, size=n_customers),\n    "tenure": rng.integers(1, 72, size=n_customers),\n    "monthly": rng.uniform(20, 120, size=n_customers).round(2),\n})\ndf["churn"] = ((df["monthly"] / df["tenure"] + rng.normal(0, 1, n_customers)) > 2).astype(int)',
        'df = df.drop_duplicate(subset="customer_id").reset_index(drop=True)\nprint(len(df), "unique customers")',
        'X = df[["tenure", "monthly"]].values\ny = df["churn"].values\nscores = cross_val_score(LogisticRegression(C=C, max_iter=1000), X, y, cv=5)\nacc = scores.mean()',
        METRICS,
    ],
    "AttributeError: 'DataFrame' object has no attribute 'drop_duplicate'",
    ("df.drop_duplicate(", "df.drop_duplicates("))

# 3. wrong keyword argument to a library function (TypeError)
add("iris_split_kwarg", "wrong_keyword_argument",
    "k-NN on iris with a held-out split",
    'seed = 42\nn_neighbors = 5\ntest_fraction = 0.3',
    [
        'import numpy as np\nfrom sklearn.datasets import load_iris\nfrom sklearn.model_selection import train_test_split\nfrom sklearn.neighbors import KNeighborsClassifier\nfrom sklearn.preprocessing import StandardScaler',
        'X, y = load_iris(return_X_y=True)\nX_tr, X_te, y_tr, y_te = train_test_split(X, y, test_ratio=test_fraction, stratify=y, random_state=seed)',
        'scaler = StandardScaler().fit(X_tr)\nclf = KNeighborsClassifier(n_neighbors=n_neighbors).fit(scaler.transform(X_tr), y_tr)\nacc = clf.score(scaler.transform(X_te), y_te)',
        METRICS,
    ],
    "TypeError: got an unexpected keyword argument 'test_ratio'",
    ("test_ratio=test_fraction", "test_size=test_fraction"))

# 4. function removed in the installed numpy (np.trapz removed in NumPy 2.4)
add("roc_auc_trapz", "removed_library_function",
    "Hand-rolled ROC curve and AUC for a naive Bayes classifier",
    'seed = 3\nn_samples = 600\nclass_sep = 1.0',
    [
        'import numpy as np\nfrom sklearn.datasets import make_classification\nfrom sklearn.model_selection import train_test_split\nfrom sklearn.naive_bayes import GaussianNB',
        'X, y = make_classification(n_samples=n_samples, n_features=8, n_informative=4, class_sep=class_sep, random_state=seed)\nX_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed)\nclf = GaussianNB().fit(X_tr, y_tr)\nscores = clf.predict_proba(X_te)[:, 1]\nacc = clf.score(X_te, y_te)',
        'def roc_curve_manual(y_true, s):\n    thr = np.sort(np.unique(s))[::-1]\n    tpr = [0.0] + [np.mean(s[y_true == 1] >= t) for t in thr] + [1.0]\n    fpr = [0.0] + [np.mean(s[y_true == 0] >= t) for t in thr] + [1.0]\n    return np.array(fpr), np.array(tpr)\n\nfpr, tpr = roc_curve_manual(y_te, scores)\nauc = np.trapz(tpr, fpr)\nprint("AUC", auc)',
        'import json\njson.dump({"accuracy": float(acc), "auc": float(auc)}, open("metrics.json", "w"))\nprint("accuracy", acc)',
    ],
    "AttributeError: module 'numpy' has no attribute 'trapz'",
    ("np.trapz(tpr, fpr)", "np.trapezoid(tpr, fpr)"))

# 5. sklearn estimator fed a 1-D X (ValueError)
add("dose_response_1d", "sklearn_1d_input",
    "Logistic dose-response fit on a single feature",
    'seed = 7\nn_subjects = 300\nthreshold_dose = 5.0',
    [
        'import numpy as np\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression',
        'rng = np.random.default_rng(seed)\ndose = rng.uniform(0, 10, size=n_subjects)\np = 1 / (1 + np.exp(-(dose - threshold_dose)))\nresponse = (rng.uniform(size=n_subjects) < p).astype(int)\ndf = pd.DataFrame({"dose": dose, "response": response})',
        'train = df.sample(frac=0.7, random_state=seed)\ntest = df.drop(train.index)\nclf = LogisticRegression()\nclf.fit(train["dose"].values, train["response"].values)',
        'acc = clf.score(test[["dose"]].values, test["response"].values)\nprint("ED50 estimate", -clf.intercept_[0] / clf.coef_[0, 0])',
        METRICS,
    ],
    "ValueError: Expected 2D array, got 1D array instead:",
    ('clf.fit(train["dose"].values,', 'clf.fit(train[["dose"]].values,'))

# 6. shape / transposition mismatch in a numpy MLP forward pass
add("numpy_softmax_transpose", "shape_transpose_mismatch",
    "Softmax regression trained by plain gradient descent in numpy",
    'seed = 0\nlr = 0.5\nn_epochs = 200\nn_classes = 3',
    [
        'import numpy as np\nfrom sklearn.datasets import make_blobs',
        'X, y = make_blobs(n_samples=450, centers=n_classes, n_features=4, random_state=seed)\nX = (X - X.mean(0)) / X.std(0)\nY = np.eye(n_classes)[y]\nrng = np.random.default_rng(seed)\nW = 0.01 * rng.normal(size=(n_classes, X.shape[1]))  # (classes, features)\nb = np.zeros(n_classes)',
        'def softmax(z):\n    z = z - z.max(axis=1, keepdims=True)\n    e = np.exp(z)\n    return e / e.sum(axis=1, keepdims=True)\n\nfor epoch in range(n_epochs):\n    P = softmax(X @ W + b)\n    G = (P - Y) / len(X)\n    W -= lr * (G.T @ X)\n    b -= lr * G.sum(0)',
        'acc = np.mean(softmax(X @ W.T + b).argmax(1) == y)',
        METRICS,
    ],
    "ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?) (size 3 is different from 4)",
    ("    P = softmax(X @ W + b)", "    P = softmax(X @ W.T + b)"))

# 7. dtype problem: labels read back as float, np.bincount refuses them
add("label_bincount_float", "dtype_float_labels",
    "Majority-class baseline vs decision tree on a CSV written to disk",
    'seed = 5\nn_rows = 400\nmax_depth = 4\ndata_dir = "data"',
    [
        'import os\nimport numpy as np\nimport pandas as pd\nfrom sklearn.tree import DecisionTreeClassifier',
        'os.makedirs(data_dir, exist_ok=True)\nrng = np.random.default_rng(seed)\nX = rng.normal(size=(n_rows, 5))\ny = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)\nlabels = y.astype(float)\nlabels[rng.choice(n_rows, 10, replace=False)] = np.nan  # a few unlabeled rows\ndf = pd.DataFrame(X, columns=list("abcde"))\ndf["label"] = labels\ndf.to_csv(os.path.join(data_dir, "rows.csv"), index=False)',
        'df = pd.read_csv(os.path.join(data_dir, "rows.csv")).dropna(subset=["label"])\nX = df[list("abcde")].values\ny = df["label"].values\ncounts = np.bincount(y)\nbaseline = counts.max() / counts.sum()\nprint("majority baseline", baseline)',
        'half = len(X) // 2\ntree = DecisionTreeClassifier(max_depth=max_depth, random_state=seed).fit(X[:half], y[:half])\nacc = tree.score(X[half:], y[half:])',
        'import json\njson.dump({"accuracy": float(acc), "baseline": float(baseline)}, open("metrics.json", "w"))\nprint("accuracy", acc)',
    ],
    "TypeError: Cannot cast array data from dtype('float64') to dtype('int64') according to the rule 'safe'",
    ('y = df["label"].values\n', 'y = df["label"].values.astype(int)\n'))

# 8. off-by-one index in a sliding-window feature builder
add("sensor_window_offbyone", "off_by_one_index",
    "Next-step direction forecast from lagged windows of a sensor signal",
    'seed = 11\nn_steps = 600\nwindow = 10',
    [
        'import numpy as np\nfrom sklearn.ensemble import RandomForestClassifier',
        'rng = np.random.default_rng(seed)\nt = np.arange(n_steps)\nsignal = np.sin(t / 15) + 0.2 * rng.normal(size=n_steps)',
        '# each sample: the `window` past values; target: does the signal go up at the next step?\nfeatures, targets = [], []\nfor i in range(window, n_steps):\n    features.append(signal[i - window:i])\n    targets.append(int(signal[i + 1] > signal[i]))\nX = np.array(features)\ny = np.array(targets)',
        'split = int(0.7 * len(X))\nrf = RandomForestClassifier(n_estimators=50, random_state=seed).fit(X[:split], y[:split])\nacc = rf.score(X[split:], y[split:])',
        METRICS,
    ],
    "IndexError: index 600 is out of bounds for axis 0 with size 600",
    ("for i in range(window, n_steps):", "for i in range(window, n_steps - 1):"))

# 9. KeyError on a DataFrame column (case of the column name)
add("wine_column_keyerror", "dataframe_column_keyerror",
    "Gradient boosting on the wine data loaded as a DataFrame",
    'seed = 0\nn_estimators = 60\nlearning_rate = 0.1',
    [
        'import pandas as pd\nfrom sklearn.datasets import load_wine\nfrom sklearn.ensemble import GradientBoostingClassifier\nfrom sklearn.model_selection import train_test_split',
        'wine = load_wine(as_frame=True)\ndf = wine.frame\nprint(df.columns.tolist()[-4:])',
        'features = ["alcohol", "malic_acid", "flavanoids", "color_intensity", "proline"]\nX = df[features]\ny = df["Target"]',
        'X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)\ngb = GradientBoostingClassifier(n_estimators=n_estimators, learning_rate=learning_rate, random_state=seed)\nacc = gb.fit(X_tr, y_tr).score(X_te, y_te)',
        METRICS,
    ],
    "KeyError: 'Target'",
    ('y = df["Target"]', 'y = df["target"]'))

# 10. modulo by zero coming from a parameter value
add("sgd_log_every_zero", "zero_division_parameter",
    "Mini-batch SGD classifier with periodic validation logging",
    'seed = 2\nn_epochs = 8\nbatch_size = 32\nlog_every = 0',
    [
        'import numpy as np\nfrom sklearn.datasets import make_classification\nfrom sklearn.linear_model import SGDClassifier\nfrom sklearn.model_selection import train_test_split',
        'X, y = make_classification(n_samples=800, n_features=12, random_state=seed)\nX_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.25, random_state=seed)\nclf = SGDClassifier(loss="log_loss", random_state=seed)\nclasses = np.unique(y)\nrng = np.random.default_rng(seed)',
        'history = []\nfor epoch in range(n_epochs):\n    order = rng.permutation(len(X_tr))\n    for start in range(0, len(order), batch_size):\n        idx = order[start:start + batch_size]\n        clf.partial_fit(X_tr[idx], y_tr[idx], classes=classes)\n    if epoch % log_every == 0:\n        history.append(clf.score(X_val, y_val))\n        print(epoch, history[-1])',
        'acc = clf.score(X_val, y_val)',
        METRICS,
    ],
    "ZeroDivisionError: integer modulo by zero",
    ("log_every = 0", "log_every = 1"))

# 11. file path typo when reading back a file the notebook wrote
add("spam_csv_path_typo", "file_path_typo",
    "Bag-of-words naive Bayes on a tiny generated SMS corpus",
    'seed = 4\nn_messages = 300\ndata_dir = "data"',
    [
        'import os\nimport numpy as np\nimport pandas as pd\nfrom sklearn.feature_extraction.text import CountVectorizer\nfrom sklearn.naive_bayes import MultinomialNB\nfrom sklearn.model_selection import train_test_split',
        'rng = np.random.default_rng(seed)\nspam_words = ["win", "free", "prize", "cash", "click", "offer"]\nham_words = ["meeting", "lunch", "tomorrow", "call", "home", "thanks"]\nrows = []\nfor _ in range(n_messages):\n    is_spam = int(rng.uniform() < 0.4)\n    vocab = spam_words if is_spam else ham_words\n    words = list(rng.choice(vocab, 5)) + list(rng.choice(spam_words + ham_words, 2))\n    rows.append({"text": " ".join(words), "spam": is_spam})\nos.makedirs(data_dir, exist_ok=True)\npd.DataFrame(rows).to_csv(os.path.join(data_dir, "messages.csv"), index=False)',
        'msgs = pd.read_csv(os.path.join(data_dir, "mesages.csv"))\nvec = CountVectorizer()\nX = vec.fit_transform(msgs["text"])\ny = msgs["spam"].values',
        'X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed)\nacc = MultinomialNB().fit(X_tr, y_tr).score(X_te, y_te)',
        METRICS,
    ],
    "FileNotFoundError: [Errno 2] No such file or directory: 'data/mesages.csv'",
    ('"mesages.csv"', '"messages.csv"'))

# 12. wrong file encoding: file written as latin-1, read back as utf-8
add("reviews_latin1_encoding", "file_encoding",
    "Sentiment of French product reviews exported in latin-1",
    'seed = 8\nn_reviews = 240\nexport_path = "reviews_export.csv"',
    [
        'import numpy as np\nimport pandas as pd\nfrom sklearn.feature_extraction.text import TfidfVectorizer\nfrom sklearn.linear_model import LogisticRegression\nfrom sklearn.model_selection import cross_val_score',
        '# simulate the legacy export tool, which writes latin-1\nrng = np.random.default_rng(seed)\npos = ["très bien", "génial", "réussi", "agréable", "parfait"]\nneg = ["déçu", "médiocre", "cassé", "trop cher", "à éviter"]\nrows = []\nfor i in range(n_reviews):\n    label = int(rng.uniform() < 0.5)\n    words = rng.choice(pos if label else neg, 3)\n    rows.append({"review": "produit " + ", ".join(words), "label": label})\npd.DataFrame(rows).to_csv(export_path, index=False, encoding="latin-1")',
        'reviews = pd.read_csv(export_path)\nreviews.head()',
        'X = TfidfVectorizer().fit_transform(reviews["review"])\ny = reviews["label"].values\nacc = cross_val_score(LogisticRegression(max_iter=1000), X, y, cv=5).mean()',
        METRICS,
    ],
    "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe9 in position 23: invalid continuation byte",
    ('reviews = pd.read_csv(export_path)', 'reviews = pd.read_csv(export_path, encoding="latin-1")'))

# 13. missing import of a stdlib module
add("kmeans_cluster_purity", "missing_stdlib_import",
    "k-means cluster purity on digits, using the majority label of each cluster",
    'seed = 0\nn_clusters = 10\nn_init = 4',
    [
        'import numpy as np\nfrom sklearn.cluster import KMeans\nfrom sklearn.datasets import load_digits\nfrom sklearn.decomposition import PCA',
        'X, y = load_digits(return_X_y=True)\nZ = PCA(n_components=20, random_state=seed).fit_transform(X)\nkm = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed).fit(Z)\nassign = km.labels_',
        '# map each cluster to the most common true digit inside it\nmapping = {}\nfor c in range(n_clusters):\n    members = y[assign == c]\n    mapping[c] = collections.Counter(members.tolist()).most_common(1)[0][0]\npred = np.array([mapping[c] for c in assign])\nacc = np.mean(pred == y)',
        METRICS,
    ],
    "NameError: name 'collections' is not defined",
    ("# map each cluster to the most common true digit inside it\n",
     "import collections\n# map each cluster to the most common true digit inside it\n"),
    fix_text="add `import collections` (at the top of the cell)")

# 14. NaN check that fails an assert (rolling feature leaves NaNs in the first rows)
add("stock_rolling_nan_assert", "nan_assert",
    "Up/down day classifier from rolling-mean features of a random-walk price",
    'seed = 13\nn_days = 500\nroll = 5',
    [
        'import numpy as np\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression',
        'rng = np.random.default_rng(seed)\nret = 0.001 + 0.01 * rng.standard_normal(n_days)\nprices = pd.DataFrame({"close": 100 * np.exp(np.cumsum(ret))})',
        'prices["ret"] = prices["close"].pct_change()\nprices["ma_gap"] = prices["close"] / prices["close"].rolling(roll).mean() - 1\nprices["vol"] = prices["ret"].rolling(roll).std()\nprices["up_next"] = (prices["ret"].shift(-1) > 0).astype(int)\nprices = prices.iloc[:-1]\nassert not prices.isna().any().any(), "NaNs in features"',
        'feats = ["ret", "ma_gap", "vol"]\nsplit = int(0.7 * len(prices))\nclf = LogisticRegression().fit(prices[feats].iloc[:split], prices["up_next"].iloc[:split])\nacc = clf.score(prices[feats].iloc[split:], prices["up_next"].iloc[split:])',
        METRICS,
    ],
    "AssertionError: NaNs in features",
    ("prices = prices.iloc[:-1]\n", "prices = prices.iloc[:-1].dropna()\n"))

# 15. STOP: package not installed (import name sklearn_extra, PyPI name scikit-learn-extra)
add("kmedoids_sklearn_extra", "missing_package", 
    "k-medoids clustering of customer segments with a Manhattan metric",
    'seed = 0\nn_clusters = 3\nmetric = "manhattan"',
    [
        'import numpy as np\nfrom sklearn.datasets import make_blobs\nfrom sklearn_extra.cluster import KMedoids',
        'X, y = make_blobs(n_samples=300, centers=n_clusters, n_features=4, random_state=seed)\nkm = KMedoids(n_clusters=n_clusters, metric=metric, random_state=seed).fit(X)\nfrom scipy.optimize import linear_sum_assignment\nC = np.zeros((n_clusters, n_clusters))\nfor a, b in zip(km.labels_, y):\n    C[a, b] += 1\nr, c = linear_sum_assignment(-C)\nacc = C[r, c].sum() / len(y)',
        METRICS,
    ],
    "ModuleNotFoundError: No module named 'sklearn_extra'",
    None, expect="stop", command="pip install scikit-learn-extra",
    fix_text="stop: needs `pip install scikit-learn-extra`")

# 16. STOP: hang, polling for a checkpoint file that nothing ever writes
add("wait_for_checkpoint_hang", "hang_poll_missing_file",
    "Evaluate a model checkpoint once the training job has written it",
    'seed = 0\nckpt_path = "checkpoints/model_final.json"\npoll_seconds = 2',
    [
        'import json\nimport os\nimport time\nimport numpy as np\nfrom sklearn.datasets import load_breast_cancer\nfrom sklearn.linear_model import LogisticRegression',
        '# the training job (run elsewhere) drops its final weights here when done\nos.makedirs(os.path.dirname(ckpt_path), exist_ok=True)\nwhile not os.path.exists(ckpt_path):\n    print("waiting for", ckpt_path, flush=True)\n    time.sleep(poll_seconds)\nckpt = json.load(open(ckpt_path))',
        'X, y = load_breast_cancer(return_X_y=True)\nclf = LogisticRegression(max_iter=5000)\nclf.coef_ = np.array([ckpt["coef"]])\nclf.intercept_ = np.array([ckpt["intercept"]])\nclf.classes_ = np.array([0, 1])\nacc = clf.score(X, y)',
        METRICS,
    ],
    "(none: hangs forever in the polling loop)",
    None, expect="stop", command=None,
    fix_text="stop: waits for a file nothing writes")


def build_nb(spec):
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    cells = [new_markdown_cell("# " + spec["title"])]
    cells.append(new_code_cell(spec["params"], metadata={"tags": ["parameters"]}))
    cells += [new_code_cell(src) for src in spec["cells"]]
    nb.cells = cells
    return nb


def fix_description(spec):
    if spec["fix_text"]:
        return spec["fix_text"]
    old, new = spec["fix"]
    return "`{}` -> `{}`".format(old.strip().replace("\n", " "), new.strip().replace("\n", " "))


README_HEAD = """# Fourth held-out set of broken notebooks: the TEST set (debug benchmark)

Date: 2026-11-30

This set was written blind: while writing it, its author did not read anything under
`mlr/`, `tests/`, `benchmarks/` (other than this folder), any `wt-*` worktree, any
benchmark logs or results, any other debug set, or the tool's repair rules. The bugs come
from the author's own experience of how ML research notebooks break. It is a TEST set:
never use it to tune, add or adjust a rule.

Each notebook has a `parameters`-tagged first code cell of literal assignments, runs a
small numpy / pandas / scikit-learn / scipy experiment on CPU, and writes `metrics.json`
(`accuracy`) in its last cell. 14 notebooks hold exactly one bug with a one- or two-line
fix (`expect: fixed`); 2 must be stopped (`expect: stop`): one imports a package that is
not installed (expected command `pip install scikit-learn-extra`), one hangs forever.

Regenerate with `python benchmarks/debug_heldout4/_build.py` from the repository root.

| notebook | kind | error | intended fix |
|---|---|---|---|
"""


def main():
    manifest = {}
    rows = []
    for name, spec in NB.items():
        nbformat.write(build_nb(spec), os.path.join(HERE, name + ".ipynb"))
        manifest[name] = {"cls": spec["cls"], "expect": spec["expect"], "command": spec["command"]}
        rows.append("| {} | {} | `{}` | {} |".format(name, spec["cls"], spec["error"].replace("|", "\\|"),
                                                    fix_description(spec).replace("|", "\\|")))
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    with open(os.path.join(HERE, "README.md"), "w") as f:
        f.write(README_HEAD + "\n".join(rows) + "\n")
    print("wrote", len(NB), "notebooks")


if __name__ == "__main__":
    main()
