"""The experiment loop end to end with real papermill runs of small notebooks and the scripted model.

Each run of the toy notebook (tests/support/loop_notebooks.py) costs ~3–4 s, so budgets stay at 2–7 runs.
"""

from __future__ import annotations

import pytest

from mlr.experiments import control
from mlr.experiments.outcome import view
from mlr.llm.scripted import ScriptedLLM
from mlr.workspace import Workspace
from tests.support.loop_notebooks import EVAL_CELL, MODEL_CELL, expected_score, model_source, toy_notebook

pytestmark = pytest.mark.timeout(300)


def loop_runs(store, loop_id):
    return [r for r in store.list_runs(limit=1000) if (r.data or {}).get("loop_id") == loop_id]


def assert_integrity(store, loop_id, seeds=(0, 1), test_size=0.25):
    """No run of the loop ever varied the seed (other than over the seed list) or the split."""
    runs = loop_runs(store, loop_id)
    assert runs, "the loop recorded no run"
    for run in runs:
        assert run.parameters["seed"] in seeds, run.parameters
        assert run.parameters["test_size"] == test_size, run.parameters
    for exp in store.list_experiments(loop_id):
        assert exp.parameters["test_size"] == test_size and exp.parameters["seed"] == seeds[0], exp.parameters
        assert set(exp.metric_by_seed) <= {str(s) for s in seeds}


def code_answer(source: str, explanation: str, cell: int = MODEL_CELL) -> dict:
    return {"cell_index": cell, "new_source": source, "explanation": explanation}


@pytest.fixture
def workspace(settings):
    made = []

    def make(llm=None):
        ws = Workspace(settings, llm=llm)
        made.append(ws)
        return ws

    yield make
    for ws in made:
        if ws.is_built("runner"):
            ws.runner.stop(cancel_running=True)


def test_keep_and_discard_decisions_move_the_best(workspace, tmp_path):
    """A candidate worse on screening is discarded after one run; a better one is confirmed on every seed and
    kept, and becomes the parent of what follows (best_id moves)."""
    boosts = {"worse": -0.1, "better": 0.1, "best": 0.2}
    nb = toy_notebook(tmp_path / "modes.ipynb", modes=boosts, fixed=["lr"])
    ws = workspace()
    loop_id = control.create(ws.store, nb, budget_runs=7, seeds=2, params_only=True, stop_at_success=False)
    loop = ws.experiment_loop(use_model=False).run(loop_id)
    assert loop.status == "finished", loop.stopped_because
    assert_integrity(ws.store, loop_id)

    exps = ws.store.list_experiments(loop_id)
    base, candidates = exps[0], exps[1:]
    assert base.kind == "baseline" and base.n == 2
    assert base.metric_by_seed == {str(s): expected_score(seed=s) for s in (0, 1)}
    assert {e.parameters["mode"] for e in candidates} == set(boosts)  # the three modes, each tried once
    best, kept, discarded = base, 0, 0
    for e in candidates:
        assert e.parent_id == best.id  # a candidate starts from the best so far
        screen = expected_score(boost=boosts[e.parameters["mode"]], seed=0)
        assert e.metric_by_seed["0"] == screen
        if screen > best.mean:
            assert e.status == "kept" and e.n == 2 and set(e.metric_by_seed) == {"0", "1"}
            best, kept = e, kept + 1
        else:
            assert e.status == "discarded" and e.n == 1 and len(e.run_ids) == 1  # one run, no confirmation
            discarded += 1
    assert kept >= 1 and discarded >= 1
    loop = ws.store.get_loop(loop_id)
    assert loop.best_id == best.id and best.parameters["mode"] == "best"
    assert loop.runs_used == 2 + sum(len(e.run_ids) for e in candidates) <= 7


def test_code_candidate_that_edits_the_metric_is_refused_and_never_runs(workspace, tmp_path):
    nb = toy_notebook(tmp_path / "toy.ipynb")
    base = model_source(0.5, {"base": 0.0})
    cheats = [code_answer(base + "\ndef round(x, n=0):\n    return 1.0", "a better rounding"),
              code_answer(base + "\nscore = 0.99", "set the score")]
    ws = workspace(ScriptedLLM(cheats))
    loop_id = control.create(ws.store, nb, budget_runs=2, seeds=1, autopilot=True)
    loop = ws.experiment_loop().run(loop_id)
    assert loop.status == "finished", loop.stopped_because

    code = [e for e in ws.store.list_experiments(loop_id) if e.kind == "code"]
    assert [e.status for e in code] == ["refused", "refused"]
    assert "round" in code[0].reason and "'score'" in code[1].reason
    assert all(not e.run_ids and not e.metric_by_seed for e in code)
    runs = loop_runs(ws.store, loop_id)
    assert {r.notebook for r in runs} == {str(nb.resolve())}  # no edited copy of the notebook ever ran
    assert loop.runs_used == len(runs) == 2  # the baseline and one parameter candidate after two refusals
    assert_integrity(ws.store, loop_id, seeds=(0,))


def test_code_candidate_waits_for_approval_then_runs_after_approve_and_resume(workspace, tmp_path):
    nb = toy_notebook(tmp_path / "toy.ipynb")
    holder = {}

    def propose_and_pause(messages):
        # the researcher walks away while the candidate waits: pause the loop from "another tab"
        ws.store.request_loop_control(holder["loop_id"], "pause")
        return code_answer(model_source(0.8, {"base": 0.0}), "a larger gain")

    ws = workspace(ScriptedLLM([propose_and_pause]))
    loop_id = holder["loop_id"] = control.create(ws.store, nb, budget_runs=4, seeds=2, autopilot=False)
    engine = ws.experiment_loop()
    loop = engine.run(loop_id)
    assert loop.status == "paused" and loop.runs_used == 2

    waiting = [e for e in ws.store.list_experiments(loop_id) if e.kind == "code"]
    assert len(waiting) == 1 and waiting[0].status == "awaiting_approval"
    exp = waiting[0]
    assert "gain = 0.8" in exp.diff and exp.notebook != str(nb.resolve())
    assert all(r.notebook != exp.notebook for r in loop_runs(ws.store, loop_id))  # never run unapproved

    control.decide(ws.store, exp.id, True)
    loop = engine.run(loop_id)  # resume
    exp = ws.store.get_experiment(exp.id)
    assert exp.status == "kept" and exp.n == 2
    assert sorted(r.id for r in loop_runs(ws.store, loop_id) if r.notebook == exp.notebook) == sorted(exp.run_ids)
    assert loop.best_id == exp.id and loop.status == "finished" and loop.runs_used == 4
    assert [n.kind for n in ws.store.list_loop_notes(loop_id)] == ["approve"]
    assert_integrity(ws.store, loop_id)


def test_approve_hook_rejects_a_code_candidate_and_parameters_go_on(workspace, tmp_path):
    """On a terminal the CLI asks; a "no" rejects the candidate without running it."""
    nb = toy_notebook(tmp_path / "toy.ipynb")
    ws = workspace(ScriptedLLM(default=code_answer(model_source(0.8, {"base": 0.0}), "a larger gain")))
    loop_id = control.create(ws.store, nb, budget_runs=2, seeds=1, autopilot=False)
    engine = ws.experiment_loop()
    asked = []
    engine.approve = lambda e: asked.append(e.id) or "no: keep the gain"
    loop = engine.run(loop_id)
    code = [e for e in ws.store.list_experiments(loop_id) if e.kind == "code"]
    assert asked and all(e.status == "rejected" and not e.run_ids for e in code)
    assert any("keep the gain" in n.text for n in ws.store.list_loop_notes(loop_id) if n.kind == "feedback")
    assert loop.status == "finished" and loop.runs_used == 2
    assert {r.notebook for r in loop_runs(ws.store, loop_id)} == {str(nb.resolve())}


def test_a_task_only_a_code_change_solves_is_solved_on_autopilot(workspace, tmp_path):
    """No value of lr beats the baseline (its effect peaks at the default); the model's edit of the gain does."""
    nb = toy_notebook(tmp_path / "toy.ipynb")
    ws = workspace(ScriptedLLM([code_answer(model_source(0.8, {"base": 0.0}), "a larger gain")]))
    loop_id = control.create(ws.store, nb, budget_runs=6, seeds=2, autopilot=True)
    lr = ws.store.get_loop(loop_id).config.space["params"][0]
    assert lr["name"] == "lr" and lr["searchable"]  # the parameter search could only move lr, and lr cannot help:
    grid = [lr["distribution"]["low"] * (lr["distribution"]["high"] / lr["distribution"]["low"]) ** (i / 50)
            for i in range(51)]
    assert max(expected_score(lr=x, seed=s) for x in grid for s in (0, 1)) <= max(expected_score(seed=s)
                                                                                  for s in (0, 1))
    loop = ws.experiment_loop().run(loop_id)
    v = view(ws.store, loop_id)
    assert v.success and loop.status == "finished" and loop.stopped_because.startswith("success")
    assert v.best.kind == "code" and "gain = 0.8" in v.best.diff
    assert v.best.mean == pytest.approx(sum(expected_score(gain=0.8, seed=s) for s in (0, 1)) / 2)
    assert v.best.relative_improvement >= 0.10 and v.best.p_value < 0.05
    assert loop.runs_used == 4  # baseline 2 + screen 1 + confirm 1
    assert_integrity(ws.store, loop_id)
    assert "refined" not in v.summary  # an ad-hoc loop has no plan to refine
    assert EVAL_CELL not in {e.data.get("cell_index") for e in ws.store.list_experiments(loop_id)}


def test_a_loop_whose_every_candidate_fails_stops_with_the_reason(workspace, tmp_path):
    """Only the defaults run; every other mode raises: the loop stops early and says why (budget left)."""
    import nbformat

    nb = toy_notebook(tmp_path / "fragile.ipynb", modes={m: 0.1 for m in "abcdef"}, fixed=["lr"])
    book = nbformat.read(nb, as_version=4)
    book.cells[MODEL_CELL].source += "\nif mode != 'base':\n    raise RuntimeError(f'mode {mode} is not implemented')"
    nbformat.write(book, nb)
    ws = workspace()
    loop_id = control.create(ws.store, nb, budget_runs=12, seeds=1, params_only=True)
    loop = ws.experiment_loop(use_model=False).run(loop_id)
    assert loop.status == "finished"
    assert loop.stopped_because.startswith("every candidate fails") and "not implemented" in loop.stopped_because
    assert loop.runs_used < 12  # it did not burn the budget on failures
    failed = [e for e in ws.store.list_experiments(loop_id) if e.kind != "baseline"]
    assert len(failed) >= 4 and all(e.status == "failed" for e in failed[-4:])


def test_the_model_server_vanishing_mid_loop_leaves_the_parameter_search_going(workspace, tmp_path):
    """The model stops answering (connection refused): the loop says so and goes on with Optuna candidates."""
    from mlr.llm.errors import LLMUnavailable

    boosts = {"better": 0.1, "best": 0.2}
    nb = toy_notebook(tmp_path / "modes.ipynb", modes=boosts, fixed=["lr"])
    gone = LLMUnavailable("Ollama does not answer at http://127.0.0.1:11434 (connection refused)")
    ws = workspace(ScriptedLLM([gone, gone, gone, gone]))
    loop_id = control.create(ws.store, nb, budget_runs=5, seeds=1, autopilot=True, stop_at_success=False)
    loop = ws.experiment_loop().run(loop_id)
    assert loop.status == "finished", loop.stopped_because  # not failed: the search went on without the model
    assert "did not answer" in loop.data.model_note and "parameter search goes on" in loop.data.model_note
    exps = ws.store.list_experiments(loop_id)
    assert [e.status for e in exps if e.kind == "code"] and all(e.status == "failed" for e in exps if e.kind == "code")
    assert not any(e.run_ids for e in exps if e.kind == "code")  # nothing model-written ran
    measured = [e for e in exps if e.kind == "parameters" and e.n]
    assert {e.parameters["mode"] for e in measured} == set(boosts)  # both other modes were tried
    assert view(ws.store, loop_id).best.parameters["mode"] == "best"


def test_a_candidate_the_budget_cannot_confirm_is_never_kept(workspace, tmp_path):
    """Better on its screening seed, but no run is left for the second seed: it stays unconfirmed, not kept."""
    nb = toy_notebook(tmp_path / "modes.ipynb", modes={"best": 0.2, "good": 0.15}, fixed=["lr"])
    ws = workspace()
    loop_id = control.create(ws.store, nb, budget_runs=3, seeds=2, params_only=True)
    loop = ws.experiment_loop(use_model=False).run(loop_id)
    base, cand = ws.store.list_experiments(loop_id)
    assert cand.parameters["mode"] in ("best", "good") and cand.n == 1 and cand.metric_by_seed["0"] > base.mean
    assert cand.status == "discarded" and "not kept" in cand.data["verdict_text"]
    assert loop.best_id == base.id and view(ws.store, loop_id).best is None and not view(ws.store, loop_id).success


def test_a_kept_improvement_goes_back_to_the_plan_page_as_drafts(workspace, tmp_path):
    """After the loop: a refined hypothesis and plan stored as draft versions with their evidence runs; the
    accepted plan and the hypothesis stay as they were until the researcher restores the drafts."""
    nb = toy_notebook(tmp_path / "modes.ipynb", modes={"best": 0.2, "worse": -0.3}, fixed=["lr"])
    ws = workspace()
    store = ws.store
    with store.write() as conn:
        paper = store.add_paper(conn, content_hash="h", file_name="p.pdf", path="/x/p.pdf", title="P", authors=[],
                                year=None, pages=1, chunks=[], sections=[])
    problem = store.add_problem(paper, {"task": "t", "gaps": [], "keywords": []})
    hypothesis = store.add_hypothesis(problem, {"method": "Try another mode.", "rationale": "Modes differ."})
    plan_id = store.add_plan(hypothesis, {"objective": "raise the score", "method": "vary the mode",
                                          "parameters": [{"name": "mode", "values": ["best", "worse"]}]})
    store.set_plan_status(plan_id, "accepted")
    loop_id = control.create(store, nb, plan_id=plan_id, budget_runs=8, seeds=2, params_only=True)
    loop = ws.experiment_loop(use_model=False).run(loop_id)
    best = ws.store.get_experiment(loop.best_id)
    assert best.parameters["mode"] == "best" and best.status == "kept"

    plan = store.get_plan(plan_id)
    assert plan.version == 1 and plan.status == "accepted"  # the current plan is untouched
    draft = store.plan_versions(plan_id)[0]
    assert draft.version == loop.data.refined_plan_version == 2 and draft.note.startswith("draft: refined")
    assert [p for p in draft.data.parameter_list() if p.name == "mode"][0].values == ["best"]
    assert draft.data.refined_from["run_ids"] == best.run_ids and f"loop {loop_id}" in draft.data.method
    h_draft = store.hypothesis_versions(hypothesis)[0]
    assert store.get_hypothesis(hypothesis).version == 1 and h_draft.version == 2
    assert "mode='best'" in h_draft.data.method and str(best.run_ids[0]) in h_draft.data.rationale
    assert "refined plan is saved as draft version 2" in loop.data.summary
