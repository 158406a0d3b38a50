"""The Debugger's words with the model and the researcher: the patch prompt, its feedback, an attempt's summary.

Split from :mod:`mlr.agents.experiment_debug`, which keeps the tree and the steps; these functions read the
tree (attempts, feedback) through the record and the notebook through the workbench they are given.
"""

from __future__ import annotations

import json

from mlr.agents import prompts
from mlr.agents.experiment_schemas import patch_model
from mlr.protocols import LLM, ErrorReport, NotebookWorkbench
from mlr.store.records import Attempt

MAX_CONTEXT_CHARS = 3000  # other cells shown to the model: small models lose the thread on long prompts


def evidence_lines(report: ErrorReport) -> list[str]:
    """What the live kernel showed at the failure (names, dir(), signature, keys, shapes, files), as lines."""
    return [str(x) for x in (report.evidence or {}).get("facts", [])][:12]


class NoChange(Exception):
    """The model answered with the failing cell unchanged."""


def feedback_texts(store, plan_id: int | None, attempts: list[Attempt]) -> list[str]:
    """The researcher's last instructions for this session (and the plan's general ones)."""
    ids = {a.id for a in attempts}
    rows = store.list_feedback(plan_id)
    return [r.text for r in rows if r.attempt_id in ids or (plan_id is not None and r.attempt_id is None)][-8:]


def ask_model(llm: LLM, workbench: NotebookWorkbench, node: Attempt, report: ErrorReport, attempts: list[Attempt],
              rejected: list[Attempt], feedback: list[str], *, guarded: list[str] = ()):
    """The model's cell patch for ``node``'s failure; raises :class:`NoChange` when it changes nothing."""
    cells = workbench.code_cells(node.notebook)
    schema = patch_model([i for i, _ in cells])
    others, used = [], 0
    for i, src in cells:  # the cells before the failing one explain its names; keep within budget
        if i == report.cell_index or used + len(src) > MAX_CONTEXT_CHARS:
            continue
        others.append({"index": i, "source": src})
        used += len(src)
    by_id = {a.id: a for a in attempts}
    path, cursor = [], node
    while cursor and cursor.parent_id is not None:  # the fixes that led to this version
        path.insert(0, cursor)
        cursor = by_id.get(cursor.parent_id)
    tried = [f"{a.source}: {a.explanation} (applied; the run then {a.outcome})" for a in path]
    tried += [f"{a.source}: {a.explanation} (rejected by the researcher)" for a in rejected]
    tried += list(guarded)  # patches the guards refused, with the reason
    messages = [
        {"role": "system", "content": prompts.render("experiment/system")},
        # One worked example as a finished exchange: small models copy an inline example's code.
        {"role": "user", "content": prompts.render("experiment/patch_example", part="task")},
        {"role": "assistant", "content": prompts.render("experiment/patch_example", part="answer")},
        {"role": "user", "content": prompts.render(
            "experiment/patch", report=report.model_dump(), parameters=json.dumps(report.parameters, default=str),
            other_cells=others, tried=tried, evidence=evidence_lines(report), feedback=feedback, code_cells=[i for i, _ in cells])},
    ]
    patch = llm.structured(messages, schema)
    if patch.new_source.rstrip() == workbench.cell_source(node.notebook, patch.cell_index).rstrip():
        raise NoChange("the model proposed no change to the cell; it cannot fix this failure")
    return patch


def summary(a: Attempt) -> dict:
    """One attempt as the CLI prints it and the page draws it."""
    report = a.data.report
    return {"id": a.id, "parent_id": a.parent_id, "depth": a.depth, "source": a.source, "approved": a.approved,
            "is_buggy": a.is_buggy, "outcome": a.outcome, "run_id": a.run_id, "notebook": a.notebook,
            "explanation": a.explanation, "diff": a.diff,
            "error": f"{report.ename}: {report.evalue}" if report and report.ename else None,
            "seconds": a.data.seconds}
