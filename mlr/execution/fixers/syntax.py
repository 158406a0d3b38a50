"""A missing colon or bracket that Python points at: try the obvious edit and keep it only if it compiles.

The cell is compiled here (never executed, ``mlr.cellcode``). IPython magics (``%``/``!`` lines) are
blanked first so that compile sees plain Python; the patch itself leaves them untouched.
"""

from __future__ import annotations

import re

from mlr.cellcode import compile_error
from mlr.execution.fixers.base import ErrorReport, Fix, FixContext

_PAIRS = {"(": ")", "[": "]", "{": "}"}
_NEVER_CLOSED = re.compile(r"'([(\[{])' was never closed")
_UNMATCHED = re.compile(r"unmatched '([)\]}])'")
_MISMATCH = re.compile(r"closing parenthesis '([)\]}])' does not match opening parenthesis '([(\[{])'")


def _insert_before_comment(line: str, text: str) -> str:
    code = line.rstrip()
    # A trailing comment: put the fix before it (a '#' inside a string is rare in headers).
    hash_at = code.find("#")
    if hash_at > 0 and code.count("'", 0, hash_at) % 2 == 0 and code.count('"', 0, hash_at) % 2 == 0:
        return code[:hash_at].rstrip() + text + "  " + code[hash_at:]
    return code + text


def _candidates(source: str, err: SyntaxError):
    lines = source.split("\n")
    msg, lineno = err.msg or "", (err.lineno or 1) - 1
    offset = (err.offset or 1) - 1
    if not 0 <= lineno < len(lines):
        return
    if "expected ':'" in msg:
        yield f"added the missing ':' at the end of line {lineno + 1}", lineno, _insert_before_comment(
            lines[lineno], ":")
    if m := _NEVER_CLOSED.search(msg):
        closer = _PAIRS[m.group(1)]
        # The bracket opens on err.lineno; close it at the end of that line or of one of the next lines.
        for end in range(lineno, min(len(lines), lineno + 8)):
            yield (f"closed the '{m.group(1)}' opened on line {lineno + 1} at the end of line {end + 1}",
                   end, _insert_before_comment(lines[end], closer))
    if m := _UNMATCHED.search(msg):
        line = lines[lineno]
        at = offset if 0 <= offset < len(line) and line[offset] == m.group(1) else line.rfind(m.group(1))
        if at >= 0:
            yield f"removed the unmatched '{m.group(1)}' on line {lineno + 1}", lineno, line[:at] + line[at + 1:]
    if m := _MISMATCH.search(msg):
        line = lines[lineno]
        wrong, right = m.group(1), _PAIRS[m.group(2)]
        at = offset if 0 <= offset < len(line) and line[offset] == wrong else line.find(wrong)
        if at >= 0:
            yield (f"replaced '{wrong}' by '{right}' on line {lineno + 1}", lineno,
                   line[:at] + right + line[at + 1:])


def fix(report: ErrorReport, ctx: FixContext) -> Fix | None:
    if report.ename not in {"SyntaxError", "IndentationError"} or report.cell_index is None:
        return None
    source = report.cell_source
    err = compile_error(source)
    if err is None:
        return None
    lines = source.split("\n")
    for why, lineno, new_line in _candidates(source, err):
        new_source = "\n".join(lines[:lineno] + [new_line] + lines[lineno + 1:])
        still = compile_error(new_source)
        if still is None:
            return Fix(action="patch", fixer="syntax", cell_index=report.cell_index, new_source=new_source,
                       explanation=f"SyntaxError ({err.msg}): {why}.")
    return None
