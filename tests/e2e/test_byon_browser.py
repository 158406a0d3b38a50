"""Bring your own notebook, in a real headless Chromium against `streamlit run app.py` (issue 17).

A researcher uploads a sphinx-gallery `.py` script written for no app in particular (no `parameters` cell, no
metrics.json), marks the settings cell the app proposes (the tag goes into a copy), runs the baseline and a
variant with another value, picks the metric the runs reported, and sees the figure and the metric on the results.
Screenshots at every step; on failure they and the server log stay in test-artifacts/<test name>/.
"""

from __future__ import annotations

import re
import time

import pytest

from mlr.config import Settings
from mlr.store import Store
from tests.support.browser import AppServer

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

SCRIPT = '''"""
Growth curve
============
A gallery example: a line, its plot and its last value.
"""
import matplotlib.pyplot as plt

# %%
# Settings
# --------
rate = 2.0
steps = 6

# %%
# Plot and report
# ---------------
ys = [rate * x for x in range(steps)]
plt.plot(ys)
plt.title("growth")
plt.show()
print(f"final_value: {ys[-1]}")
'''


class Flow:
    def __init__(self, page, artifacts):
        self.page, self.artifacts, self.step = page, artifacts, 0

    def shot(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(path=str(self.artifacts / f"{self.step:02d}-{name}.png"), full_page=True)

    def settle(self) -> None:
        self.page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)

    def no_traceback(self) -> None:
        assert self.page.locator("[data-testid='stException']").count() == 0, "a traceback reached the user"

    def click(self, name: str, timeout: float = 60) -> None:
        self.page.get_by_role("button", name=name).first.click(timeout=timeout * 1000)
        self.settle()

    def see(self, text, timeout: float = 120):
        found = self.page.get_by_text(text).first
        found.wait_for(timeout=timeout * 1000)
        return found


def test_an_uploaded_script_is_marked_run_and_shows_its_figure_and_metric(browser, artifacts, tmp_path):
    script = tmp_path / "growth_curve.py"
    script.write_text(SCRIPT)
    server = AppServer(tmp_path / "data", artifacts / "server.log").start()
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    flow = Flow(page, artifacts)
    try:
        page.goto(f"{server.url}/experiment")
        page.wait_for_selector("[data-testid='stApp']", timeout=120_000)
        page.get_by_role("heading", name="Experiment").first.wait_for(timeout=120_000)
        flow.settle()

        # Upload the script (the page converts it with jupytext, keeping its cells).
        flow.see(re.compile(r"^Add a prototype notebook")).click()
        page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(script))
        page.get_by_text("growth_curve.py").first.wait_for(timeout=60_000)
        flow.click("Add prototype")
        flow.see("Added Growth curve (growth_curve.ipynb).")
        flow.see(re.compile(r"has no cell tagged"))
        flow.no_traceback()
        flow.shot("uploaded")

        # The proposed settings cell is shown; marking it writes a tagged copy, which the page switches to.
        flow.see(re.compile(r"^rate = 2\.0"))
        flow.click("Mark this cell as the parameters (in a copy)")
        flow.see(re.compile(r"in a copy, growth_curve-parameters\.ipynb; the original is unchanged"))
        flow.shot("marked")

        # Baseline (the script's own values); once it has ended (the page redraws then), a variant with another rate.
        store = Store(Settings(data_dir=tmp_path / "data").db_path)

        def runs_until(done, what: str, timeout: float = 300) -> None:
            deadline = time.monotonic() + timeout
            while not done([r for r in store.list_runs() if r.status == "succeeded"]):
                assert time.monotonic() < deadline, (what, [(r.kind, r.status, r.error) for r in store.list_runs()])
                page.wait_for_timeout(500)

        flow.click("Run baseline (defaults)")
        runs_until(lambda ok: [r.kind for r in ok] == ["baseline"], "the baseline")
        flow.see(re.compile(r"^Which metric decides\? The runs reported: final_value"), timeout=60)
        flow.settle()
        form = page.locator("[data-testid='stForm']").filter(has=page.get_by_role("button", name="Run variant"))
        rate = form.get_by_label("rate (float)", exact=True).first
        rate.fill("3")
        rate.press("Tab")
        form.get_by_role("button", name="Run variant").click()
        flow.settle()
        runs_until(lambda ok: len(ok) == 2, "the variant")
        assert store.list_runs()[0].parameters["rate"] == 3.0
        flow.settle()
        flow.click("Use this metric")
        flow.see(re.compile(r"^Baseline final_value"), timeout=60)
        flow.see(re.compile(r"^Variant final_value"))
        metrics = page.locator("[data-testid='stMetricValue']").all_inner_texts()
        assert "10" in metrics and "15" in metrics, metrics

        # The results view shows the figure of the run (a matplotlib PNG), not only the numbers.
        flow.see("Figures and tables")
        figure = page.locator("[data-testid='stImage'] img, [data-testid='stFullScreenFrame'] img").first
        figure.wait_for(timeout=30_000)
        assert figure.evaluate("img => img.complete && img.naturalWidth > 100")
        flow.no_traceback()
        flow.shot("results")
    except BaseException:
        try:
            flow.shot("failure")
        finally:
            raise
    finally:
        server.stop()
