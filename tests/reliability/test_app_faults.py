"""Faults against the served app in a real browser: bad PDFs, two sessions uploading at once, and the
app process killed (SIGKILL) during an ingest and during a run, then restarted on the same data."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import psutil
import pytest
from pypdf import PdfReader, PdfWriter

from tests.support.browser import AppServer
from tests.library.library_pdfs import make_paper, make_scanned

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1500)]


def _bad_pdfs(folder: Path) -> dict[str, Path]:
    good = make_paper(folder / "source.pdf")
    data = good.read_bytes()
    (folder / "truncated.pdf").write_bytes(data[: len(data) // 2])
    (folder / "random.pdf").write_bytes(bytes(range(256)) * 64)
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "image.pdf").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 512)
    encrypted = PdfWriter(clone_from=PdfReader(good))
    encrypted.encrypt(user_password="secret", owner_password="owner")
    encrypted.write(folder / "locked.pdf")
    make_scanned(folder / "scanned.pdf")
    huge = PdfWriter()
    for _ in range(3000):
        huge.add_blank_page(width=200, height=200)
    huge.write(folder / "thousands.pdf")
    good.unlink()
    return {p.stem: p for p in folder.glob("*.pdf")}


class Browser:
    def __init__(self, browser, server: AppServer):
        self.page = browser.new_page(viewport={"width": 1400, "height": 1100})
        self.server = server

    def open(self, title: str = "Library"):
        self.page.goto(self.server.url)
        self.page.wait_for_selector("[data-testid='stApp']", timeout=120_000)
        if title != "Library":
            self.page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()
        self.page.get_by_role("heading", name=title).first.wait_for(timeout=120_000)
        self.settle()
        return self

    def settle(self):
        self.page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)

    def upload(self, files: list[Path]):
        self.page.locator("input[type='file']").first.set_input_files([str(f) for f in files])
        for f in files:
            self.page.get_by_text(f.name).first.wait_for(timeout=60_000)
        self.page.get_by_role("button", name="Add to library").click()

    def see(self, text, timeout: float = 300):
        self.page.get_by_text(text).first.wait_for(timeout=timeout * 1000)

    def no_traceback(self):
        assert self.page.locator("[data-testid='stException']").count() == 0, "a traceback reached the user"


def _papers(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "workspace" / "mlr.sqlite3") as conn:
        return [r[0] for r in conn.execute("SELECT file_name FROM papers ORDER BY id")]


def test_bad_pdfs_are_refused_with_clear_messages_and_nothing_is_added(browser, artifacts, tmp_path):
    bad = _bad_pdfs(tmp_path)
    server = AppServer(tmp_path / "data", artifacts / "server.log").start()
    try:
        ui = Browser(browser, server).open()
        ui.upload(sorted(bad.values()))
        ui.see(re.compile(r"thousands\.pdf — rejected"), timeout=600)
        for name in bad:
            ui.see(f"{name}.pdf — rejected")
        ui.settle()
        ui.page.screenshot(path=str(artifacts / "rejected.png"), full_page=True)
        text = ui.page.inner_text("[data-testid='stMain']")
        assert re.search(r"password", text, re.I), "the encrypted file's message should say it needs a password"
        assert re.search(r"no (extractable )?text|scanned", text, re.I)
        assert re.search(r"pages", text, re.I)
        ui.no_traceback()
        ui.see("Papers (0)")
        assert _papers(tmp_path / "data") == []
        assert not [p for p in (tmp_path / "data" / "workspace" / "uploads").rglob("*.pdf")
                    if ".incoming" not in p.parts], "a refused file was kept in the library's uploads"
    finally:
        server.stop()


def test_two_sessions_uploading_at_once_lose_nothing(browser, artifacts, tmp_path):
    """Two app processes on one data directory (two sessions whose writes really overlap: one server's job
    board would queue them on its library lane), each ingesting a long paper at the same time."""
    one = make_paper(tmp_path / "alpha.pdf", title="Sparse Attention for Genomics", topic="genomic sequence models",
                     filler_repeats=160)
    two = make_paper(tmp_path / "beta.pdf", title="Calibrated Uncertainty for Tabular Data", topic="tabular calibration",
                     filler_repeats=160)
    data = tmp_path / "data"
    servers = [AppServer(data, artifacts / f"server-{i}.log") for i in (1, 2)]
    try:
        for server in servers:
            server.start()
        a, b = Browser(browser, servers[0]).open(), Browser(browser, servers[1]).open()
        for ui, pdf in ((a, one), (b, two)):
            ui.page.locator("input[type='file']").first.set_input_files(str(pdf))
            ui.page.get_by_text(pdf.name).first.wait_for(timeout=60_000)
        a.page.get_by_role("button", name="Add to library").click()
        b.page.get_by_role("button", name="Add to library").click()
        # Each server holds one upload (its own lane starts it at once): both in flight and neither committed
        # means the two ingests overlap. Had the first finished before the second began, this times out.
        incoming = data / "workspace" / "uploads" / ".incoming"
        _wait_for(lambda: len(list(incoming.glob("*.part"))) == 2 and not _papers(data), 120,
                  "the two uploads were never in flight together: no concurrent write happened")
        _wait_for(lambda: len(_papers(data)) == 2, 600, "both papers in the record")
        for ui in (a, b):
            ui.no_traceback()
        assert sorted(_papers(data)) == ["alpha.pdf", "beta.pdf"]
        fresh = Browser(browser, servers[0]).open()  # the index holds every passage of both papers
        fresh.see("Papers (2)", timeout=60)
        fresh.no_traceback()
        assert fresh.page.get_by_text("no vector in the index").count() == 0
        fresh.page.get_by_label("Search passages").fill("tabular calibration")
        fresh.page.keyboard.press("Enter")
        fresh.see("Calibrated Uncertainty for Tabular Data · ", timeout=120)
    finally:
        for server in servers:
            server.stop()


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(what)


def test_kill_during_ingest_then_restart(browser, artifacts, tmp_path):
    data = tmp_path / "data"
    server = AppServer(data, artifacts / "server.log").start()
    ui = Browser(browser, server).open()
    ui.page.get_by_role("button", name="Load sample papers").click()
    # Kill while the samples are being ingested: after the first is in, before the last.
    _wait_for(lambda: (data / "workspace" / "mlr.sqlite3").exists() and len(_papers(data)) >= 1, 300,
              "no sample paper was added")
    server.kill()
    before = _papers(data)
    assert 1 <= len(before) < 3, before

    server = AppServer(data, artifacts / "server2.log").start()
    try:
        ui = Browser(browser, server).open()
        ui.see(f"Papers ({len(before)})")
        ui.no_traceback()
        search = ui.page.get_by_label("Search passages")
        search.fill("baseline accuracy")
        search.press("Enter")
        ui.see(re.compile(r"· page \d+ · found by"))  # a passage is found (scores are behind the details toggle)
        ui.page.get_by_role("button", name="Load sample papers").click()
        ui.see("Papers (3)", timeout=600)
        ui.no_traceback()
        assert len(_papers(data)) == 3
    finally:
        server.stop()


def _run_row(data: Path):
    with sqlite3.connect(data / "workspace" / "mlr.sqlite3") as conn:
        return conn.execute("SELECT id, status, pid FROM runs ORDER BY id DESC LIMIT 1").fetchone()


def test_kill_during_a_run_then_restart_shows_it_interrupted(browser, artifacts, tmp_path):
    data = tmp_path / "data"
    server = AppServer(data, artifacts / "server.log").start()
    ui = Browser(browser, server).open("Experiment")
    ui.page.get_by_role("button", name="Run baseline (defaults)").click()
    run_id, _, pid = _wait_for(lambda: (r := _run_row(data)) and r[1] == "running" and r[2] and r, 120,
                               "the run never started")
    time.sleep(1.0)
    server.kill()
    # The run's process tree goes down with the app: no orphaned kernel keeps the GPU or the CPU.
    _wait_for(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, 30,
              "the run's process outlived the app")

    server = AppServer(data, artifacts / "server2.log").start()
    try:
        ui = Browser(browser, server).open("Experiment")
        _wait_for(lambda: _run_row(data)[1] == "interrupted", 60, "the run was not marked interrupted")
        ui.page.reload()
        ui.page.wait_for_selector("[data-testid='stApp']", timeout=120_000)
        ui.see("interrupted", timeout=120)
        ui.no_traceback()
    finally:
        server.stop()
