"""A text file read or written with the wrong encoding: name the encoding that fits.

A file that an ASCII (or other legacy) codec cannot decode is read as UTF-8; a file that UTF-8 cannot decode
is read as Latin-1 (every byte decodes). The encoding is set on the ``open``/``read_csv``/``read_text``
calls of the failing cell: an existing ``encoding=`` is changed, or one is added to ``open(...)`` and the
pandas/NumPy text readers (``read_csv``, ``read_table``, ``read_json``, ``loadtxt``, ...).
"""

from __future__ import annotations

import re

from mlr.execution.fixers.base import ErrorReport, Fix, FixContext

_CODEC = re.compile(r"'([\w-]+)' codec can't (decode|encode)")
_ENCODING_KW = re.compile(r"""(encoding\s*=\s*)(['"])([\w-]+)\2""")
_OPEN_CALL = re.compile(r"\b(?:open|read_csv|read_table|read_fwf|read_json|read_text|loadtxt|genfromtxt)\(")


def _close_paren(source: str, start: int) -> int | None:
    depth = 0
    for i in range(start, len(source)):
        if source[i] == "(":
            depth += 1
        elif source[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return None


def fix(report: ErrorReport, ctx: FixContext) -> Fix | None:
    if report.cell_index is None or report.ename not in {"UnicodeDecodeError", "UnicodeEncodeError"}:
        return None
    m = _CODEC.search(report.evalue)
    if not m:
        return None
    codec = m.group(1).lower().replace("_", "-")
    wanted = "latin-1" if codec in {"utf-8", "utf8"} and m.group(2) == "decode" else "utf-8"
    source = report.cell_source
    new_source, count = _ENCODING_KW.subn(
        lambda k: f"{k.group(1)}{k.group(2)}{wanted}{k.group(2)}" if k.group(3).lower().replace("_", "-") == codec
        else k.group(0), source)
    if not count or new_source == source:
        new_source = source
        for call in reversed(list(_OPEN_CALL.finditer(source))):
            end = _close_paren(source, call.end() - 1)
            if end is None:
                continue
            args = source[call.end():end]
            if "encoding" in args or re.search(r"""['"][rwax+]*b[rwax+]*['"]""", args):
                continue  # already says, or binary mode (no encoding there)
            new_source = new_source[:end] + f", encoding='{wanted}'" + new_source[end:]
    if new_source == source:
        return None
    return Fix(action="patch", fixer="encoding", cell_index=report.cell_index, new_source=new_source,
               explanation=f"{report.ename}: the '{codec}' codec cannot {m.group(2)} this text; "
                           f"it is read with encoding='{wanted}'.")
