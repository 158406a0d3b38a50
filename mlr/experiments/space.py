"""The search space of a prototype: for each parameter, searchable (with a distribution) or fixed, and why.

Derived from the ``parameters`` cell (types, defaults, help comments), the notebook's ``mlr`` metadata
(``seed_parameter``, ``fixed``, ``choices: {name: [...]}``, ``ranges: {name: [low, high]}``), the
notebook's own input checks (:mod:`mlr.experiments.checks`) and the plan's parameter values:

* floats: a log-uniform range default/10 .. default*10 when the default is positive, clipped to the
  notebook's checks and to [0, 1] for rate/fraction/probability/threshold-like names;
* ints: default/4 .. default*4 (at most twice the default for compute-heavy counts like epochs);
* bools: {False, True}; strings: a categorical only when choices are known (metadata, the notebook's
  checks, the plan, or >= 2 quoted values in the help comment that include the default), else fixed;
* plan values for a parameter become its choices (coerced to its type; misfits dropped, with a note).

Integrity rules (:mod:`mlr.experiments.integrity`) come first: the seed and evaluation-defining
parameters are fixed whatever the plan says. The space serialises to JSON for the researcher to edit;
:func:`check_edit` and :meth:`SearchSpace.check_params` keep edits and candidates honest.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from mlr.execution.parameters import Parameter, inspect_parameters, parse_value, read_notebook
from mlr.experiments.checks import Constraint, notebook_constraints
from mlr.experiments.distribution import Distribution, is_number, same_value
from mlr.experiments.integrity import fixed_because, seed_parameter

log = logging.getLogger(__name__)

_UNIT = re.compile(r"(^|_)(dropout|rate|prob|probability|fraction|frac|ratio|momentum|threshold|subsample)($|_)")
_COSTLY = re.compile(r"(^|_)(epochs?|n_estimators|estimators|iterations?|iters?|max_iter|steps|rounds|"
                     r"n_epochs|num_epochs|num_steps|trees|n_trees)($|_)")
_QUOTED = re.compile(r"[\"']([^\"']{1,60})[\"']")


class ParamSpec(BaseModel):
    name: str
    type: str
    value: Any = None  # the value used when fixed (the default unless pinned)
    searchable: bool = False
    reason: str = ""  # why fixed, or where the distribution comes from
    locked: bool = False  # integrity: the researcher cannot make it searchable
    distribution: Distribution | None = None


class SearchSpace(BaseModel):
    params: list[ParamSpec]
    notes: list[str] = Field(default_factory=list)  # plan values dropped and why, etc.

    def get(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def searchable(self) -> list[ParamSpec]:
        return [p for p in self.params if p.searchable]

    @property
    def fixed(self) -> list[ParamSpec]:
        return [p for p in self.params if not p.searchable]

    def fixed_values(self) -> dict[str, Any]:
        return {p.name: p.value for p in self.fixed if p.type != "expression"}

    def distributions(self) -> dict[str, Any]:
        """Optuna distributions of the searchable parameters."""
        return {p.name: p.distribution.to_optuna() for p in self.searchable}

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str) -> "SearchSpace":
        return cls.model_validate_json(text)

    def pin(self, name: str, value: Any, reason: str = "pinned by the researcher") -> "SearchSpace":
        """A copy with ``name`` fixed at ``value`` (type-checked; a locked parameter keeps its own value)."""
        spec = self._spec(name)
        value = coerce_value(spec, value)
        if spec.locked and value != spec.value:
            raise ValueError(f"{name} cannot be pinned to {value!r}: it is fixed because it is {spec.reason}")
        return self._replace(spec.model_copy(update={"searchable": False, "value": value, "reason": reason}))

    def check_params(self, proposed: dict[str, Any]) -> list[str]:
        """Problems with a candidate's parameters: unknown names, changed fixed values, values off the space."""
        problems = []
        for name, value in proposed.items():
            spec = self.get(name)
            if spec is None:
                problems.append(f"{name} is not a parameter of this notebook")
            elif not spec.searchable:
                if spec.type != "expression" and not same_value(value, spec.value):
                    problems.append(f"{name} is fixed at {spec.value!r} ({spec.reason}); a candidate cannot set it "
                                    f"to {value!r}")
            elif not spec.distribution.contains(value):
                problems.append(f"{name}={value!r} is outside the search space ({spec.distribution.text()})")
        return problems

    def _spec(self, name: str) -> ParamSpec:
        spec = self.get(name)
        if spec is None:
            raise ValueError(f"unknown parameter {name!r}; the notebook's are: {', '.join(p.name for p in self.params)}")
        return spec

    def _replace(self, spec: ParamSpec) -> "SearchSpace":
        return self.model_copy(update={"params": [spec if p.name == spec.name else p for p in self.params]})


def coerce_value(spec: ParamSpec | Parameter, value: Any) -> Any:
    """``value`` as the parameter's type (strings parsed, 3 → 3.0 for floats); ValueError when it cannot be."""
    kind = spec.type
    if isinstance(value, str) and kind != "str":
        value = parse_value(Parameter(name=spec.name, type=kind), value)
    if kind == "float" and is_number(value):
        return float(value)
    if kind == "int" and is_number(value) and float(value).is_integer():
        return int(value)
    expected = {"bool": bool, "int": int, "float": float, "str": str}.get(kind)
    if expected and not (isinstance(value, expected) and (kind == "bool" or not isinstance(value, bool))):
        raise ValueError(f"{spec.name} is {kind}; {value!r} does not fit")
    return value


def _plan_values(plan: list | dict | None) -> dict[str, list[Any]]:
    if isinstance(plan, dict) and isinstance(plan.get("parameters"), (list, dict)):
        plan = plan["parameters"]
    if isinstance(plan, dict):
        return {str(k): (v if isinstance(v, list) else [v]) for k, v in plan.items()}
    out: dict[str, list[Any]] = {}
    for item in plan or []:
        if isinstance(item, dict) and item.get("name"):
            values = item.get("values", item.get("value"))
            out[str(item["name"])] = values if isinstance(values, list) else [] if values is None else [values]
    return out


def _range(p: Parameter, c: Constraint | None, meta_range: list | None) -> tuple[Distribution | None, str]:
    """The numeric distribution of an int/float parameter, or (None, why not)."""
    d = p.default
    if meta_range:
        low, high = float(meta_range[0]), float(meta_range[1])
        log_ok, why = low > 0 and high / low >= 10, "range from the notebook metadata (mlr.ranges)"
    elif not is_number(d) or d <= 0:
        if p.type == "float" and d == 0 and _UNIT.search(p.name.lower()):
            low, high, log_ok, why = 0.0, 0.5, False, "0..0.5 around a default of 0 (a rate/fraction)"
        else:
            return None, (f"no range can be derived around the default {d!r}; give one in the metadata "
                          "(mlr.ranges) or the plan")
    elif p.type == "float":
        low, high, log_ok, why = d / 10, d * 10, True, "log range default/10..default*10"
    else:
        high = d * 2 if _COSTLY.search(p.name.lower()) else d * 4
        low, log_ok, why = max(1, d // 4), True, "range default/4..default*" + ("2 (compute-heavy)" if high == d * 2
                                                                               else "4")
    if p.type == "float" and _UNIT.search(p.name.lower()) and not meta_range:
        low, high = max(low, 0.0), min(high, 0.9 if "dropout" in p.name.lower() else 1.0)
    if c is not None:
        if c.low is not None:
            low = max(low, c.low + ((1e-3 * (high - c.low)) if c.low_strict else 0))
        if c.high is not None:
            high = min(high, c.high - ((1e-3 * (c.high - low)) if c.high_strict else 0))
        why += ", clipped to the notebook's checks"
    if p.type == "int":
        low, high = math.ceil(low), math.floor(high)
    if not low < high:
        return None, f"the derived range [{low:g}, {high:g}] is empty"
    log_ok = log_ok and low > 0 and high / low >= 8 if p.type == "int" else log_ok and low > 0
    return Distribution(kind=p.type, low=low, high=high, log=log_ok), why


def _choices(p: Parameter, meta_choices: list | None, c: Constraint | None) -> tuple[list | None, str]:
    if meta_choices:
        return list(meta_choices), "choices from the notebook metadata (mlr.choices)"
    if c is not None and c.choices:
        return list(c.choices), "choices accepted by the notebook's own checks"
    if p.type == "bool":
        return [False, True], "a flag: both values"
    if p.type == "str":
        quoted = list(dict.fromkeys(_QUOTED.findall(p.help or "")))
        if len(quoted) >= 2 and p.default in quoted:
            return quoted, "choices named in the parameter's comment"
    return None, ""


def build_space(params: list[Parameter], metadata: dict[str, Any] | None = None, plan: list | dict | None = None,
                constraints: dict[str, Constraint] | None = None, restrict_to_plan: bool = False) -> SearchSpace:
    """The search space of ``params`` (see the module docstring)."""
    meta, constraints = metadata or {}, constraints or {}
    seed = seed_parameter(params, meta)
    planned, notes, specs = _plan_values(plan), [], []
    known = {p.name for p in params}
    notes += [f"the plan names {n!r}, which is not a parameter of this notebook; ignored" for n in planned
              if n not in known]
    for p in params:
        base = ParamSpec(name=p.name, type=p.type, value=p.default)
        c = constraints.get(p.name)
        fixed = fixed_because(p, meta, seed)
        if fixed is not None:
            if p.name in planned:
                notes.append(f"the plan varies {p.name}, which stays fixed: {fixed.reason}")
            specs.append(base.model_copy(update={"reason": fixed.reason, "locked": fixed.locked}))
            continue
        if p.type not in ("bool", "int", "float", "str"):
            specs.append(base.model_copy(update={"reason": f"a {p.type} value is not searched"}))
            continue
        if p.name in planned:
            good = []
            for v in planned[p.name]:
                try:
                    v = coerce_value(p, v)
                except ValueError as exc:
                    notes.append(f"plan value {v!r} for {p.name} dropped: {exc}")
                    continue
                if c is not None and not c.allows(v):
                    notes.append(f"plan value {v!r} for {p.name} dropped: the notebook's checks refuse it")
                elif v not in good:
                    good.append(v)
            if good:
                specs.append(base.model_copy(update={"searchable": True, "reason": "values given by the plan",
                                                     "distribution": Distribution(kind="categorical", choices=good)}))
                continue
        if restrict_to_plan and set(planned) & known:
            specs.append(base.model_copy(update={"reason": "not varied by the plan"}))
            continue
        choices, why = _choices(p, (meta.get("choices") or {}).get(p.name), c)
        if choices is not None and len(choices) >= 2:
            dist = Distribution(kind="categorical", choices=choices)
        elif p.type in ("int", "float"):
            dist, why = _range(p, c, (meta.get("ranges") or {}).get(p.name))
        else:
            dist, why = None, "a string with no known choices (name them in the metadata mlr.choices or the plan)"
        specs.append(base.model_copy(update={"searchable": dist is not None, "reason": why, "distribution": dist}))
    for note in notes:
        log.info("search space: %s", note)
    return SearchSpace(params=specs, notes=notes)


def space_for_notebook(path: str | Path, plan: list | dict | None = None, restrict_to_plan: bool = False) -> SearchSpace:
    """The search space of the prototype at ``path`` (parameters, metadata and input checks read from it)."""
    params = inspect_parameters(path)
    nb = read_notebook(path)
    meta = dict(nb.metadata.get("mlr", {}) or {})
    cells = [c.source for c in nb.cells if c.cell_type == "code" and "parameters" not in (c.metadata.get("tags") or [])]
    return build_space(params, meta, plan, notebook_constraints(cells, [p.name for p in params]), restrict_to_plan)


def check_edit(original: SearchSpace, edited: SearchSpace) -> list[str]:
    """Problems with a researcher's edit of ``original``: locked parameters freed or changed, bad distributions."""
    problems = []
    if {p.name for p in original.params} != {p.name for p in edited.params}:
        problems.append("the edited space must list the same parameters as the notebook")
    for new in edited.params:
        old = original.get(new.name)
        if old is None:
            continue
        if old.locked and (new.searchable or not same_value(new.value, old.value) or not new.locked):
            problems.append(f"{new.name} must stay fixed at {old.value!r}: {old.reason}")
        if new.type != old.type:
            problems.append(f"{new.name} is {old.type}, not {new.type}")
        if new.searchable:
            d = new.distribution
            if d is None:
                problems.append(f"{new.name} is searchable but has no distribution")
            elif d.kind == "categorical" and not d.choices:
                problems.append(f"{new.name}: a categorical needs at least one choice")
            elif d.kind != "categorical" and (d.low is None or d.high is None or not d.low < d.high
                                              or (d.log and d.low <= 0) or d.kind != new.type):
                problems.append(f"{new.name}: {d.kind} range [{d.low}, {d.high}] is not valid for a {new.type}"
                                + (" (a log range needs low > 0)" if d.log else ""))
    return problems
