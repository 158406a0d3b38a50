"""Out of memory (CUDA, MPS or host RAM): halve the batch size, as a parameter when there is one."""

from __future__ import annotations

import re

from mlr.execution.fixers.base import ErrorReport, Fix, FixContext

_OOM_TEXT = re.compile(r"out of memory|CUBLAS_STATUS_ALLOC_FAILED|Unable to allocate", re.I)
_BATCH_NAME = re.compile(r"(^|_)(batch_size|batchsize|bs|batch)$", re.I)
_BATCH_LITERAL = re.compile(r"\b(\w*batch_size\w*)(\s*=\s*)(\d+)\b", re.I)


def is_oom(report: ErrorReport) -> bool:
    return (report.ename in {"OutOfMemoryError", "MemoryError"}
            or bool(_OOM_TEXT.search(report.evalue)) or bool(_OOM_TEXT.search(report.traceback[-1500:])))


def fix(report: ErrorReport, ctx: FixContext) -> Fix | None:
    if not is_oom(report):
        return None
    batch = {k: v for k, v in report.parameters.items()
             if _BATCH_NAME.search(k) and isinstance(v, int) and not isinstance(v, bool)}
    if batch:
        if all(v <= 1 for v in batch.values()):
            return Fix(action="stop", fixer="oom", explanation=(
                "out of memory with a batch size of 1 already: use a smaller model, shorter sequences, "
                "mixed precision or a larger GPU."))
        new = {**report.parameters, **{k: max(1, v // 2) for k, v in batch.items()}}
        changes = ", ".join(f"{k} {v} → {new[k]}" for k, v in batch.items())
        return Fix(action="parameters", fixer="oom", parameters=new,
                   explanation=f"out of memory: halving the batch size ({changes}).")
    if report.cell_index is not None:
        m = _BATCH_LITERAL.search(report.cell_source)
        if m and int(m.group(3)) > 1:
            value = int(m.group(3))
            new_source = (report.cell_source[:m.start(3)] + str(value // 2) + report.cell_source[m.end(3):])
            return Fix(action="patch", fixer="oom", cell_index=report.cell_index, new_source=new_source,
                       explanation=f"out of memory: halving {m.group(1)} from {value} to {value // 2}.")
    return None
