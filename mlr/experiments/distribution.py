"""A search distribution as plain data (JSON the researcher can edit) that becomes an Optuna distribution."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel


class Distribution(BaseModel):
    """An Optuna distribution in plain data, so the space is JSON the researcher can edit."""

    kind: Literal["float", "int", "categorical"]
    low: int | float | None = None
    high: int | float | None = None
    log: bool = False
    choices: list[Any] | None = None

    def to_optuna(self):
        import optuna

        if self.kind == "categorical":
            return optuna.distributions.CategoricalDistribution(list(self.choices or []))
        if self.kind == "int":
            return optuna.distributions.IntDistribution(int(self.low), int(self.high), log=self.log)
        return optuna.distributions.FloatDistribution(float(self.low), float(self.high), log=self.log)

    def contains(self, value: Any) -> bool:
        if self.kind == "categorical":
            return any(value == c and type(value) is type(c) or (is_number(value) and is_number(c) and value == c)
                       for c in self.choices or [])
        if not is_number(value) or (self.kind == "int" and float(value) != int(value)):
            return False
        eps = 1e-9 * max(1.0, abs(self.high or 0))
        return self.low - eps <= value <= self.high + eps

    def text(self) -> str:
        if self.kind == "categorical":
            return "one of " + ", ".join(repr(c) for c in self.choices or [])
        return f"{self.kind} in [{self.low:g}, {self.high:g}]" + (" (log)" if self.log else "")


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def same_value(a: Any, b: Any) -> bool:
    if is_number(a) and is_number(b):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b and type(a) is type(b)
