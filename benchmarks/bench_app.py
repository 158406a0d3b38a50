"""App responsiveness: cold start until the first page renders, and a page rerun.

Cold start: `streamlit run app.py` launched → the Library page's heading visible in headless Chromium,
vs the same for a one-line Streamlit app (baseline: Streamlit's own floor on this machine).
Rerun: a warm rerun of each page (AppTest, resources already cached) vs a one-line script's rerun.
Interleaved rounds; medians. Prints each figure with its baseline and the ratio.
"""

from __future__ import annotations

import os
import shutil
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


def cold_start(browser, script: str, data: Path, log: Path) -> float:
    server = AppServer(data, log)
    start = time.perf_counter()
    if script != "app.py":
        server.script = script
    server.start()
    page = browser.new_page()
    try:
        page.goto(server.url)
        page.get_by_role("heading", name="Library").first.wait_for(timeout=120_000)
        return time.perf_counter() - start
    finally:
        page.close()
        server.stop()


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
        ours, base = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for i in range(3):
                base.append(cold_start(browser, hello.name, work / f"h{i}", work / "hello.log"))
                ours.append(cold_start(browser, "app.py", work / f"a{i}", work / "app.log"))
            browser.close()
        b, o = statistics.median(base), statistics.median(ours)
        print(f"cold start to first page: MLR Copilot {o:.2f} s vs one-line Streamlit app {b:.2f} s -> {o / b:.2f}x")

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
