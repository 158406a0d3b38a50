"""Untrusted text reaches the page sanitised: a remote image planted in a PDF passage, in model answers and in a
notebook (a Markdown cell and a Markdown output) makes the real browser fetch nothing.

A local HTTP server stands for the attacker's host; every request it gets is recorded. The record is prepared
through ``mlr`` (a real library ingest, research rows as a model would have written them, a real papermill run),
then the served app shows them in headless Chromium on the Library, Ideas and Experiment pages.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest

from mlr.config import Settings
from mlr.store import Store
from tests.library.library_pdfs import make_paper
from tests.support.browser import AppServer

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a")

    def log_message(self, *args):
        pass


@pytest.fixture
def attacker():
    """A local server standing for the remote host; ``.seen`` lists the paths it was asked for."""
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _prepare(data: Path, tmp: Path, img) -> str:
    """A planted paper, research on it with planted answers, a planted notebook run; returns the prototype slug."""
    from mlr.execution.prototypes import add_prototype
    from mlr.execution.runner import NotebookRunner
    from mlr.library import open_library
    from mlr.library.embedders import MiniLMEmbedder

    settings = Settings.from_env({"MLR_DATA_DIR": str(data)})
    settings.ensure_dirs()
    store = Store(settings.db_path)
    library = open_library(settings, store, MiniLMEmbedder())
    pdf = make_paper(tmp / "planted.pdf", title="Planted Passages for Quokka Tracking", topic="quokka tracking",
                     filler_repeats=0, extra=f"Zebrafish evidence {img('pdf')} concludes this.")
    paper_id = library.add_file(str(pdf)).paper_id
    chunk = next(c for c in store.paper_chunks(paper_id) if img("pdf") in c.text)  # the passage carries it whole
    assert len(chunk.text) < 650, "the planted passage must be shown whole (passages are cut at 700 characters)"

    problem_id = store.add_problem(
        paper_id, {"task": f"Track quokkas {img('task')}", "gaps": [{"text": "g", "chunk_id": chunk.id}],
                   "keywords": ["quokka"]},
        related=[{"source": "library", "chunk_id": chunk.id, "paper_id": paper_id, "title": f"T {img('title')}",
                  "section": chunk.section, "page": chunk.page, "score": 0.9, "text": chunk.text}])
    hid = store.add_hypothesis(problem_id, {"method": f"Zebra method {img('method')}",
                                            "rationale": f"Because **stripes** {img('rationale')} help.",
                                            "citations": [{"chunk_id": chunk.id, "paper_id": paper_id}]})
    store.add_plan(hid, {"objective": f"Objective {img('objective')}", "experiment_design": [f"Step {img('step')}"],
                         "dataset": f"D {img('dataset')}"})

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# Planted notebook\n\nSee {img('nbcell')} here."),
                nbformat.v4.new_code_cell("seed = 0", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(
                    "import json\nfrom IPython.display import Markdown, display\n"
                    f"display(Markdown({('Output ' + img('nbout'))!r}))\n"
                    "json.dump({'score': 1.0}, open('metrics.json', 'w'))")]
    nb.metadata["mlr"] = {"primary_metric": "score", "higher_is_better": True, "description": f"Planted {img('desc')}"}
    proto = add_prototype(settings, "planted.ipynb", nbformat.writes(nb).encode())
    runner = NotebookRunner(settings, store).start()
    try:
        outcome = runner.run(str(proto.path), {})
    finally:
        runner.stop()
    assert outcome.status == "succeeded", outcome
    return proto.slug


def test_planted_remote_images_are_never_fetched(browser, artifacts, tmp_path, attacker):
    port = attacker.server_address[1]

    def img(tag: str) -> str:
        return f"![x](http://127.0.0.1:{port}/?q={tag})"

    data = tmp_path / "data"
    slug = _prepare(data, tmp_path, img)
    server = AppServer(data, artifacts / "server.log").start()
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        _show_everything(page, server.url, slug, artifacts)
        page.wait_for_timeout(1500)  # time for any image request to leave
        planted = page.locator(f"img[src*=':{port}'], a[href*=':{port}']").evaluate_all(
            "els => els.map(e => e.outerHTML.slice(0, 300))")
    except BaseException:
        page.screenshot(path=str(artifacts / "failure.png"), full_page=True)
        raise
    finally:
        server.stop()
    assert _Recorder.seen == [], f"the browser fetched planted URLs: {_Recorder.seen}"
    assert planted == [], f"a planted URL became an image or a link: {planted}"


def _show_everything(page, url: str, slug: str, artifacts: Path) -> None:
    """The Library, the Ideas page (planted passage, hypothesis, its cited passage, plan) and the Experiment
    page's executed notebook, each drawn in full."""
    def settle():
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)

    def no_traceback():
        assert page.locator("[data-testid='stException']").count() == 0, "a traceback reached the user"

    page.goto(url)
    page.get_by_role("heading", name="Library").first.wait_for(timeout=120_000)
    settle()
    no_traceback()

    page.locator("[data-testid='stSidebarNav']").get_by_text("Ideas", exact=True).click()
    page.get_by_text("Zebra method").first.wait_for(timeout=300_000)  # the hypothesis card
    settle()
    page.get_by_text("Cited passages (1)").first.click()
    # the planted passage, drawn open (related work, the cited passage)
    page.locator(":visible", has_text="Zebrafish evidence").last.wait_for(timeout=30_000)
    page.get_by_text("help.").first.wait_for(timeout=30_000)  # the rationale, drawn (without its image)
    settle()
    no_traceback()
    page.screenshot(path=str(artifacts / "ideas.png"), full_page=True)

    page.goto(f"{url}/experiment?prototype={slug}")
    page.get_by_role("heading", name="Experiment").first.wait_for(timeout=120_000)
    settle()
    page.get_by_text("Executed notebook").first.click()
    page.get_by_text("Planted notebook").first.wait_for(timeout=60_000)  # the Markdown cell, drawn
    settle()
    no_traceback()
    page.screenshot(path=str(artifacts / "experiment.png"), full_page=True)
