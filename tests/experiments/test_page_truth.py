"""The Experiment page shows what runs: the variant form is re-filled when the plan or the prototype changes
(Streamlit would otherwise keep the previous plan's values), a failed run is announced and selected, and
the arrows and colours of the comparison agree with its numbers."""

from __future__ import annotations

import time

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from mlr.config import REPO_ROOT
from mlr.execution.prototypes import add_prototype

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
    monkeypatch.chdir(REPO_ROOT)
    st.cache_resource.clear()
    st.cache_data.clear()
    add_prototype(settings, "probe.ipynb", PROBE.read_bytes())
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/experiment.py")
    yield at
    from ui import resources

    resources.runner().stop(cancel_running=True)
    st.cache_resource.clear()


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
