"""The screen is paired: a candidate is confirmed only when it beats the best on the screening seed itself.

A fake runner (no kernels) whose metric is ``level[seed] + boost[mode]``: seed 0 lies above the mean over
seeds, so a no-op candidate compared with the best's *mean* would look better and be confirmed for nothing.
"""

from __future__ import annotations

import itertools

from mlr.execution.procs import process_identity
from mlr.experiments import control
from mlr.experiments.candidates import CandidateSources
from mlr.experiments.loop import ExperimentLoop
from mlr.protocols import RunOutcome
from mlr.store import Store
from tests.support.loop_notebooks import toy_notebook

LEVEL = {0: 0.60, 1: 0.50}  # seed 0 is 0.05 above the mean over the two seeds


class FakeRunner:
    adopt_queue = True

    def __init__(self, boost):
        self.boost, self.ids, self.runs = boost, itertools.count(1), {}

    def submit(self, notebook, parameters, **_):
        run_id = next(self.ids)
        self.runs[run_id] = LEVEL[parameters["seed"]] + self.boost[parameters["mode"]]
        return run_id

    def wait(self, run_id, timeout=None):
        return RunOutcome(run_id=run_id, status="succeeded", metrics={"score": self.runs[run_id]})

    def cancel(self, run_id):
        pass


def test_a_no_op_candidate_is_discarded_after_one_run(settings, tmp_path):
    store = Store(settings.db_path)
    nb = toy_notebook(tmp_path / "toy.ipynb", modes={"base": 0.0, "same": 0.0}, fixed=["lr"])
    loop_id = control.create(store, nb, budget_runs=4, seeds=2, params_only=True, stop_at_success=False)
    sources = CandidateSources(store, tmp_path / "loops")
    ExperimentLoop(store, FakeRunner({"base": 0.0, "same": 0.0}), sources, owner=process_identity(),
                   poll_s=0.01).run(loop_id)
    exps = store.list_experiments(loop_id)
    assert exps[0].kind == "baseline" and exps[0].n == 2
    candidates = exps[1:]
    assert len(candidates) == 2  # budget 4 = baseline 2 + two screens (not one screen + one confirmation)
    for e in candidates:
        assert e.status == "discarded" and e.n == 1, (e.status, e.metric_by_seed)
        assert "0.6 on that seed" in e.verdict


def test_a_better_candidate_is_confirmed_and_kept(settings, tmp_path):
    store = Store(settings.db_path)
    nb = toy_notebook(tmp_path / "toy.ipynb", modes={"base": 0.0, "better": 0.2}, fixed=["lr"])
    loop_id = control.create(store, nb, budget_runs=6, seeds=2, params_only=True, stop_at_success=False)
    sources = CandidateSources(store, tmp_path / "loops")
    ExperimentLoop(store, FakeRunner({"base": 0.0, "better": 0.2}), sources, owner=process_identity(),
                   poll_s=0.01).run(loop_id)
    kept = [e for e in store.list_experiments(loop_id) if e.status == "kept"]
    assert [e.parameters["mode"] for e in kept] == ["better"] and kept[0].n == 2
