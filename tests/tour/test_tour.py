"""The guided tour end to end on the real sample paper (real MiniLM library, real papermill runs), with the
scripted model standing in for the embedded one: every step done with its result, everything it made labelled
as the tour's, the report written, and the reset removing exactly that."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlr.config import Settings
from mlr.llm.scripted import ScriptedLLM
from mlr.tour import reset as tour_reset
from mlr.tour.run import run_tour
from mlr.tour.script import script
from mlr.tour.state import folder, load
from mlr.workspace import Workspace

pytestmark = pytest.mark.timeout(400)

PLAN = {"objective": "Test whether a kernel classifier on the thumbnails beats template matching.",
        "method": "Swap the nearest-centroid classifier for an RBF support vector machine.",
        "experiment_design": ["Run the baseline", "Run the SVM variant"], "dataset": "scikit-learn digits",
        "baseline": "Nearest-centroid template matching", "primary_metric": "accuracy", "higher_is_better": True,
        "parameters": [{"name": "classifier", "values": ["svm_rbf"], "description": "the classifier"}],
        "compute_budget": "1 CPU for 5 minutes"}


def scripted_tour(store, rounds: int = 1) -> ScriptedLLM:
    """The answers of the tour's model calls, in order: problem, hypothesis, plan outline and plan setup."""
    def chunk(_messages=None) -> str:
        return store.paper_chunks(store.list_papers()[0].id)[0].id

    return ScriptedLLM(rounds * [
        lambda m: {"task": "Recognise handwritten digits from 4x4 thumbnails with template matching.",
                   "gaps": [{"text": "Only one family of classifier is tested.", "chunk_id": chunk()}],
                   "keywords": ["template matching", "handwritten digits"]},
        lambda m: {"method": "Replace template matching with an RBF support vector machine.",
                   "rationale": "A kernel classifier can separate strokes that one template per class blurs.",
                   "citations": [chunk()]},
        PLAN, PLAN])


@pytest.fixture
def workspace(data_dir, monkeypatch):
    monkeypatch.setenv("MLR_IDEA_MODE", "free")
    from mlr.library.embedders import MiniLMEmbedder

    settings = Settings.from_env()
    settings.ensure_dirs()
    ws = Workspace(settings, embedder=MiniLMEmbedder(), llm=ScriptedLLM())
    ws._llm = scripted_tour(ws.store, rounds=2)  # its answers read the chunk ids of the record the workspace opened
    yield ws
    if ws.is_built("runner"):
        ws.runner.stop(cancel_running=True)


def test_the_tour_walks_the_whole_flow_labels_what_it_made_and_resets(workspace):
    ws, store = workspace, workspace.store
    state = run_tour(ws)
    assert [(k, s.status) for k, s in state.steps.items()] == [(s.key, "done") for s in script().steps]
    assert state.finished and state.seconds > 0 and not state.error
    assert load(ws.settings) == state  # the page, a second tab and the reset read the same

    # what it made, each labelled as the tour's
    assert state.paper_added and store.get_paper(state.paper_id).file_name == "digit-thumbnails.pdf"
    problem, plan = store.get_problem(state.problem_id), store.get_plan(state.plan_id)
    hypothesis = store.get_hypothesis(state.hypothesis_id)
    for row in (problem, hypothesis, plan):
        assert row.generated_by == "scripted:scripted · tour"
    assert plan.status == "accepted" and plan.hypothesis_id == hypothesis.id
    runs = [store.get_run(i) for i in state.run_ids]
    assert [(r.kind, r.status, r.plan_id, r.data["tour"]) for r in runs] == [
        ("baseline", "succeeded", plan.id, True), ("variant", "succeeded", plan.id, True)]
    assert runs[0].parameters == {} and runs[1].parameters == {"classifier": "svm_rbf"}  # the plan's setting

    # each step's result, in words, from the record
    base, variant = runs[0].metrics["accuracy"], runs[1].metrics["accuracy"]
    assert state.steps["baseline"].result == f"accuracy = {base} with the paper's settings."
    assert "the plan's settings (classifier = svm_rbf)" in state.steps["variant"].result
    assert f"{base:.4g} → {variant:.4g}" in state.steps["variant"].result
    assert problem.data.task in state.steps["problem"].result
    html = Path(state.report).read_text(encoding="utf-8")
    assert "<h2>Result</h2>" in html and "scripted:scripted · tour" in html

    again = run_tour(ws)  # starting again replaces the last tour: nothing of it is left untracked
    assert again.problem_id != state.problem_id and store.get_problem(state.problem_id) is None
    assert all(store.get_run(i) is None for i in state.run_ids) and len(store.list_runs()) == 2
    assert [p.id for p in store.list_plans()] == [again.plan_id]
    state = again

    removed = tour_reset.reset(ws)
    assert removed == ["its research problem, hypothesis and plan", "2 runs", "the sample paper"]
    assert store.get_problem(state.problem_id) is None and store.get_plan(state.plan_id) is None
    assert all(store.get_run(i) is None for i in state.run_ids) and store.get_paper(state.paper_id) is None
    assert load(ws.settings) is None and not folder(ws.settings).exists()


def test_every_step_says_what_it_does_in_two_or_three_sentences():
    for step in script().steps:
        sentences = [s for s in step.words.replace("…", ".").split(". ") if s.strip()]
        assert 2 <= len(sentences) <= 3 and step.expected_s > 0, step.key
    assert script().expected_s <= 180  # the tour is promised in a few minutes
