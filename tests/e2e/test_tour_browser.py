"""The guided tour in a real headless Chromium against `streamlit run app.py`, on the embedded demo model with no
network: one button runs it to the end, every step shows its result, and the report downloads as one
self-contained HTML file. Screenshots of the start and the end stay in test-artifacts/<test> on failure."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from mlr.tour.script import script
from tests.support.browser import AppServer

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

TOUR_S = 600  # the tour took 70 s on an idle pair of cores; the other test workers share them


def test_the_tour_runs_to_the_end_and_the_report_downloads(browser, artifacts, tmp_path):
    server = AppServer(tmp_path / "data", artifacts / "server.log").start()
    page = browser.new_page(viewport={"width": 1300, "height": 1000}, accept_downloads=True)
    try:
        page.goto(server.url)
        page.wait_for_selector("[data-testid='stApp']", timeout=120_000)
        page.locator("[data-testid='stSidebarNav']").get_by_text("Tour", exact=True).click()
        page.get_by_role("heading", name="Tour").first.wait_for(timeout=60_000)
        for i, step in enumerate(script().steps, 1):
            page.get_by_text(f"Step {i} of {len(script().steps)}: {step.title}").first.wait_for(timeout=30_000)
        page.screenshot(path=str(artifacts / "01-tour-start.png"), full_page=True)
        started = time.monotonic()
        page.get_by_role("button", name="Start the tour").click()
        page.get_by_text("The tour finished").first.wait_for(timeout=TOUR_S * 1000)
        took = time.monotonic() - started
        page.screenshot(path=str(artifacts / "02-tour-end.png"), full_page=True)
        assert page.locator("[data-testid='stException']").count() == 0
        # Every step's card says how long it took (the last card may still be re-rendering when the end shows).
        expect(page.get_by_text(re.compile(r"^took \d+ s$"))).to_have_count(len(script().steps), timeout=60_000)
        assert page.get_by_text(re.compile(r"accuracy: 0\.8056 → ")).count() >= 1  # the variant against the baseline
        with page.expect_download(timeout=120_000) as info:
            page.get_by_role("button", name="Download report").click()
        download = info.value
        assert re.fullmatch(r"plan-\d+-report\.html", download.suggested_filename)
        html = Path(download.path()).read_text(encoding="utf-8")
        assert "<h2>Result</h2>" in html and "· tour" in html and not re.search(r"(?i)https?://", html)
        print(f"tour in the browser: {took:.0f} s")
    finally:
        page.close()
        server.stop()
