"""The Library page headless (AppTest): upload through the real uploader, progress, table, search, delete."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def fresh_resources(data_dir):
    st.cache_resource.clear()  # cached objects are per process: each test gets its own data directory
    st.cache_data.clear()
    yield
    st.cache_resource.clear()


def _wait_for_jobs(at, timeout: float = 120.0) -> list[str]:
    """Rerun the page (as the fragment's timer would) until no job is queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        at.run()
        assert not at.exception
        labels = [e.label for e in at.get("status")]
        if labels and not any(label.endswith(("queued", "running")) for label in labels):
            return labels
        assert time.monotonic() < deadline, labels
        time.sleep(0.5)


def _texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [e.value for e in at.error] + [i.value for i in at.info])


def test_library_page_upload_search_delete(fresh_resources, paper):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    assert any("library is empty" in i.value for i in at.info)

    pdf = paper("good.pdf", extra="Quokka attention gates the memory of the retriever.").read_bytes()
    at.file_uploader[0].set_value([("good.pdf", pdf, "application/pdf"),
                                   ("fake.pdf", b"<html>not really</html>", "application/pdf")])
    next(b for b in at.button if b.label == "Add to library").click()
    statuses = _wait_for_jobs(at)
    assert any("good.pdf — added" in s for s in statuses) and any("fake.pdf — rejected" in s for s in statuses)
    assert "not a PDF" in _texts(at)
    table = at.dataframe[0].value
    assert list(table["file"]) == ["good.pdf"] and list(table["title"]) == ["Efficient Retrieval for Long Documents"]
    assert {"title", "authors", "year", "pages", "chunks", "added"} <= set(table.columns)

    at.text_input[0].input("quokka attention").run()
    assert not at.exception
    results = _texts(at)
    assert "Efficient Retrieval for Long Documents" in results and "method · page" in results
    assert ":orange-background[Quokka]" in results and ":orange-background[attention]" in results

    delete = next(b for b in at.button if b.label == "Delete paper")
    assert delete.disabled  # nothing is removed before the researcher confirms
    assert any("No research is built on it" in w.value for w in at.warning)
    next(c for c in at.checkbox if c.label.startswith("Yes, remove paper")).check().run()
    next(b for b in at.button if b.label == "Delete paper").click()
    at.run()
    assert not at.exception
    assert any("library is empty" in i.value for i in at.info)


def test_load_samples_button_without_samples_reports_clearly(fresh_resources, monkeypatch, tmp_path):
    from mlr.config import Settings

    monkeypatch.setattr(Settings, "samples_dir", property(lambda self: tmp_path / "none"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    next(b for b in at.button if b.label == "Load sample papers").click()
    at.run()
    assert not at.exception and "No sample papers found" in _texts(at)


def test_handle_uploads_writes_inside_data_dir_and_queues(settings, tmp_path):
    from ui.library_view import handle_uploads, highlight

    class Upload:
        def __init__(self, name, data):
            self.name, self._data = name, data

        def getvalue(self):
            return self._data

    class Jobs:
        def __init__(self):
            self.submitted = []

        def submit_file(self, path, name, delete_after=False):
            self.submitted.append((path, name, delete_after, path.read_bytes()))
            return len(self.submitted)

    jobs = Jobs()
    incoming = settings.uploads_dir / ".incoming"
    assert handle_uploads(jobs, [Upload("../../../etc/passwd.pdf", b"%PDF-1"), Upload("a b.pdf", b"x")], incoming) == [1, 2]
    (p1, n1, d1, b1), (p2, n2, _, _) = jobs.submitted
    assert p1.parent == incoming and n1 == "passwd.pdf" and d1 and b1 == b"%PDF-1"
    assert n2 == "a b.pdf" and p1 != p2
    assert highlight("A *bold* [link](x) about Zebras.", "zebra") == \
        r"A \*bold\* \[link\]\(x\) about **:orange-background[Zebras]**\."


def test_load_sample_papers_button(fresh_resources):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    next(b for b in at.button if b.label == "Load sample papers").click()
    statuses = _wait_for_jobs(at)
    assert len(statuses) == 3 and all(s.endswith("added") for s in statuses), statuses
    at.run()
    table = at.dataframe[0].value
    assert len(table) == 3 and all(table["chunks"] > 0) and all(table["year"].notna())
    assert any("Papers (3)" in s.value for s in at.subheader)
