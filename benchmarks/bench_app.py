"""App responsiveness: cold start until the first page renders and until it is usable, and a page rerun.

Cold start: `streamlit run app.py` launched → the Library page's heading visible in headless Chromium,
vs the same for a one-line Streamlit app (baseline: Streamlit's own floor on this machine). The heading is
drawn before the embedding model and the index load, so the figure that counts is the second one: launched →
a query typed in the search box of a library holding the three sample papers → its answer on the page.
Rerun: a warm rerun of each page (AppTest, resources already cached) vs a one-line script's rerun.
Interleaved rounds; medians. Prints each figure with its baseline and the ratio.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, AppServer  # noqa: E402

HELLO = 'import streamlit as st\nst.title("Library")\n'
PAGES = ["pages/library.py", "pages/ideas.py", "pages/plan.py", "pages/experiment.py"]


QUERY = "nearest centroid template matching on thumbnails"
ANSWER = re.compile(r"· page \d+|No passage is close|No passages matched")


def cold_start(browser, script: str, data: Path, log: Path) -> tuple[float, float | None]:
    """Seconds from launch to the Library heading and, for the app, to the answer of a first search."""
    server = AppServer(data, log)
    start = time.perf_counter()
    if script != "app.py":
        server.script = script
    server.start()
    page = browser.new_page()
    try:
        page.goto(server.url)
        page.get_by_role("heading", name="Library").first.wait_for(timeout=120_000)
        heading = time.perf_counter() - start
        if script != "app.py":
            return heading, None
        box = page.get_by_label("Search passages")
        box.fill(QUERY)
        box.press("Enter")
        page.get_by_text(ANSWER).first.wait_for(timeout=300_000)
        return heading, time.perf_counter() - start
    finally:
        page.close()
        server.stop()


def library_with_samples(folder: Path) -> Path:
    """A data directory whose library holds the sample papers (copied for each cold start)."""
    env = {**os.environ, "MLR_DATA_DIR": str(folder), "MLR_OLLAMA_HOST": "http://127.0.0.1:9",
           "MLR_OLLAMA_PROBE_TIMEOUT_S": "0.5", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    subprocess.run([sys.executable, "-m", "mlr", "library", "add", "--samples"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    return folder


def rerun_seconds(at: AppTest, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
        assert not at.exception, at.exception
    return statistics.median(times)


def main() -> None:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-app-"))
    hello = ROOT / ".bench_hello_app.py"
    hello.write_text(HELLO)
    try:
        template = library_with_samples(work / "template")
        ours, usable, base = [], [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for i in range(3):
                base.append(cold_start(browser, hello.name, work / f"h{i}", work / "hello.log")[0])
                shutil.copytree(template, work / f"a{i}")
                heading, answered = cold_start(browser, "app.py", work / f"a{i}", work / "app.log")
                ours.append(heading)
                usable.append(answered)
            browser.close()
        b, o, u = statistics.median(base), statistics.median(ours), statistics.median(usable)
        print(f"cold start to first page: MLR Copilot {o:.2f} s vs one-line Streamlit app {b:.2f} s -> {o / b:.2f}x")
        print(f"cold start to a search answer (3 sample papers): MLR Copilot {u:.2f} s vs the one-line app's first "
              f"page {b:.2f} s -> {u / b:.2f}x")

        os.environ.update({"MLR_DATA_DIR": str(work / "rerun"), "MLR_OLLAMA_HOST": "http://127.0.0.1:9",
                           "MLR_OLLAMA_PROBE_TIMEOUT_S": "0.5"})
        os.chdir(ROOT)
        hello_at = AppTest.from_file(str(hello), default_timeout=120)
        hello_at.run()
        base_rerun = rerun_seconds(hello_at, 10)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        for page in PAGES:
            at.switch_page(page)
            at.run()  # first render: caches warm up here
            r = rerun_seconds(at, 5)
            print(f"rerun {page}: {r * 1000:.0f} ms vs one-line script {base_rerun * 1000:.0f} ms "
                  f"-> {r / base_rerun:.1f}x")
    finally:
        hello.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
