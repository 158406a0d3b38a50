"""A metric over seeds (mean, sd, n) and the loop's success test: relative improvement + Welch's t-test.

Relative improvement = (candidate mean - baseline mean) / |baseline mean|, sign flipped when lower is
better, so a positive number always means "better" (the same convention as
:func:`mlr.execution.metrics.compare`). The p-value is Welch's t-test (unequal variances), one-sided
in the metric's direction: H1 = "the candidate is better".

Statuses, checked in this order:

* ``unconfirmed``: either side has fewer than 2 values; a single seed is never a success.
* ``worse``: the candidate's mean is worse than the baseline's.
* ``below_bar``: better, but by less than the bar.
* ``not_significant``: clears the bar but p >= alpha.
* ``success``: clears the bar and p < alpha.

Edge cases (documented choices):

* Zero variance on both sides (a notebook whose seed changes nothing): the difference is exact, so
  p = 0 when the candidate is better, 1 otherwise (scipy would return nan or a meaningless value).
* A baseline mean of 0: a relative improvement is undefined, so ``relative_improvement`` is None;
  any better mean counts as clearing the bar (the improvement is unbounded), and the note says so.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

log = logging.getLogger(__name__)

Status = Literal["success", "not_significant", "below_bar", "worse", "unconfirmed"]
TOLERANCE = 1e-9  # 0.88 vs 0.80 is 0.0999…9 in floating point: "10 %" stays 10 %


@dataclass(frozen=True)
class Summary:
    """A metric over seeds: mean, sample sd (ddof=1; None with fewer than 2 values), n and the values."""

    mean: float
    sd: float | None
    n: int
    values: tuple[float, ...] = ()

    def text(self, digits: int = 4) -> str:
        sd = "–" if self.sd is None else f"{self.sd:.{digits}g}"
        return f"{self.mean:.{digits}g} ± {sd} (n={self.n})"

    def to_dict(self) -> dict:
        return {"mean": self.mean, "sd": self.sd, "n": self.n}


def summarize(values: Sequence[float]) -> Summary:
    """Mean, sd (ddof=1) and n of finite values; a clear ValueError for none or a non-finite one."""
    vals = tuple(float(v) for v in values)
    if not vals:
        raise ValueError("no values to summarise (every run of this candidate failed?)")
    bad = [v for v in vals if not math.isfinite(v)]
    if bad:
        raise ValueError(f"metric values must be finite numbers, got {bad}")
    n = len(vals)
    mean = math.fsum(vals) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / (n - 1)) if n >= 2 else None
    return Summary(mean=mean, sd=sd, n=n, values=vals)


@dataclass(frozen=True)
class Verdict:
    """A candidate against the baseline: what the loop keeps and what the researcher reads."""

    status: Status
    relative_improvement: float | None  # > 0 is better; None when the baseline mean is 0
    p_value: float | None  # one-sided Welch; None when either side has n < 2
    baseline: Summary
    candidate: Summary
    higher_is_better: bool
    bar: float
    alpha: float
    note: str = ""
    cleared_bar: bool = field(default=False)

    @property
    def success(self) -> bool:
        return self.status == "success"

    def text(self) -> str:
        imp = "n/a" if self.relative_improvement is None else f"{self.relative_improvement:+.1%}"
        p = "n/a" if self.p_value is None else f"{self.p_value:.3g}"
        return (f"{self.status}: {self.baseline.text()} → {self.candidate.text()}, {imp} "
                f"(bar {self.bar:.0%}), p={p}" + (f"; {self.note}" if self.note else ""))

    def to_dict(self) -> dict:
        return {"status": self.status, "relative_improvement": self.relative_improvement,
                "p_value": self.p_value, "baseline": self.baseline.to_dict(),
                "candidate": self.candidate.to_dict(), "bar": self.bar, "alpha": self.alpha, "note": self.note}


def relative_improvement(baseline_mean: float, candidate_mean: float, higher_is_better: bool) -> float | None:
    """Signed so that > 0 is better; None when the baseline mean is 0."""
    if baseline_mean == 0:
        return None
    rel = (candidate_mean - baseline_mean) / abs(baseline_mean)
    return rel if higher_is_better else -rel


def welch_p_value(baseline: Summary, candidate: Summary, higher_is_better: bool) -> float | None:
    """One-sided Welch p-value for "the candidate is better"; None when either side has n < 2."""
    if baseline.n < 2 or candidate.n < 2:
        return None
    if baseline.sd == 0 and candidate.sd == 0:
        better = candidate.mean > baseline.mean if higher_is_better else candidate.mean < baseline.mean
        return 0.0 if better else 1.0
    from scipy import stats as sps  # ~0.3 s: only when a test is actually run

    alternative = "greater" if higher_is_better else "less"
    with warnings.catch_warnings():  # identical values on one side: scipy warns, the result is still right
        warnings.filterwarnings("ignore", message="Precision loss", category=RuntimeWarning)
        if baseline.values and candidate.values:
            result = sps.ttest_ind(candidate.values, baseline.values, equal_var=False, alternative=alternative)
        else:  # summaries built by hand (e.g. read back from the record without per-seed values)
            result = sps.ttest_ind_from_stats(candidate.mean, candidate.sd, candidate.n, baseline.mean,
                                              baseline.sd, baseline.n, equal_var=False, alternative=alternative)
    p = float(result.pvalue)
    return p if math.isfinite(p) else None


def _as_summary(x: Summary | Sequence[float]) -> Summary:
    return x if isinstance(x, Summary) else summarize(x)


def verdict(baseline: Summary | Sequence[float], candidate: Summary | Sequence[float], higher_is_better: bool,
            bar: float, alpha: float = 0.05) -> Verdict:
    """Judge ``candidate`` against ``baseline`` (per-seed values or summaries); see the module docstring."""
    b, c = _as_summary(baseline), _as_summary(candidate)
    rel = relative_improvement(b.mean, c.mean, higher_is_better)
    diff = (c.mean - b.mean) if higher_is_better else (b.mean - c.mean)
    note = ""
    if rel is None:
        cleared = diff > 0
        note = "the baseline mean is 0, so a relative improvement is undefined; any better mean clears the bar"
    else:
        cleared = rel >= bar - TOLERANCE
    p = welch_p_value(b, c, higher_is_better)
    status: Status
    if b.n < 2 or c.n < 2:
        status = "unconfirmed"
        note = "; ".join(filter(None, [note, "fewer than 2 seeds on one side: no significance test"]))
    elif diff < 0:
        status = "worse"
    elif not cleared:
        status = "below_bar"
    elif p is None or p >= alpha:
        status = "not_significant"
    else:
        status = "success"
    if b.n >= 2 and c.n >= 2 and b.sd == 0 and c.sd == 0:
        note = "; ".join(filter(None, [note, "no spread over seeds on either side: the difference is exact"]))
    log.debug("verdict %s: rel=%s p=%s", status, rel, p)
    return Verdict(status=status, relative_improvement=rel, p_value=p, baseline=b, candidate=c,
                   higher_is_better=higher_is_better, bar=bar, alpha=alpha, note=note, cleared_bar=cleared)
