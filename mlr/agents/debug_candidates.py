"""The model's patches for one debug step, each through the guards (:mod:`mlr.agents.patch_guards`).

A patch a guard stops never runs: it is recorded as a child of the current attempt (source ``llm``,
outcome ``guarded: <guard>``, the guard's reason in its data) and the model is asked again with that
reason in its prompt. With ``candidates > 1`` (a small model) several guarded survivors are gathered
and the cheapest (the smallest change to the cell) is proposed first; with one (a 7B model through
Ollama, the default) the first survivor is proposed.
"""

from __future__ import annotations

import difflib

from mlr.agents.debug_prompt import NoChange, ask_model
from mlr.agents.debug_tree import DebugStop
from mlr.agents.patch_guards import check
from mlr.store.records import AttemptData

GUARDED = "guarded"
MAX_ASKS = 3  # model calls per step, beyond the candidates wanted, before the step gives up
TEMPERATURE_STEP = 0.3


def guard_notes(children) -> list[str]:
    """What the guards said about this node's earlier patches (for the next prompt)."""
    out = []
    for c in children:
        if (c.outcome or "").startswith(GUARDED):
            guard = (c.data.model_extra or {}).get("guard") or {}
            out.append(f"a patch was refused ({guard.get('guard', '?')}): {guard.get('reason', '')}")
    return out[-4:]


def _size(old: str, new: str) -> int:
    return sum(1 for ln in difflib.ndiff(old.splitlines(), new.splitlines()) if ln[:1] in "+-")


def guarded_patch(dbg, root_id: int, node, report, rejected, feedback, children, *, candidates: int = 1,
                  autopilot: bool = True):
    """A model patch for ``node`` that passed every guard; raises DebugStop when none did."""
    cells = dbg.workbench.code_cells(node.notebook)
    notes = guard_notes(children)
    survivors, last = [], None
    base_temperature = getattr(dbg.llm, "temperature", None)
    for k in range(max(1, candidates) + MAX_ASKS - 1):
        if base_temperature is not None and candidates > 1:  # several candidates: each at a higher temperature
            dbg.llm.temperature = min(1.0, base_temperature + TEMPERATURE_STEP * k)
        try:
            patch = ask_model(dbg.llm, dbg.workbench, node, report, dbg.attempts(root_id), rejected, feedback,
                              guarded=notes)
        except NoChange as exc:
            if survivors:
                break
            raise DebugStop(str(exc)) from exc
        finally:
            if base_temperature is not None:
                dbg.llm.temperature = base_temperature
        old = dbg.workbench.cell_source(node.notebook, patch.cell_index)
        verdict = check(old, patch.new_source, cells, patch.cell_index, report.parameters,
                        rewrite_reason=getattr(patch, "rewrite_reason", ""), autopilot=autopilot)
        if verdict is None:
            if all(p.new_source != patch.new_source for p, _ in survivors):
                survivors.append((patch, _size(old, patch.new_source)))
            if len(survivors) >= max(1, candidates):
                break
            continue
        last = verdict
        _record_guarded(dbg, node, patch, verdict)
        notes.append(f"a patch was refused ({verdict.guard}): {verdict.reason}")
    if not survivors:
        raise DebugStop(f"every patch the model proposed was stopped by a guard (last: {last.guard}: {last.reason})"
                        if last else "the model proposed no usable patch")
    return min(survivors, key=lambda s: s[1])[0]


def _record_guarded(dbg, node, patch, verdict) -> None:
    diff = dbg.workbench.cell_diff(node.notebook, patch.cell_index, patch.new_source)
    proposal = {"root_id": None, "parent_id": node.id, "source": "llm", "action": "patch",
                "explanation": patch.explanation, "cell_index": patch.cell_index, "new_source": patch.new_source,
                "diff": diff}
    data = AttemptData.model_validate({"proposal": proposal,
                                       "guard": {"guard": verdict.guard, "reason": verdict.reason}})
    attempt_id = dbg.store.add_attempt(notebook=node.notebook, approved=False, plan_id=dbg.plan_id,
                                       parent_id=node.id, depth=node.depth + 1, source="llm", diff=diff,
                                       explanation=f"stopped by the {verdict.guard} guard: {verdict.reason}",
                                       data=data)
    dbg.store.update_attempt(attempt_id, outcome=f"{GUARDED}: {verdict.guard}")
