"""Prototype contract: parameters read with papermill and typed, uploads checked, prototypes listed."""

import json

import nbformat
import pytest

from mlr.execution.errors import NotebookContractError
from mlr.execution.parameters import Parameter, coerce, defaults, inspect_parameters, parse_value, values_from_plan
from mlr.execution.prototypes import add_prototype, list_prototypes


def test_parameters_of_each_type_with_defaults_and_help(probe):
    params = {p.name: p for p in inspect_parameters(probe)}
    assert list(params) == ["mode", "lr", "epochs", "name", "use_bias", "layers", "extra"]
    assert {n: p.type for n, p in params.items()} == {
        "mode": "str", "lr": "float", "epochs": "int", "name": "str", "use_bias": "bool", "layers": "list",
        "extra": "dict"}
    assert params["lr"].default == 0.1 and params["lr"].help == "learning rate"
    assert params["layers"].default == [8, 4] and params["extra"].default == {"seed": 0}
    assert defaults(list(params.values()))["use_bias"] is True


def test_annotated_and_non_literal_parameters(tmp_path):
    cell = nbformat.v4.new_code_cell("batch: int = None\nrate: float = 1\nxs = list(range(3))")
    cell.metadata["tags"] = ["parameters"]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(path))
    params = {p.name: p for p in inspect_parameters(path)}
    assert params["batch"].type == "int" and params["batch"].default is None
    assert params["rate"].type == "float" and params["rate"].default == 1.0
    assert params["xs"].type == "expression" and params["xs"].default_source == "list(range(3))"
    assert "xs" not in defaults(list(params.values()))  # left to the notebook's own code


def test_comments_with_equals_multiline_values_and_magics(tmp_path):
    # papermill's own line parser drops the first two of these.
    cell = nbformat.v4.new_code_cell('%matplotlib inline\nalpha: float = 1.0  # ridge only (model="ridge")\n'
                                     'grid = {\n    "a": 1,\n    "b": 2,\n}  # search space\n'
                                     'import math\nlabel = "x=1"')
    cell.metadata["tags"] = ["parameters"]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(path))
    params = {p.name: p for p in inspect_parameters(path)}
    assert list(params) == ["alpha", "grid", "label"]
    assert params["alpha"].help == 'ridge only (model="ridge")' and params["alpha"].default == 1.0
    assert params["grid"].type == "dict" and params["grid"].default == {"a": 1, "b": 2}
    assert params["grid"].help == "search space" and params["label"].default == "x=1"


def test_parameters_cell_that_is_not_python(tmp_path):
    cell = nbformat.v4.new_code_cell("lr = = 1")
    cell.metadata["tags"] = ["parameters"]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(path))
    with pytest.raises(NotebookContractError, match="not valid Python \\(line 1"):
        inspect_parameters(path)


def test_bundled_sample_prototypes_are_listed_with_all_their_parameters(settings):
    samples = [p for p in list_prototypes(settings) if p.source == "bundled"]
    if not samples:
        pytest.skip("no sample_papers/*/prototype.ipynb in this checkout")
    for proto in samples:
        assert proto.primary_metric and proto.title
        assert inspect_parameters(proto.path)


def test_notebook_without_parameters_cell_gets_a_clear_message(no_parameters):
    with pytest.raises(NotebookContractError, match="no cell tagged `parameters`.*Tags"):
        inspect_parameters(no_parameters)


def test_unreadable_notebook(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(NotebookContractError, match="not a readable Jupyter notebook"):
        inspect_parameters(bad)
    with pytest.raises(NotebookContractError, match="not found"):
        inspect_parameters(tmp_path / "missing.ipynb")


@pytest.mark.parametrize("kind,raw,expected", [
    ("int", "3", 3), ("float", "1e-3", 0.001), ("bool", "false", False), ("bool", "Yes", True),
    ("str", "adam", "adam"), ("list", "[1, 2]", [1, 2]), ("list", "(1, 2)", [1, 2]),
    ("dict", '{"a": 1}', {"a": 1}), ("none", "5", 5), ("none", "hello", "hello")])
def test_parse_value_by_type(kind, raw, expected):
    value = parse_value(Parameter(name="x", type=kind), raw)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("kind,raw", [("int", "1.5"), ("float", "fast"), ("bool", "maybe"), ("list", "{}"),
                                      ("dict", "[1]")])
def test_parse_value_rejects_a_value_of_the_wrong_type(kind, raw):
    with pytest.raises(ValueError, match=f"parameter 'x' is an? {kind}; cannot use"):
        parse_value(Parameter(name="x", type=kind), raw)


def test_coerce_rejects_unknown_names(probe):
    params = inspect_parameters(probe)
    assert coerce(params, {"lr": "0.5", "epochs": 4}) == {"lr": 0.5, "epochs": 4}
    with pytest.raises(ValueError, match="unknown parameter 'momentum'.*mode, lr, epochs"):
        coerce(params, {"momentum": "0.9"})


def test_values_from_plan_both_shapes(probe):
    params = inspect_parameters(probe)
    plan = {"parameters": [{"name": "lr", "values": [0.3, 0.5], "description": "step"},
                           {"name": "epochs", "values": ["5"], "description": ""},
                           {"name": "dropout", "values": [0.1], "description": "not in the notebook"},
                           {"name": "use_bias", "values": ["not a bool"], "description": ""}]}
    assert values_from_plan(plan, params) == {"lr": 0.3, "epochs": 5}
    assert values_from_plan({"parameters": {"lr": 1, "name": "v"}}, params) == {"lr": 1.0, "name": "v"}
    assert values_from_plan(None, params) == {}


def test_add_prototype_from_ipynb_and_py_and_listing(settings, probe):
    added = add_prototype(settings, "my probe.ipynb", probe.read_bytes())
    assert added.path.parent == settings.prototypes_dir and added.path.name == "my-probe.ipynb"
    assert added.title == "Probe prototype" and added.primary_metric == "accuracy" and added.source == "added"
    again = add_prototype(settings, "my probe.ipynb", probe.read_bytes())
    assert again.path.name == "my-probe-2.ipynb"  # never overwrites
    script = ('# %% [markdown]\n# # Script prototype\n\n# %% tags=["parameters"]\nalpha = 0.5\n\n'
              '# %%\nimport json\njson.dump({"score": alpha}, open("metrics.json", "w"))\n')
    from_py = add_prototype(settings, "script.py", script.encode())
    assert from_py.title == "Script prototype"
    assert [p.name for p in inspect_parameters(from_py.path)] == ["alpha"]
    listed = {p.path for p in list_prototypes(settings)}
    assert {added.path, again.path, from_py.path} <= listed


@pytest.mark.parametrize("name,content,message", [
    ("notes.txt", b"hello", "expected a Jupyter notebook"),
    ("broken.ipynb", b"{", "not a readable Jupyter notebook"),
    ("latin.py", "é".encode("latin-1"), "not UTF-8")])
def test_add_prototype_refuses_bad_uploads_and_writes_nothing(settings, name, content, message):
    with pytest.raises(NotebookContractError, match=message):
        add_prototype(settings, name, content)
    assert list(settings.prototypes_dir.iterdir()) == []


def test_listing_skips_an_unreadable_notebook(settings, probe):
    add_prototype(settings, "good.ipynb", probe.read_bytes())
    (settings.prototypes_dir / "junk.ipynb").write_text(json.dumps({"cells": "nope"}))
    names = [p.path.name for p in list_prototypes(settings) if p.source == "added"]
    assert names == ["good.ipynb"]
