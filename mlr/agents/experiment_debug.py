"""The debug loop: a failed run becomes a tree of attempts, each a fix, its diff, its rerun and outcome.

The shape follows aideml's journal: every attempt is a node (parent, buggy or not, depth). The
root is the first run of a copy of the notebook; a proposal (rule first, then the model) fixes the
*current* node; approving it writes a new notebook version (the original is never touched), reruns
and makes the child current; rejecting it records a rejected node and the next proposal avoids it;
undo moves "current" back to the parent. All of it is in the record (``attempts``, ``feedback``), and
so is the proposal waiting for a decision (on the root attempt: ``pending``), so the page, a second tab,
the CLI and a restarted app see the same tree and the same proposal. Step by step for the UI
(``start`` → ``propose`` → ``decide``), or all at once with ``run_loop`` for the CLI and autopilot.
Notebook versions, runs, error reports and rule-based fixes go through the ``NotebookWorkbench`` it is given;
the model's prompt is built in :mod:`mlr.agents.debug_prompt`.
"""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

from mlr.agents.debug_candidates import GUARDED, guarded_patch
from mlr.agents.debug_prompt import feedback_texts, summary
from mlr.agents.debug_tree import Approver, DebugStop, DebugTree, Decision, _merged
from mlr.agents.patch_guards import rewrites
from mlr.agents.experiment_schemas import DebugResult, Proposal
from mlr.config import Settings
from mlr.llm.errors import LLMError
from mlr.protocols import LLM, CellEdit, ErrorReport, NotebookWorkbench, RunError, RunOutcome
from mlr.store.records import Attempt, AttemptData

log = logging.getLogger(__name__)


class Debugger(DebugTree):
    """The steps of a session: start, propose (rule, then model), decide, and the whole loop."""

    def __init__(self, llm: LLM | None, workbench: NotebookWorkbench, store, settings: Settings, *,
                 plan_id: int | None = None, timeout_s: float | None = None, candidates: int | None = None):
        super().__init__(store, plan_id=plan_id)
        # Model patches gathered per step (guarded, cheapest first): 1 for a 7B model, more for a small one.
        self.candidates = candidates or settings.debug_candidates or (2 if getattr(llm, "demo_grade", False) else 1)
        self.llm, self.workbench, self.settings = llm, workbench, settings
        self.timeout_s = timeout_s

    # -- a new session --------------------------------------------------------------------------------
    def start(self, notebook: str | Path, parameters: dict | None = None, *,
              outcome: RunOutcome | None = None) -> int:
        """Copy the notebook into a new session folder and record the root attempt; returns its id.

        ``outcome`` is a run of the original that already failed (from the page); without one the
        copy is run now.
        """
        folder = self.settings.workspace_dir / "debug" / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        v0 = self.workbench.new_version(notebook, folder)
        parameters = dict(parameters or {})
        if outcome is None:
            outcome = self._run(v0, parameters)
        root_id = self.store.add_attempt(notebook=str(v0), source="initial", plan_id=self.plan_id, depth=0,
                                         run_id=outcome.run_id or None, data={})
        self._record_outcome(root_id, v0, parameters, outcome, extra={"folder": str(folder), "current_id": root_id,
                                                                      "origin": str(Path(notebook).resolve())})
        return root_id

    # -- one step -------------------------------------------------------------------------------------
    def propose(self, root_id: int, *, use_llm: bool = True, autopilot: bool = False) -> Proposal:
        """The next fix for the current node: a rule's if one applies (and was not rejected), else the model's.

        ``autopilot``: nobody approves it, so the guards refuse a model patch that rewrites most of a cell
        even with a reason; for approval such a patch is proposed with its reason (``rewrite_reason``).
        """
        node = self.current(root_id)
        if not node.is_buggy:
            raise DebugStop("the current version ran successfully; nothing to fix")
        report = ErrorReport.model_validate(node.data.report.stored() if node.data.report else {})
        parameters = node.data.parameters
        children = self._children(root_id, node.id)
        rejected = [c for c in children if c.approved is False and not (c.outcome or "").startswith(GUARDED)]
        tried_rules = {c.source.split(":", 1)[1] for c in self._children(root_id, node.id)
                       if c.source.startswith("rule:") and c.approved is not None}
        parent = self.store.get_attempt(node.parent_id) if node.parent_id else None
        proposal = node.data.proposal
        if (parent and node.source.startswith("rule:") and proposal and proposal.action == "patch"
                and parent.data.report and parent.data.report.evalue == report.evalue):
            # That rule's patch ran and the same error came back: let the model try instead. (A parameter rule
            # such as halving the batch size may rightly repeat.)
            tried_rules.add(node.source.split(":", 1)[1])
        fix = self.workbench.propose_fix(report, node.notebook, search_roots=self._roots(root_id, node),
                                         skip=tried_rules)
        if fix is not None and fix.action == "stop":
            raise DebugStop(fix.explanation, fix.command)
        if fix is not None:
            return self._proposal(root_id, node, f"rule:{fix.fixer}", fix.action, fix.explanation,
                                  fix.cell_index, fix.new_source, fix.parameters, parameters)
        if not use_llm or self.llm is None:
            raise DebugStop(f"no rule fixes {report.headline()}, and no model is in use")
        if report.cell_index is None:
            raise DebugStop(f"the error is not in a cell ({report.headline()}); a cell patch cannot fix it")
        patch = guarded_patch(self, root_id, node, report, rejected,
                              feedback_texts(self.store, self.plan_id, self.attempts(root_id)), children,
                              candidates=self.candidates, autopilot=autopilot)
        proposal = self._proposal(root_id, node, "llm", "patch", patch.explanation, patch.cell_index,
                                  patch.new_source, None, parameters)
        old = self.workbench.cell_source(node.notebook, patch.cell_index)
        if rewrites(old, patch.new_source):
            proposal.rewrite_reason = getattr(patch, "rewrite_reason", "").strip()
            self._set_root(root_id, pending=proposal.model_dump())
        return proposal

    def decide(self, proposal: Proposal, approved: bool | None, *, note: str = "") -> Attempt:
        """Apply (new version, rerun, new current node) or reject (recorded, avoided next time).

        ``approved=None`` records the proposal as awaiting approval (nobody could answer); it stays pending.
        """
        if approved is not None:  # cleared first, so no other tab offers it while the rerun runs
            self._set_root(proposal.root_id, pending=None)
        parent = self.store.get_attempt(proposal.parent_id)
        common = {"plan_id": self.plan_id, "parent_id": parent.id, "depth": parent.depth + 1,
                  "source": proposal.source, "diff": proposal.diff, "explanation": proposal.explanation}
        if note:
            self.store.add_feedback(note, plan_id=self.plan_id, attempt_id=parent.id)
        if not approved:
            attempt_id = self.store.add_attempt(notebook=parent.notebook, approved=approved,
                                                data=AttemptData(proposal=proposal.model_dump()), **common)
            self.store.update_attempt(attempt_id, outcome="rejected" if approved is False else "awaiting approval")
            return self.store.get_attempt(attempt_id)
        parameters = dict(parent.data.parameters)
        notebook = Path(parent.notebook)
        if proposal.action == "patch":
            notebook = self.workbench.new_version(notebook, self._root(proposal.root_id).folder,
                                                  [CellEdit(cell_index=proposal.cell_index,
                                                            new_source=proposal.new_source)])
        else:
            parameters = dict(proposal.parameters or {})
        attempt_id = self.store.add_attempt(notebook=str(notebook), approved=True,
                                            data=AttemptData(proposal=proposal.model_dump()), **common)
        outcome = self._run(notebook, parameters)
        self._record_outcome(attempt_id, notebook, parameters, outcome)
        self._set_root(proposal.root_id, current_id=attempt_id)
        return self.store.get_attempt(attempt_id)

    # -- the whole loop -------------------------------------------------------------------------------
    def run_loop(self, notebook: str | Path, parameters: dict | None = None, *, max_attempts: int | None = None,
                 autopilot: bool = False, approve: Approver | None = None, use_llm: bool = True,
                 outcome: RunOutcome | None = None, root_id: int | None = None) -> DebugResult:
        """Run (or continue) a session until it succeeds, a fix is refused for good, or the limit is hit."""
        limit = self.settings.debug_attempts if max_attempts is None else max_attempts
        if root_id is None:
            root_id = self.start(notebook, parameters, outcome=outcome)
        made = 0
        reason, command = "", None
        while True:
            node = self.current(root_id)
            if not node.is_buggy:
                break
            if made >= limit:
                reason = f"stopped after {limit} attempt(s) without a successful run"
                break
            try:
                proposal = self.propose(root_id, use_llm=use_llm, autopilot=autopilot)
            except DebugStop as stop:
                reason, command = stop.reason, stop.command
                break
            except LLMError as exc:
                reason = f"the model could not propose a patch: {exc}"
                break
            made += 1
            if autopilot and proposal.rewrite_reason:  # the guards refuse these on autopilot; never apply one
                self.decide(proposal, None)
                reason = "a patch that rewrites most of a cell needs your approval; it is waiting"
                break
            decision: Decision = True if autopilot else (approve(proposal) if approve else None)
            if decision is None:
                self.decide(proposal, None)
                reason = ("approval needed: a patch is ready but autopilot is off and nobody can approve it here "
                          f"({proposal.source}: {proposal.explanation}). Rerun with --autopilot or on a terminal.")
                break
            note = decision if isinstance(decision, str) else ""
            self.decide(proposal, decision is True, note=note)
        return self.result(root_id, reason=reason, command=command)

    def result(self, root_id: int, *, reason: str = "", command: str | None = None) -> DebugResult:
        node = self.current(root_id)
        fixed = not node.is_buggy and node.parent_id is not None
        if not node.is_buggy:
            if node.parent_id is None:
                reason = reason or "the notebook ran successfully; nothing to fix"
            else:
                reason = f"fixed by {node.source} at depth {node.depth}: {node.explanation}"
        attempts = [summary(a) for a in self.attempts(root_id)]
        return DebugResult(fixed=fixed, attempts=attempts, final_status=node.outcome or "unknown",
                           final_notebook=node.notebook, metrics=node.data.metrics or {},
                           reason=reason or "stopped", root_id=root_id, command=command)

    # -- helpers --------------------------------------------------------------------------------------
    def _run(self, notebook: Path, parameters: dict) -> RunOutcome:
        try:
            return self.workbench.run(notebook, parameters, kind="debug", plan_id=self.plan_id,
                                      timeout_s=self.timeout_s)
        except Exception as exc:  # boundary: a runner failure becomes a failed outcome the loop can stop on
            log.exception("runner failed on %s", notebook)
            return RunOutcome(run_id=0, status="failed",
                              error=RunError(ename=type(exc).__name__, evalue=str(exc)))

    def _record_outcome(self, attempt_id: int, notebook: Path, parameters: dict, outcome: RunOutcome,
                        extra: dict | None = None) -> None:
        report = self.workbench.report(outcome, notebook, parameters) if outcome.status != "succeeded" else None
        data = _merged(self.store.get_attempt(attempt_id).data, **(extra or {}), parameters=parameters,
                       metrics=outcome.metrics, seconds=outcome.seconds, output_notebook=outcome.output_notebook,
                       report=report.model_dump() if report else None)
        self.store.update_attempt(attempt_id, run_id=outcome.run_id or None, is_buggy=int(report is not None),
                                  outcome=outcome.status, data=data)

    def _proposal(self, root_id, node, source, action, explanation, cell_index, new_source, new_params,
                  old_params) -> Proposal:
        if action == "patch":
            diff = self.workbench.cell_diff(node.notebook, cell_index, new_source)
        else:
            diff = self.workbench.parameters_diff(old_params, new_params or {})
        proposal = Proposal(root_id=root_id, parent_id=node.id, source=source, action=action,
                            explanation=explanation, cell_index=cell_index, new_source=new_source,
                            parameters=new_params, diff=diff)
        self._set_root(root_id, pending=proposal.model_dump())  # in the record: every tab and the CLI see it
        return proposal
