"""Type errors of numbers: an in-place update that cannot keep the array's dtype (``weights -= lr * grad`` on an
integer array) is written as an assignment, so the result takes the wider dtype; arithmetic on text (a column
split from a line) converts the text side to numbers.

NumPy refuses ``same_kind`` casting of a ufunc's output into an integer array; ``x = x - y`` makes a new
float array instead. Only augmented assignments on the failing line are rewritten.
"""

from __future__ import annotations

import ast
import re

from mlr.execution.fixers.base import ErrorReport, Fix, FixContext

_CAST = re.compile(r"Cannot cast ufunc '(\w+)' output from dtype\('(\w+)'\) to dtype\('(\w+)'\)")
_AUG = re.compile(r"^(?P<indent>[ \t]*)(?P<target>[A-Za-z_][\w.\[\]'\"]*)\s*(?P<op>\*\*|//|[-+*/%@])=\s*(?P<expr>.+?)\s*$",
                  re.MULTILINE)


_STR_OPERAND = re.compile(r"unsupported operand type\(s\) for (\S+): '(\w+)' and '(\w+)'")
_OPS = {"/": ast.Div, "//": ast.FloorDiv, "*": ast.Mult, "-": ast.Sub, "+": ast.Add, "%": ast.Mod, "**": ast.Pow}
_NUMBERS = {"int", "float", "complex", "bool", "int64", "float64"}


def _text_operand(report: ErrorReport, op: str, left: str, right: str) -> Fix | None:
    """Arithmetic on text read from a file or split from a line (``df['correct'] / total`` with 'str' and 'int'):
    the text side is converted to numbers, ``.astype(float)`` for a column or array, ``float()`` for a value."""
    if op not in _OPS or [left, right].count("str") != 1 or not ({left, right} - {"str"}) <= _NUMBERS:
        return None
    try:
        tree = ast.parse(report.cell_source)
    except SyntaxError:
        return None
    found = [n for n in ast.walk(tree) if isinstance(n, ast.BinOp) and isinstance(n.op, _OPS[op])]
    if len(found) != 1:
        return None
    node = found[0]
    text_side = node.left if left == "str" else node.right
    segment = ast.get_source_segment(report.cell_source, text_side)
    if not segment or report.cell_source.count(segment) != 1:
        return None
    converted = f"{segment}.astype(float)" if isinstance(text_side, ast.Subscript) else f"float({segment})"
    return Fix(action="patch", fixer="dtype_cast", cell_index=report.cell_index,
               new_source=report.cell_source.replace(segment, converted, 1),
               explanation=(f"{report.ename}: `{segment}` holds text ('str'), so `{op}` cannot compute with it; "
                            f"it is converted to numbers first (`{converted}`)."))


def fix(report: ErrorReport, ctx: FixContext) -> Fix | None:
    if report.cell_index is None:
        return None
    if report.ename == "TypeError" and (t := _STR_OPERAND.search(report.evalue)):
        return _text_operand(report, t.group(1), t.group(2), t.group(3))
    m = _CAST.search(report.evalue)
    if not m:
        return None
    for aug in _AUG.finditer(report.cell_source):
        target, op, expr = aug.group("target"), aug.group("op"), aug.group("expr")
        line = f"{aug.group('indent')}{target} = {target} {op} ({expr})"
        source = report.cell_source[:aug.start()] + line + report.cell_source[aug.end():]
        return Fix(action="patch", fixer="dtype_cast", cell_index=report.cell_index, new_source=source,
                   explanation=(f"{report.ename}: `{target} {op}= ...` must keep {m.group(3)}, but the result is "
                                f"{m.group(2)}; written as `{target} = {target} {op} (...)` it becomes {m.group(2)}."))
    return None
