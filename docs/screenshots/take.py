"""Before/after screenshots of the four pages (issue 14), on the same seeded record.

    python docs/screenshots/take.py BEFORE_CHECKOUT   # a checkout of the code before (git worktree add ...)
    python docs/screenshots/take.py --pages library,ideas BEFORE_CHECKOUT   # only these pages

The Library page is shot on an empty data directory (what a new user sees first), the others on the seeded one.

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
    related = [("Nearest centroid classifiers", "2 Method", 2,
                ("Each class is summarised by the mean of its training images; a test image takes the class of the "
                 "nearest mean."), 0.61),
               ("Kernel methods for small images", "3 Results", 4,
                "An RBF-kernel SVM on 8x8 digits reaches 0.98 accuracy with a few hundred support vectors.", 0.58),
               ("Pooling and resolution", "4 Discussion", 5,
                "Average pooling to 4x4 discards the strokes that tell 3 from 8.", 0.55),
               ("Memory budgets on microcontrollers", "1 Introduction", 1,
                "A meter reader keeps a few bytes per glyph.", 0.47),
               ("Template matching revisited", "5 Limitations", 6, "Templates fail on slanted handwriting.", 0.44)]
    with store.write() as conn:
        other = store.add_paper(conn, content_hash="r", file_name="related.pdf", path="/x/r.pdf",
                                title="Related work on digits", authors=[], year=2023, pages=6, sections=[],
                                chunks=[{"id": f"b7c1d2e3f4a5-000{i}", "ordinal": i, "vector_id": 100 + i,
                                         "section": section, "page": page, "n_tokens": 20, "text": text}
                                        for i, (_t, section, page, text, _s) in enumerate(related)])
    problem = store.add_problem(paper, {"task": "Classify digit thumbnails", "gaps": [], "keywords": []})
    store.update_problem(problem, related=[{"source": "library", "chunk_id": f"b7c1d2e3f4a5-000{i}", "paper_id": other,
                                            "title": title, "section": section, "page": page, "score": score,
                                            "text": text} for i, (title, section, page, text, score) in enumerate(related)])
    hid = store.add_hypothesis(problem, {"method": "An RBF-kernel SVM on the pooled pixels", "rationale":
                                         "The centroid baseline cannot separate curved strokes.", "citations":
                                         [{"chunk_id": "e20ccffef2bb-0013", "paper_id": paper}]})
    plan = store.add_plan(hid, {"objective": "Beat the centroid baseline by 10 % accuracy", "method": "SVM",
                                "primary_metric": "accuracy", "higher_is_better": True, "prototype": "digit-thumbnails",
                                "parameters": [{"name": "classifier", "values": ["svm_rbf"], "description": "model"}]})
    from mlr.agents.idea_flow import save_plan

    first = store.get_plan(plan).data.stored()
    save_plan(store, plan, {**first, "dataset": "scikit-learn digits, 8x8", "baseline": "nearest centroid, pool=2",
                            "compute_budget": "1 CPU minute per run", "experiment_design": [
                                "run the baseline", "swap the classifier for an RBF SVM", "compare test accuracy"]})
    # (a second version, to compare with the first)
    store.set_plan_status(plan, "accepted")
    # An added notebook the app cannot compare as is (it writes no metrics.json): the Experiment page's way forward.
    import nbformat

    from mlr.execution.prototypes import add_prototype

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("lr = 0.1\nepochs = 3"),
                                         nbformat.v4.new_code_cell("print('trained with', lr, epochs)")])
    nb.cells[0].metadata["tags"] = ["parameters"]
    add_prototype(Settings(data_dir=data), "train-nometrics.ipynb", nbformat.writes(nb).encode())
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


PAGES = ("library", "ideas", "plan", "experiment", "experiment-notebook")
ADDRESS = {"experiment-notebook": "experiment?prototype=train-nometrics"}  # shot name -> address, when they differ
OPEN = {"plan": "Plan history"}  # an expander to open before the shot
EMPTY = {"library"}  # pages shot on an empty data directory


def shoot(checkout: Path, tag: str, pages: tuple[str, ...] = PAGES) -> None:
    seeded = tuple(p for p in pages if p not in EMPTY)
    empty = tuple(p for p in pages if p in EMPTY)
    if seeded:
        data = Path(tempfile.mkdtemp(prefix=f"shots-{tag}-"))
        seed(data, checkout)
        _serve_and_shoot(checkout, tag, data, seeded)
    if empty:
        _serve_and_shoot(checkout, tag, Path(tempfile.mkdtemp(prefix=f"shots-{tag}-empty-")), empty)


def _serve_and_shoot(checkout: Path, tag: str, data: Path, pages: tuple[str, ...]) -> None:
    from playwright.sync_api import sync_playwright

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
            for name in pages:
                page.goto(f"http://127.0.0.1:{port}/{ADDRESS.get(name, name)}")
                page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=180_000)
                # The library and its embedding model load in the background: shoot the page, not its spinner.
                page.wait_for_function("() => !/Loading the paper library/.test(document.body.innerText)",
                                       timeout=300_000)
                page.wait_for_timeout(4000)
                if name in OPEN:
                    page.get_by_text(OPEN[name]).first.click()
                    page.wait_for_timeout(3000)
                page.screenshot(path=str(HERE / f"{name}-{tag}.png"), full_page=True)
            browser.close()
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(20)


if __name__ == "__main__":
    args = sys.argv[1:]
    chosen = PAGES
    if args[:1] == ["--pages"]:
        chosen, args = tuple(args[1].split(",")), args[2:]
    if args:
        shoot(Path(args[0]).resolve(), "before", chosen)
    shoot(AFTER, "after", chosen)
