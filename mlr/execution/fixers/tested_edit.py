"""A code edit the live kernel showed to work: the evidence's edit search (``mlr.execution.edit_search``) tried
small generic repairs of the failing cell (or of the earlier cell that made the bad value) in a copy of the
kernel's namespace, and this rule proposes the first one with which the failing cell ran.

Without that evidence it proposes nothing. The explanation says what was changed and that it was tested, so a
researcher approving it knows it is more than a guess — and that "ran" is not "correct".
"""

from __future__ import annotations

from mlr.execution.fixers.base import ErrorReport, Fix, FixContext


def fix(report: ErrorReport, ctx: FixContext) -> Fix | None:
    found = (report.evidence or {}).get("edit_fix")
    if not found or found.get("cell_index") is None or not found.get("source"):
        return None
    where = "the failing cell" if found["cell_index"] == report.cell_index else f"cell {found['cell_index']}"
    return Fix(action="patch", fixer="tested_edit", cell_index=int(found["cell_index"]), new_source=found["source"],
               explanation=(f"{report.ename}: {found.get('why', 'a small edit')}. Edited {where}; with this edit the "
                            f"failing cell ran in a copy of the kernel (candidate {found.get('tried', '?')} of those "
                            "tried). Check that the result still means what you intended."))
