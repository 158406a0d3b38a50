"""The Plan and Experiment pages keep their selection in the address (a reload or a shared link shows the same
hypothesis, plan and prototype) and, without one, open on the item touched last rather than the highest id."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from mlr.config import REPO_ROOT
from mlr.execution.prototypes import add_prototype

pytestmark = pytest.mark.timeout(300)
PROBE = REPO_ROOT / "tests" / "fixtures" / "notebooks" / "probe.ipynb"


def hypotheses(store, n: int) -> list[int]:
    with store.write() as conn:
        paper = store.add_paper(conn, content_hash="h", file_name="p.pdf", path="/x/p.pdf", title="P", authors=[],
                                year=2024, pages=1, chunks=[], sections=[])
    problem = store.add_problem(paper, {"task": "t", "gaps": [], "keywords": []})
    return [store.add_hypothesis(problem, {"method": f"method {i}", "rationale": "r"}) for i in range(1, n + 1)]


def touch(store, table: str, row_id: int, stamp: str, column: str = "updated_at") -> None:
    with store.write() as conn:
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (stamp, row_id))


def open_page(page: str, query: dict | None = None) -> AppTest:
    """A fresh browser session (a reload, or a link opened elsewhere) on ``page`` with ``query`` in the address."""
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.query_params.update(query or {})
    at.run()
    at.switch_page(page)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def fresh(data_dir, settings, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    from ui import resources

    resources.runner().stop(cancel_running=True)
    st.cache_resource.clear()


def test_plan_page_opens_on_the_hypothesis_touched_last_and_keeps_it_across_a_reload(fresh, store):
    first, second, _third = hypotheses(store, 3)
    store.save_hypothesis(first, {"method": "method 1, edited", "rationale": "r"})
    touch(store, "hypotheses", first, "2999-01-01T00:00:00+00:00")  # edited last (the clock has seconds only)
    at = open_page("pages/plan.py")
    assert at.selectbox(key="plan-hypothesis").value == first  # not the highest id
    assert at.query_params["hypothesis"] == str(first)
    at.selectbox(key="plan-hypothesis").set_value(second).run()
    assert at.query_params["hypothesis"] == str(second)
    reloaded = open_page("pages/plan.py", {"hypothesis": str(second)})
    assert reloaded.selectbox(key="plan-hypothesis").value == second
    assert any("method 2" in t.value for t in reloaded.text_area)


def test_plan_page_counts_a_plan_edit_as_touching_its_hypothesis(fresh, store):
    first, _second = hypotheses(store, 2)
    plan = store.add_plan(first, {"objective": "o", "method": "m"})
    touch(store, "plans", plan, "2999-01-01T00:00:00+00:00")
    assert open_page("pages/plan.py").selectbox(key="plan-hypothesis").value == first


def _accepted(store, hid: int, lr: float) -> int:
    plan = store.add_plan(hid, {"objective": f"lr {lr}", "method": "m", "primary_metric": "accuracy",
                                "parameters": [{"name": "lr", "values": [lr], "description": "step"}]})
    store.set_plan_status(plan, "accepted")
    return plan


def test_experiment_page_keeps_plan_and_prototype_in_the_address(fresh, settings, store):
    add_prototype(settings, "probe.ipynb", PROBE.read_bytes())
    first_h, second_h = hypotheses(store, 2)
    first, second = _accepted(store, first_h, 0.3), _accepted(store, second_h, 0.7)
    touch(store, "plans", first, "2999-01-01T00:00:00+00:00", "accepted_at")  # accepted last
    at = open_page("pages/experiment.py")
    assert at.selectbox(key="exp-plan").value.id == first  # not the highest id
    assert at.query_params["plan"] == str(first)
    box = at.selectbox(key="exp-proto")
    box.select_index(next(i for i, o in enumerate(box.options) if "Probe prototype (added)" in o)).run()
    assert at.query_params["prototype"] == "probe"
    reloaded = open_page("pages/experiment.py", {"plan": str(second), "prototype": "probe"})
    assert reloaded.selectbox(key="exp-plan").value.id == second
    assert reloaded.selectbox(key="exp-proto").value.slug == "probe"
    assert reloaded.number_input(key="exp-probe-lr").value == 0.7  # the form follows the address's plan
    ad_hoc = open_page("pages/experiment.py", {"plan": "none", "prototype": "probe"})
    assert ad_hoc.selectbox(key="exp-plan").value is None
