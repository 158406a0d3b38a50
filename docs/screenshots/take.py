"""Before/after screenshots of the Plan and Experiment pages (issue 14), on the same seeded record.

    python docs/screenshots/take.py BEFORE_CHECKOUT   # a checkout of the code before (git worktree add ...)

Seeds a data directory (a paper with a cited passage, an accepted plan for the digit-thumbnails prototype,
a baseline, a variant that equals it, and a variant that failed), serves each checkout with
``streamlit run app.py`` and saves full-page shots as ``<page>-before.png`` / ``<page>-after.png`` here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
AFTER = HERE.parent.parent
sys.path.insert(0, str(AFTER))

from mlr.config import Settings
from mlr.store import Store
from mlr.store.db import dumps, now_iso
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, free_port


def seed(data: Path, checkout: Path) -> None:
    store = Store(Settings(data_dir=data).db_path)
    with store.write() as conn:
        paper = store.add_paper(conn, content_hash="d", file_name="digit-thumbnails.pdf", path="/x/d.pdf",
                                title="Digit thumbnails", authors=[], year=2024, pages=4, sections=[],
                                chunks=[{"id": "e20ccffef2bb-0013", "ordinal": 13, "vector_id": 13,
                                         "section": "4 Limitations", "page": 3, "n_tokens": 9,
                                         "text": "Template matching on 4x4 thumbnails confuses 3, 5 and 8."}])
    problem = store.add_problem(paper, {"task": "Classify digit thumbnails", "gaps": [], "keywords": []})
    hid = store.add_hypothesis(problem, {"method": "An RBF-kernel SVM on the pooled pixels", "rationale":
                                         "The centroid baseline cannot separate curved strokes.", "citations":
                                         [{"chunk_id": "e20ccffef2bb-0013", "paper_id": paper}]})
    plan = store.add_plan(hid, {"objective": "Beat the centroid baseline by 10 % accuracy", "method": "SVM",
                                "primary_metric": "accuracy", "higher_is_better": True, "prototype": "digit-thumbnails",
                                "parameters": [{"name": "classifier", "values": ["svm_rbf"], "description": "model"}]})
    store.set_plan_status(plan, "accepted")
    notebook = str((checkout / "sample_papers" / "digit-thumbnails" / "prototype.ipynb").resolve())
    rows = [("baseline", {}, "succeeded", {"accuracy": 0.8056}, None),
            ("variant", {"classifier": "centroid"}, "succeeded", {"accuracy": 0.8056}, None),
            ("variant", {"pool": 3}, "failed", None, {"ename": "ValueError", "cell_index": 1,
                                                      "evalue": "pool must be 1, 2 or 4 (8 must divide evenly), got 3"})]
    with store.write() as conn:
        for kind, params, status, metrics, error in rows:
            conn.execute("INSERT INTO runs (plan_id, kind, notebook, parameters, status, queued_at, finished_at, data,"
                         " metrics, error, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, 1.2)",
                         (plan, kind, notebook, dumps(params), status, now_iso(), now_iso(),
                          dumps(metrics) if metrics else None, dumps(error) if error else None))


def shoot(checkout: Path, tag: str) -> None:
    from playwright.sync_api import sync_playwright

    data = Path(tempfile.mkdtemp(prefix=f"shots-{tag}-"))
    seed(data, checkout)
    port = free_port()
    env = {**os.environ, "MLR_DATA_DIR": str(data), "MLR_OLLAMA_HOST": "http://127.0.0.1:9",
           "MLR_OLLAMA_PROBE_TIMEOUT_S": "0.5", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(checkout)}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port)], cwd=checkout, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 3000})
            for name in ("plan", "experiment"):
                page.goto(f"http://127.0.0.1:{port}/{name}")
                page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=180_000)
                page.wait_for_timeout(4000)
                page.screenshot(path=str(HERE / f"{name}-{tag}.png"), full_page=True)
            browser.close()
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(20)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        shoot(Path(sys.argv[1]).resolve(), "before")
    shoot(AFTER, "after")
