"""The Library page speaks to people (issue 14): an empty library says what the four pages do and makes Load sample
papers the primary button (Add to library once files are chosen); a rejected upload shows no full "done" bar; stages
are words; raw scores and passage ids wait behind a details toggle; a query close to nothing says so."""

from __future__ import annotations

import threading

import pytest

from mlr.relevance import MIN_SIMILARITY
from tests.support.apptest import open_page, poll


@pytest.fixture
def page(data_dir, monkeypatch):
    def opened():
        at = next(gen)
        at.run()
        assert not at.exception, at.exception
        return at

    gen = None

    def start():
        nonlocal gen
        gen = open_page(monkeypatch, "pages/library.py", timeout=120)
        return opened()
    yield start
    if gen is not None:
        gen.close()


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def test_empty_library_says_what_the_pages_do_and_the_samples_are_the_next_step(page, paper):
    at = page()
    intro = next(m.value for m in at.markdown if "one page after the other" in m.value)
    assert [intro.index(f"**{name}**") for name in ("Library", "Ideas", "Plan", "Experiment")] == sorted(
        intro.index(f"**{name}**") for name in ("Library", "Ideas", "Plan", "Experiment"))
    assert _button(at, "Load sample papers").proto.type == "primary"
    assert _button(at, "Add to library").proto.type == "secondary"
    at.file_uploader[0].set_value([("good.pdf", paper("good.pdf").read_bytes(), "application/pdf")]).run()
    assert _button(at, "Add to library").proto.type == "primary"
    assert _button(at, "Load sample papers").proto.type == "secondary"


def test_a_rejected_upload_shows_no_done_bar_and_stages_are_words(page):
    at = page()
    at.file_uploader[0].set_value([("fake.pdf", b"<html>not really</html>", "application/pdf")]).run()
    _button(at, "Add to library").click().run()
    poll(at, lambda at: any(s.label == "fake.pdf — rejected" for s in at.get("status")),
         shown=lambda at: [s.label for s in at.get("status")])
    rejected = next(s for s in at.get("status") if s.label == "fake.pdf — rejected")
    assert rejected.error and not rejected.get("progress")

    from ui import resources

    gate, started = threading.Event(), threading.Event()

    def slow(job):
        job.progress("chunk", 0.3)
        started.set()
        gate.wait(60)

    resources.library_jobs().board.start(None, "slow.pdf", slow, lane="library")
    try:
        assert started.wait(30)
        at.run()
        running = next(s for s in at.get("status") if s.label == "slow.pdf — running")
        assert [p.proto.text for p in running.get("progress")] == ["splitting into passages"]
    finally:
        gate.set()


def test_scores_are_behind_details_and_a_far_query_finds_nothing_close(page, library, paper):
    library.add_files([paper("good.pdf")])
    at = page()
    at.text_input[0].input("efficient retrieval for long documents").run()
    shown = "\n".join(m.value for m in at.markdown)
    assert "Efficient Retrieval for Long Documents" in shown
    assert "score" not in shown and "similarity" not in "\n".join(c.value for c in at.caption)
    at.toggle(key="library-details").set_value(True).run()
    captions = [c.value for c in at.caption]
    assert any(c.startswith("similarity 0.") and "passage `" in c for c in captions), captions

    at.toggle(key="library-details").set_value(False).run()
    at.text_input[0].input("how to bake sourdough bread at home").run()
    assert [i.value for i in at.info] == ["No passage is close to this query."]
    assert "Efficient Retrieval for Long Documents" not in "\n".join(m.value for m in at.markdown)
    at.toggle(key="library-details").set_value(True).run()
    assert any(f"below the closeness threshold {MIN_SIMILARITY:.2f}" in c.value for c in at.caption)


def test_closeness_keeps_passages_at_the_threshold_and_everything_a_keyword_search_found():
    from types import SimpleNamespace as P

    from mlr.relevance import close

    near, far = P(score=MIN_SIMILARITY, found_by="both"), P(score=MIN_SIMILARITY - 0.01, found_by="dense")
    assert close([near, far]) == [near] and close([far]) == []
    keyword_only = [P(score=0.0, found_by="keyword"), P(score=0.0, found_by="keyword")]  # the embedder was down
    assert close(keyword_only) == keyword_only
