"""The Experiment page shows what runs: the variant form is re-filled when the plan or the prototype changes
(Streamlit would otherwise keep the previous plan's values), a failed run is announced and selected, and
the arrows and colours of the comparison agree with its numbers."""

from __future__ import annotations

import time

import pytest

from mlr.config import REPO_ROOT
from mlr.execution.prototypes import add_prototype
from tests.support.apptest import open_page

pytestmark = pytest.mark.timeout(300)
PROBE = REPO_ROOT / "tests" / "fixtures" / "notebooks" / "probe.ipynb"


def accepted_plan(store, lr, *, title="P", mode=None) -> int:
    with store.write() as conn:
        paper = store.add_paper(conn, content_hash=f"h{title}{lr}", file_name=f"{title}.pdf", path=f"/x/{title}.pdf",
                                title=title, authors=[], year=2024, pages=1, chunks=[], sections=[])
    problem = store.add_problem(paper, {"task": "t", "gaps": [], "keywords": []})
    hypothesis = store.add_hypothesis(problem, {"method": f"lr {lr}", "rationale": "r"})
    params = [{"name": "lr", "values": [lr], "description": "step"}]
    if mode:
        params.append({"name": "mode", "values": [mode], "description": "behaviour"})
    plan = store.add_plan(hypothesis, {"objective": f"Try lr {lr}", "method": "m", "primary_metric": "accuracy",
                                       "higher_is_better": True, "parameters": params})
    store.set_plan_status(plan, "accepted")
    return plan


@pytest.fixture
def page(data_dir, settings, monkeypatch):
    add_prototype(settings, "probe.ipynb", PROBE.read_bytes())
    yield from open_page(monkeypatch, "pages/experiment.py")


def select(at, key: str, text: str) -> None:
    box = at.selectbox(key=key)
    box.select_index(next(i for i, o in enumerate(box.options) if text in o)).run()
    assert not at.exception, at.exception


def run_variant(at) -> None:
    next(b for b in at.button if b.label == "Run variant").click().run()
    assert not at.exception, at.exception


def test_switching_plan_refills_the_variant_form_with_what_runs(page, store):
    first, second = accepted_plan(store, 0.3, title="A"), accepted_plan(store, 0.7, title="B")
    at = page
    at.run()
    select(at, "exp-plan", f"Plan {first} ")
    select(at, "exp-proto", "Probe prototype (added)")
    assert at.number_input(key="exp-probe-lr").value == 0.3
    select(at, "exp-plan", f"Plan {second} ")
    assert at.number_input(key="exp-probe-lr").value == 0.7  # not the first plan's 0.3
    assert any("Pre-filled from the plan: lr = 0.7" in c.value for c in at.caption)
    run_variant(at)
    (run,) = store.list_runs(plan_id=second)
    assert run.parameters["lr"] == 0.7 and run.kind == "variant"


def test_an_edit_is_kept_until_the_plan_or_prototype_changes(page, store):
    plan = accepted_plan(store, 0.3)
    at = page
    at.run()
    select(at, "exp-plan", f"Plan {plan} ")
    select(at, "exp-proto", "Probe prototype (added)")
    at.number_input(key="exp-probe-lr").set_value(0.45)
    run_variant(at)  # a form's fields are sent with its button
    assert store.list_runs(plan_id=plan)[0].parameters["lr"] == 0.45
    at.run()
    assert at.number_input(key="exp-probe-lr").value == 0.45  # the researcher's edit stays while nothing changes
    select(at, "exp-plan", "No plan")
    assert at.number_input(key="exp-probe-lr").value == 0.1  # ad hoc: the notebook's default
    assert not any("Pre-filled from the plan" in c.value for c in at.caption)
    select(at, "exp-plan", f"Plan {plan} ")
    assert at.number_input(key="exp-probe-lr").value == 0.3


def poll(at, predicate, timeout=120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if predicate():
            at.run()
            return
        time.sleep(0.5)
    raise AssertionError("runs did not finish in time")


def test_a_failed_run_is_announced_and_selected(page, store):
    plan = accepted_plan(store, 0.3)
    at = page
    at.run()
    select(at, "exp-plan", f"Plan {plan} ")
    select(at, "exp-proto", "Probe prototype (added)")
    at.button(key="exp-baseline").click().run()
    poll(at, lambda: [r.status for r in store.list_runs(plan_id=plan)] == ["succeeded"])
    show = at.selectbox(key=f"exp-show-{plan}-{store.list_runs(plan_id=plan)[0].notebook}")
    assert show.value.status == "succeeded" and not at.error  # nothing failed yet
    at.text_input(key="exp-probe-mode").input("raise")
    run_variant(at)
    deadline = time.monotonic() + 120
    while store.list_runs(plan_id=plan)[0].status != "failed":  # the page is not redrawn meanwhile
        assert time.monotonic() < deadline, "the variant did not fail in time"
        time.sleep(0.3)
    at.run()  # the first page run that sees the failure
    assert not at.exception, at.exception
    failed = store.list_runs(plan_id=plan)[0]
    banner = at.error[0].value  # the first error on the page: above the results
    assert banner.startswith(f"Run {failed.id} (variant) failed in cell 4") and "ValueError: boom at lr=0.3" in banner
    assert any(f"Run {failed.id} (variant) failed" in t.proto.body for t in at.toast)
    assert show.key and at.selectbox(key=show.key).value.id == failed.id  # "Show run" moved to the failure
    assert any(e.value.startswith("This cell failed") for e in at.error)  # the failing cell is drawn
    at.run()
    assert not at.toast  # announced once, not on every rerun
    assert at.error[0].value == banner  # the banner stays while the failure is the newest run


def finished_run(store, notebook: str, plan: int, kind: str, lr: float, accuracy: float) -> int:
    """A finished run written straight into the record (no notebook runs: the runner never sees it queued)."""
    from mlr.store.db import dumps, now_iso

    with store.write() as conn:
        cur = conn.execute(
            "INSERT INTO runs (plan_id, kind, notebook, parameters, status, queued_at, finished_at, data, metrics)"
            " VALUES (?, ?, ?, ?, 'succeeded', ?, ?, '{}', ?)",
            (plan, kind, notebook, dumps({"lr": lr}), now_iso(), now_iso(), dumps({"accuracy": accuracy})))
        return int(cur.lastrowid)


def marks(at) -> dict[str, tuple[str, str, str]]:
    from streamlit.proto.Metric_pb2 import Metric

    return {m.label: (m.proto.delta, Metric.MetricColor.Name(m.proto.color), Metric.MetricDirection.Name(
        m.proto.direction)) for m in at.metric}


@pytest.mark.parametrize(("variant", "expected"), [
    (0.6, {"Variant accuracy": ("±0.0%", "GRAY", "NONE"), "Success bar": ("not cleared", "RED", "NONE")}),
    (0.63, {"Variant accuracy": ("+5.0%", "GREEN", "UP"), "Success bar": ("not cleared", "RED", "NONE")}),
    (0.54, {"Variant accuracy": ("-10.0%", "RED", "DOWN"), "Success bar": ("not cleared", "RED", "NONE")}),
    (0.8, {"Variant accuracy": ("+33.3%", "GREEN", "UP"), "Success bar": ("cleared", "GREEN", "NONE")}),
])
def test_arrows_and_colours_agree_with_the_numbers(page, settings, store, variant, expected):
    from mlr.experiments.scope import resolved

    plan = accepted_plan(store, 0.3)
    notebook = resolved(settings.prototypes_dir / "probe.ipynb")
    finished_run(store, notebook, plan, "baseline", 0.1, 0.6)
    finished_run(store, notebook, plan, "variant", 0.3, variant)
    at = page
    at.run()
    select(at, "exp-plan", f"Plan {plan} ")
    select(at, "exp-proto", "Probe prototype (added)")
    shown = marks(at)
    for label, mark in expected.items():
        assert shown[label] == mark, label
    assert any("Grey: the baseline compared" in c.value and "success bar (0.66)" in c.value for c in at.caption)


def test_the_chart_names_the_baseline_and_draws_the_success_bar(store):
    from mlr.experiments.scope import ExperimentScope

    plan = accepted_plan(store, 0.3)
    finished_run(store, "/nb.ipynb", plan, "baseline", 0.1, 0.6)
    finished_run(store, "/nb.ipynb", plan, "variant", 0.2, 0.62)
    finished_run(store, "/nb.ipynb", plan, "variant", 0.3, 0.7)
    res = ExperimentScope(store, plan, "/nb.ipynb", declared_metric="accuracy", declared_higher=True).results(0.1)
    assert [(r["run"], r["role"]) for r in res.chart_rows()] == [
        ("#1 baseline", "baseline (compared)"), ("#2 variant", "other variant run"), ("#3 variant", "variant (compared)")]
    assert res.success_line() == pytest.approx(0.66)


def test_a_run_shows_its_parameters_and_metrics_as_tables(page, settings, store):
    from mlr.experiments.scope import resolved

    plan = accepted_plan(store, 0.3)
    notebook = resolved(settings.prototypes_dir / "probe.ipynb")
    finished_run(store, notebook, plan, "baseline", 0.1, 0.6)
    at = page
    at.run()
    select(at, "exp-plan", f"Plan {plan} ")
    select(at, "exp-proto", "Probe prototype (added)")
    tables = [d.value for d in at.dataframe]
    assert any(list(t.columns) == ["parameter", "value"] and t.iloc[0].tolist() == ["lr", "0.1"] for t in tables)
    assert any(list(t.columns) == ["metric", "value"] and t.iloc[0].tolist() == ["accuracy", "0.6"] for t in tables)
    runs = next(t for t in tables if "finished" in t.columns)
    assert runs.iloc[0]["finished"] == "just now" and runs.iloc[0]["parameters"] == "lr = 0.1"


def test_switching_prototype_refills_the_form(page, store):
    plan = accepted_plan(store, 0.3)
    at = page
    at.run()
    select(at, "exp-plan", f"Plan {plan} ")
    select(at, "exp-proto", "Probe prototype (added)")
    at.number_input(key="exp-probe-lr").set_value(0.45)
    run_variant(at)
    select(at, "exp-proto", "digit recognition")
    assert at.text_input(key="exp-digit-thumbnails-classifier").value == "centroid"  # that notebook's default
    select(at, "exp-proto", "Probe prototype (added)")
    assert at.number_input(key="exp-probe-lr").value == 0.3  # the plan's value again, not the edit made before
