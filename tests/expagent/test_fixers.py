"""Each rule-based fixer on the error reports real kernels produce (no kernel needed here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlr.execution.fixers import FixContext, run_fixers
from mlr.execution.fixers import did_you_mean, file_not_found, key_kwarg, missing_module, oom, syntax
from mlr.execution.fixers.base import ErrorReport, closest, replace_name


def ctx(code: str = "", roots=()) -> FixContext:
    return FixContext(notebook=Path("nb.ipynb"), search_roots=list(roots), notebook_code=code)


def report(ename, evalue, source="", **kw) -> ErrorReport:
    return ErrorReport(ename=ename, evalue=evalue, cell_index=kw.pop("cell_index", 2), cell_source=source, **kw)


def test_oom_halves_the_batch_size_parameter():
    r = report("OutOfMemoryError", "CUDA out of memory. Tried to allocate 2.00 GiB", "train()",
               parameters={"batch_size": 64, "lr": 0.1})
    fix = oom.fix(r, ctx())
    assert fix.action == "parameters" and fix.parameters == {"batch_size": 32, "lr": 0.1}


def test_oom_halves_a_literal_when_there_is_no_parameter_and_stops_at_one():
    fix = oom.fix(report("RuntimeError", "CUDA out of memory.", "loader = DataLoader(ds, batch_size=16)"), ctx())
    assert fix.action == "patch" and "batch_size=8" in fix.new_source
    stop = oom.fix(report("OutOfMemoryError", "CUDA out of memory", "x", parameters={"batch_size": 1}), ctx())
    assert stop.action == "stop"
    assert oom.fix(report("RuntimeError", "shape mismatch", "x", parameters={"batch_size": 8}), ctx()) is None


@pytest.mark.parametrize("module,command", [("cv2", "pip install opencv-python"),
                                            ("sklearn.svm", "pip install scikit-learn"),
                                            ("lightgbm", "pip install lightgbm")])
def test_missing_package_stops_with_the_exact_pip_command(module, command):
    fix = missing_module.fix(report("ModuleNotFoundError", f"No module named '{module}'", f"import {module}"), ctx())
    assert fix.action == "stop" and fix.command == command and command in fix.explanation


def test_a_misspelled_installed_module_is_patched_not_installed():
    src = "import jsonn\nx = jsonn.dumps(1)"
    fix = missing_module.fix(report("ModuleNotFoundError", "No module named 'jsonn'", src), ctx())
    assert fix.action == "patch" and fix.new_source == "import json\nx = json.dumps(1)"


def test_file_not_found_points_at_the_nearest_existing_path(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("x\n")
    (tmp_path / "data" / "test.csv").write_text("x\n")
    src = "df = open('data/trian.csv').read()"
    fix = file_not_found.fix(report("FileNotFoundError", "[Errno 2] No such file or directory: 'data/trian.csv'", src),
                             ctx(roots=[tmp_path]))
    assert fix.new_source == "df = open('data/train.csv').read()"
    # The same path given as a parameter: the parameter changes, not the code.
    fix = file_not_found.fix(report("FileNotFoundError", "[Errno 2] No such file or directory: 'data/trian.csv'",
                                    "df = open(path)", parameters={"path": "data/trian.csv"}), ctx(roots=[tmp_path]))
    assert fix.action == "parameters" and fix.parameters == {"path": "data/train.csv"}
    # Nothing close: no guess.
    assert file_not_found.fix(report("FileNotFoundError", "[Errno 2] No such file or directory: 'weights/model.pt'",
                                     "open('weights/model.pt')"), ctx(roots=[tmp_path])) is None


def test_name_error_uses_pythons_suggestion_or_the_notebooks_own_names():
    r = report("NameError", "name 'lenght' is not defined. Did you mean: 'length'?", "y = lenght + 1")
    assert did_you_mean.fix(r, ctx()).new_source == "y = length + 1"
    r = report("NameError", "name 'lenght' is not defined", "y = lenght + 1  # lenght in a comment stays")
    fix = did_you_mean.fix(r, ctx("length = 3\ny = lenght + 1"))
    assert fix.new_source == "y = length + 1  # lenght in a comment stays"
    assert did_you_mean.fix(report("NameError", "name 'zzz' is not defined", "zzz"), ctx("a = 1")) is None


def test_name_error_on_a_conventional_alias_adds_the_import():
    fix = did_you_mean.fix(report("NameError", "name 'np' is not defined", "x = np.ones(3)"), ctx("x = np.ones(3)"))
    assert fix.new_source == "import numpy as np\nx = np.ones(3)"


def test_attribute_and_import_errors_use_the_real_names():
    fix = did_you_mean.fix(report("AttributeError", "module 'math' has no attribute 'sqr'", "y = math.sqr(2)"), ctx())
    assert fix.new_source == "y = math.sqrt(2)"
    fix = did_you_mean.fix(report("AttributeError", "'list' object has no attribute 'apend'", "s.apend(1)"), ctx())
    assert fix.new_source == "s.append(1)"
    fix = did_you_mean.fix(report("ImportError", "cannot import name 'meen' from 'statistics' (/usr/lib/x.py)",
                                  "from statistics import meen\nm = meen([1])"), ctx())
    assert fix.new_source == "from statistics import mean\nm = mean([1])"


def test_key_error_and_unexpected_kwarg_take_the_closest_existing_one():
    code = "config = {'learning_rate': 0.1}\nx = config['learnig_rate']"
    fix = key_kwarg.fix(report("KeyError", "'learnig_rate'", "x = config['learnig_rate']"), ctx(code))
    assert fix.new_source == "x = config['learning_rate']"
    code = "def train(data, learning_rate=0.1):\n    pass\ntrain([], learning_rat=0.2)"
    fix = key_kwarg.fix(report("TypeError", "train() got an unexpected keyword argument 'learning_rat'",
                               "train([], learning_rat=0.2)"), ctx(code))
    assert fix.new_source == "train([], learning_rate=0.2)"
    code = "import json as js\ns = js.dumps({}, indnt=2)"
    fix = key_kwarg.fix(report("TypeError", "JSONEncoder.__init__() got an unexpected keyword argument 'indnt'",
                               "s = js.dumps({}, indnt=2)"), ctx(code))
    assert fix.new_source == "s = js.dumps({}, indent=2)"
    assert key_kwarg.fix(report("KeyError", "3", "x = d[3]"), ctx("d = {}")) is None


@pytest.mark.parametrize("src,fixed", [
    ("for i in range(3)  # loop\n    x = i", "for i in range(3):  # loop\n    x = i"),
    ("if x > 1\n    y = 2", "if x > 1:\n    y = 2"),
    ("y = max(1, 2\nprint(y)", "y = max(1, 2)\nprint(y)"),
    ("z = [1, 2, 3)", "z = [1, 2, 3]"),
    ("a = f(1))", "a = f(1)"),
    ("%matplotlib inline\ndef f()\n    return 1", "%matplotlib inline\ndef f():\n    return 1"),
])
def test_syntax_fixes_compile(src, fixed):
    fix = syntax.fix(report("SyntaxError", "invalid syntax", src), ctx())
    assert fix is not None and fix.new_source == fixed
    assert syntax.compile_error(fix.new_source) is None


def test_syntax_does_not_guess_when_no_single_edit_compiles():
    assert syntax.fix(report("SyntaxError", "invalid syntax", "x = = 1"), ctx()) is None


def test_unfixable_statuses_stop_and_a_crashing_rule_is_skipped(monkeypatch):
    assert run_fixers(ErrorReport(status="timed_out"), ctx()).action == "stop"

    def boom(report, ctx):
        raise RuntimeError("rule bug")

    from mlr.execution import fixers
    monkeypatch.setitem(fixers.FIXERS, "oom", boom)
    fix = run_fixers(report("NameError", "name 'lenght' is not defined", "lenght"), ctx("length = 1"))
    assert fix.fixer == "did_you_mean"


def test_helpers_leave_strings_and_longer_names_alone():
    src = "lenght = 1\nprint('lenght', lenghts, obj.lenght)"
    assert replace_name(src, "lenght", "length") == "length = 1\nprint('lenght', lenghts, obj.lenght)"
    assert replace_name(src, "lenght", "length", attribute_only=True) == \
        "lenght = 1\nprint('lenght', lenghts, obj.length)"
    assert closest("lenght", {"length", "len", "height"}) == "length"
    assert closest("abc", {"xyz"}) is None


# -- rules that follow the evidence (issue 12): each on the report a real kernel gives, evidence included ----------

def test_a_renamed_api_is_followed_not_mistaken_for_a_typo():
    import numpy as np

    from mlr.execution.fixers.did_you_mean import attribute_candidate

    # `trace` is closer by edit distance, but `trapz` -> `trapezoid` is the rename (NumPy 2).
    assert attribute_candidate("trapz", set(dir(np)))[0] == "trapezoid"
    assert attribute_candidate("product", {"prod", "produce_x"})[0] == "prod"
    assert attribute_candidate("prod_x", {"prod_y"}, "`np.prod_x` was removed. Use `np.prod_y` instead.") == (
        "prod_y", "The library says to use `prod_y` instead.")
    assert attribute_candidate("men", {"mean", "min", "_men2"})[0] == "mean"  # a dropped letter first
    assert attribute_candidate("append", {"_append", "apply"})[0] != "_append"  # never a private name


def test_an_invalid_keyword_to_a_builtin_uses_its_real_signature():
    src = "best = sorted(scores, reversed=True)[:top]"
    fix = run_fixers(report("TypeError", "'reversed' is an invalid keyword argument for sort()", src), ctx(src))
    assert fix is not None and fix.new_source == "best = sorted(scores, reverse=True)[:top]"


def test_a_missing_argument_is_passed_when_a_value_of_that_name_exists():
    code = "def evaluate(values, scale):\n    return sum(values) / scale\n"
    src = "accuracy = evaluate([1.0, 2.0])"
    r = report("TypeError", "evaluate() missing 1 required positional argument: 'scale'", src,
               parameters={"scale": 2.0})
    fix = run_fixers(r, ctx(code + src))
    assert fix is not None and fix.new_source == "accuracy = evaluate([1.0, 2.0], scale=scale)"
    # No value of that name anywhere: no guess.
    r = report("TypeError", "evaluate() missing 1 required positional argument: 'weight'", src)
    assert run_fixers(r, ctx(code + src)) is None


def test_an_empty_value_changes_the_parameter_the_kernel_showed_to_work():
    r = report("ZeroDivisionError", "division by zero", "score = 1 / len(held)", parameters={"frac": 0.05, "n": 2},
               evidence={"causes": {"held": {"frac": 0.05}},
                         "parameter_fix": {"frac": {"from": 0.05, "to": 0.1, "tried": 1}}})
    fix = run_fixers(r, ctx())
    assert fix.action == "parameters" and fix.parameters == {"frac": 0.1, "n": 2}
    assert "`frac` = 0.05" in fix.explanation and "`held`" in fix.explanation
    # Without the kernel's check there is no guessed value.
    assert run_fixers(r.model_copy(update={"evidence": {"causes": {"held": {"frac": 0.05}}}}), ctx()) is None


def test_a_matrix_product_is_transposed_by_the_shapes_in_the_kernel():
    src = "logits = X @ W\nacc = logits.mean()"
    ev = {"values": {"X": "numpy.ndarray shape=(5, 3) dtype=float64", "W": "numpy.ndarray shape=(4, 3) dtype=float64"}}
    r = report("ValueError", "matmul: Input operand 1 has a mismatch in its core dimension 0", src, evidence=ev)
    assert run_fixers(r, ctx()).new_source == "logits = X @ W.T\nacc = logits.mean()"
    ev = {"values": {"X": "numpy.ndarray shape=(5, 3) dtype=float64", "W": "numpy.ndarray shape=(5, 4) dtype=float64"}}
    r = report("ValueError", "shapes (5,3) and (5,4) not aligned", "g = np.dot(X, W)", evidence=ev)
    assert run_fixers(r, ctx()).new_source == "g = np.dot(X.T, W)"
    # No shapes from the kernel: no guess.
    assert run_fixers(r.model_copy(update={"evidence": {}}), ctx()) is None


@pytest.mark.parametrize("src,fixed", [
    ("for i in range(len(hits) + 1):\n    total += hits[i]", "for i in range(len(hits)):\n    total += hits[i]"),
    ("last = xs[len(xs)]", "last = xs[len(xs) - 1]"),
    ("while i <= len(xs):\n    s += xs[i]\n    i += 1", "while i < len(xs):\n    s += xs[i]\n    i += 1"),
    ("for k in range(1, len(ys) + 1):\n    t += ys[k]", "for k in range(len(ys)):\n    t += ys[k]"),
])
def test_an_index_one_past_the_end_is_brought_back(src, fixed):
    assert run_fixers(report("IndexError", "list index out of range", src), ctx()).new_source == fixed


def test_an_inplace_update_that_cannot_keep_the_dtype_becomes_an_assignment():
    src = "w -= lr * grad\nacc = w.mean()"
    msg = "Cannot cast ufunc 'subtract' output from dtype('float64') to dtype('int64') with casting rule 'same_kind'"
    assert run_fixers(report("UFuncTypeError", msg, src), ctx()).new_source == "w = w - (lr * grad)\nacc = w.mean()"


def test_an_encoding_error_names_the_encoding_that_fits():
    msg = "'ascii' codec can't decode byte 0xc3 in position 3: ordinal not in range(128)"
    src = "text = open('notes.txt', encoding='ascii').read()"
    assert run_fixers(report("UnicodeDecodeError", msg, src), ctx()).new_source == \
        "text = open('notes.txt', encoding='utf-8').read()"
    src = "rows = open(path).readlines()\nraw = open(path, 'rb').read()"
    assert run_fixers(report("UnicodeDecodeError", msg, src), ctx()).new_source == \
        "rows = open(path, encoding='utf-8').readlines()\nraw = open(path, 'rb').read()"
    msg = "'utf-8' codec can't decode byte 0xe9 in position 1: invalid continuation byte"
    src = "df = pd.read_csv(p, encoding='utf-8')"
    assert run_fixers(report("UnicodeDecodeError", msg, src), ctx()).new_source == \
        "df = pd.read_csv(p, encoding='latin-1')"


def test_an_argument_the_notebooks_own_function_cannot_take_is_dropped():
    code = "def accuracy_score(y_true, y_pred):\n    return 1.0\n"
    src = "acc = accuracy_score(t, p, normalize=True)\nprint(acc)"
    fix = run_fixers(report("TypeError", "accuracy_score() got an unexpected keyword argument 'normalize'", src),
                     ctx(code + src))
    assert fix is not None and fix.new_source == "acc = accuracy_score(t, p)\nprint(acc)"
    # A function that takes **kwargs, or one the notebook does not define: nothing is dropped.
    code = "def accuracy_score(y_true, y_pred, **kw):\n    return 1.0\n"
    assert run_fixers(report("TypeError", "accuracy_score() got an unexpected keyword argument 'normalize'", src),
                      ctx(code + src)) is None


def test_a_one_dimensional_array_stacked_with_two_dimensional_ones_becomes_a_column():
    src = "X_aug = np.concatenate([X, bias], axis=1)"
    ev = {"values": {"X": "numpy.ndarray shape=(8, 2) dtype=float64", "bias": "numpy.ndarray shape=(8,) dtype=float64"}}
    msg = ("all the input arrays must have same number of dimensions, but the array at index 0 has 2 dimension(s) "
           "and the array at index 1 has 1 dimension(s)")
    assert run_fixers(report("ValueError", msg, src, evidence=ev), ctx()).new_source == \
        "X_aug = np.concatenate([X, bias[:, None]], axis=1)"
    assert run_fixers(report("ValueError", msg, src), ctx()) is None  # no shapes: no guess


def test_a_path_concatenated_without_a_separator_gets_one(tmp_path):
    (tmp_path / "outputs").mkdir()
    (tmp_path / "outputs" / "baseline_preds.csv").write_text("x\n")
    src = "results_dir = 'outputs'\npath = results_dir + run_name + '_preds.csv'\nrows = open(path).read()"
    msg = "[Errno 2] No such file or directory: 'outputsbaseline_preds.csv'"
    fix = run_fixers(report("FileNotFoundError", msg, src), ctx(src, roots=[tmp_path]))
    assert fix is not None and "path = results_dir + '/' + run_name + '_preds.csv'" in fix.new_source


def test_arithmetic_on_text_converts_the_text_side():
    src = "df['accuracy'] = df['correct'] / total\nacc = df['accuracy'].mean()"
    fix = run_fixers(report("TypeError", "unsupported operand type(s) for /: 'str' and 'int'", src), ctx())
    assert fix.new_source == "df['accuracy'] = df['correct'].astype(float) / total\nacc = df['accuracy'].mean()"
    fix = run_fixers(report("TypeError", "unsupported operand type(s) for -: 'int' and 'str'", "d = n - raw"), ctx())
    assert fix.new_source == "d = n - float(raw)"
    # Text with text, or a list: not a number problem.
    assert run_fixers(report("TypeError", "unsupported operand type(s) for -: 'str' and 'str'", "d = a - b"),
                      ctx()) is None


def test_an_index_one_past_the_end_of_a_frame_and_a_reader_without_encoding():
    src = "final = history.iloc[len(history)]"
    assert run_fixers(report("IndexError", "single positional indexer is out-of-bounds", src), ctx()).new_source == \
        "final = history.iloc[len(history) - 1]"
    msg = "'utf-8' codec can't decode byte 0xe9 in position 10: invalid continuation byte"
    src = "df = pd.read_csv('legacy.csv')"
    assert run_fixers(report("UnicodeDecodeError", msg, src), ctx()).new_source == \
        "df = pd.read_csv('legacy.csv', encoding='latin-1')"


def test_a_did_you_mean_is_a_typo_not_another_word():
    from mlr.execution.fixers.base import typo_like

    assert typo_like("most_comon", "most_common") and typo_like("lenght", "length") and typo_like("trapz", "trapezoid")
    assert not typo_like("plot_confusion_matrix", "pair_confusion_matrix")  # removed API vs another metric
