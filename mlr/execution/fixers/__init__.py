"""Rule-based fixers, tried in order before any model is asked; the first that answers wins.

Order matters: failures that no edit can fix stop first; a missing package stops before a
"did you mean" could rename an import; the cheap, certain rules come before the fuzzy ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from mlr.execution.fixers import (did_you_mean, dtype_cast, empty_value, encoding, file_not_found, key_kwarg,
                                  missing_module, off_by_one, oom, shapes, syntax, tested_edit, unfixable)
from mlr.execution.fixers.base import ErrorReport, Fix, FixContext

log = logging.getLogger(__name__)

FIXERS = {
    "unfixable": unfixable.fix,
    "missing_module": missing_module.fix,
    "oom": oom.fix,
    "syntax": syntax.fix,
    "file_not_found": file_not_found.fix,
    "did_you_mean": did_you_mean.fix,
    "key_kwarg": key_kwarg.fix,
    "empty_value": empty_value.fix,  # a parameter change (cheapest) before the code edits below
    "tested_edit": tested_edit.fix,  # an edit the kernel ran, before the untested pattern rules
    "shapes": shapes.fix,
    "off_by_one": off_by_one.fix,
    "dtype_cast": dtype_cast.fix,
    "encoding": encoding.fix,
}


def run_fixers(report: ErrorReport, ctx: FixContext, *, skip: Iterable[str] = ()) -> Fix | None:
    """The first fixer's proposal, or None. A fixer that raises is logged and skipped, never fatal."""
    skip = set(skip)
    for name, fixer in FIXERS.items():
        if name in skip:
            continue
        try:
            proposal = fixer(report, ctx)
        except Exception:  # a rule must never take the debugger down; the model still gets its turn
            log.exception("fixer %s failed on %s", name, report.headline())
            continue
        if proposal is not None:
            return proposal
    return None


__all__ = ["ErrorReport", "Fix", "FixContext", "FIXERS", "run_fixers"]
