"""Runs, debug attempts and researcher feedback in the research record."""

from __future__ import annotations

from pydantic import BaseModel

from mlr.store.db import dumps, now_iso, record
from mlr.store.records import Attempt, AttemptData, Feedback, Run, RunErrorData, RunProgress

ACTIVE = ("queued", "running")
FINAL = ("succeeded", "failed", "timed_out", "cancelled", "interrupted")


def _run(row: dict | None) -> Run | None:
    return record(Run, row, parameters={}, progress={}, metrics=None, error=None, data={})


def _attempt(row: dict | None) -> Attempt | None:
    return record(Attempt, row, data={})


class RunRecords:
    def add_run(self, notebook: str, parameters: dict, *, kind: str = "adhoc", plan_id: int | None = None,
                data: BaseModel | dict | None = None, timeout_s: float | None = None) -> int:
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO runs (plan_id, kind, notebook, parameters, status, queued_at, data, timeout_s)"
                " VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
                (plan_id, kind, notebook, dumps(parameters), now_iso(), dumps(data or {}), timeout_s),
            )
            return int(cur.lastrowid)

    def get_run(self, run_id: int) -> Run | None:
        return _run(self.one("SELECT * FROM runs WHERE id = ?", (run_id,)))

    def list_runs(self, *, plan_id: int | None = None, status: tuple[str, ...] | None = None,
                  limit: int = 200) -> list[Run]:
        return [_run(r) for r in self.select("runs", equals={"plan_id": plan_id}, status=status, limit=limit)]

    def update_run(self, run_id: int, **fields) -> None:
        """Set columns of a run; dict, list and model values are stored as JSON."""
        self._update("runs", run_id, fields)

    def claim_next_run(self, max_running: int, *, owner: str | None = None,
                       only_ids: tuple[int, ...] | None = None) -> Run | None:
        """Atomically move the oldest queued run to 'running' if a slot is free.

        ``owner`` names the claiming process (see ``mlr.execution.procs.process_identity``);
        ``only_ids`` restricts the claim to those runs (a CLI process runs only what it queued).
        """
        with self.write() as conn:
            running = conn.execute("SELECT COUNT(*) FROM runs WHERE status = 'running'").fetchone()[0]
            if running >= max_running:
                return None
            sql, params = "SELECT id FROM runs WHERE status = 'queued'", []
            if only_ids is not None:
                if not only_ids:
                    return None
                sql += f" AND id IN ({','.join('?' * len(only_ids))})"
                params.extend(only_ids)
            row = conn.execute(sql + " ORDER BY id LIMIT 1", params).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE runs SET status = 'running', started_at = ?, owner = ? WHERE id = ?",
                         (now_iso(), owner, row[0]))
        return self.get_run(row[0])

    def request_cancel(self, run_id: int) -> str | None:
        """Cancel a queued run at once, or flag a running one for its owner; returns the status after."""
        with self.write() as conn:
            row = conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                return None
            if row[0] == "queued":
                conn.execute("UPDATE runs SET status = 'cancelled', finished_at = ?, seconds = 0 WHERE id = ?",
                             (now_iso(), run_id))
                return "cancelled"
            if row[0] == "running":
                conn.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))
            return row[0]

    def finish_run(self, run_id: int, status: str, *, metrics: dict | None = None,
                   error: RunErrorData | dict | None = None, output_notebook: str | None = None,
                   seconds: float | None = None, progress: RunProgress | dict | None = None) -> bool:
        """Record a run's end once: only a run still queued or running changes (False otherwise)."""
        with self.write() as conn:
            cur = conn.execute(
                "UPDATE runs SET status = ?, metrics = ?, error = ?, output_notebook = COALESCE(?, output_notebook),"
                " seconds = ?, finished_at = ?, progress = COALESCE(?, progress)"
                " WHERE id = ? AND status IN ('queued', 'running')",
                (status, dumps(metrics) if metrics is not None else None, dumps(error) if error else None,
                 output_notebook, seconds, now_iso(), dumps(progress) if progress is not None else None, run_id))
            return cur.rowcount == 1

    def delete_runs(self, run_ids: list[int]) -> int:
        """Delete finished runs (the tour's reset); attempts that point at them keep their rows, unlinked.
        Queued or running runs are left alone. Returns how many were deleted."""
        if not run_ids:
            return 0
        marks = ",".join("?" * len(run_ids))
        with self.write() as conn:
            cur = conn.execute(f"DELETE FROM runs WHERE id IN ({marks}) AND status NOT IN ('queued', 'running')",
                               tuple(run_ids))
            return cur.rowcount

    def set_progress(self, run_id: int, progress: RunProgress | dict) -> None:
        with self.write() as conn:
            conn.execute("UPDATE runs SET progress = ? WHERE id = ? AND status = 'running'",
                         (dumps(progress), run_id))

    # -- attempts ---------------------------------------------------------------------------------
    def add_attempt(self, *, notebook: str, source: str, plan_id: int | None = None, parent_id: int | None = None,
                    run_id: int | None = None, depth: int = 0, diff: str = "", explanation: str = "",
                    approved: bool | None = None, data: AttemptData | dict | None = None) -> int:
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO attempts (plan_id, parent_id, run_id, depth, source, notebook, diff, explanation,"
                " approved, created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (plan_id, parent_id, run_id, depth, source, notebook, diff, explanation,
                 None if approved is None else int(approved), now_iso(), dumps(data or {})),
            )
            return int(cur.lastrowid)

    def update_attempt(self, attempt_id: int, **fields) -> None:
        self._update("attempts", attempt_id, fields)

    def get_attempt(self, attempt_id: int) -> Attempt | None:
        return _attempt(self.one("SELECT * FROM attempts WHERE id = ?", (attempt_id,)))

    def list_attempts(self, plan_id: int | None = None, root_id: int | None = None) -> list[Attempt]:
        if root_id is not None:
            rows = self.query(
                "WITH RECURSIVE tree(id) AS (SELECT ? UNION ALL SELECT a.id FROM attempts a JOIN tree t"
                " ON a.parent_id = t.id) SELECT * FROM attempts WHERE id IN (SELECT id FROM tree) ORDER BY id",
                (root_id,))
        else:
            rows = self.query("SELECT * FROM attempts WHERE plan_id IS ? ORDER BY id", (plan_id,))
        return [_attempt(r) for r in rows]

    # -- feedback ---------------------------------------------------------------------------------
    def add_feedback(self, text: str, *, plan_id: int | None = None, attempt_id: int | None = None) -> int:
        with self.write() as conn:
            cur = conn.execute("INSERT INTO feedback (plan_id, attempt_id, text, created_at) VALUES (?, ?, ?, ?)",
                               (plan_id, attempt_id, text, now_iso()))
            return int(cur.lastrowid)

    def list_feedback(self, plan_id: int | None = None) -> list[Feedback]:
        rows = self.query("SELECT * FROM feedback WHERE plan_id IS ? ORDER BY id", (plan_id,))
        return [Feedback.model_validate(r) for r in rows]
