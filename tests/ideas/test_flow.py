"""The steps wired to the real SQLite record: stored as produced, edits versioned, failures keep work."""

import pytest

from mlr.agents.idea_agent import IdeaError
from mlr.agents.idea_flow import IdeaRecorder, export_problem, save_plan
from mlr.llm.errors import LLMError

from .helpers import PLAN, PROBLEM, draft, hypothesis, library_passages, review_scores


def add_papers(store):
    """Paper rows 1-3 with the chunks of the in-memory library (the record's foreign keys need them)."""
    passages = library_passages()
    with store.write() as conn:
        for paper_id in (1, 2, 3):
            mine = [p for p in passages if p.paper_id == paper_id]
            store.add_paper(conn, content_hash=f"h{paper_id}", file_name=f"p{paper_id}.pdf", path="x",
                            title=f"Paper {paper_id}", authors=[], year=2024, pages=1, sections=[],
                            chunks=[{"id": p.chunk_id, "ordinal": i, "vector_id": paper_id * 100 + i,
                                     "section": p.section, "page": p.page, "n_tokens": 10, "text": p.text}
                                    for i, p in enumerate(mine)])


@pytest.fixture
def recorder(agent, store):
    add_papers(store)
    return IdeaRecorder(agent, store)


def test_whole_phase_is_stored_and_exported(recorder, scripted, store):
    # Problem, the N hypotheses (each stored as it validates), then a plan and a review for each.
    scripted.enqueue(PROBLEM, draft(), draft("Multilingual encoder.", cites=("3:0",)),
                     PLAN, PLAN, review_scores(4), PLAN, PLAN, review_scores(2))
    result = recorder.run_all(1, n=2)
    assert set(result) == {"problem", "related", "hypotheses", "failed"} and result.pop("failed") == []
    assert result["problem"]["task"] == PROBLEM["task"]
    assert result["related"] and all(r["source"] == "library" and r["paper_id"] != 1 for r in result["related"])
    assert [h["method"] for h in result["hypotheses"]] == [hypothesis()["method"], "Multilingual encoder."]
    first = result["hypotheses"][0]
    assert set(first) == {"id", "method", "rationale", "citations", "modes", "plan", "review"}
    assert first["modes"] == {"method": "free", "rationale": "free", "citations": "free"}
    assert first["citations"] == [{"chunk_id": "2:0", "paper_id": 2}]
    assert set(first["plan"]) == {"objective", "method", "experiment_design", "dataset", "baseline",
                                  "primary_metric", "higher_is_better", "parameters", "compute_budget", "modes"}
    assert first["review"]["clarity"] == {"score": 4, "why": "Names one concrete attention change."}
    assert set(first["review"]["novelty"]) >= {"nearest", "restates_existing"}
    # It all lives in the record, named by the model that wrote it.
    problem = store.problems_for_paper(1)[0]
    assert problem.generated_by == "scripted:scripted"
    assert export_problem(store, problem.id) == result
    assert len(store.list_plans()) == 2 and store.list_plans(status="accepted") == []


def test_failure_half_way_keeps_finished_steps_and_lists_the_failure(recorder, scripted, store):
    # The second plan's first request fails; its review still runs, and the phase ends with what it made.
    scripted.enqueue(PROBLEM, draft(), draft("Other approach entirely."), PLAN, PLAN, review_scores(),
                     LLMError("model server went away"), review_scores(2))
    result = recorder.run_all(1, n=2)
    problem = store.problems_for_paper(1)[0]
    assert problem.related, "related work was stored before the failure"
    hyps = store.hypotheses_for_problem(problem.id)
    assert len(hyps) == 2 and hyps[0].review is not None and hyps[1].review is not None
    assert store.plan_for_hypothesis(hyps[0].id) is not None and store.plan_for_hypothesis(hyps[1].id) is None
    assert result["failed"] == [{"step": f"plan of hypothesis {hyps[1].id}", "reason": "model server went away"}]
    assert [h["plan"] is None for h in result["hypotheses"]] == [False, True]


def test_a_failed_problem_is_the_only_empty_result(recorder, scripted):
    scripted.enqueue("garbage", "garbage", "garbage")
    result = recorder.run_all(1, n=2)
    assert result["problem"] is None and result["hypotheses"] == []
    assert [f["step"] for f in result["failed"]] == ["problem"] and "gave no valid" in result["failed"][0]["reason"]


def test_each_hypothesis_is_stored_as_it_validates_and_one_can_be_retried(recorder, scripted, store):
    problem_id = store.add_problem(1, PROBLEM)
    scripted.enqueue(draft(), "garbage", "garbage", "garbage")
    batch = recorder.hypotheses(problem_id, n=2)
    assert len(batch) == 1 and len(store.hypotheses_for_problem(problem_id)) == 1
    assert [(f["step"], f["index"]) for f in batch.failed] == [("hypothesis 2", 1)]
    # Retry only the failed slot: it reads the second gap, and knows the first hypothesis.
    scripted.enqueue(draft("Multilingual encoder for contracts.", cites=("3:0",)))
    again = recorder.hypotheses(problem_id, n=2, indexes=[1])
    assert len(again) == 1 and not again.failed
    assert "Only English contracts are evaluated." in scripted.prompts[-1][-1]["content"]
    assert hypothesis()["method"] in scripted.prompts[-1][-1]["content"]
    assert len(store.hypotheses_for_problem(problem_id)) == 2


def test_steps_read_the_researchers_edits(recorder, scripted, store):
    problem_id = store.add_problem(1, PROBLEM)
    edited = {**PROBLEM, "task": "Edited task about contracts."}
    recorder.save_problem(problem_id, edited)
    scripted.enqueue(draft())
    recorder.hypotheses(problem_id, n=1)
    assert "Edited task about contracts." in scripted.prompts[-1][-1]["content"]


def test_bad_edits_are_refused_with_a_message(recorder, store):
    problem_id = store.add_problem(1, PROBLEM)
    with pytest.raises(IdeaError, match="gaps"):
        recorder.save_problem(problem_id, {**PROBLEM, "gaps": []})
    with pytest.raises(IdeaError, match="no passage has the chunk id 9:9"):
        recorder.save_problem(problem_id, {**PROBLEM, "gaps": [{"text": "x", "chunk_id": "9:9"}]})
    assert store.get_problem(problem_id).data.stored() == PROBLEM  # nothing lost


def test_plan_versions_restore_and_acceptance(recorder, scripted, store):
    problem_id = store.add_problem(1, PROBLEM)
    hid = store.add_hypothesis(problem_id, hypothesis())
    scripted.enqueue(PLAN, PLAN)
    plan_id = recorder.plan(hid)
    assert save_plan(store, plan_id, {**PLAN, "dataset": "CUAD"}) == 2
    assert save_plan(store, plan_id, {**PLAN, "dataset": "CUAD"}) == 2  # unchanged: no new version
    store.set_plan_status(plan_id, "accepted")
    assert [p.id for p in store.list_plans(status="accepted")] == [plan_id]
    # Editing an accepted plan makes a new draft that must be accepted again.
    assert save_plan(store, plan_id, {**PLAN, "dataset": "LexGLUE"}) == 3
    assert store.get_plan(plan_id).status == "draft"
    assert store.restore_plan(plan_id, 1) == 4
    plan = store.get_plan(plan_id)
    assert plan.data.dataset == "LEDGAR" and plan.version == 4
    assert [(v.version, v.note) for v in store.plan_versions(plan_id)] == [
        (4, "restored v1"), (3, "edited"), (2, "edited"), (1, "generated")]
    with pytest.raises(IdeaError, match="higher_is_better"):
        save_plan(store, plan_id, {**PLAN, "higher_is_better": "sometimes"})
    # Regenerating keeps the history too.
    scripted.enqueue(PLAN, {**PLAN, "dataset": "EURLEX"})
    assert recorder.plan(hid) == plan_id
    assert store.plan_versions(plan_id)[0].note == "regenerated"


def test_hypothesis_versions(recorder, store):
    problem_id = store.add_problem(1, PROBLEM)
    hid = store.add_hypothesis(problem_id, hypothesis())
    assert recorder.save_hypothesis(hid, hypothesis("Edited method.")) == 2
    with pytest.raises(IdeaError, match="no passage"):
        recorder.save_hypothesis(hid, hypothesis(cites=(("zz", 2),)))
    with pytest.raises(IdeaError, match="belongs to paper 2"):
        recorder.save_hypothesis(hid, hypothesis(cites=(("2:0", 3),)))
    assert recorder.save_hypothesis(hid, hypothesis("Edited method.")) == 2  # unchanged: no new version
    assert store.restore_hypothesis(hid, 1) == 3
    assert store.get_hypothesis(hid).data.method == hypothesis()["method"]
    with pytest.raises(KeyError):
        store.restore_hypothesis(hid, 9)


def test_missing_rows_are_clear_messages(recorder):
    with pytest.raises(IdeaError, match="no paper 77"):
        recorder.problem(77)
    with pytest.raises(IdeaError, match="no research problem 5"):
        recorder.related(5)
    with pytest.raises(IdeaError, match="no hypothesis 5"):
        recorder.plan(5)


def test_when_every_hypothesis_fails_the_failures_are_still_listed(recorder, scripted, store):
    scripted.enqueue(PROBLEM, *["][" ] * 6)
    result = recorder.run_all(1, n=2)
    assert result["problem"]["task"] == PROBLEM["task"] and result["hypotheses"] == []
    assert [f["step"] for f in result["failed"]] == ["hypothesis 1", "hypothesis 2"]


def test_an_edit_keeps_the_prototype_the_experiment_agent_chose(recorder, scripted, store):
    problem_id = store.add_problem(1, PROBLEM)
    hid = store.add_hypothesis(problem_id, hypothesis())
    scripted.enqueue(PLAN, PLAN)
    plan_id = recorder.plan(hid)
    store.save_plan(plan_id, {**PLAN, "prototype": "digit-thumbnails"}, note="prototype chosen")
    version = save_plan(store, plan_id, {**PLAN, "dataset": "CUAD"})  # the edit form has no prototype field
    saved = store.get_plan(plan_id)
    assert saved.version == version and saved.data.dataset == "CUAD" and saved.data.prototype == "digit-thumbnails"
