"""AppTest of the ExperimentAgent panel on the Experiment page: a failed run, a proposed patch (scripted
model), approval, and a successful rerun of the patched copy; the attempt tree is drawn."""

from __future__ import annotations


import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from mlr.config import REPO_ROOT
from mlr.execution.prototypes import add_prototype
from mlr.execution.runner import NotebookRunner
from mlr.llm.select import Selection
from tests.expagent.conftest import BROKEN
from tests.support.apptest import poll

pytestmark = pytest.mark.timeout(400)


def _poll(at, predicate, timeout=180):
    poll(at, predicate, timeout)


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def test_failed_run_patch_approval_and_successful_rerun(data_dir, settings, store, scripted, monkeypatch):
    proto = add_prototype(settings, "logic_assert.ipynb", (BROKEN / "logic_assert.ipynb").read_bytes())
    first = NotebookRunner(settings, store)
    failed = first.run(str(proto.path), {})
    first.stop()
    assert failed.status == "failed"

    monkeypatch.chdir(REPO_ROOT)
    st.cache_resource.clear()
    st.cache_data.clear()
    monkeypatch.setattr("mlr.llm.select.select_llm", lambda settings: Selection(scripted, False, [], "test"))
    fixed = ("correct = sum(p == y for p, y in zip(preds, labels))\naccuracy = correct / len(preds)\n"
             "assert 0 <= accuracy <= 1, f'accuracy must be a fraction, got {accuracy}'")
    scripted.enqueue({"cell_index": 3, "new_source": fixed,
                      "explanation": "accuracy is a fraction: do not multiply by 100"})
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/experiment.py")
    at.run()
    try:
        assert not at.exception, at.exception
        box = at.selectbox(key="exp-proto")
        box.select_index(next(i for i, o in enumerate(box.options) if "logic_assert" in o)).run()
        _button(at, "xa-debug-start").click().run()
        assert any("AssertionError" in m.value for m in at.markdown)
        _button(at, "xa-propose").click().run()
        _poll(at, lambda a: any(b.key == "xa-approve" for b in a.button))
        diff = next(c.value for c in at.code if "+accuracy = correct / len(preds)" in c.value)
        assert "-accuracy = correct / len(preds) * 100" in diff
        _button(at, "xa-approve").click().run()
        _poll(at, lambda a: any("ran successfully" in s.value for s in a.success))
        assert len(at.get("graphviz_chart")) >= 1
        attempts = store.list_attempts(plan_id=None)
        assert [(a.source, a.outcome) for a in attempts] == [("initial", "failed"), ("llm", "succeeded")]
        assert "accuracy = correct / len(preds) * 100" in proto.path.read_text()  # the patch went to a copy
    finally:
        from ui import resources

        resources.runner().stop(cancel_running=True)
        st.cache_resource.clear()


def _notebook_bytes(title: str, description: str) -> bytes:
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("C = 1.0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}"), params,
                nbformat.v4.new_code_cell("import json\njson.dump({'accuracy': 0.5}, open('metrics.json', 'w'))")]
    nb.metadata["mlr"] = {"description": description, "primary_metric": "accuracy"}
    return nbformat.writes(nb).encode()


def test_ranking_shows_the_agents_pick_and_use_overrides_the_prototype(data_dir, settings, store, scripted,
                                                                       monkeypatch):
    add_prototype(settings, "news_text.ipynb", _notebook_bytes(
        "News text classifier", "TF-IDF features and logistic regression classifying news articles by topic."))
    with store.write() as conn:
        paper = store.add_paper(conn, content_hash="h", file_name="p.pdf", path="/x/p.pdf", title="P", authors=[],
                                year=2024, pages=1, chunks=[], sections=[])
    problem = store.add_problem(paper, {"task": "t", "gaps": [], "keywords": []})
    plan_id = store.add_plan(store.add_hypothesis(problem, {"method": "m", "rationale": "r"}), {
        "objective": "Test whether a smaller regularisation constant improves topic classification of news "
                     "articles.", "method": "Logistic regression on TF-IDF features of the article text.",
        "dataset": "20 Newsgroups", "primary_metric": "accuracy"})
    store.set_plan_status(plan_id, "accepted")

    monkeypatch.chdir(REPO_ROOT)
    st.cache_resource.clear()
    st.cache_data.clear()
    monkeypatch.setattr("mlr.llm.select.select_llm", lambda settings: Selection(scripted, False, [], "test"))
    scripted.enqueue({"name": "news_text", "reason": "it classifies news text with TF-IDF, as the plan does"})
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/experiment.py")
    at.run()
    try:
        assert not at.exception, at.exception
        assert at.selectbox(key="exp-proto").value.slug != "news_text"  # nothing preselects it
        _button(at, "xa-rank").click().run()
        _poll(at, lambda a: any("Agent's pick: news_text" in m.value for m in a.markdown), timeout=120)
        table = at.dataframe[0].value
        names = list(table["prototype"])
        # Real MiniLM similarities: the news classifier is closest to the plan, and the table is sorted.
        assert names[0] == "news_text" and len(names) == 4
        assert list(table["similarity"]) == sorted(table["similarity"], reverse=True)
        assert any("news_text** (llm)" in m.value for m in at.markdown)
        assert scripted.schemas[0]["properties"]["name"]["enum"][0] == "news_text"
        # The researcher overrides the agent: "Use …" selects another prototype on the page.
        other = names[1]
        _button(at, f"xa-use-{other}").click().run()
        assert not at.exception, at.exception
        assert at.selectbox(key="exp-proto").value.slug == other
        _button(at, "xa-use-news_text").click().run()
        assert at.selectbox(key="exp-proto").value.slug == "news_text"
    finally:
        from ui import resources

        resources.runner().stop(cancel_running=True)
        st.cache_resource.clear()
