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
    assert [v.version for v in versions] == [3, 2, 1]
    # Restoring is saving an old version's data as a new version: history is never rewritten.
    assert store.save_plan(plan_id, versions[-1].data, note="restored v1") == 4
    assert store.get_plan(plan_id).data.stored() == {"objective": "o"}
    store.set_plan_status(plan_id, "accepted")
    assert [p.id for p in store.list_plans(status="accepted")] == [plan_id]
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
    assert [a.depth for a in tree] == [0, 1, 2]


def test_queue_claims_one_run_at_a_time(store):
    first = store.add_run("nb.ipynb", {"x": 1})
    second = store.add_run("nb.ipynb", {"x": 2})
    claimed = store.claim_next_run(max_running=1)
    assert claimed.id == first and claimed.status == "running"
    assert store.claim_next_run(max_running=1) is None
    store.update_run(first, status="succeeded", metrics={"acc": 0.9})
    assert store.claim_next_run(max_running=1).id == second
    assert store.get_run(first).metrics == {"acc": 0.9}


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
    texts = {f.text for f in store.list_feedback()}
    assert texts == {f"{t}-{i}" for t in "ab" for i in range(60)}
    assert len(store.list_runs(limit=1000)) == 120


def test_reads_return_typed_records(store):
    from mlr.store import records as r

    hid, plan_id = _plan(store)
    store.set_review(hid, {"clarity": {"score": 4, "why": "clear"}, "novelty": {"max_similarity": 0.5}})
    store.add_feedback("more epochs", plan_id=plan_id)
    run_id = store.add_run("nb.ipynb", {"x": 1}, plan_id=plan_id)
    store.finish_run(run_id, "failed", error=r.RunErrorData(ename="ValueError", evalue="bad", cell_index=2),
                     progress={"phase": "finished", "elapsed_s": 1.5})
    root = store.add_attempt(notebook="a.ipynb", source="initial", plan_id=plan_id,
                             data=r.AttemptData(report={"ename": "ValueError"}, current_id=1))

    paper = store.list_papers()[0]
    assert isinstance(paper, r.Paper) and paper.authors == ["A"] and paper.name == "T"
    chunk = store.get_chunk("abc-0")
    assert isinstance(chunk, r.Chunk) and chunk.title == "T" and store.paper_chunks(paper.id) == [chunk]
    problem = store.problems_for_paper(paper.id)[0]
    assert isinstance(problem, r.Problem) and isinstance(problem.data, r.ProblemData) and problem.related == []
    h = store.get_hypothesis(hid)
    assert isinstance(h.data, r.HypothesisData) and h.data.method == "m" and h.data.citations == []
    assert isinstance(h.review, r.ReviewData) and h.review.clarity.score == 4 and h.review.validity is None
    assert h.review.novelty.max_similarity == 0.5 and h.review.novelty.nearest == []
    listed = store.list_hypotheses()[0]
    assert isinstance(listed, r.HypothesisListing) and (listed.paper_id, listed.paper_title) == (paper.id, "T")
    assert (listed.plan_id, listed.plan_status) == (plan_id, "draft")
    assert isinstance(store.hypothesis_versions(hid)[0], r.HypothesisVersion)
    plan = store.list_plans()[0]
    assert isinstance(plan, r.PlanListing) and plan.hypothesis.method == "m" and plan.paper_id == paper.id
    assert isinstance(store.plan_for_hypothesis(hid), r.Plan) and isinstance(store.plan_versions(plan_id)[0],
                                                                             r.PlanVersion)
    assert store.get_plan(plan_id).data.objective == "o" and store.get_plan(plan_id).data.higher_is_better is None
    run = store.get_run(run_id)
    assert isinstance(run, r.Run) and run.status == "failed" and run.parameters == {"x": 1}
    assert isinstance(run.error, r.RunErrorData) and (run.error.ename, run.error.cell_index) == ("ValueError", 2)
    assert isinstance(run.progress, r.RunProgress) and run.progress.elapsed_s == 1.5 and run.cancel_requested is False
    attempt = store.get_attempt(root)
    assert isinstance(attempt, r.Attempt) and attempt.approved is None and attempt.data.current_id == 1
    assert isinstance(attempt.data.report, r.ReportData) and attempt.data.report.ename == "ValueError"
    assert [f.text for f in store.list_feedback(plan_id)] == ["more epochs"]
    assert isinstance(store.list_feedback(plan_id)[0], r.Feedback)


def test_records_with_older_or_partial_payloads_still_load(store):
    """Rows as an older version (or a hand edit) wrote them: missing fields, nulls, other shapes, unknown keys."""
    paper_id = _paper(store)
    with store.write() as conn:
        conn.execute("INSERT INTO problems (paper_id, data, created_at) VALUES (?, ?, 'then')",
                     (paper_id, '{"task": "t", "gaps": [{"text": "g"}], "legacy": 1}'))
        conn.execute("INSERT INTO hypotheses (problem_id, ordinal, version, data, review, created_at, updated_at)"
                     " VALUES (1, 0, 1, '{\"method\": \"m\", \"citations\": [{\"chunk_id\": \"abc-0\"}]}',"
                     " '{\"clarity\": {\"score\": 3}}', 'then', 'then')")
        conn.execute("INSERT INTO plans (hypothesis_id, version, data, created_at, updated_at) VALUES (1, 1, ?, 'then',"
                     " 'then')", ('{"objective": "o", "experiment_design": "step 1\\nstep 2", "dataset": null,'
                                  ' "parameters": {"lr": 0.1}, "primary_metric": 5}',))
        conn.execute("INSERT INTO runs (notebook, status, progress, error, queued_at, data) VALUES ('nb', 'failed',"
                     " '{\"phase\": \"running\", \"gpus\": [{\"index\": 0}]}', '{\"ename\": \"X\"}', 'then', '{}')")
        conn.execute("INSERT INTO attempts (source, notebook, approved, is_buggy, created_at, data) VALUES"
                     " ('initial', 'a.ipynb', 0, 1, 'then', '{\"report\": {\"evalue\": \"e\"}, \"extra\": [1]}')")
    problem = store.get_problem(1)
    assert problem.data.task == "t" and problem.data.keywords == [] and problem.data.gaps[0].chunk_id == ""
    assert problem.data.stored() == {"task": "t", "gaps": [{"text": "g"}], "legacy": 1}  # kept as it was
    h = store.get_hypothesis(1)
    assert h.data.rationale == "" and h.data.citations[0].paper_id is None and h.generated_by == ""
    assert h.review.clarity.score == 3 and h.review.clarity.why == "" and h.review.rigor is None
    plan = store.get_plan(1)
    assert plan.data.experiment_design == ["step 1", "step 2"] and plan.data.dataset == ""
    assert plan.data.primary_metric == "5" and plan.data.parameter_list()[0].values == [0.1]
    assert store.list_plans()[0].hypothesis.method == "m"
    run = store.list_runs()[0]
    assert run.progress.gpus[0].index == 0 and run.progress.elapsed_s == 0 and run.error.evalue == ""
    attempt = store.list_attempts(root_id=1)[0]
    assert attempt.approved is False and attempt.is_buggy is True and attempt.data.report.evalue == "e"
    assert attempt.data.model_extra == {"extra": [1]} and attempt.data.parameters == {}


def test_writes_take_payload_models(store):
    from mlr.store.records import GapData, HypothesisData, PlanData, ProblemData

    paper_id = _paper(store)
    problem_id = store.add_problem(paper_id, ProblemData(task="t", gaps=[GapData(text="g", chunk_id="abc-0")]))
    hid = store.add_hypothesis(problem_id, HypothesisData(method="m", rationale="r"))
    plan_id = store.add_plan(hid, PlanData(objective="o", parameters=[{"name": "lr", "values": [0.1]}]))
    assert store.get_problem(problem_id).data.gaps[0].chunk_id == "abc-0"
    assert store.get_hypothesis(hid).data.rationale == "r"
    assert store.get_plan(plan_id).data.parameter_list()[0].name == "lr"
    assert store.save_plan(plan_id, store.get_plan(plan_id).data.model_copy(update={"objective": "o2"})) == 2
    assert store.get_plan(plan_id).data.objective == "o2"
