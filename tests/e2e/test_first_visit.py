"""The first visit to a page's address on a fresh server (a bookmark, a shared link) shows the app's navigation:
page titles and the status panel, never the raw file names of pages/ ("app", "experiment", ...)."""

from __future__ import annotations

import pytest

from tests.support.browser import AppServer

pytestmark = pytest.mark.timeout(300)


def test_first_request_for_a_page_address_gets_titles_and_the_status_panel(tmp_path, browser, artifacts):
    (tmp_path / "data").mkdir()
    server = AppServer(tmp_path / "data", artifacts / "server.log").start()
    try:
        page = browser.new_page()
        page.goto(f"{server.url}/plan")  # the first request this server sees names a page
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
        page.wait_for_selector("[data-testid='stSidebarNav']", timeout=60_000)
        page.get_by_text("No hypotheses yet").first.wait_for(timeout=60_000)
        page.screenshot(path=str(artifacts / "plan.png"), full_page=True)
        links = [t.split()[-1] for t in page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()]  # after the icon
        assert links[:4] == ["Library", "Ideas", "Plan", "Experiment"], links  # titles (more pages may follow)
        assert not {"app", "library", "ideas", "plan", "experiment"} & set(links), links  # never the file names
        assert page.locator("[data-testid='stSidebar']").get_by_text("Status", exact=True).count() == 1
    finally:
        server.stop()
