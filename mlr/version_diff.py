"""Two versions of a plan (or hypothesis) compared field by field, for the Plan page's side-by-side view.

Pure functions over the versions' stored fields (``PlanData.stored()`` / ``HypothesisData.stored()``): each field
becomes one :class:`FieldChange` with its name in words and both values as people read them. No Streamlit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Field names as people read them, in the order the forms show them; other fields follow in their own order.
LABELS = {"method": "Method", "rationale": "Rationale", "citations": "Cited passages", "objective": "Objective",
          "experiment_design": "Experiment design", "dataset": "Dataset", "baseline": "Baseline",
          "compute_budget": "Compute budget", "primary_metric": "Primary metric",
          "higher_is_better": "Higher is better", "parameters": "Parameters to vary", "prototype": "Prototype"}
HIDDEN = {"modes"}  # bookkeeping of how a field was produced, not the plan's content


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def shown(field: str, value: Any) -> str:
    """A field's value as text: steps one per line, parameters as "name: 1, 2 (why)", yes/no, empty as "—"."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field == "parameters" and isinstance(value, dict):
        return "\n".join(f"{name}: {_scalar(v)}" for name, v in value.items())
    if isinstance(value, list):
        return "\n".join(_item(field, item) for item in value)
    return _scalar(value)


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _item(field: str, item: Any) -> str:
    if isinstance(item, dict) and "name" in item:  # a plan parameter
        values = ", ".join(_scalar(v) for v in item.get("values") or [])
        return f"{item['name']}: {values}" + (f" ({item['description']})" if item.get("description") else "")
    if isinstance(item, dict) and "chunk_id" in item:  # a citation
        return str(item["chunk_id"])
    return _scalar(item)


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Every field of either version, in the forms' order, with both values as text."""
    fields = [f for f in LABELS if f in before or f in after]
    fields += [f for f in [*before, *after] if f not in LABELS and f not in HIDDEN and f not in fields]
    return [FieldChange(f, LABELS.get(f, f.replace("_", " ").capitalize()), shown(f, before.get(f)),
                        shown(f, after.get(f))) for f in dict.fromkeys(fields)]


def changed(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Only the fields whose value differs between the two versions."""
    return [c for c in compare(before, after) if c.changed]
