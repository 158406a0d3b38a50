"""An in-place update that cannot keep the array's dtype (``weights -= lr * grad`` on an integer array):
write it as an assignment, so the result takes the wider dtype.

NumPy refuses ``same_kind`` casting of a ufunc's output into an integer array; ``x = x - y`` makes a new
float array instead. Only augmented assignments on the failing line are rewritten.
"""

from __future__ import annotations

import re

from mlr.execution.fixers.base import ErrorReport, Fix, FixContext

_CAST = re.compile(r"Cannot cast ufunc '(\w+)' output from dtype\('(\w+)'\) to dtype\('(\w+)'\)")
_AUG = re.compile(r"^(?P<indent>[ \t]*)(?P<target>[A-Za-z_][\w.\[\]'\"]*)\s*(?P<op>\*\*|//|[-+*/%@])=\s*(?P<expr>.+?)\s*$",
                  re.MULTILINE)


def fix(report: ErrorReport, ctx: FixContext) -> Fix | None:
    if report.cell_index is None:
        return None
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
