"""Deleting a paper with research on it, in the real browser: the page lists what depends on the paper, deletes
nothing before the researcher confirms, and afterwards the problem, hypothesis, accepted plan and run are intact
and still shown on the Ideas page under the removed paper."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from mlr.config import Settings
from mlr.store import Store
from tests.library.library_pdfs import make_paper
from tests.support.browser import AppServer

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]


def _prepare(data: Path, tmp: Path) -> int:
    from mlr.library import open_library
    from mlr.library.embedders import MiniLMEmbedder

    settings = Settings.from_env({"MLR_DATA_DIR": str(data)})
    settings.ensure_dirs()
    store = Store(settings.db_path)
    library = open_library(settings, store, MiniLMEmbedder())
    paper_id = library.add_file(str(make_paper(tmp / "zebra.pdf", title="Counting Zebra Stripes",
                                               topic="zebra stripe counting"))).paper_id
    problem_id = store.add_problem(paper_id, {"task": "count zebra stripes", "gaps": [], "keywords": ["zebra"]})
    hid = store.add_hypothesis(problem_id, {"method": "Stripe-aware pooling", "rationale": "Stripes are periodic."})
    plan_id = store.add_plan(hid, {"objective": "Beat the baseline by 10 %"})
    store.set_plan_status(plan_id, "accepted")
    store.add_run("nb.ipynb", {"x": 1}, plan_id=plan_id)
    return paper_id


def _until(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_deleting_a_paper_in_the_browser_keeps_its_research(browser, artifacts, tmp_path):
    data = tmp_path / "data"
    paper_id = _prepare(data, tmp_path)
    db = data / "workspace" / "mlr.sqlite3"
    server = AppServer(data, artifacts / "server.log").start()
    page = browser.new_page(viewport={"width": 1400, "height": 1100})

    def settle():
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)

    try:
        page.goto(server.url)
        page.get_by_role("heading", name="Library").first.wait_for(timeout=120_000)
        settle()
        page.get_by_text("Delete a paper").first.click()
        page.get_by_text("1 research problem, 1 hypothesis, 1 plan (1 accepted), 1 run").first.wait_for(timeout=30_000)
        delete = page.get_by_role("button", name="Delete paper")
        assert delete.is_disabled(), "a paper with research was one click from deletion"
        confirm = page.get_by_text(f"Yes, remove paper {paper_id}").first
        confirm.click()
        try:  # a click that lands while the page re-renders is lost: tick it again, once
            _until(lambda: not delete.is_disabled(), "", timeout=15.0)
        except AssertionError:
            settle()
            if not page.get_by_role("checkbox", name=f"Yes, remove paper {paper_id}").is_checked():
                confirm.click()
        _until(lambda: not delete.is_disabled(), "the confirmation did not enable the button")
        delete.click()
        _until(lambda: _count(db, "chunks") == 0, "the paper was not removed")  # its passages left the library
        settle()
        assert page.locator("[data-testid='stException']").count() == 0

        assert [_count(db, t) for t in ("problems", "hypotheses", "plans", "plan_versions", "runs")] == [1, 1, 1, 1, 1]

        page.locator("[data-testid='stSidebarNav']").get_by_text("Ideas", exact=True).click()
        page.get_by_text("Stripe-aware pooling").first.wait_for(timeout=120_000)  # the hypothesis is still there
        paper_choice = page.locator("[data-testid='stSelectbox']").first.evaluate(
            "e => e.innerText + ' ' + Array.from(e.querySelectorAll('input')).map(i => i.value).join(' ')")
        assert "Counting Zebra Stripes (removed from the library)" in paper_choice, paper_choice
        assert page.locator("[data-testid='stException']").count() == 0
    except BaseException:
        page.screenshot(path=str(artifacts / "failure.png"), full_page=True)
        raise
    finally:
        server.stop()
