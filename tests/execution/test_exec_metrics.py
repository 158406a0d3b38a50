"""metrics.json read-back and the paper's success test (relative improvement against a bar)."""

import math

import pytest

from mlr.execution.errors import MetricsError
from mlr.execution.metrics import compare, read_metrics
from mlr.protocols import RunOutcome


def test_higher_is_better_improvement_and_bar():
    comp = compare({"acc": 0.80}, {"acc": 0.88}, "acc", True, 0.10)
    assert comp.improvement == pytest.approx(0.10) and comp.cleared  # exactly at the bar clears it
    comp = compare({"acc": 0.80}, {"acc": 0.87}, "acc", True, 0.10)
    assert comp.improvement == pytest.approx(0.0875) and not comp.cleared
    assert "does not clear the 10% bar" in comp.summary()


def test_lower_is_better_flips_the_sign():
    comp = compare({"loss": 2.0}, {"loss": 1.5}, "loss", False, 0.10)
    assert comp.improvement == pytest.approx(0.25) and comp.cleared
    worse = compare({"loss": 2.0}, {"loss": 2.5}, "loss", False, 0.10)
    assert worse.improvement == pytest.approx(-0.25) and not worse.cleared


def test_negative_baseline_uses_its_magnitude():
    comp = compare({"r": -2.0}, {"r": -1.0}, "r", True, 0.10)
    assert comp.improvement == pytest.approx(0.5)


def test_zero_baseline_is_undefined_not_a_crash():
    comp = compare({"acc": 0}, {"acc": 0.5}, "acc", True, 0.10)
    assert comp.improvement is None and not comp.cleared and "undefined" in comp.note


def test_accepts_outcomes_and_run_records():
    base = RunOutcome(run_id=1, status="succeeded", metrics={"acc": 0.5})
    record = {"id": 2, "status": "succeeded", "metrics": {"acc": 0.6}}
    assert compare(base, record, "acc").improvement == pytest.approx(0.2)


@pytest.mark.parametrize("metrics,message", [({"f1": 1}, "has no metric 'acc'.*f1"), ({"acc": "high"}, "not a number"),
                                             ({"acc": math.nan}, "cannot be compared"), ({"acc": True}, "not a number")])
def test_bad_metrics_are_clear_errors(metrics, message):
    with pytest.raises(MetricsError, match=message):
        compare(metrics, {"acc": 1.0}, "acc")


def test_read_metrics(tmp_path):
    with pytest.raises(MetricsError, match="wrote no metrics.json"):
        read_metrics(tmp_path)
    (tmp_path / "metrics.json").write_text("{oops")
    with pytest.raises(MetricsError, match="not valid JSON"):
        read_metrics(tmp_path)
    (tmp_path / "metrics.json").write_text("[1, 2]")
    with pytest.raises(MetricsError, match="JSON object"):
        read_metrics(tmp_path)
    (tmp_path / "metrics.json").write_text('{"acc": 0.9}')
    assert read_metrics(tmp_path) == {"acc": 0.9}
