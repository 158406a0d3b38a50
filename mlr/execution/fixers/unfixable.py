"""Failures that editing code cannot fix: a timeout, a cancellation, an interrupted kernel."""

from __future__ import annotations

from mlr.execution.fixers.base import ErrorReport, Fix, FixContext

_WHY = {
    "timed_out": ("the run hit its time limit; editing code will not make it fit. Lower the work (epochs, "
                  "data size, model size) in the parameters or raise the timeout, then run again."),
    "cancelled": "the run was cancelled by the researcher; nothing to debug.",
    "interrupted": "the run was interrupted (the app or the kernel stopped); run it again.",
}


def fix(report: ErrorReport, ctx: FixContext) -> Fix | None:
    if report.status in _WHY:
        return Fix(action="stop", fixer="unfixable", explanation=_WHY[report.status])
    if report.ename in {"KeyboardInterrupt", "DeadKernelError"}:
        return Fix(action="stop", fixer="unfixable",
                   explanation=f"the kernel stopped ({report.ename}); this is not a code error, run it again.")
    return None
