"""Which metric a plan's runs are compared on when the plan and the prototype disagree."""

from mlr.execution.metrics import choose_metric


def test_plan_metric_the_prototype_reports_is_used_with_the_prototypes_direction():
    c = choose_metric({"primary_metric": "RMSE", "higher_is_better": True}, "rmse", False)
    assert (c.name, c.higher_is_better, c.note) == ("rmse", False, "")


def test_plan_metric_seen_in_runs_is_used_with_the_plans_direction():
    c = choose_metric({"primary_metric": "mae", "higher_is_better": False}, "rmse", False, {"rmse", "mae", "r2"})
    assert (c.name, c.higher_is_better) == ("mae", False)


def test_unknown_plan_metric_falls_back_to_the_prototypes_and_says_so():
    c = choose_metric({"primary_metric": "MDS", "higher_is_better": True}, "rmse", False, {"rmse"})
    assert (c.name, c.higher_is_better) == ("rmse", False)
    assert "'MDS'" in c.note and "'rmse'" in c.note


def test_without_a_declared_metric_the_plan_decides():
    c = choose_metric({"primary_metric": "f1"}, None, None)
    assert (c.name, c.higher_is_better) == ("f1", True)
    assert choose_metric(None, None, None).name is None
    assert choose_metric(None, "accuracy", True) .name == "accuracy"
