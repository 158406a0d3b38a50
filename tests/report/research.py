"""A plan with real runs for the report tests: a paper with passages, a problem whose gaps cite them, a reviewed
hypothesis, a plan edited once and accepted, then real papermill runs of the toy notebook
(tests/support/loop_notebooks.py): direct baseline and variant runs under one plan, an experiment loop over
two seeds under another. After the runs each plan gets a later version (an edit, or the loop's draft)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlr.agents.idea_flow import save_plan
from mlr.config import Settings
from mlr.experiments import control
from mlr.store import Store
from mlr.workspace import Workspace
from tests.support.loop_notebooks import toy_notebook

MODEL = "ollama:qwen2.5:7b"
CHUNKS = [
    {"id": "c-intro", "ordinal": 0, "vector_id": 1, "section": "Introduction", "page": 1, "n_tokens": 20,
     "text": "Toy scores saturate near 0.52 when the mode stays at its base setting."},
    {"id": "c-method", "ordinal": 1, "vector_id": 2, "section": "Method", "page": 3, "n_tokens": 20,
     "text": "A better mode adds a constant boost to the raw score; the evaluation is unchanged."},
    {"id": "c-limits", "ordinal": 2, "vector_id": 3, "section": "Limitations", "page": 7, "n_tokens": 20,
     "text": "We never tried other modes ![x](http://198.51.100.7/leak.png) in this work."},
]
PLAN = {"objective": "Raise the toy score by 10 %", "method": "Switch the mode", "dataset": "toy data",
        "baseline": "mode base", "compute_budget": "one CPU minute", "primary_metric": "score", "higher_is_better": True,
        "experiment_design": ["run the baseline", "run the better mode"],
        "parameters": [{"name": "mode", "values": ["better"], "description": "the variant"}]}


@dataclass
class Research:
    settings: Settings
    store: Store
    notebook: Path
    paper_id: int
    problem_id: int
    direct_plan: int
    loop_plan: int
    loop_id: int


def make_research(root: Path) -> Research:
    settings = Settings.from_env({"MLR_DATA_DIR": str(root / "data"), "MLR_OLLAMA_HOST": "http://127.0.0.1:9"})
    settings.ensure_dirs()
    ws = Workspace(settings)
    store = ws.store
    with store.write() as conn:
        paper_id = store.add_paper(conn, content_hash="toy", file_name="toy.pdf", path=str(root / "toy.pdf"),
                                   title="Boosting Toy Scores", authors=["A. Author"], year=2024, pages=8,
                                   chunks=CHUNKS, sections=["Introduction", "Method", "Limitations"])
    problem_id = store.add_problem(paper_id, {"task": "Toy scores stay low with the base mode.", "keywords": ["toy"],
                                              "gaps": [{"text": "Modes were never compared.", "chunk_id": "c-limits"},
                                                       {"text": "The score saturates.", "chunk_id": "c-intro"}]},
                                   generated_by=MODEL)
    review = {"clarity": {"score": 4, "why": "clear"}, "validity": {"score": 3, "why": "plausible"},
              "rigor": {"score": 3, "why": "seeds"}, "innovativeness": {"score": 2, "why": "small"},
              "generalizability": {"score": 2, "why": "toy"},
              "novelty": {"nearest": [{"chunk_id": "c-method", "paper_id": paper_id, "title": "Boosting Toy Scores",
                                       "section": "Method", "page": 3, "similarity": 0.61,
                                       "text": CHUNKS[1]["text"]}],
                          "max_similarity": 0.61, "threshold": 0.85, "restates_existing": False}}
    notebook = toy_notebook(root / "toy.ipynb", modes={"better": 0.1}, fixed=["lr"])
    plans = []
    for n in range(2):
        hid = store.add_hypothesis(problem_id, {"method": f"Use the better mode ({n})",
                                                "rationale": "The method section says a mode adds a boost.",
                                                "citations": [{"chunk_id": "c-method", "paper_id": paper_id}]},
                                   review=review, generated_by=MODEL)
        plan_id = store.add_plan(hid, PLAN, generated_by=MODEL)
        save_plan(store, plan_id, {**PLAN, "objective": "Raise the toy score by at least 10 %"})  # researcher: v2
        store.set_plan_status(plan_id, "accepted")
        plans.append(plan_id)
    direct, looped = plans
    runner = ws.runner
    try:
        for kind, params in (("baseline", {}), ("variant", {"mode": "better"})):
            outcome = runner.run(str(notebook), params, kind=kind, plan_id=direct)
            assert outcome.status == "succeeded", outcome
        loop_id = control.create(store, notebook, plan_id=looped, budget_runs=4, seeds=2, params_only=True,
                                 stop_at_success=False)
        loop = ws.experiment_loop(use_model=False).run(loop_id)
        assert loop.status == "finished" and loop.best_id, loop.stopped_because
    finally:
        runner.stop(cancel_running=True)
    save_plan(store, direct, {**PLAN, "objective": "Raise the toy score by 20 %"})  # after the runs: v3
    return Research(settings, store, notebook, paper_id, problem_id, direct, looped, loop_id)
