"""Metrics read back from ``metrics.json`` and the paper's success test of a variant against its baseline.

Relative improvement = (variant - baseline) / |baseline|, with the sign flipped when lower is better,
so a positive number always means "better". A variant clears the bar when improvement >= bar
(the paper's 10 % by default).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from mlr.execution.errors import MetricsError
from mlr.store.records import PlanData

METRICS_FILE = "metrics.json"
MAX_METRICS_BYTES = 5 * 2**20


def read_metrics(run_dir: str | Path) -> dict[str, Any]:
    """The JSON object the notebook wrote to ``metrics.json`` in its working directory."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        raise MetricsError(f"the notebook finished but wrote no {METRICS_FILE} in its working directory "
                           f"({path.parent}). A prototype must end with something like: "
                           "json.dump({'accuracy': acc}, open('metrics.json', 'w'))")
    if path.stat().st_size > MAX_METRICS_BYTES:
        raise MetricsError(f"{METRICS_FILE} is larger than {MAX_METRICS_BYTES // 2**20} MiB; write summary "
                           "numbers there and keep large arrays in other files")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise MetricsError(f"{METRICS_FILE} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise MetricsError(f"{METRICS_FILE} must hold a JSON object of metric names to numbers, "
                           f"not a {type(value).__name__}")
    return value


def metric_value(metrics: Mapping[str, Any], name: str, which: str = "run") -> float:
    """The number ``metrics[name]``, or a clear :class:`MetricsError`."""
    if not metrics:
        raise MetricsError(f"the {which} reported no metric, and comparing needs one ({name!r}): glue it with "
                           "scrapbook, write it to metrics.json, or print it in the last cell (`accuracy: 0.93`)")
    if name not in metrics:
        listed = ", ".join(sorted(metrics)) or "none"
        raise MetricsError(f"the {which} has no metric {name!r} (it has: {listed})")
    value = metrics[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MetricsError(f"the {which}'s metric {name!r} is {value!r}, not a number")
    if not math.isfinite(value):
        raise MetricsError(f"the {which}'s metric {name!r} is {value}, which cannot be compared")
    return float(value)


class Comparison(BaseModel):
    """Variant vs baseline on the primary metric."""

    primary_metric: str
    higher_is_better: bool
    baseline: float
    variant: float
    improvement: float | None  # relative, signed so that > 0 is better; None when the baseline is 0
    bar: float
    cleared: bool
    note: str = ""

    def summary(self) -> str:
        if self.improvement is None:
            return self.note
        verdict = "clears" if self.cleared else "does not clear"
        return (f"{self.primary_metric}: {self.baseline:.4g} → {self.variant:.4g} "
                f"({self.improvement:+.1%}), {verdict} the {self.bar:.0%} bar")


def _metrics_of(value: Any) -> Mapping[str, Any]:
    # A RunOutcome, a run record (``Run``, or a dict with "metrics") or a plain metrics mapping.
    if hasattr(value, "metrics"):
        value = value.metrics
    elif isinstance(value, Mapping) and isinstance(value.get("metrics"), Mapping) and "status" in value:
        value = value["metrics"]
    if not isinstance(value, Mapping):
        raise MetricsError(f"expected metrics (a mapping of names to numbers), got {type(value).__name__}")
    return value


def compare(baseline: Any, variant: Any, primary_metric: str, higher_is_better: bool = True,
            bar: float = 0.10) -> Comparison:
    """Compare two runs' metrics (mappings, ``RunOutcome``s or run records) on ``primary_metric``."""
    b = metric_value(_metrics_of(baseline), primary_metric, "baseline")
    v = metric_value(_metrics_of(variant), primary_metric, "variant")
    if b == 0:
        return Comparison(primary_metric=primary_metric, higher_is_better=higher_is_better, baseline=b,
                          variant=v, improvement=None, bar=bar, cleared=False,
                          note=f"the baseline's {primary_metric} is 0, so a relative improvement is undefined")
    improvement = (v - b) / abs(b)
    if not higher_is_better:
        improvement = -improvement
    return Comparison(primary_metric=primary_metric, higher_is_better=higher_is_better, baseline=b, variant=v,
                      # 0.88 vs 0.80 is 0.0999…9 in floating point: a hair of tolerance keeps "10 %" at 10 %.
                      improvement=improvement, bar=bar, cleared=improvement >= bar - 1e-9)


class MetricChoice(BaseModel):
    """Which metric a plan's runs are compared on, its direction, and why (shown to the researcher)."""

    name: str | None
    higher_is_better: bool = True
    note: str = ""


def choose_metric(plan_data: PlanData | Mapping[str, Any] | None, declared: str | None, declared_higher: bool | None,
                  reported: set[str] = frozenset()) -> MetricChoice:
    """The plan's primary metric when the prototype reports it, else the prototype's own.

    A plan is written by a model that has not seen the notebook; its metric may be one the notebook
    never writes ("MDS" for a notebook that reports ``rmse``), and comparing on it would show nothing.
    The prototype's metadata is authoritative for what it writes and in which direction it is better.
    ``reported`` holds metric names seen in finished runs of this prototype.
    """
    data = PlanData.model_validate(plan_data or {})
    wanted = data.primary_metric.strip()
    plan_higher = data.higher_is_better
    known = {name.lower(): name for name in ({declared} if declared else set()) | set(reported)}
    if wanted and wanted.lower() in known:
        name = known[wanted.lower()]
        if declared and name == declared and declared_higher is not None:
            return MetricChoice(name=name, higher_is_better=bool(declared_higher))
        return MetricChoice(name=name, higher_is_better=bool(True if plan_higher is None else plan_higher))
    if declared:
        note = (f"The plan names {wanted!r}, which this prototype does not report; runs are compared on "
                f"{declared!r}, the prototype's primary metric." if wanted else "")
        return MetricChoice(name=declared, higher_is_better=bool(True if declared_higher is None else declared_higher),
                            note=note)
    if wanted:
        return MetricChoice(name=wanted, higher_is_better=bool(True if plan_higher is None else plan_higher),
                            note="The prototype names no primary metric; using the plan's.")
    return MetricChoice(name=None, note="Neither the plan nor the prototype names a primary metric.")
