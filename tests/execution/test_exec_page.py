"""The Experiment page, headless: pick a plan and a prototype, run baseline and variant to completion,
see the comparison and the executed notebook; cancel a running run from the page."""

import time

import pytest

from mlr.execution.prototypes import add_prototype
from tests.support.apptest import open_page

pytestmark = pytest.mark.timeout(300)


def _accepted_plan(store) -> int:
    with store.write() as conn:
        paper = store.add_paper(conn, content_hash="h1", file_name="p.pdf", path="/x/p.pdf", title="P", authors=[],
                                year=2024, pages=1, chunks=[], sections=[])
    problem = store.add_problem(paper, {"task": "t", "gaps": [], "keywords": []})
    hypothesis = store.add_hypothesis(problem, {"method": "raise the learning rate", "rationale": "r"})
    plan = store.add_plan(hypothesis, {"objective": "Higher accuracy with a larger step", "method": "m",
                                       "primary_metric": "accuracy", "higher_is_better": True,
                                       "parameters": [{"name": "lr", "values": [0.3], "description": "step"}]})
    store.set_plan_status(plan, "accepted")
    return plan


@pytest.fixture
def page(data_dir, settings, monkeypatch):
    yield from open_page(monkeypatch, "pages/experiment.py")  # settings, record and runner of this data dir


def _select_probe(at):
    box = at.selectbox(key="exp-proto")
    box.select_index(next(i for i, o in enumerate(box.options) if "Probe prototype (added)" in o)).run()


def _poll_until(at, store, predicate, timeout=120):
    seen_live = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        seen_live |= any(h.value == "Running" for h in at.subheader)
        if predicate():
            at.run()
            return seen_live
        time.sleep(0.5)
    raise AssertionError("runs did not finish in time")


def test_baseline_and_variant_of_a_plan_to_completion(page, settings, store, probe):
    add_prototype(settings, "probe.ipynb", probe.read_bytes())
    plan_id = _accepted_plan(store)
    at = page
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="exp-plan").select_index(1).run()
    _select_probe(at)
    assert at.number_input(key="exp-probe-lr").value == 0.3  # pre-filled from the plan
    assert at.text_input(key="exp-probe-layers").value == "[8, 4]"
    at.button(key="exp-baseline").click().run()
    next(b for b in at.button if b.label == "Run variant").click().run()
    assert not at.exception, at.exception
    runs = store.list_runs(plan_id=plan_id)
    assert sorted(r.kind for r in runs) == ["baseline", "variant"]
    seen_live = _poll_until(at, store, lambda: all(r.status == "succeeded"
                                                  for r in store.list_runs(plan_id=plan_id)))
    assert seen_live  # the live panel showed the runs while they were queued/running
    variant = next(r for r in store.list_runs(plan_id=plan_id) if r.kind == "variant")
    assert variant.parameters["lr"] == 0.3 and variant.parameters["layers"] == [8, 4]
    assert not at.exception, at.exception
    texts = " ".join(m.value for m in at.success)
    assert "accuracy: 0.6 → 0.8 (+33.3%), clears the 10% bar" in texts
    assert [m.value for m in at.metric][:2] == ["0.6", "0.8"]
    codes = " ".join(c.value for c in at.code)
    assert "json.dump({'accuracy'" in codes  # the executed notebook is rendered


def test_ad_hoc_run_is_cancelled_from_the_page(page, settings, store, probe):
    add_prototype(settings, "probe.ipynb", probe.read_bytes())
    at = page
    at.run()
    _select_probe(at)
    at.text_input(key="exp-probe-mode").input("loop")
    next(b for b in at.button if b.label == "Run variant").click().run()
    run_id = store.list_runs()[0].id
    deadline = time.monotonic() + 60
    while store.get_run(run_id).progress.cell_index != 4:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    at.run()
    assert any("Run" in m.value and "running" in m.value for m in at.markdown)
    at.button(key=f"exp-cancel-{run_id}").click().run()
    _poll_until(at, store, lambda: store.get_run(run_id).status == "cancelled", 60)
    assert any(r.status == "cancelled" for r in store.list_runs())
    assert not at.exception, at.exception
