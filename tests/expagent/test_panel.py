"""AppTest of the ExperimentAgent panel on the Experiment page: a failed run, a proposed patch (scripted
model), approval, and a successful rerun of the patched copy; the attempt tree is drawn."""

from __future__ import annotations

import time

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from mlr.config import REPO_ROOT
from mlr.execution.prototypes import add_prototype
from mlr.execution.runner import NotebookRunner
from tests.expagent.conftest import BROKEN

pytestmark = pytest.mark.timeout(400)


def _poll(at, predicate, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if predicate(at):
            return
        time.sleep(0.5)
    raise AssertionError("the panel did not get there in time")


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def test_failed_run_patch_approval_and_successful_rerun(data_dir, settings, store, scripted, monkeypatch):
    proto = add_prototype(settings, "zero_division.ipynb", (BROKEN / "zero_division.ipynb").read_bytes())
    first = NotebookRunner(settings, store)
    failed = first.run(str(proto.path), {})
    first.stop()
    assert failed.status == "failed"

    monkeypatch.chdir(REPO_ROOT)
    st.cache_resource.clear()
    st.cache_data.clear()
    monkeypatch.setattr("ui.resources.llm", lambda: scripted)
    scripted.enqueue({"cell_index": 3, "new_source": "accuracy = sum(kept) / max(len(kept), 1)",
                      "explanation": "no score passes the threshold: guard the empty case"})
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/experiment.py")
    at.run()
    try:
        assert not at.exception, at.exception
        box = at.selectbox(key="exp-proto")
        box.select_index(next(i for i, o in enumerate(box.options) if "zero_division" in o)).run()
        _button(at, "xa-debug-start").click().run()
        assert any("ZeroDivisionError" in m.value for m in at.markdown)
        _button(at, "xa-propose").click().run()
        _poll(at, lambda a: any(b.key == "xa-approve" for b in a.button))
        diff = next(c.value for c in at.code if "max(len(kept), 1)" in c.value)
        assert "-accuracy = sum(kept) / len(kept)" in diff
        _button(at, "xa-approve").click().run()
        _poll(at, lambda a: any("ran successfully" in s.value for s in a.success))
        assert len(at.get("graphviz_chart")) >= 1
        attempts = store.list_attempts(plan_id=None)
        assert [(a["source"], a["outcome"]) for a in attempts] == [("initial", "failed"), ("llm", "succeeded")]
        assert "max(len(kept), 1)" not in proto.path.read_text()  # the patch went to a copy
    finally:
        from ui import resources

        resources.runner().stop(cancel_running=True)
        st.cache_resource.clear()
