"""Where a loop's candidates come from: Optuna (parameters), the model (code edits), the debug loop.

Each source records its candidate as an experiment of the loop and returns it ready to run, or records
why there is none (refused by the guard, awaiting the researcher's approval, the model failed) and
returns ``None``; the loop then takes its next step. Nothing model-written runs unless the loop is on
autopilot or the researcher approved that experiment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from mlr.execution.notebook_edit import NotebookEditError, NotebookVersions
from mlr.execution.runner import outcome_of
from mlr.experiments.guard import Guard, check_code_edit
from mlr.experiments.space import SearchSpace
from mlr.experiments.study import NoCandidate, ParameterStudy
from mlr.llm.errors import LLMError
from mlr.protocols import CellEdit
from mlr.store import Store
from mlr.store.loop_records import Loop, LoopExperiment

log = logging.getLogger(__name__)


class Coder(Protocol):
    """Proposes one cell edit of ``notebook`` toward the loop's goal (``mlr.agents.loop_coder``)."""

    def propose(self, *, notebook: str, goal: str, metric: str, higher_is_better: bool, tried: list[dict],
                feedback: list[str], locked_cells: list[int]) -> tuple[CellEdit, str]: ...


class NothingToTry(Exception):
    """No source can propose a candidate any more (the loop stops with this reason)."""


class CandidateSources:
    def __init__(self, store: Store, loops_dir: Path, *, coder: Coder | None = None,
                 debugger: Callable[[], Any] | None = None, use_model_in_debug: bool = True):
        self.store, self.loops_dir = store, Path(loops_dir)
        self.coder, self.debugger, self.use_model_in_debug = coder, debugger, use_model_in_debug
        self._studies: dict[int, ParameterStudy] = {}

    @property
    def has_model(self) -> bool:
        return self.coder is not None

    def folder(self, loop_id: int) -> Path:
        return self.loops_dir / str(loop_id)

    # -- dispatch -----------------------------------------------------------------------------------------
    def make(self, kind: str, loop: Loop, best: LoopExperiment, history: list[LoopExperiment]
             ) -> LoopExperiment | None:
        if kind == "debug":
            return self.debug(loop, history)
        if kind == "code":
            return self.code(loop, best, history)
        return self.parameters(loop, best)

    def tell(self, loop: Loop, exp: LoopExperiment, value: float | None) -> None:
        """Report a screened value to Optuna (parameter candidates only: code edits change the function)."""
        if exp.trial is not None and exp.kind == "parameters":
            self.study(loop).tell(exp.trial, value)

    # -- parameters ---------------------------------------------------------------------------------------
    def study(self, loop: Loop) -> ParameterStudy:
        if loop.id not in self._studies:
            space = SearchSpace.model_validate(loop.config.space)
            self._studies[loop.id] = ParameterStudy(self.folder(loop.id) / "optuna.sqlite3", space,
                                                    higher_is_better=loop.config.higher_is_better, seed=loop.id,
                                                    sampler=loop.config.sampler)
        study = self._studies[loop.id]
        self._apply_notes(loop, study)
        return study

    def _apply_notes(self, loop: Loop, study: ParameterStudy) -> None:
        for note in self.store.list_loop_notes(loop.id):
            try:
                if note.kind == "pin":
                    study.pin(note.name, note.value)
                elif note.kind == "unpin":
                    study.unpin(note.name)
                elif note.kind == "ban":
                    study.ban(note.name, note.value)
            except ValueError as exc:  # validated when the note was taken; a later edit may clash
                log.warning("loop %s: note %s ignored: %s", loop.id, note.id, exc)

    def parameters(self, loop: Loop, best: LoopExperiment) -> LoopExperiment:
        try:
            proposal = self.study(loop).ask()
        except NoCandidate as exc:
            raise NothingToTry(f"the parameter search has nothing left to try: {exc}") from exc
        params = {**best.parameters, **proposal.params}
        changed = {k: v for k, v in params.items() if best.parameters.get(k) != v}
        sampler = "random search" if loop.config.sampler == "random" else "TPE"
        reason = f"Optuna ({sampler}) proposes " + (", ".join(f"{k}={v!r}" for k, v in changed.items())
                                                    or "the same values")
        exp_id = self.store.add_experiment(loop.id, kind="parameters", status="pending", notebook=best.notebook,
                                           parameters=params, parent_id=best.id, trial=proposal.number,
                                           reason=reason)
        return self.store.get_experiment(exp_id)

    # -- code -------------------------------------------------------------------------------------------
    def code(self, loop: Loop, best: LoopExperiment, history: list[LoopExperiment]) -> LoopExperiment | None:
        cfg = loop.config
        tried = [{"experiment": e.ordinal, "kind": e.kind, "status": e.status, "mean": e.mean,
                  "change": e.reason[:160]} for e in history if e.kind != "baseline"][-12:]
        feedback = [n.text for n in self.store.list_loop_notes(loop.id) if n.kind == "feedback"][-6:]
        space = SearchSpace.model_validate(cfg.space)
        locked = sorted(Guard.for_notebook(best.notebook, cfg.metric, [p.name for p in space.fixed]).protected)
        try:
            edit, reason = self.coder.propose(notebook=best.notebook, goal=loop.goal, metric=cfg.metric or "",
                                              higher_is_better=cfg.higher_is_better, tried=tried,
                                              feedback=feedback, locked_cells=locked)
        except LLMError as exc:
            note = f"the model did not answer ({exc}); the parameter search goes on"
            self.store.update_loop(loop.id, data={**loop.data.model_dump(), "model_note": note})
            return self._record_refused(loop, best, "failed", f"no code candidate: {exc}")
        problem = check_code_edit(best.notebook, edit.cell_index, edit.new_source, space, metric=cfg.metric)
        if problem:
            return self._record_refused(loop, best, "refused", f"{reason} — refused: {problem}")
        folder = self.folder(loop.id) / "versions"
        try:
            versions = NotebookVersions.start(loop.notebook, folder)
            path, diff = versions.apply(best.notebook, edit.cell_index, edit.new_source)
        except NotebookEditError as exc:
            return self._record_refused(loop, best, "refused", f"{reason} — refused: {exc}")
        status = "pending" if cfg.autopilot else "awaiting_approval"
        exp_id = self.store.add_experiment(loop.id, kind="code", status=status, notebook=str(path),
                                           parameters=best.parameters, parent_id=best.id, diff=diff, reason=reason,
                                           data={"cell_index": edit.cell_index})
        return self.store.get_experiment(exp_id) if status == "pending" else None

    def _record_refused(self, loop: Loop, best: LoopExperiment, status: str, reason: str) -> None:
        self.store.add_experiment(loop.id, kind="code", status=status, notebook=best.notebook,
                                  parameters=best.parameters, parent_id=best.id, reason=reason)
        return None

    # -- debug ------------------------------------------------------------------------------------------
    def debug(self, loop: Loop, history: list[LoopExperiment]) -> LoopExperiment | None:
        failed = next((e for e in reversed(history) if e.status == "failed" and not e.data.get("debugged")
                       and e.kind != "baseline"), None)
        if failed is None or self.debugger is None:
            return None
        self.store.update_experiment(failed.id, data={**failed.data, "debugged": True})
        first = failed.data.get("runs", {})
        run_id = next(iter(first.values()), None)
        params = dict(failed.parameters)
        seed_name = loop.config.seed_parameter
        if seed_name and first:
            params[seed_name] = _seed(next(iter(first)))
        dbg = self.debugger()
        run = self.store.get_run(run_id) if run_id else None
        outcome = outcome_of(run) if run is not None and run.status != "succeeded" else None
        result = dbg.run_loop(failed.notebook, params, max_attempts=loop.config.debug_attempts,
                              autopilot=loop.config.autopilot, use_llm=self.use_model_in_debug and self.has_model,
                              outcome=outcome)
        used = sum(1 for a in dbg.attempts(result.root_id) if a.parent_id is not None and a.run_id)
        with self.store.write() as conn:
            conn.execute("UPDATE loops SET runs_used = runs_used + ? WHERE id = ?", (used, loop.id))
        metric = loop.config.metric or ""
        value = result.metrics.get(metric) if result.fixed else None
        final = dbg.current(result.root_id)
        exp_id = self.store.add_experiment(
            loop.id, kind="debug", status="pending" if result.fixed else "failed", notebook=result.final_notebook,
            parameters=final.data.parameters or params, parent_id=failed.id, reason=result.reason,
            diff="\n".join(a.get("diff", "") for a in result.attempts if a.get("diff")),
            data={"debug_root": result.root_id, "runs_used": used,
                  "screened_value": value if isinstance(value, (int, float)) else None})
        return self.store.get_experiment(exp_id) if result.fixed else None


def _seed(key: str) -> int | None:
    try:
        return int(key)
    except ValueError:
        return None
