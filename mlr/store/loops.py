"""Experiment loops in the research record: the loop row (config, status, control requests), its
experiments, and the researcher's notes (feedback, pins, bans, approvals) that reach the next step.

Control requests (pause, stop) are a column any process may set; the process running the loop reads it
between runs. That is how a second tab or the CLI pauses a loop that another process runs.
"""

from __future__ import annotations

from typing import Any

from mlr.store.db import dumps, loads, now_iso
from mlr.store.loop_records import RESUMABLE, Loop, LoopConfig, LoopExperiment, LoopNote

_LOOP_JSON = ("config", "data")
_EXP_JSON = ("parameters", "metric_by_seed", "run_ids", "data")


def _decode(row: dict | None, fields: tuple[str, ...]) -> dict | None:
    if row is None:
        return None
    for name in fields:
        row[name] = loads(row[name])
    return row


class LoopRecords:
    # -- loops -----------------------------------------------------------------------------------------
    def create_loop(self, notebook: str, config: LoopConfig, *, plan_id: int | None = None, goal: str = "") -> int:
        stamp = now_iso()
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO loops (plan_id, notebook, goal, config, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'created', ?, ?)",
                (plan_id, notebook, goal, dumps(config.model_dump(mode="json")), stamp, stamp))
            return int(cur.lastrowid)

    def get_loop(self, loop_id: int) -> Loop | None:
        row = _decode(self.one("SELECT * FROM loops WHERE id = ?", (loop_id,)), _LOOP_JSON)
        return Loop.model_validate(row) if row else None

    def list_loops(self, *, plan_id: int | None = None, notebook: str | None = None,
                   status: tuple[str, ...] | None = None, limit: int = 100) -> list[Loop]:
        rows = self.select("loops", equals={"plan_id": plan_id, "notebook": notebook}, status=status, limit=limit)
        return [Loop.model_validate(_decode(r, _LOOP_JSON)) for r in rows]

    def update_loop(self, loop_id: int, **fields: Any) -> None:
        self._update("loops", loop_id, {**fields, "updated_at": now_iso()})

    def request_loop_control(self, loop_id: int, control: str | None) -> Loop | None:
        """Ask the process running a loop to pause or stop (``None`` withdraws a pause request).

        A loop that nobody runs (created, paused, interrupted) is stopped at once by a stop request.
        """
        with self.write() as conn:
            row = conn.execute("SELECT status FROM loops WHERE id = ?", (loop_id,)).fetchone()
            if row is None:
                return None
            if control == "stop" and row[0] in RESUMABLE:
                conn.execute("UPDATE loops SET status = 'stopped', control = NULL, stopped_because = ?,"
                             " finished_at = ?, updated_at = ? WHERE id = ?",
                             ("stopped by the researcher", now_iso(), now_iso(), loop_id))
            elif row[0] == "running":
                conn.execute("UPDATE loops SET control = ?, updated_at = ? WHERE id = ?",
                             (control, now_iso(), loop_id))
        return self.get_loop(loop_id)

    def claim_loop(self, loop_id: int, owner: str) -> bool:
        """Mark a created/paused/interrupted loop running under ``owner``; False if it is not resumable."""
        with self.write() as conn:
            cur = conn.execute(
                f"UPDATE loops SET status = 'running', owner = ?, control = NULL, updated_at = ?"
                f" WHERE id = ? AND status IN ({','.join('?' * len(RESUMABLE))})",
                (owner, now_iso(), loop_id, *RESUMABLE))
            return cur.rowcount == 1

    # -- experiments -----------------------------------------------------------------------------------
    def add_experiment(self, loop_id: int, *, kind: str, status: str, notebook: str,
                       parameters: dict | None = None, parent_id: int | None = None, diff: str = "",
                       reason: str = "", trial: int | None = None, data: dict | None = None) -> int:
        stamp = now_iso()
        with self.write() as conn:
            ordinal = conn.execute("SELECT COUNT(*) FROM loop_experiments WHERE loop_id = ?",
                                   (loop_id,)).fetchone()[0]
            cur = conn.execute(
                "INSERT INTO loop_experiments (loop_id, parent_id, ordinal, kind, status, notebook, parameters,"
                " diff, reason, trial, created_at, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (loop_id, parent_id, ordinal, kind, status, notebook, dumps(parameters or {}), diff, reason, trial,
                 stamp, stamp, dumps(data or {})))
            return int(cur.lastrowid)

    def get_experiment(self, experiment_id: int) -> LoopExperiment | None:
        row = _decode(self.one("SELECT * FROM loop_experiments WHERE id = ?", (experiment_id,)), _EXP_JSON)
        return LoopExperiment.model_validate(row) if row else None

    def list_experiments(self, loop_id: int) -> list[LoopExperiment]:
        rows = self.query("SELECT * FROM loop_experiments WHERE loop_id = ? ORDER BY ordinal", (loop_id,))
        return [LoopExperiment.model_validate(_decode(r, _EXP_JSON)) for r in rows]

    def update_experiment(self, experiment_id: int, **fields: Any) -> None:
        self._update("loop_experiments", experiment_id, {**fields, "updated_at": now_iso()})

    # -- notes -------------------------------------------------------------------------------------------
    def add_loop_note(self, loop_id: int, kind: str, *, name: str = "", value: Any = None, text: str = "") -> int:
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO loop_notes (loop_id, kind, name, value, text, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (loop_id, kind, name, dumps(value), text, now_iso()))
            return int(cur.lastrowid)

    def list_loop_notes(self, loop_id: int) -> list[LoopNote]:
        rows = self.query("SELECT * FROM loop_notes WHERE loop_id = ? ORDER BY id", (loop_id,))
        return [LoopNote.model_validate(_decode(r, ("value",))) for r in rows]
