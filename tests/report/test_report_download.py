"""The Download report button on the Plan and Experiment pages (AppTest): it names the plan's file and, when
clicked, hands over that plan's self-contained HTML report, built from the record.

The button builds the report only on a click (``data`` is a callable). AppTest runs without a Streamlit runtime,
where a callable's file is never registered, so the test records what the page hands ``st.download_button``
(the real one still draws the button) and calls it as a click would."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from mlr.config import REPO_ROOT
from mlr.report.render import measure

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def handed(monkeypatch) -> list[dict]:
    """Every call of st.download_button: its label, file name and data (drawn by the real button too)."""
    calls, real = [], st.download_button

    def record(label, data, file_name=None, **kwargs):
        calls.append({"label": label, "data": data, "file_name": file_name})
        return real(label, data, file_name, **kwargs)

    monkeypatch.setattr(st, "download_button", record)
    return calls


@pytest.fixture
def app(research, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    st.cache_resource.clear()
    st.cache_data.clear()

    def open_page(page: str, query: dict) -> AppTest:
        at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
        at.query_params.update(query)
        at.run()
        at.switch_page(page)
        at.query_params.update(query)
        at.run()
        assert not at.exception, at.exception
        return at

    yield open_page
    from ui import resources

    resources.runner().stop(cancel_running=True)
    st.cache_resource.clear()


def download(at: AppTest, handed: list[dict]) -> tuple[str, bytes]:
    """What a click on the page's one Download report button hands the browser: (file name, bytes)."""
    assert [b.label for b in at.get("download_button")].count("Download report") == 1
    last = [c for c in handed if c["label"] == "Download report"][-1]  # the page's last run
    assert callable(last["data"])  # built on the click, not on every rerun of the page
    return last["file_name"], last["data"]()


@pytest.mark.parametrize("page, query", [("pages/plan.py", "hypothesis"), ("pages/experiment.py", "plan")])
def test_download_report_hands_over_the_plans_html_report(research, app, handed, page, query):
    store = research.store
    plan = store.get_plan(research.loop_plan)
    at = app(page, {query: str(plan.hypothesis_id if query == "hypothesis" else plan.id)})
    name, data = download(at, handed)
    assert name == f"plan-{plan.id}-report.html"
    html = data.decode("utf-8")
    loop = store.get_loop(research.loop_id)
    best = store.get_experiment(loop.best_id)
    assert html.startswith("<!DOCTYPE html>") and "<h2>Result</h2>" in html
    assert f"From experiment loop {loop.id}" in html
    assert measure(type("M", (), {"mean": best.mean, "sd": best.sd, "n": best.n})) in html
