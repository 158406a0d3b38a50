"""The HTML report printed to PDF by headless Chromium (the browser the project's browser tests drive with
Playwright). Offline: the page is set from the HTML text and every request it would make is refused."""

from __future__ import annotations

import importlib.util
import logging
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HOW = ("install Chromium (apt-get install chromium) and Playwright (pip install playwright), or write "
       "--format html and print it to PDF from a browser")


class PdfUnavailable(RuntimeError):
    """No Chromium (or no Playwright) here: the message says what to install or do instead."""


def chromium() -> str | None:
    """The Chromium executable, if one is installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None)


def available() -> str:
    """"" when a PDF can be made here, else why not (in words, with what to do)."""
    if importlib.util.find_spec("playwright") is None:
        return f"PDF needs Playwright, which is not installed: {HOW}."
    if chromium() is None:
        return f"PDF needs Chromium, which is not installed: {HOW}."
    return ""


def html_to_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML page (A4, backgrounds printed)."""
    problem = available()
    if problem:
        raise PdfUnavailable(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort())  # a self-contained report needs nothing from outside
            page.set_content(html, wait_until="load")
            return page.pdf(format="A4", print_background=True,
                            margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
        finally:
            browser.close()
