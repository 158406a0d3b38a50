"""The record's side of a debug session (split from :mod:`mlr.agents.experiment_debug`).

``DebugStop`` (why the loop cannot go on), ``DebugTree`` (attempts, current node, pending proposal,
feedback, undo) and the small helpers the Debugger's steps share.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mlr.agents.experiment_schemas import Proposal
from mlr.store.records import Attempt, AttemptData


class DebugStop(Exception):
    """The loop cannot go on; ``reason`` says why in words, ``command`` is what the researcher can run."""

    def __init__(self, reason: str, command: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.command = command


# What a decision callback may answer: True (apply), False (reject), or text (reject, with feedback).
Decision = bool | str
Approver = Callable[[Proposal], Decision]


class DebugTree:
    """The record's side of a debug session: its attempts, the current node, the pending proposal, undo."""

    def __init__(self, store, *, plan_id: int | None = None):
        self.store, self.plan_id = store, plan_id

    def attempts(self, root_id: int) -> list[Attempt]:
        return self.store.list_attempts(root_id=root_id)

    def current(self, root_id: int) -> Attempt:
        root = self.store.get_attempt(root_id)
        if root is None:
            raise DebugStop(f"there is no debug session {root_id}")
        return self.store.get_attempt(root.data.current_id or root_id) or root

    def pending(self, root_id: int) -> Proposal | None:
        """The proposal for the current node still waiting for a decision (from any process), if any."""
        stored = self._root(root_id).pending
        if stored is None or stored.parent_id != self.current(root_id).id:
            return None  # decided, or made for a node that is no longer current (undo, another fix)
        return Proposal.model_validate(stored.stored())

    def feedback(self, root_id: int, text: str) -> int:
        """Store the researcher's words; the next proposal's prompt carries them."""
        text = text.strip()
        if not text:
            raise ValueError("feedback is empty")
        return self.store.add_feedback(text, plan_id=self.plan_id, attempt_id=self.current(root_id).id)

    def undo(self, root_id: int) -> Attempt:
        """Make the previous version (the current node's parent) current again; returns it."""
        node = self.current(root_id)
        if node.parent_id is None:
            raise DebugStop("nothing to undo: this is the original notebook")
        parent = self.store.get_attempt(node.parent_id)
        self._set_root(root_id, current_id=parent.id, undone=[*self._root(root_id).undone, node.id], pending=None)
        self.store.add_feedback(f"undo: went back from attempt {node.id} to attempt {parent.id}",
                                plan_id=self.plan_id, attempt_id=node.id)
        return parent

    def _root(self, root_id: int) -> AttemptData:
        return self.store.get_attempt(root_id).data

    def _set_root(self, root_id: int, **values) -> None:
        self.store.update_attempt(root_id, data=_merged(self._root(root_id), **values))

    def _children(self, root_id: int, node_id: int) -> list[Attempt]:
        return [a for a in self.attempts(root_id) if a.parent_id == node_id]

    def _roots(self, root_id: int, node: Attempt) -> list[Path]:
        """Folders a relative path in the notebook may mean: the run's working folder, the prototype's."""
        roots = []
        if node.data.output_notebook:
            roots.append(Path(node.data.output_notebook).parent)
        origin = self._root(root_id).origin
        if origin:
            roots.append(Path(origin).parent)
        return roots



def _merged(data: AttemptData, **values) -> AttemptData:
    """``data`` with ``values`` set (validated, so dicts become their payload models)."""
    return AttemptData.model_validate({**data.stored(), **values})
