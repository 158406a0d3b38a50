"""An empty or zero value caused by a parameter (a division by an empty split, a filter that keeps nothing):
change the parameter to the nearest value the live kernel showed to work.

The evidence (``mlr.execution.evidence``) traces the empty name on the failing line back through the
notebook's assignments to the parameters it is computed from, then re-runs just those statements and the
failing line with nearby values of the parameter in a copy of the kernel's namespace. This rule proposes the
nearest value that ran; without that evidence it proposes nothing (a guessed value is not a fix).
"""

from __future__ import annotations

from mlr.execution.fixers.base import ErrorReport, Fix, FixContext


def fix(report: ErrorReport, ctx: FixContext) -> Fix | None:
    found = (report.evidence or {}).get("parameter_fix") or {}
    causes = (report.evidence or {}).get("causes") or {}
    for name, change in found.items():
        if name not in report.parameters:
            continue
        empty = ", ".join(f"`{v}`" for v, c in causes.items() if name in c) or "a value on the failing line"
        return Fix(action="parameters", fixer="empty_value", parameters={**report.parameters, name: change["to"]},
                   explanation=(f"{report.ename}: {empty} is empty or zero because of the parameter `{name}` = "
                                f"{change['from']!r}; with {change['to']!r} the statements it feeds and the failing "
                                "line run (checked in the kernel). Changing the parameter, not the code."))
    return None
