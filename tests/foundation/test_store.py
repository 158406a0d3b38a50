import sqlite3
import subprocess
import sys

import pytest

from mlr.config import REPO_ROOT
from mlr.store import Store
from mlr.store.schema import MIGRATIONS


def test_new_record_is_migrated_and_in_wal_mode(store):
    assert store.schema_version() == max(v for v, _, _ in MIGRATIONS)
    with store.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"papers", "chunks", "problems", "hypotheses", "plans", "plan_versions", "runs", "attempts",
            "feedback", "schema_version"} <= tables


def test_migrations_apply_once(settings):
    Store(settings.db_path)
    again = Store(settings.db_path)
    rows = again.query("SELECT version FROM schema_version")
    assert len(rows) == len(MIGRATIONS)


def _paper(store, digest="abc"):
    with store.write() as conn:
        return store.add_paper(conn, content_hash=digest, file_name=f"{digest}.pdf", path=f"/x/{digest}.pdf",
                               title="T", authors=["A"], year=2024, pages=3, sections=["abstract"],
                               chunks=[{"id": f"{digest}-0", "ordinal": 0, "vector_id": abs(hash(digest)) % 10**9,
                                        "section": "abstract", "page": 1, "n_tokens": 5, "text": "hello"}])


def _plan(store):
    paper_id = _paper(store)
    problem_id = store.add_problem(paper_id, {"task": "t", "gaps": [], "keywords": []})
    hid = store.add_hypothesis(problem_id, {"method": "m", "rationale": "r"})
    return hid, store.add_plan(hid, {"objective": "o"})


def test_plan_versions_are_kept_and_restorable(store):
    hid, plan_id = _plan(store)
    assert store.save_plan(plan_id, {"objective": "o2"}) == 2
    assert store.save_plan(plan_id, {"objective": "o3"}) == 3
    versions = store.plan_versions(plan_id)
    assert [v["version"] for v in versions] == [3, 2, 1]
    # Restoring is saving an old version's data as a new version: history is never rewritten.
    assert store.save_plan(plan_id, versions[-1]["data"], note="restored v1") == 4
    assert store.get_plan(plan_id)["data"] == {"objective": "o"}
    store.set_plan_status(plan_id, "accepted")
    assert [p["id"] for p in store.list_plans(status="accepted")] == [plan_id]
    assert store.save_hypothesis(hid, {"method": "m2", "rationale": "r"}) == 2


def test_failed_write_leaves_nothing(store):
    with pytest.raises(sqlite3.IntegrityError):
        with store.write() as conn:
            conn.execute("INSERT INTO feedback (text, created_at) VALUES ('kept?', 'now')")
            conn.execute("INSERT INTO feedback (text, created_at) VALUES (NULL, 'now')")
    assert store.list_feedback() == []


def test_deleting_a_paper_removes_its_chunks(store):
    paper_id = _paper(store, "zzz")
    with store.write() as conn:
        vector_ids = store.delete_paper(conn, paper_id)
    assert len(vector_ids) == 1
    assert store.get_chunk("zzz-0") is None


def test_attempt_tree(store):
    root = store.add_attempt(notebook="a.ipynb", source="initial")
    child = store.add_attempt(notebook="b.ipynb", source="rule", parent_id=root, depth=1, diff="-x\n+y")
    store.add_attempt(notebook="c.ipynb", source="llm", parent_id=child, depth=2)
    store.add_attempt(notebook="other.ipynb", source="initial")
    tree = store.list_attempts(root_id=root)
    assert [a["depth"] for a in tree] == [0, 1, 2]


def test_queue_claims_one_run_at_a_time(store):
    first = store.add_run("nb.ipynb", {"x": 1})
    second = store.add_run("nb.ipynb", {"x": 2})
    claimed = store.claim_next_run(max_running=1)
    assert claimed["id"] == first and claimed["status"] == "running"
    assert store.claim_next_run(max_running=1) is None
    store.update_run(first, status="succeeded", metrics={"acc": 0.9})
    assert store.claim_next_run(max_running=1)["id"] == second
    assert store.get_run(first)["metrics"] == {"acc": 0.9}


WRITER = """
import sys
from mlr.store import Store
store = Store(sys.argv[1])
for i in range(int(sys.argv[3])):
    store.add_feedback(f"{sys.argv[2]}-{i}")
    store.add_run("nb.ipynb", {"i": i}, data={"tag": sys.argv[2]})
"""


def test_two_writer_processes_lose_nothing(settings):
    # Plain child interpreters, not multiprocessing: spawn re-runs whatever __main__ an earlier
    # test (AppTest) left behind.
    Store(settings.db_path)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(settings.db_path), tag, "60"], cwd=REPO_ROOT)
             for tag in ("a", "b")]
    for p in procs:
        assert p.wait(120) == 0
    store = Store(settings.db_path)
    texts = {f["text"] for f in store.list_feedback()}
    assert texts == {f"{t}-{i}" for t in "ab" for i in range(60)}
    assert len(store.list_runs(limit=1000)) == 120
