"""The experiment loop panel of the Experiment page (ui/experiment_loop.py), headless with AppTest: start a loop
from the form on a tiny notebook, see the chart and the table grow, stop it; approve an awaiting code candidate.
Plus the panel's pure helpers (edited search space, chart rows, success bar, CSV log)."""

from __future__ import annotations

import csv
import io

import nbformat
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from mlr.config import REPO_ROOT
from mlr.execution.prototypes import add_prototype
from mlr.experiments import control, progress
from mlr.experiments.space import space_for_notebook
from tests.support.loop_notebooks import EVAL_CELL, toy_notebook
from tests.support.apptest import poll

pytestmark = pytest.mark.timeout(300)

SCOPE = "adhoc-toy_loop"


def _slow_toy(tmp_path, sleep_s: float) -> bytes:
    """The toy loop notebook with a pause before its evaluation cell, so a run lasts a few seconds."""
    path = toy_notebook(tmp_path / "toy_loop.ipynb")
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.insert(EVAL_CELL, nbformat.v4.new_code_cell(f"import time\ntime.sleep({sleep_s})"))
    return nbformat.writes(nb).encode()


@pytest.fixture
def toy(tmp_path, settings):
    return add_prototype(settings, "toy_loop.ipynb", _slow_toy(tmp_path, 2.5))


@pytest.fixture
def page(data_dir, settings, scripted, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    st.cache_resource.clear()
    st.cache_data.clear()
    monkeypatch.setattr("ui.resources.llm", lambda: scripted)  # the ExperimentAgent panel draws; no model loads
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/experiment.py")
    yield at
    from ui import resources

    for loop in resources.store().list_loops(status=("running",)):
        control.stop(resources.store(), loop.id)
    resources.jobs().wait("loop:", timeout=60)
    resources.runner().stop(cancel_running=True)
    st.cache_resource.clear()


def _select_toy(at) -> None:
    box = at.selectbox(key="exp-proto")
    box.select_index(next(i for i, o in enumerate(box.options) if "Toy loop task" in o)).run()
    assert not at.exception, at.exception


def _poll(at, predicate, timeout=120):
    def shown(a):
        return ([m.value for m in a.markdown] + [e.value for e in a.error] + [c.value for c in a.caption])[-12:]

    poll(at, predicate, timeout, shown=shown)


def _charts(at):
    return list(at.get("vega_lite_chart"))


def _experiments_table(at):
    return next((d.value for d in at.dataframe if "change / reason" in d.value.columns), None)


def test_start_from_the_form_see_chart_and_table_then_stop(page, store, toy):
    at = page
    at.run()
    _select_toy(at)
    assert not any(b.key and b.key.startswith("xl-stop-") for b in at.button)  # no loop yet
    editor = next(d.value for d in at.dataframe if "search it" in d.value.columns)  # the space, shown before
    assert {"lr", "mode", "seed", "test_size"} == set(editor["parameter"])
    fixed = editor.set_index("parameter")
    assert not fixed.loc["seed", "search it"] and "🔒" in fixed.loc["seed", "why fixed"]
    assert not fixed.loc["test_size", "search it"] and fixed.loc["lr", "search it"]
    at.number_input(key=f"xl-runs-{SCOPE}").set_value(8)  # room to press Stop while it runs
    at.number_input(key=f"xl-seeds-{SCOPE}").set_value(1)
    at.checkbox(key=f"xl-params-only-{SCOPE}").check()
    next(b for b in at.button if b.label == "Start loop").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]

    (loop,) = store.list_loops()
    assert loop.config.params_only and loop.config.budget_runs == 8 and loop.config.seeds == 1
    assert loop.notebook == str(toy.path.resolve()) and loop.plan_id is None
    assert loop.config.space["params"] and not loop.config.autopilot

    # The chart and the table appear once experiments are measured, and grow.
    _poll(at, lambda a: _charts(a) and _experiments_table(a) is not None)
    _poll(at, lambda a: len([e for e in store.list_experiments(loop.id) if e.mean is not None]) >= 2)
    table = _experiments_table(at)
    assert len(table) >= 2 and table["experiment"].iloc[0] == 0 and table["kind"].iloc[0] == "baseline"
    assert any("Progress: " in c.value for c in at.caption)
    status = " ".join(m.value for m in at.markdown)
    assert store.get_loop(loop.id).status == "running", "the loop ended before Stop could be pressed"
    assert "Running — " in status and "of 8 runs used" in status

    at.button(key=f"xl-stop-{loop.id}").click().run()
    assert not at.exception, at.exception
    _poll(at, lambda a: store.get_loop(loop.id).status == "stopped", timeout=60)
    assert any(m.value.startswith("**Stopped — ") for m in at.markdown)
    assert not any(b.key == f"xl-stop-{loop.id}" for b in at.button)
    assert any("Summary" in m.value for m in at.markdown)


def test_awaiting_code_candidate_shows_its_diff_and_approve_makes_it_pending(page, store, toy):
    loop_id = control.create(store, toy.path, goal="raise the score", budget_runs=4, seeds=1)
    store.update_loop(loop_id, status="paused", stopped_because="paused by the researcher")
    base = store.add_experiment(loop_id, kind="baseline", status="baseline", notebook=str(toy.path),
                                parameters={"lr": 0.1}, reason="the prototype's defaults")
    store.update_experiment(base, metric_by_seed={"0": 0.52}, n=1, mean=0.52)
    diff = "--- cell 3\n+++ cell 3\n-gain = 0.5\n+gain = 0.6"
    exp = store.add_experiment(loop_id, kind="code", status="awaiting_approval", notebook=str(toy.path),
                               parameters={"lr": 0.1}, parent_id=base, diff=diff, reason="raise the gain")
    at = page
    at.run()
    _select_toy(at)
    codes = [c for c in at.code if "+gain = 0.6" in c.value]
    assert codes and codes[0].proto.language == "diff"
    assert any("awaiting your approval" in m.value for m in at.markdown)
    assert any(b.key == f"xl-resume-{loop_id}" for b in at.button)  # paused: Resume is offered
    at.text_input(key=f"xl-note-{loop_id}-{exp}").input("fine, but keep it small")
    at.button(key=f"xl-approve-{loop_id}-{exp}").click().run()
    assert not at.exception, at.exception
    assert store.get_experiment(exp).status == "pending"
    notes = store.list_loop_notes(loop_id)
    assert [n.kind for n in notes] == ["approve", "feedback"] and notes[1].text == "fine, but keep it small"
    assert not any(b.key == f"xl-approve-{loop_id}-{exp}" for b in at.button)
    assert store.get_loop(loop_id).status == "paused"  # approving does not start the loop


# -- pure helpers -------------------------------------------------------------------------------------------------
def test_edited_space_keeps_locked_parameters_fixed(tmp_path):
    space = space_for_notebook(toy_notebook(tmp_path / "t.ipynb"))
    chosen, problems = progress.edited_space(space, {"lr": False, "seed": True})
    assert not chosen.get("lr").searchable and chosen.get("lr").reason == "kept fixed by you"
    assert not chosen.get("seed").searchable
    assert problems and problems[0].startswith("seed must stay fixed")
    again, problems = progress.edited_space(chosen, {"lr": True})
    assert again.get("lr").searchable and again.get("lr").distribution is not None and not problems


def test_bar_chart_rows_and_csv_log():
    from mlr.store.loop_records import Loop, LoopConfig, LoopExperiment

    assert progress.bar_value(0.5, 0.1, True) == pytest.approx(0.55)
    assert progress.bar_value(2.0, 0.1, False) == pytest.approx(1.8)
    assert progress.bar_value(-1.0, 0.1, True) == pytest.approx(-0.9)
    loop = Loop(id=1, notebook="n", config=LoopConfig(metric="score", seed_parameter="seed",
                                                      base_parameters={"lr": 0.1, "seed": 0}))

    def exp(i, kind, status, by_seed, mean, **kw):
        return LoopExperiment(id=10 + i, loop_id=1, ordinal=i, kind=kind, status=status, notebook="n",
                              metric_by_seed=by_seed, mean=mean, n=len(by_seed), **kw)

    exps = [exp(0, "baseline", "baseline", {"0": 0.5, "1": 0.52}, 0.51, parameters={"lr": 0.1, "seed": 0},
                data={"runs": {"0": 1, "1": 2}}),
            exp(1, "parameters", "discarded", {"0": 0.4}, 0.4, parameters={"lr": 0.3, "seed": 0}),
            exp(2, "parameters", "kept", {"0": 0.6, "1": 0.62}, 0.61, parameters={"lr": 0.05, "seed": 0}),
            exp(3, "code", "failed", {"0": None}, None, diff="-a\n+b"),
            exp(4, "code", "awaiting_approval", {}, None, diff="-a\n+c")]
    dots, line = progress.chart_rows(loop, exps)
    assert [d["outcome"] for d in dots] == ["baseline", "discarded", "kept", "failed"]
    assert dots[3]["value"] == 0.4  # a failed experiment is drawn at the worst value
    assert [p["best"] for p in line] == [0.51, 0.51, 0.61, 0.61]
    rows = progress.table_rows(loop, exps)
    assert rows[1]["parameters"] == "lr=0.3" and rows[0]["parameters"] == "the prototype's defaults"
    log = list(csv.DictReader(io.StringIO(progress.log_csv(loop, exps))))
    assert [(r["experiment"], r["seed"], r["value"]) for r in log] == [
        ("0", "0", "0.5"), ("0", "1", "0.52"), ("1", "0", "0.4"), ("2", "0", "0.6"), ("2", "1", "0.62"),
        ("3", "0", ""), ("4", "", "")]
    assert log[0]["run"] == "1" and log[5]["code_change"] == "yes" and log[2]["parent"] == ""
    assert progress.status_line(loop.model_copy(update={"status": "running", "runs_used": 5}), 3.24) == \
        "Running — 5 of 12 runs used, 3.2 min"
