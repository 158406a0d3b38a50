"""Research problems, hypotheses and plans, with every edit kept as a version."""

from __future__ import annotations

from pydantic import BaseModel

from mlr.store.db import dumps, loads, now_iso, record
from mlr.store.records import (Hypothesis, HypothesisData, HypothesisListing, HypothesisVersion, Plan, PlanData,
                               PlanListing, PlanVersion, Problem, ProblemData, ReviewData)

# Payloads are written as given: a payload model (``ProblemData``…), an agent schema, or a plain dict.
Payload = BaseModel | dict


def _versions(model, rows: list[dict]) -> list:
    return [record(model, r, data={}) for r in rows]


class IdeaRecords:
    # -- problems ---------------------------------------------------------------------------------
    def add_problem(self, paper_id: int, data: ProblemData | Payload, related: list | None = None, *,
                    generated_by: str = "") -> int:
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO problems (paper_id, data, related, created_at, generated_by) VALUES (?, ?, ?, ?, ?)",
                (paper_id, dumps(data), dumps(related or []), now_iso(), generated_by),
            )
            return int(cur.lastrowid)

    def update_problem(self, problem_id: int, *, data: ProblemData | Payload | None = None,
                       related: list | None = None) -> None:
        with self.write() as conn:
            if data is not None:
                conn.execute("UPDATE problems SET data = ? WHERE id = ?", (dumps(data), problem_id))
            if related is not None:
                conn.execute("UPDATE problems SET related = ? WHERE id = ?", (dumps(related), problem_id))

    def get_problem(self, problem_id: int) -> Problem | None:
        return record(Problem, self.one("SELECT * FROM problems WHERE id = ?", (problem_id,)), data={}, related=[])

    def problems_for_paper(self, paper_id: int) -> list[Problem]:
        rows = self.query("SELECT * FROM problems WHERE paper_id = ? ORDER BY id DESC", (paper_id,))
        return [record(Problem, r, data={}, related=[]) for r in rows]

    # -- hypotheses -------------------------------------------------------------------------------
    def add_hypothesis(self, problem_id: int, data: HypothesisData | Payload,
                       review: ReviewData | Payload | None = None, *,
                       generated_by: str = "") -> int:
        stamp = now_iso()
        with self.write() as conn:
            ordinal = conn.execute(
                "SELECT COUNT(*) FROM hypotheses WHERE problem_id = ?", (problem_id,)).fetchone()[0]
            cur = conn.execute(
                "INSERT INTO hypotheses (problem_id, ordinal, version, data, review, created_at, updated_at,"
                " generated_by) VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
                (problem_id, ordinal, dumps(data), dumps(review) if review else None, stamp, stamp, generated_by),
            )
            hid = int(cur.lastrowid)
            conn.execute(
                "INSERT INTO hypothesis_versions (hypothesis_id, version, data, note, created_at)"
                " VALUES (?, 1, ?, 'generated', ?)", (hid, dumps(data), stamp))
            return hid

    def get_hypothesis(self, hypothesis_id: int) -> Hypothesis | None:
        row = self.one("SELECT * FROM hypotheses WHERE id = ?", (hypothesis_id,))
        return record(Hypothesis, row, data={}, review=None)

    def hypotheses_for_problem(self, problem_id: int) -> list[Hypothesis]:
        rows = self.query("SELECT * FROM hypotheses WHERE problem_id = ? ORDER BY ordinal", (problem_id,))
        return [record(Hypothesis, r, data={}, review=None) for r in rows]

    def list_hypotheses(self) -> list[HypothesisListing]:
        """Every hypothesis with its paper's title and its plan's id and status (the Plan page's picker)."""
        rows = self.query(
            "SELECT h.*, pr.paper_id, COALESCE(pa.title, pa.file_name) AS paper_title, pl.id AS plan_id,"
            " pl.status AS plan_status FROM hypotheses h JOIN problems pr ON pr.id = h.problem_id"
            " JOIN papers pa ON pa.id = pr.paper_id LEFT JOIN plans pl ON pl.hypothesis_id = h.id"
            " ORDER BY h.id DESC")
        return [record(HypothesisListing, r, data={}, review=None) for r in rows]

    def set_review(self, hypothesis_id: int, review: ReviewData | Payload) -> None:
        with self.write() as conn:
            conn.execute("UPDATE hypotheses SET review = ? WHERE id = ?", (dumps(review), hypothesis_id))

    def save_hypothesis(self, hypothesis_id: int, data: HypothesisData | Payload, note: str = "edited") -> int:
        return self._save_version("hypotheses", "hypothesis_versions", "hypothesis_id", hypothesis_id, data, note)

    def hypothesis_versions(self, hypothesis_id: int) -> list[HypothesisVersion]:
        rows = self.query("SELECT * FROM hypothesis_versions WHERE hypothesis_id = ? ORDER BY version DESC",
                          (hypothesis_id,))
        return _versions(HypothesisVersion, rows)

    # -- plans ------------------------------------------------------------------------------------
    def add_plan(self, hypothesis_id: int, data: PlanData | Payload, *, generated_by: str = "") -> int:
        stamp = now_iso()
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO plans (hypothesis_id, version, data, created_at, updated_at, generated_by)"
                " VALUES (?, 1, ?, ?, ?, ?)",
                (hypothesis_id, dumps(data), stamp, stamp, generated_by),
            )
            plan_id = int(cur.lastrowid)
            conn.execute("INSERT INTO plan_versions (plan_id, version, data, note, created_at)"
                         " VALUES (?, 1, ?, 'generated', ?)", (plan_id, dumps(data), stamp))
            return plan_id

    def get_plan(self, plan_id: int) -> Plan | None:
        return record(Plan, self.one("SELECT * FROM plans WHERE id = ?", (plan_id,)), data={})

    def plan_for_hypothesis(self, hypothesis_id: int) -> Plan | None:
        return record(Plan, self.one("SELECT * FROM plans WHERE hypothesis_id = ?", (hypothesis_id,)), data={})

    def list_plans(self, status: str | None = None) -> list[PlanListing]:
        sql = ("SELECT pl.*, h.data AS hypothesis, h.problem_id, pr.paper_id FROM plans pl"
               " JOIN hypotheses h ON h.id = pl.hypothesis_id JOIN problems pr ON pr.id = h.problem_id")
        params: tuple = ()
        if status:
            sql += " WHERE pl.status = ?"
            params = (status,)
        return [record(PlanListing, r, data={}, hypothesis={}) for r in self.query(sql + " ORDER BY pl.id", params)]

    def save_plan(self, plan_id: int, data: PlanData | Payload, note: str = "edited") -> int:
        return self._save_version("plans", "plan_versions", "plan_id", plan_id, data, note)

    def plan_versions(self, plan_id: int) -> list[PlanVersion]:
        rows = self.query("SELECT * FROM plan_versions WHERE plan_id = ? ORDER BY version DESC", (plan_id,))
        return _versions(PlanVersion, rows)

    def set_plan_status(self, plan_id: int, status: str) -> None:
        with self.write() as conn:
            conn.execute("UPDATE plans SET status = ?, accepted_at = ? WHERE id = ?",
                         (status, now_iso() if status == "accepted" else None, plan_id))

    def restore_hypothesis(self, hypothesis_id: int, version: int) -> int:
        """Make an earlier version current again, as a new version (history is never rewritten)."""
        return self._restore("hypothesis_versions", "hypothesis_id", hypothesis_id, version, self.save_hypothesis)

    def restore_plan(self, plan_id: int, version: int) -> int:
        return self._restore("plan_versions", "plan_id", plan_id, version, self.save_plan)

    def delete_problem(self, problem_id: int) -> None:
        """Drop a problem with its hypotheses and plans (cascade); runs keep their rows, unlinked."""
        with self.write() as conn:
            conn.execute("DELETE FROM problems WHERE id = ?", (problem_id,))

    # -- versioning -------------------------------------------------------------------------------
    def _restore(self, versions: str, key: str, row_id: int, version: int, save) -> int:
        row = self.one(f"SELECT data FROM {versions} WHERE {key} = ? AND version = ?", (row_id, version))
        if row is None:
            raise KeyError(f"{key} {row_id} has no version {version}")
        return save(row_id, loads(row["data"]), note=f"restored v{version}")

    def _save_version(self, table: str, versions: str, key: str, row_id: int, data: Payload, note: str) -> int:
        """Store ``data`` as the next version and make it current; returns the new version number."""
        stamp = now_iso()
        with self.write() as conn:
            version = _insert_version(conn, versions, key, row_id, data, note, stamp)
            conn.execute(f"UPDATE {table} SET version = ?, data = ?, updated_at = ? WHERE id = ?",
                         (version, dumps(data), stamp, row_id))
            return version

    def add_plan_draft(self, plan_id: int, data: dict, note: str) -> int:
        """Store ``data`` as the plan's next version *without* making it current: a draft the researcher
        reviews on the Plan page (restoring it makes it current). Returns the version number."""
        with self.write() as conn:
            return _insert_version(conn, "plan_versions", "plan_id", plan_id, data, note, now_iso())

    def add_hypothesis_draft(self, hypothesis_id: int, data: dict, note: str) -> int:
        """The same for a hypothesis: its next version, stored beside the current one, not replacing it."""
        with self.write() as conn:
            return _insert_version(conn, "hypothesis_versions", "hypothesis_id", hypothesis_id, data, note, now_iso())


def _insert_version(conn, versions: str, key: str, row_id: int, data, note: str, stamp: str) -> int:
    """Append ``data`` as the next version of ``row_id`` in ``versions`` (names from code); its number."""
    row = conn.execute(f"SELECT MAX(version) FROM {versions} WHERE {key} = ?", (row_id,)).fetchone()
    if row[0] is None:
        raise KeyError(f"{key} {row_id} does not exist")
    version = int(row[0]) + 1
    conn.execute(f"INSERT INTO {versions} ({key}, version, data, note, created_at) VALUES (?, ?, ?, ?, ?)",
                 (row_id, version, dumps(data), note, stamp))
    return version
