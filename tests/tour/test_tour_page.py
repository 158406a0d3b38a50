"""The Tour page (AppTest): one button runs the tour in the background, each step shows its words and then its
result, the report can be downloaded at the end, and Reset removes what the tour made."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from mlr.config import REPO_ROOT
from mlr.llm.select import Selection
from mlr.tour.script import script
from tests.support.apptest import poll
from tests.tour.test_tour import scripted_tour

pytestmark = pytest.mark.timeout(400)


@pytest.fixture
def page(data_dir, monkeypatch):
    monkeypatch.setenv("MLR_IDEA_MODE", "free")
    monkeypatch.chdir(REPO_ROOT)
    st.cache_resource.clear()
    from mlr.config import Settings
    from mlr.store import Store

    store = Store(Settings.from_env().db_path)
    model = scripted_tour(store)
    monkeypatch.setattr("mlr.llm.select.select_llm", lambda settings: Selection(model, False, [], "test"))
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/tour.py")
    at.run()
    assert not at.exception, at.exception
    yield at, store
    from ui import resources

    resources.runner().stop(cancel_running=True)
    st.cache_resource.clear()


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_the_tour_page_runs_the_flow_shows_each_result_and_resets(page):
    at, store = page
    titles = [f"Step {i} of {len(script().steps)}: {s.title}" for i, s in enumerate(script().steps, 1)]
    assert all(t in markdown(at) for t in titles)  # every step announced, with its words, before it runs
    assert all(s.words in [c.value for c in at.caption] for s in script().steps)
    next(b for b in at.button if b.label == "Start the tour").click().run()
    poll(at, lambda a: any("The tour finished" in s.value for s in a.success), timeout=300,
         shown=lambda a: markdown(a)[-600:])
    text = markdown(at)
    assert text.count(":material/check_circle:") == len(script().steps)
    run = store.list_runs()[0]
    assert f"{run.metrics['accuracy']:.4g}" in text  # the variant's result, as it arrived
    assert [b.label for b in at.get("download_button")] == ["Download report"]
    assert store.list_plans()[0].generated_by.endswith("· tour")

    next(b for b in at.button if b.label == "Reset the tour").click().run()
    assert not at.exception
    assert store.list_plans() == [] and store.list_runs() == [] and store.list_papers() == []
    assert ":material/check_circle:" not in markdown(at)
