"""Search space: derived distributions, integrity (seed/split never searched), plan narrowing, JSON edits."""

import json
from pathlib import Path

import nbformat
import pytest

from mlr.execution.parameters import Parameter
from mlr.experiments.space import SearchSpace, build_space, check_edit, space_for_notebook

SAMPLES = sorted(Path(__file__).resolve().parents[2].joinpath("sample_papers").glob("*/prototype.ipynb"))
EVALUATION = {"seed", "test_size", "n_folds", "n_samples", "minority_fraction"}


def P(name, type_, default, help_=""):
    return Parameter(name=name, type=type_, default=default, help=help_)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.parent.name)
def test_sample_seed_and_split_parameters_are_never_searchable(path):
    space = space_for_notebook(path)
    names = {p.name for p in space.params}
    searchable = {p.name for p in space.searchable}
    assert "seed" in names and searchable, "the sample should have a seed and something to search"
    assert not searchable & EVALUATION, f"evaluation parameters in the searchable set: {searchable & EVALUATION}"
    assert space.get("seed").locked
    # a plan that asks to vary them does not make them searchable
    plan = [{"name": n, "values": [1, 2]} for n in names & EVALUATION]
    planned = space_for_notebook(path, plan=plan)
    assert not {p.name for p in planned.searchable} & EVALUATION
    assert any("stays fixed" in note for note in planned.notes)


def test_sample_spaces_follow_the_notebooks_checks():
    digits = space_for_notebook(next(p for p in SAMPLES if p.parent.name == "digit-thumbnails"))
    assert digits.get("pool").distribution.choices == [1, 2, 4]  # `if pool not in (1, 2, 4): raise`
    assert digits.get("classifier").distribution.choices == ["centroid", "logreg", "svm_rbf"]  # MODELS keys
    screening = space_for_notebook(next(p for p in SAMPLES if p.parent.name == "imbalanced-screening"))
    t = screening.get("threshold").distribution
    assert 0 < t.low < 0.5 < t.high < 1  # `if not 0.0 < threshold < 1.0: raise`


def test_derived_distributions():
    space = build_space([
        P("lr", "float", 0.01), P("dropout", "float", 0.5), P("epochs", "int", 10), P("depth", "int", 4),
        P("use_bn", "bool", True), P("act", "str", "relu", '"relu", "gelu" or "tanh"'), P("name", "str", "x"),
        P("offset", "float", 0.0), P("layers", "list", [1, 2]),
    ])
    lr = space.get("lr").distribution
    assert (lr.kind, lr.low, lr.high, lr.log) == ("float", pytest.approx(0.001), pytest.approx(0.1), True)
    assert space.get("dropout").distribution.high <= 0.9  # clipped for a dropout rate
    assert space.get("epochs").distribution.high == 20  # compute-heavy: at most twice the default
    assert (space.get("depth").distribution.low, space.get("depth").distribution.high) == (1, 16)
    assert space.get("use_bn").distribution.choices == [False, True]
    assert space.get("act").distribution.choices == ["relu", "gelu", "tanh"]
    for fixed in ("name", "offset", "layers"):
        assert not space.get(fixed).searchable and space.get(fixed).reason


def test_integrity_rules_by_name_metadata_and_path():
    params = [P("rs", "int", 1), P("random_state", "int", 0), P("val_split", "float", 0.2),
              P("eval_batch", "int", 64), P("data_dir", "str", "data"), P("train_file", "str", "a.csv"),
              P("source", "str", "/data/x.parquet"), P("width", "int", 32), P("lr", "float", 0.1)]
    space = build_space(params, metadata={"seed_parameter": "rs", "fixed": ["width"]})
    assert [p.name for p in space.searchable] == ["lr"]
    assert all(p.locked for p in space.fixed)
    assert "seed" in space.get("rs").reason and "mlr.fixed" in space.get("width").reason


def test_plan_values_become_choices_and_misfits_are_dropped():
    params = [P("C", "float", 1.0), P("k", "int", 3), P("kernel", "str", "rbf"), P("seed", "int", 0)]
    plan = {"parameters": [{"name": "C", "values": [0.1, "10", 100]}, {"name": "k", "values": [5, 7.5, "x", 9.0]},
                           {"name": "kernel", "values": ["linear", "poly"]}, {"name": "gamma", "values": [1]},
                           {"name": "seed", "values": [1, 2]}]}
    space = build_space(params, plan=plan)
    assert space.get("C").distribution.choices == [0.1, 10.0, 100.0]
    assert space.get("k").distribution.choices == [5, 9]
    assert space.get("kernel").distribution.choices == ["linear", "poly"]
    assert not space.get("seed").searchable
    notes = " | ".join(space.notes)
    assert "7.5" in notes and "'x'" in notes and "gamma" in notes and "seed" in notes
    only = build_space(params + [P("tol", "float", 1e-3)], plan=plan, restrict_to_plan=True)
    assert not only.get("tol").searchable and only.get("C").searchable


def test_json_round_trip_and_edits():
    space = build_space([P("lr", "float", 0.1), P("seed", "int", 0), P("test_size", "float", 0.2)])
    again = SearchSpace.from_json(space.to_json())
    assert again == space and json.loads(space.to_json())["params"][0]["distribution"]["log"] is True
    assert check_edit(space, again) == []
    data = json.loads(space.to_json())
    data["params"][1].update(searchable=True, locked=False,
                             distribution={"kind": "int", "low": 0, "high": 100})  # free the seed
    data["params"][0]["distribution"].update(low=-1.0)  # a log range below 0
    problems = check_edit(space, SearchSpace.model_validate(data))
    assert any("seed must stay fixed" in p for p in problems)
    assert any("lr" in p and "low > 0" in p for p in problems)


def test_check_params_rejects_changes_to_fixed_parameters():
    space = build_space([P("lr", "float", 0.1), P("seed", "int", 0), P("test_size", "float", 0.2),
                         P("act", "str", "relu", '"relu" or "gelu"')])
    assert space.check_params({"lr": 0.05, "seed": 0, "test_size": 0.2, "act": "gelu"}) == []
    problems = space.check_params({"seed": 3, "test_size": 0.1, "lr": 5.0, "act": "elu", "zz": 1})
    text = " | ".join(problems)
    assert "seed is fixed at 0" in text and "test_size is fixed at 0.2" in text
    assert "lr=5.0 is outside" in text and "act='elu'" in text and "zz is not a parameter" in text


def test_pin_and_locked_pin():
    space = build_space([P("lr", "float", 0.1), P("seed", "int", 0)])
    pinned = space.pin("lr", "0.3")
    assert not pinned.get("lr").searchable and pinned.fixed_values()["lr"] == 0.3
    with pytest.raises(ValueError, match="seed cannot be pinned"):
        space.pin("seed", 4)
    with pytest.raises(ValueError):
        space.pin("lr", "fast")


def test_notebook_metadata_choices_ranges_and_fixed(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["mlr"] = {"primary_metric": "acc", "choices": {"opt": ["sgd", "adam"]},
                          "ranges": {"wd": [0.0, 0.1]}, "fixed": ["width"], "seed_parameter": "rng"}
    cell = nbformat.v4.new_code_cell('opt = "adam"\nwd = 0.01\nwidth = 64\nrng = 1\nlr = 0.1')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("print(opt)")]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    space = space_for_notebook(path)
    assert space.get("opt").distribution.choices == ["sgd", "adam"]
    wd = space.get("wd").distribution
    assert (wd.low, wd.high, wd.log) == (0.0, 0.1, False)
    assert {p.name for p in space.searchable} == {"opt", "wd", "lr"}
