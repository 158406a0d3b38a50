"""Shape errors read with the kernel's shapes: a matrix product whose inner dimensions disagree (transpose the
operand that makes them agree), and a 1-D array stacked with 2-D ones (make it a column).

Reads the operands' shapes from the live kernel (evidence ``values``: ``numpy.ndarray shape=(6, 3)``) for
``A @ B``, ``np.dot(A, B)``, ``A.dot(B)`` and ``np.matmul(A, B)`` on the failing line. Only 2-D operands
and only when exactly one transpose makes the product valid (the right operand first: ``X @ W.T`` is the
usual fix of a weight matrix stored the other way round).
"""

from __future__ import annotations

import re

from mlr.execution.fixers.base import ErrorReport, Fix, FixContext

_SHAPE_ERROR = re.compile(r"matmul|not aligned|mismatch in its core dimension|shapes cannot be multiplied|"
                          r"size mismatch|inconsistent dimensions", re.I)
_SHAPE = re.compile(r"shape=\(([\d, ]+)\)")
_NAME = r"[A-Za-z_][\w.]*"
_FORMS = [re.compile(rf"(?P<a>{_NAME})\s*@\s*(?P<b>{_NAME})(?![\w.(\[])"),
          re.compile(rf"(?P<f>\b(?:\w+\.)?(?:dot|matmul))\(\s*(?P<a>{_NAME})\s*,\s*(?P<b>{_NAME})\s*\)"),
          re.compile(rf"(?P<a>{_NAME})\.dot\(\s*(?P<b>{_NAME})\s*\)")]


def _shape(values: dict, name: str) -> tuple[int, ...] | None:
    m = _SHAPE.search(values.get(name, ""))
    return tuple(int(x) for x in m.group(1).replace(" ", "").split(",") if x) if m else None


_NDIM_ERROR = re.compile(r"same number of dimensions|must have same number of dimensions|"
                         r"dimensions? .* must match exactly|Tensors must have same number of dimensions", re.I)
_STACK = re.compile(rf"\b(?:\w+\.)?(?:concatenate|hstack|column_stack|cat)\(\s*[\[(](?P<ops>[^\])]*)[\])]")


def _stack_fix(report: ErrorReport, values: dict) -> Fix | None:
    """``np.concatenate([X, bias], axis=1)`` with ``X`` 2-D and ``bias`` 1-D: ``bias`` becomes a column."""
    for m in _STACK.finditer(report.cell_source):
        ops = [o.strip() for o in m.group("ops").split(",") if o.strip()]
        shapes = {o: _shape(values, o) for o in ops}
        if len(ops) < 2 or any(v is None for v in shapes.values()):
            continue
        flat = [o for o, sh in shapes.items() if len(sh) == 1]
        wide = [o for o, sh in shapes.items() if len(sh) == 2]
        if not flat or not wide or len(flat) + len(wide) != len(ops):
            continue
        rows = {shapes[o][0] for o in wide}
        if any(shapes[o][0] not in rows for o in flat):
            continue
        inner = m.group("ops")
        for o in flat:
            inner = re.sub(rf"(?<![\w.]){re.escape(o)}(?![\w.\[(])", f"{o}[:, None]", inner)
        start, end = m.start("ops"), m.end("ops")
        source = report.cell_source[:start] + inner + report.cell_source[end:]
        return Fix(action="patch", fixer="shapes", cell_index=report.cell_index, new_source=source,
                   explanation=(f"{report.ename}: {', '.join(f'`{o}` {shapes[o]}' for o in flat)} is 1-D while "
                                f"{', '.join(f'`{o}` {shapes[o]}' for o in wide)} is 2-D; as a column "
                                f"(`[:, None]`) it stacks (shapes from the kernel)."))
    return None


def fix(report: ErrorReport, ctx: FixContext) -> Fix | None:
    if report.cell_index is None or report.ename not in {"ValueError", "RuntimeError"}:
        return None
    values = (report.evidence or {}).get("values") or {}
    if _NDIM_ERROR.search(report.evalue):
        return _stack_fix(report, values)
    if not _SHAPE_ERROR.search(report.evalue):
        return None
    for form in _FORMS:
        for m in form.finditer(report.cell_source):
            a, b = m.group("a"), m.group("b")
            sa, sb = _shape(values, a), _shape(values, b)
            if not sa or not sb or len(sa) != 2 or len(sb) != 2 or sa[1] == sb[0]:
                continue
            if sa[1] == sb[1]:
                start, end, new = m.start("b"), m.end("b"), f"{b}.T"
                what = f"`{b}` ({sb[0]}×{sb[1]}) transposed"
            elif sa[0] == sb[0]:
                start, end, new = m.start("a"), m.end("a"), f"{a}.T"
                what = f"`{a}` ({sa[0]}×{sa[1]}) transposed"
            else:
                continue
            source = report.cell_source[:start] + new + report.cell_source[end:]
            return Fix(action="patch", fixer="shapes", cell_index=report.cell_index, new_source=source,
                       explanation=(f"{report.ename}: the product of `{a}` {sa} and `{b}` {sb} needs matching inner "
                                    f"dimensions; with {what} they match (shapes from the kernel)."))
    return None
