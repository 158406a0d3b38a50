"""Seed statistics and the success verdict against values computed independently (t formula + scipy.stats.t)."""

import math

import pytest
from scipy import stats as sps

from mlr.experiments.stats import summarize, verdict


def welch_one_sided(a, b, higher_is_better):
    """p of H1 "b better than a" from the textbook Welch formula (not ttest_ind)."""
    na, nb = len(a), len(b)
    ma, mb = sum(a) / na, sum(b) / nb
    va = sum((x - ma) ** 2 for x in a) / (na - 1)
    vb = sum((x - mb) ** 2 for x in b) / (nb - 1)
    se2 = va / na + vb / nb
    t = (mb - ma) / math.sqrt(se2)
    df = se2 ** 2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1))
    return sps.t.sf(t, df) if higher_is_better else sps.t.cdf(t, df)


def test_summary_uses_sample_sd():
    s = summarize([1.0, 2.0, 3.0, 4.0])
    assert (s.mean, s.n) == (2.5, 4)
    assert s.sd == pytest.approx(math.sqrt(5 / 3))  # ddof=1: 5/3, not 5/4
    assert summarize([0.7]).sd is None
    with pytest.raises(ValueError):
        summarize([])
    with pytest.raises(ValueError):
        summarize([1.0, float("nan")])


def test_success_with_known_p_value():
    base, cand = [0.80, 0.82, 0.78], [0.90, 0.93, 0.91]
    v = verdict(base, cand, higher_is_better=True, bar=0.10)
    assert v.relative_improvement == pytest.approx((0.91333333 - 0.8) / 0.8, rel=1e-6)
    assert v.p_value == pytest.approx(welch_one_sided(base, cand, True), rel=1e-9)
    assert v.p_value < 0.05
    assert v.status == "success" and v.success


def test_lower_is_better_direction():
    base, cand = [60.0, 62.0, 61.0], [50.0, 53.0, 51.0]  # rmse down by ~16 %
    v = verdict(base, cand, higher_is_better=False, bar=0.10)
    assert v.relative_improvement == pytest.approx((61 - 51.333333) / 61, rel=1e-6)
    assert v.p_value == pytest.approx(welch_one_sided(base, cand, False), rel=1e-9)
    assert v.status == "success"
    # the same numbers read as higher-is-better are worse
    assert verdict(base, cand, higher_is_better=True, bar=0.10).status == "worse"


def test_not_significant_when_noisy():
    base, cand = [0.50, 0.80, 0.65], [0.60, 0.95, 0.70]
    v = verdict(base, cand, higher_is_better=True, bar=0.10)
    assert v.relative_improvement >= 0.10
    assert v.p_value == pytest.approx(welch_one_sided(base, cand, True), rel=1e-9)
    assert v.p_value >= 0.05 and v.status == "not_significant"


def test_below_bar_and_exact_ten_percent():
    assert verdict([1.0, 1.01, 0.99], [1.05, 1.06, 1.04], True, 0.10).status == "below_bar"
    # 0.88 vs 0.80 is 0.0999... in floating point: still clears a 10 % bar
    v = verdict([0.80, 0.80], [0.88, 0.88], True, 0.10)
    assert v.cleared_bar and v.status == "success"


def test_one_seed_is_never_success():
    v = verdict([0.5], [0.9], True, 0.10)
    assert v.status == "unconfirmed" and v.p_value is None and not v.success
    assert verdict([0.5, 0.5, 0.5], [0.9], True, 0.10).status == "unconfirmed"


def test_zero_variance_both_sides_is_exact():
    v = verdict([0.5, 0.5, 0.5], [0.6, 0.6, 0.6], True, 0.10)
    assert v.p_value == 0.0 and v.status == "success" and "exact" in v.note
    same = verdict([0.5, 0.5], [0.5, 0.5], True, 0.10)
    assert same.p_value == 1.0 and same.status == "below_bar"
    # zero variance on one side only: plain Welch
    one = verdict([0.5, 0.5, 0.5], [0.6, 0.62, 0.61], True, 0.10)
    assert one.p_value == pytest.approx(sps.t.sf((0.61 - 0.5) / math.sqrt(0.0001 / 3), 2), rel=1e-6)


def test_zero_baseline_mean():
    v = verdict([0.0, 0.0, 0.0], [0.2, 0.25, 0.3], True, 0.10)
    assert v.relative_improvement is None and v.status == "success" and "undefined" in v.note
    assert verdict([0.0, 0.0], [-0.1, -0.2], True, 0.10).status == "worse"


def test_to_dict_is_json_ready():
    import json

    json.dumps(verdict([1.0, 2.0], [3.0, 4.0], True, 0.1).to_dict())
