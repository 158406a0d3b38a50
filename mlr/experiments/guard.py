"""Refuse a code candidate that touches the evaluation: the loop must not "improve" by changing the test.

Read with ``ast`` (a cell that does not parse cannot be checked and is refused). A model-written edit
of a notebook is refused when it:

1. changes the ``parameters`` cell (parameters are changed by parameter candidates, within the space);
2. changes an *evaluation cell* (a comment-only change is fine): one that writes ``metrics.json``,
   computes a metric (``sklearn.metrics`` functions, ``*_score`` / ``*_error`` calls, ``.score(...)``,
   ``.evaluate(...)``), assigns the primary metric (``accuracy = ...``, ``{"accuracy": ...}``), or splits
   the data (``train_test_split``, ``KFold`` and friends, ``cross_val*``, a ``test_size=`` argument);
3. in any other cell, adds or changes a statement that does one of those things, loads the data
   (``load_*``, ``fetch_*``, ``make_classification``, ``read_csv``...) or imports from
   ``sklearn.metrics`` / ``sklearn.model_selection`` / ``sklearn.datasets``;
4. rebinds or mutates a name the evaluation depends on (what evaluation or data-loading statements
   bind, such as ``X_test`` or ``data``, and the functions they call, such as ``accuracy_score``);
5. assigns a fixed parameter (the seed, ``test_size``, ... see :mod:`mlr.experiments.integrity`).

Statements are compared by their AST, so reformatting or comments never count as a change.
Static checks cannot prove an edit harmless; they catch the direct ways of moving the goalposts.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlr.experiments.checks import parse_cell

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
_SPLIT_CALLS = {"train_test_split", "KFold", "StratifiedKFold", "GroupKFold", "RepeatedKFold", "ShuffleSplit",
                "StratifiedShuffleSplit", "LeaveOneOut", "TimeSeriesSplit", "PredefinedSplit", "cross_val_score",
                "cross_validate", "cross_val_predict", "random_split", "GroupShuffleSplit", "RepeatedStratifiedKFold"}
_METRIC_CALL = re.compile(r"(_score|_error|^log_loss|_report|^score|^evaluate|^confusion_matrix)$")
_SPLIT_KEYWORDS = {"test_size", "train_size", "validation_split", "validation_data"}
_DATA_CALL = re.compile(r"^(load_\w+|fetch_\w+|make_(classification|regression|blobs|moons|circles|friedman\d)|"
                        r"read_(csv|parquet|json|table|excel|feather)|load_dataset|loadtxt|genfromtxt)$")
_EVAL_MODULES = ("sklearn.metrics", "sklearn.model_selection", "sklearn.datasets", "torchmetrics", "evaluate")


@dataclass(frozen=True)
class GuardResult:
    allowed: bool
    reasons: list[str] = field(default_factory=list)  # for the researcher, one per problem

    def text(self) -> str:
        return "allowed" if self.allowed else "refused: " + "; ".join(self.reasons)


def _call_name(node: ast.Call) -> str:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def eval_markers(node: ast.AST, metric: str | None) -> list[str]:
    """Why ``node`` (a cell or a statement) computes, writes or splits for the evaluation; [] when it does not."""
    found: list[str] = []
    for n in ast.walk(node):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and METRICS_FILE in n.value:
            found.append(f"writes {METRICS_FILE}")
        elif isinstance(n, ast.Call):
            name = _call_name(n)
            if name in _SPLIT_CALLS:
                found.append(f"splits the data ({name})")
            elif _METRIC_CALL.search(name):
                found.append(f"computes a metric ({name})")
            found += [f"sets the split ({k.arg}=)" for k in n.keywords if k.arg in _SPLIT_KEYWORDS]
        elif metric and isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            for t in targets:
                for leaf in ast.walk(t):
                    if isinstance(leaf, ast.Name) and leaf.id == metric:
                        found.append(f"assigns the metric {metric!r}")
                    elif isinstance(leaf, ast.Subscript) and isinstance(leaf.slice, ast.Constant) \
                            and leaf.slice.value == metric:
                        found.append(f"assigns the metric {metric!r}")
        elif metric and isinstance(n, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == metric
                                                        for k in n.keys):
            found.append(f"assigns the metric {metric!r}")
    return list(dict.fromkeys(found))


def _data_or_import(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.ImportFrom) and (stmt.module or "").startswith(_EVAL_MODULES):
        return f"imports from {stmt.module}"
    if isinstance(stmt, ast.Import) and any(a.name.startswith(_EVAL_MODULES) for a in stmt.names):
        return "imports an evaluation module"
    for n in ast.walk(stmt):
        if isinstance(n, ast.Call) and _DATA_CALL.match(_call_name(n)):
            return f"loads the data ({_call_name(n)})"
    return None


def _why(stmt: ast.stmt, metric: str | None) -> str:
    return ", ".join(eval_markers(stmt, metric) + [w for w in [_data_or_import(stmt)] if w])


def bound_names(stmt: ast.AST) -> set[str]:
    """Module-level names a statement binds or mutates: assignment targets' roots (``x``, ``x.a``, ``x[i]``),
    defs, imports, loop and ``with`` targets, ``del``, walrus, ``global``. Locals of a function body or a
    comprehension are not module names and are skipped (a def's name and its ``global``s count)."""
    out: set[str] = set()
    stack = [stmt]
    while stack:
        n = stack.pop()
        targets: list = []
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
            out.update(name for g in ast.walk(n) if isinstance(g, (ast.Global, ast.Nonlocal)) for name in g.names)
            continue
        if isinstance(n, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(n, (ast.Assign, ast.Delete)):
            targets = n.targets
        elif isinstance(n, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.NamedExpr)):
            targets = [n.target]
        elif isinstance(n, ast.withitem) and n.optional_vars is not None:
            targets = [n.optional_vars]
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in n.names)
        for t in targets:
            for leaf in ast.walk(t):
                if isinstance(leaf, (ast.Name, ast.Attribute, ast.Subscript)) and _root(leaf):
                    out.add(_root(leaf))
        stack.extend(ast.iter_child_nodes(n))
    return out


class Guard:
    """The evaluation of one notebook, read once; checks code candidates against it."""

    def __init__(self, cells: Sequence[tuple[str, str]], metric: str | None, fixed: Iterable[str] = (),
                 parameters_index: int | None = None):
        self.cells = list(cells)  # (cell_type, source)
        self.metric, self.fixed, self.parameters_index = metric, set(fixed), parameters_index
        self.protected: dict[int, str] = {}
        self.protected_names: set[str] = set()
        for i, (kind, src) in enumerate(self.cells):
            tree = parse_cell(src) if kind == "code" else None
            if tree is None:
                continue
            markers = eval_markers(tree, metric)
            if markers and i != parameters_index:
                self.protected[i] = ", ".join(markers)
            for stmt in tree.body:
                if eval_markers(stmt, metric) or _data_or_import(stmt):
                    self.protected_names |= bound_names(stmt)
                    self.protected_names |= {_call_name(n) for n in ast.walk(stmt)
                                             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        self.protected_names -= {""}

    @classmethod
    def for_notebook(cls, path: str | Path, metric: str | None, fixed: Iterable[str] = ()) -> "Guard":
        import nbformat

        nb = nbformat.read(str(path), as_version=4)
        index = next((i for i, c in enumerate(nb.cells) if "parameters" in (c.metadata.get("tags") or [])), None)
        return cls([(c.cell_type, c.source) for c in nb.cells], metric, fixed, index)

    def check_cell(self, index: int, new_source: str) -> GuardResult:
        """May cell ``index`` be replaced by ``new_source``?"""
        if not 0 <= index < len(self.cells):
            return GuardResult(False, [f"the notebook has no cell {index}"])
        kind, old = self.cells[index]
        new_tree, old_tree = parse_cell(new_source), parse_cell(old) if kind == "code" else ast.parse("")
        if new_tree is None:
            return GuardResult(False, [f"the new cell {index} is not valid Python, so it cannot be checked"])
        if old_tree is not None and ast.dump(new_tree) == ast.dump(old_tree):
            return GuardResult(True)  # comments or formatting only
        if index == self.parameters_index:
            return GuardResult(False, ["the edit changes the parameters cell; parameters are changed by parameter "
                                       "candidates within the search space, not by code"])
        if index in self.protected:
            return GuardResult(False, [f"cell {index} is part of the evaluation ({self.protected[index]}); "
                                       "a code candidate may not change it"])
        return self._check_statements(index, old_tree, new_tree)

    def check_notebook(self, new_cells: Sequence[tuple[str, str]]) -> GuardResult:
        """May the notebook become ``new_cells``? Cells are matched by position when the count is unchanged."""
        if len(new_cells) == len(self.cells):
            reasons = [r for i, (_, src) in enumerate(new_cells) if src != self.cells[i][1]
                       for r in self.check_cell(i, src).reasons]
            return GuardResult(not reasons, reasons)
        reasons = []
        kept = [src for _, src in new_cells]
        for i in sorted({*self.protected, *([self.parameters_index] if self.parameters_index is not None else [])}):
            if self.cells[i][1] not in kept:
                reasons.append(f"cell {i} ({self.protected.get(i, 'the parameters cell')}) was changed or removed")
        old_sources = {src for _, src in self.cells}
        for j, (kind, src) in enumerate(new_cells):
            if kind == "code" and src not in old_sources:
                tree = parse_cell(src)
                if tree is None:
                    reasons.append(f"new cell {j} is not valid Python, so it cannot be checked")
                else:
                    reasons += self._check_statements(j, ast.parse(""), tree).reasons
        return GuardResult(not reasons, list(dict.fromkeys(reasons)))

    def _check_statements(self, index: int, old_tree: ast.Module | None, new_tree: ast.Module) -> GuardResult:
        old_stmts = [ast.dump(s) for s in (old_tree.body if old_tree else [])]
        new_stmts = [ast.dump(s) for s in new_tree.body]
        reasons: list[str] = []
        for stmt in (old_tree.body if old_tree else []):
            why = _why(stmt, self.metric)
            if why and ast.dump(stmt) not in new_stmts:
                reasons.append(f"cell {index}: the edit changes or removes a statement that {why} "
                               f"(line {stmt.lineno})")
        for stmt in new_tree.body:
            if ast.dump(stmt) in old_stmts:
                continue
            why = _why(stmt, self.metric)
            if why:
                reasons.append(f"cell {index}: the edit adds a statement that {why} (line {stmt.lineno})")
            bound = bound_names(stmt)
            for name in sorted(bound & self.fixed):
                reasons.append(f"cell {index}: the edit assigns {name}, a fixed parameter (line {stmt.lineno})")
            for name in sorted((bound & self.protected_names) - self.fixed):
                reasons.append(f"cell {index}: the edit rebinds or modifies {name!r}, which the evaluation "
                               f"depends on (line {stmt.lineno})")
        if reasons:
            log.info("code candidate refused: %s", reasons)
        return GuardResult(not reasons, list(dict.fromkeys(reasons)))


def check_code_edit(notebook: str | Path, cell_index: int, new_source: str, space=None,
                    metric: str | None = None) -> str | None:
    """Why replacing cell ``cell_index`` of ``notebook`` by ``new_source`` is refused, or None when allowed.

    ``space`` (a :class:`~mlr.experiments.space.SearchSpace`) names the fixed parameters; ``metric``
    defaults to the notebook's ``mlr.primary_metric``.
    """
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    metric = metric or (nb.metadata.get("mlr") or {}).get("primary_metric")
    fixed = [p.name for p in space.fixed] if space is not None else []
    index = next((i for i, c in enumerate(nb.cells) if "parameters" in (c.metadata.get("tags") or [])), None)
    result = Guard([(c.cell_type, c.source) for c in nb.cells], metric, fixed, index).check_cell(cell_index, new_source)
    return None if result.allowed else "; ".join(result.reasons)
