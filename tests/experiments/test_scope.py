"""ExperimentScope: one plan and one notebook; the latest baseline and variant; a variant equal to the baseline
is refused; the current debug session is found in the record. Runs are written straight to the record."""

from __future__ import annotations

from pathlib import Path

from mlr.execution.prototypes import Prototype
from mlr.experiments.scope import ExperimentScope, resolved
from mlr.store.records import PlanData


def _plan(store) -> int:
    with store.write() as conn:
        paper = store.add_paper(conn, content_hash="h", file_name="p.pdf", path="/x/p.pdf", title="P", authors=[],
                                year=2024, pages=1, chunks=[], sections=[])
    problem = store.add_problem(paper, {"task": "t", "gaps": [], "keywords": []})
    return store.add_plan(store.add_hypothesis(problem, {"method": "m", "rationale": "r"}),
                          {"objective": "o", "primary_metric": "accuracy"})


def _run(store, notebook: Path, kind: str, metrics: dict, *, plan_id, parameters=None, status="succeeded") -> int:
    run_id = store.add_run(resolved(notebook), parameters or {}, kind=kind, plan_id=plan_id)
    store.update_run(run_id, status=status, metrics=metrics)
    return run_id


def _proto(path: Path, metric: str) -> Prototype:
    return Prototype(path=path, slug=path.stem, title=path.stem, primary_metric=metric)


def _notebooks(tmp_path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    a.write_text("{}")
    b.write_text("{}")
    return a, b


def test_runs_of_two_notebooks_under_one_plan_are_never_compared(store, tmp_path):
    a, b = _notebooks(tmp_path)
    plan_id = _plan(store)
    base_a = _run(store, a, "baseline", {"accuracy": 0.80}, plan_id=plan_id)
    var_a = _run(store, a, "variant", {"accuracy": 0.84}, plan_id=plan_id, parameters={"k": 2})
    # Another prototype of the same plan, run later, reporting another metric: the old page compared
    # a's baseline with b's variant (and balanced_accuracy with accuracy).
    _run(store, b, "baseline", {"balanced_accuracy": 0.50}, plan_id=plan_id)
    var_b = _run(store, b, "variant", {"balanced_accuracy": 0.99}, plan_id=plan_id)
    _run(store, a, "variant", {"accuracy": 0.99}, plan_id=None)  # an ad-hoc run of a: another experiment

    plan = store.get_plan(plan_id)
    scope_a = ExperimentScope.of(store, plan, _proto(a, "accuracy"), ["k"])
    res = scope_a.results(0.10)
    assert {r.id for r in res.finished} == {base_a, var_a}
    assert (res.baseline.id, res.variant.id) == (base_a, var_a)
    assert res.comparison.baseline == 0.80 and res.comparison.variant == 0.84
    assert res.words == "accuracy: 0.8 → 0.84 (+5.0%), does not clear the 10% bar"
    assert [(o.name, o.reason, len(o.run_ids)) for o in res.others] == [("b.ipynb", "another notebook", 2)]

    scope_b = ExperimentScope.of(store, plan, _proto(b, "balanced_accuracy"))
    res_b = scope_b.results(0.10)
    assert res_b.variant.id == var_b and res_b.metric.name == "balanced_accuracy"
    assert res_b.comparison.baseline == 0.50  # b's own baseline, never a's accuracy

    ad_hoc = ExperimentScope.of(store, None, _proto(a, "accuracy"))
    assert [r.plan_id for r in ad_hoc.runs()] == [None] and ad_hoc.results(0.1).baseline is None
    assert ad_hoc.results(0.1).words == "Run a baseline to compare them on accuracy."


def test_runs_under_another_parameter_schema_are_shown_apart(store, tmp_path):
    a, _ = _notebooks(tmp_path)
    plan_id = _plan(store)
    old = _run(store, a, "variant", {"accuracy": 0.9}, plan_id=plan_id, parameters={"gone": 1})
    scope = ExperimentScope(store, plan_id, resolved(a), frozenset({"k"}))
    assert scope.runs() == []
    assert [(o.reason, o.run_ids) for o in scope.others()] == [("another parameter schema", [old])]


def test_the_latest_baseline_and_variant_that_succeeded_are_compared(store, tmp_path):
    a, _ = _notebooks(tmp_path)
    plan_id = _plan(store)
    _run(store, a, "baseline", {"accuracy": 0.5}, plan_id=plan_id)
    base = _run(store, a, "baseline", {"accuracy": 0.6}, plan_id=plan_id)
    _run(store, a, "variant", {"accuracy": 0.7}, plan_id=plan_id, parameters={"k": 1})
    var = _run(store, a, "variant", {"accuracy": 0.9}, plan_id=plan_id, parameters={"k": 2})
    _run(store, a, "variant", {}, plan_id=plan_id, parameters={"k": 3}, status="failed")
    _run(store, a, "variant", {}, plan_id=plan_id, parameters={"k": 4}, status="running")
    scope = ExperimentScope(store, plan_id, resolved(a), plan_data=PlanData(primary_metric="accuracy"))
    res = scope.results(0.10)
    assert (res.baseline.id, res.variant.id) == (base, var)
    assert res.comparison.cleared and res.tone == "success"
    assert [r.id for r in scope.active()] == [var + 2] and len(res.finished) == 5
    assert [row["run"] for row in res.chart_rows()] == ["#1 baseline", "#2 baseline", "#3 variant", "#4 variant"]


def test_a_variant_identical_to_the_baseline_is_refused(store, tmp_path):
    a, _ = _notebooks(tmp_path)
    scope = ExperimentScope(store, None, resolved(a))
    defaults = {"classifier": "centroid", "pool": 2, "lr": 0.5}
    assert scope.refuse_variant({"classifier": "centroid", "pool": 2, "lr": 0.5}, defaults)
    assert scope.refuse_variant({"pool": 2.0}, defaults)  # 2 == 2.0, and a name left out is its default
    assert "repeat the baseline" in scope.refuse_variant(dict(defaults), defaults)
    assert scope.refuse_variant({"classifier": "svm_rbf", "pool": 2, "lr": 0.5}, defaults) is None
    # The latest baseline run counts too (it ran with other values than today's defaults).
    _run(store, a, "baseline", {"accuracy": 0.8}, plan_id=None, parameters={"classifier": "knn"})
    assert scope.refuse_variant({"classifier": "knn"}, defaults)


def test_the_current_debug_session_is_the_latest_root_of_this_plan_and_notebook(store, tmp_path):
    a, b = _notebooks(tmp_path)
    plan_id = _plan(store)
    scope = ExperimentScope(store, plan_id, resolved(a))
    assert scope.debug_session() is None

    def root(nb, plan):
        return store.add_attempt(notebook=str(tmp_path / "copy.ipynb"), source="initial", plan_id=plan,
                                 data={"origin": resolved(nb)})

    first = root(a, plan_id)
    second = root(a, plan_id)
    store.add_attempt(notebook="x", source="llm", plan_id=plan_id, parent_id=second, depth=1,
                      data={"origin": resolved(a)})  # a child, not a session
    root(b, plan_id)
    root(a, None)
    assert first < second and scope.debug_session() == second
