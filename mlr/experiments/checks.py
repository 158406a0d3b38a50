"""What a notebook's own input checks say about its parameters: allowed choices and bounds.

Prototypes fail early on bad values (``if pool not in (1, 2, 4): raise ValueError(...)``,
``if not 0.0 < threshold < 1.0: raise ...``, ``if model not in MODELS: raise ...`` where ``MODELS`` is
a dict literal). Read with ``ast``, these checks keep the search space inside what the notebook
accepts, so Optuna does not spend runs on values the notebook refuses. Only ``if`` statements whose
body raises are read; anything more complex than a comparison of a parameter with literals (or with a
module-level dict/list/tuple/set literal) is ignored.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

_FLIP = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE}
_NEGATE = {ast.Lt: ast.GtE, ast.LtE: ast.Gt, ast.Gt: ast.LtE, ast.GtE: ast.Lt, ast.In: ast.NotIn, ast.NotIn: ast.In}


@dataclass
class Constraint:
    """Valid values of one parameter according to the notebook: a finite set and/or an interval."""

    choices: list[Any] | None = None
    low: float | None = None
    high: float | None = None
    low_strict: bool = False
    high_strict: bool = False

    def allows(self, value: Any) -> bool:
        if self.choices is not None and value not in self.choices:
            return False
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.low is not None and (value < self.low or (self.low_strict and value == self.low)):
                return False
            if self.high is not None and (value > self.high or (self.high_strict and value == self.high)):
                return False
        return True


def strip_magics(source: str) -> str:
    """IPython magics and shell escapes blanked (line numbers kept) so the cell parses as Python."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def parse_cell(source: str) -> ast.Module | None:
    try:
        return ast.parse(strip_magics(source))
    except SyntaxError:
        return None


def _literal_collections(trees: Iterable[ast.Module]) -> dict[str, list[Any]]:
    """Module-level ``NAME = {...}`` / ``[...]`` / ``(...)`` literals: dict keys or elements."""
    out: dict[str, list[Any]] = {}
    for tree in trees:
        for node in tree.body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                continue
            value = node.value
            items = value.keys if isinstance(value, ast.Dict) else \
                value.elts if isinstance(value, (ast.List, ast.Tuple, ast.Set)) else None
            if items is None:
                continue
            try:
                out[node.targets[0].id] = [ast.literal_eval(k) for k in items if k is not None]
            except ValueError:
                continue
    return out


def _values(node: ast.AST, collections: dict[str, list[Any]]) -> list[Any] | None:
    if isinstance(node, ast.Name):
        return collections.get(node.id)
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    return list(value) if isinstance(value, (list, tuple, set, frozenset)) else \
        list(value.keys()) if isinstance(value, dict) else None


def _number(node: ast.AST) -> float | None:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _apply(constraints: dict[str, Constraint], name: str, op: type, other: ast.AST,
           collections: dict[str, list[Any]]) -> None:
    """Record that ``name <op> other`` must hold."""
    c = constraints.setdefault(name, Constraint())
    if op is ast.In:
        values = _values(other, collections)
        if values is not None:
            c.choices = values if c.choices is None else [v for v in c.choices if v in values]
        return
    bound = _number(other)
    if bound is None:
        return
    if op in (ast.Gt, ast.GtE) and (c.low is None or bound >= c.low):
        c.low, c.low_strict = bound, op is ast.Gt
    elif op in (ast.Lt, ast.LtE) and (c.high is None or bound <= c.high):
        c.high, c.high_strict = bound, op is ast.Lt


def _read_valid(test: ast.AST, params: set[str], constraints: dict[str, Constraint],
                collections: dict[str, list[Any]], negated: bool) -> None:
    """``test`` describes the valid region (negated=False) or the invalid one (negated=True)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        _read_valid(test.operand, params, constraints, collections, not negated)
        return
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or) and negated:
        for value in test.values:  # "if a or b: raise" = neither a nor b
            _read_valid(value, params, constraints, collections, negated)
        return
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) and not negated:
        for value in test.values:  # "if not (a and b): raise" = a and b
            _read_valid(value, params, constraints, collections, negated)
        return
    if not isinstance(test, ast.Compare):
        return
    operands = [test.left, *test.comparators]
    if negated and len(test.ops) > 1:
        return  # "if lo <= x <= hi: raise": an excluded interval, not worth modelling
    for left, op, right in zip(operands, test.ops, operands[1:]):
        kind = type(op)
        if isinstance(left, ast.Name) and left.id in params:
            name, other = left.id, right
        elif isinstance(right, ast.Name) and right.id in params and kind in _FLIP:
            name, other, kind = right.id, left, _FLIP[kind]
        else:
            continue
        if negated:
            kind = _NEGATE.get(kind)
        if kind is ast.NotIn or kind is None:
            continue  # "x must not be one of ...": a ban, not a range
        _apply(constraints, name, kind, other, collections)


def notebook_constraints(code_cells: Iterable[str], params: Iterable[str]) -> dict[str, Constraint]:
    """Constraints on ``params`` from the raising ``if`` checks in ``code_cells`` (sources)."""
    names = set(params)
    trees = [t for t in (parse_cell(src) for src in code_cells) if t is not None]
    collections = _literal_collections(trees)
    out: dict[str, Constraint] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and any(isinstance(s, ast.Raise) for s in node.body):
                _read_valid(node.test, names, out, collections, negated=True)
    found = {k: v for k, v in out.items() if v != Constraint()}
    if found:
        log.debug("constraints read from the notebook's checks: %s", found)
    return found
