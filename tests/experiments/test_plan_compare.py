"""Plan versions compared side by side (issue 14): pick two versions, see the fields that differ; the comparison is
decided in mlr/version_diff.py (pure), the page only draws it."""

from __future__ import annotations

from mlr.agents.idea_flow import save_plan
from mlr.version_diff import changed, compare
from tests.experiments.test_page_selection import fresh, open_page  # noqa: F401  (the fixture)

V1 = {"objective": "Beat the centroid baseline", "method": "SVM", "dataset": "digits", "baseline": "centroid",
      "compute_budget": "1 CPU minute", "primary_metric": "accuracy",
      "higher_is_better": True, "experiment_design": ["pool the pixels", "fit"],
      "parameters": [{"name": "classifier", "values": ["svm_rbf"], "description": "model"}]}


def test_the_diff_names_each_changed_field_in_words_with_both_values():
    v2 = {**V1, "dataset": "MNIST", "experiment_design": ["pool the pixels", "fit", "report"],
          "parameters": [{"name": "classifier", "values": ["svm_rbf", "knn"], "description": "model"}]}
    assert [(c.label, c.before, c.after) for c in changed(V1, v2)] == [
        ("Experiment design", "pool the pixels\nfit", "pool the pixels\nfit\nreport"),
        ("Dataset", "digits", "MNIST"),
        ("Parameters to vary", "classifier: svm_rbf (model)", "classifier: svm_rbf, knn (model)")]
    assert changed(V1, dict(V1)) == []
    assert next(c for c in compare(V1, {**V1, "higher_is_better": False}) if c.field == "higher_is_better").after == "no"


def comparison(at):
    """The comparison table (the history table is a dataframe too)."""
    return next(d.value for d in at.dataframe if "field" in d.value.columns)


def test_plan_page_compares_two_versions_side_by_side(fresh, store):  # noqa: F811
    with store.write() as conn:
        paper = store.add_paper(conn, content_hash="h", file_name="p.pdf", path="/x/p.pdf", title="Digits",
                                authors=[], year=2024, pages=4, sections=[], chunks=[])
    problem = store.add_problem(paper, {"task": "t", "gaps": [], "keywords": []})
    hid = store.add_hypothesis(problem, {"method": "m", "rationale": "r", "citations": []})
    plan = store.add_plan(hid, V1)
    save_plan(store, plan, {**V1, "dataset": "MNIST"})
    save_plan(store, plan, {**V1, "dataset": "MNIST", "compute_budget": "1 CPU hour"})
    at = open_page("pages/plan.py")
    assert at.selectbox(key=f"cmp-a-p{plan}").value == 2 and at.selectbox(key=f"cmp-b-p{plan}").value == 3
    table = comparison(at)
    assert table.to_dict("records") == [{"field": "Compute budget", "version 2": "1 CPU minute",
                                        "version 3": "1 CPU hour"}]
    at.selectbox(key=f"cmp-a-p{plan}").set_value(1).run()
    table = comparison(at)
    assert list(table["field"]) == ["Dataset", "Compute budget"]
    assert list(table["version 1"]) == ["digits", "1 CPU minute"] and list(table["version 3"]) == ["MNIST", "1 CPU hour"]
    assert any(c.value == "2 fields changed, 7 the same." for c in at.caption), [c.value for c in at.caption]
