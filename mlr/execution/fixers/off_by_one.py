"""An index one past the end: a loop bound or an index written with ``len(x)`` where ``len(x) - 1`` (or a bound
of ``len(x)``) was meant.

Recognises ``range(len(x) + 1)``, ``range(1, len(x) + 1)`` used to index ``x[i]``, ``x[len(x)]`` (and
``df.iloc[len(df)]``) and ``i <= len(x)`` in the failing cell, for a sequence ``x`` the failing cell indexes.
Only edits those forms.
"""

from __future__ import annotations

import re

from mlr.execution.fixers.base import ErrorReport, Fix, FixContext

_INDEX_ERROR = re.compile(r"index out of range|out of bounds|out-of-bounds|index \d+ is out of bounds", re.I)


def _indexed(line: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"([A-Za-z_][\w.]*)\s*\[", line)))


def fix(report: ErrorReport, ctx: FixContext) -> Fix | None:
    if report.cell_index is None or report.ename != "IndexError" or not _INDEX_ERROR.search(report.evalue):
        return None
    source = report.cell_source
    for name in _indexed(source):
        n = re.escape(name)
        owner = name.split(".")[0]  # `history.iloc[len(history)]`: the length is the owner's
        edits = [
            (rf"range\(\s*len\(\s*{n}\s*\)\s*\+\s*1\s*\)", f"range(len({name}))",
             f"the loop runs to len({name}) inclusive"),
            (rf"{n}\[\s*len\(\s*{n}\s*\)\s*\]", f"{name}[len({name}) - 1]", f"`{name}[len({name})]` is one past the end"),
            (rf"{n}\[\s*len\(\s*{re.escape(owner)}\s*\)\s*\]", f"{name}[len({owner}) - 1]",
             f"`{name}[len({owner})]` is one past the end"),
            (rf"<=\s*len\(\s*{n}\s*\)", f"< len({name})", f"the bound `<= len({name})` reaches one past the end"),
        ]
        for pattern, replacement, why in edits:
            new_source, count = re.subn(pattern, replacement, source)
            if count:
                return Fix(action="patch", fixer="off_by_one", cell_index=report.cell_index, new_source=new_source,
                           explanation=f"IndexError: {why}; the last valid index of `{name}` is len({name}) - 1.")
        one_based = re.search(rf"for\s+(\w+)\s+in\s+range\(\s*1\s*,\s*len\(\s*{n}\s*\)\s*\+\s*1\s*\)", source)
        if one_based:
            var = one_based.group(1)
            new_source = source.replace(one_based.group(0), f"for {var} in range(len({name}))")
            return Fix(action="patch", fixer="off_by_one", cell_index=report.cell_index, new_source=new_source,
                       explanation=f"IndexError: the loop counts `{var}` from 1 to len({name}) but indexes `{name}` "
                                   "from 0; it now runs over the valid indexes.")
    return None
