"""ExperimentAgent: an accepted plan becomes a runnable experiment.

1. ``rank_prototypes``: embedding similarity of the plan and each prototype's description, then
   the model's pick among the closest with a reason (the researcher may override).
2. ``adapt``: parameter values under a schema generated from the notebook's parameters, plus
   optional cell edits that are only proposed (``apply_edits`` writes them into a *copy*).
A failed run is debugged by ``mlr.agents.experiment_debug.Debugger`` (``Workspace.debugger``).
HF candidates live in ``mlr.agents.hub_candidates``. The LLM, embedder and notebook workbench
(``mlr.protocols.NotebookWorkbench``: reading, versions, runs) are passed in.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from mlr.agents import prompts
from mlr.agents.experiment_schemas import (Adaptation, ProposedEdit, PrototypeRanking, ScoredPrototype,
                                           adaptation_model, pick_model)
from mlr.config import Settings
from mlr.llm.base import schema_prompt
from mlr.llm.errors import LLMError
from mlr.protocols import LLM, CellEdit, Embedder, NotebookWorkbench
from mlr.store.records import PlanData

log = logging.getLogger(__name__)

TOP_K = 5  # prototypes shown to the model: more only dilutes a small model's attention
MAX_CELL_CHARS = 1500


def plan_text(plan: PlanData | dict) -> str:
    """The parts of a plan that say what the experiment is, as one text (for embeddings and prompts)."""
    plan = PlanData.model_validate(plan)
    lines = []
    for key, label in (("objective", "Objective"), ("method", "Method"), ("dataset", "Dataset"),
                       ("baseline", "Baseline"), ("primary_metric", "Primary metric")):
        if getattr(plan, key):
            lines.append(f"{label}: {getattr(plan, key)}")
    if plan.experiment_design:
        lines.append("Design: " + "; ".join(plan.experiment_design))
    for p in plan.parameters if isinstance(plan.parameters, list) else []:
        if p.name:
            lines.append(f"Parameter to vary: {p.name} in {p.values} {p.description}".rstrip())
    if plan.higher_is_better is not None:
        lines.append("Higher is better." if plan.higher_is_better else "Lower is better.")
    return "\n".join(lines)


def _as_prototype(p: Any) -> dict:
    """Accept the execution layer's prototype objects or plain dicts (name, path, description)."""
    get = (lambda k: p.get(k)) if isinstance(p, dict) else (lambda k: getattr(p, k, None))
    path = str(get("path") or "")
    name = get("slug") or get("name") or Path(path).stem
    described = " — ".join(str(x) for x in (get("title"), get("description")) if x)
    return {"name": str(name), "path": path, "description": described}


class ExperimentAgent:
    def __init__(self, llm: LLM | None, workbench: NotebookWorkbench, store, settings: Settings, *,
                 embedder: Embedder | None = None):
        self.llm, self.workbench, self.store, self.settings, self.embedder = llm, workbench, store, settings, embedder

    # -- 1. prototype choice --------------------------------------------------------------------------
    def rank_prototypes(self, plan: PlanData | dict, prototypes: list, *, ask_model: bool = True) -> PrototypeRanking:
        protos = [_as_prototype(p) for p in prototypes]
        if not protos:
            raise ValueError("there are no prototype notebooks to choose from")
        text = plan_text(plan)
        scores = self._similarities(text, [f"{p['name']}: {p['description']}" for p in protos])
        ranked = sorted((ScoredPrototype(**p, similarity=round(float(s), 4)) for p, s in zip(protos, scores)),
                        key=lambda s: -s.similarity)
        fallback = PrototypeRanking(ranked=ranked, pick=ranked[0].name, picked_by="similarity",
                                    reason=f"closest description to the plan (similarity {ranked[0].similarity:.2f})")
        if not ask_model or self.llm is None or len(ranked) == 1:
            return fallback
        top = ranked[:TOP_K]
        schema = pick_model([p.name for p in top])
        messages = self._messages("experiment/pick", plan_text=text, prototypes=[p.model_dump() for p in top],
                                  schema=schema_prompt(schema))
        try:
            answer = self.llm.structured(messages, schema)
        except LLMError as exc:
            log.warning("prototype pick by the model failed, using similarity: %s", exc)
            fallback.reason += f"; the model could not pick ({exc})"
            return fallback
        return PrototypeRanking(ranked=ranked, pick=answer.name, reason=answer.reason, picked_by="llm")

    def _similarities(self, query: str, texts: list[str]) -> np.ndarray:
        if self.embedder is None:
            # No embedder: word overlap keeps the ranking meaningful (and the UI usable) without one.
            q = set(query.lower().split())
            return np.array([len(q & set(t.lower().split())) / (len(q) or 1) for t in texts], dtype=np.float32)
        vectors = np.asarray(self.embedder.embed([query, *texts]), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms == 0, 1, norms)
        return vectors[1:] @ vectors[0]

    # -- 2. adaptation --------------------------------------------------------------------------------
    def adapt(self, plan: PlanData | dict, notebook: str | Path, *, plan_id: int | None = None) -> Adaptation:
        """Ask the model for parameter values (validated against the notebook) and optional cell edits."""
        if self.llm is None:
            raise LLMError("no model is in use; fill the parameters by hand")
        params = self.workbench.parameters(notebook)
        cells = [{"index": i, "source": src[:MAX_CELL_CHARS]} for i, src in self.workbench.code_cells(notebook)]
        param_cell = self.workbench.parameters_cell_index(notebook)
        editable = [c["index"] for c in cells if c["index"] != param_cell]
        schema = adaptation_model(params, editable)
        feedback = [r.text for r in self.store.list_feedback(plan_id)][-8:] if plan_id is not None else []
        messages = self._messages("experiment/adapt", plan_text=plan_text(plan), notebook_name=Path(notebook).name,
                                  parameters=[p.model_dump() for p in params], cells=cells, feedback=feedback,
                                  schema=schema_prompt(schema))
        answer = self.llm.structured(messages, schema)
        values = answer.parameters.model_dump()
        defaults = {p.name: p.default for p in params}
        # Only what the model set and that differs from the notebook: papermill overrides nothing else, so an
        # expression default (np.arange(3)) is never replaced by the schema's placeholder None.
        changed = {k: values[k] for k in answer.parameters.model_fields_set
                   if values[k] is not None and defaults.get(k) != values[k]}
        edits = []
        for edit in answer.edits:
            old = self.workbench.cell_source(notebook, edit.cell_index)
            if old.rstrip() == edit.new_source.rstrip():
                continue
            diff = self.workbench.cell_diff(notebook, edit.cell_index, edit.new_source)
            edits.append(ProposedEdit(cell_index=edit.cell_index, new_source=edit.new_source,
                                      explanation=edit.explanation, diff=diff))
        return Adaptation(notebook=str(notebook), parameters=changed, reason=answer.reason, edits=edits)

    def apply_edits(self, adaptation: Adaptation, approved: list[int], *, plan_id: int | None = None) -> Path:
        """Write the approved edits (indexes into ``adaptation.edits``) into a copy; returns the copy's path.

        The prototype itself is never modified; with no approved edit the copy equals the prototype.
        """
        folder = self.settings.workspace_dir / "adapted" / (
            f"plan-{plan_id}" if plan_id is not None else "adhoc") / f"{time.strftime('%Y%m%d-%H%M%S')}-" \
            f"{uuid.uuid4().hex[:6]}"
        edits = [CellEdit(cell_index=adaptation.edits[i].cell_index, new_source=adaptation.edits[i].new_source)
                 for i in approved]
        current = self.workbench.new_version(adaptation.notebook, folder, edits)
        (folder / "adaptation.json").write_text(json.dumps({**adaptation.model_dump(), "approved": approved},
                                                           indent=2, default=str), encoding="utf-8")
        return current

    def feedback(self, text: str, *, plan_id: int | None = None) -> int:
        text = text.strip()
        if not text:
            raise ValueError("feedback is empty")
        return self.store.add_feedback(text, plan_id=plan_id)

    # -- helpers --------------------------------------------------------------------------------------------
    def _messages(self, template: str, **context) -> list[dict]:
        return [{"role": "system", "content": prompts.render("experiment/system")},
                {"role": "user", "content": prompts.render(template, **context)}]
