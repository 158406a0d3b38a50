"""The Experiment page with a notebook not written for this app (issue 17): an uploaded script without a parameters
cell is kept and runs as is, the proposed cell is marked in a copy on confirmation (the stored original unchanged),
the copy runs with an override, and its figure, table and metric are on the results view; the kernel is pickable."""

from __future__ import annotations

import pytest

from tests.support.apptest import open_page, poll

pytestmark = pytest.mark.timeout(400)

SCRIPT = b'''"""
Noisy line
==========
A gallery example written for no app in particular.
"""
import matplotlib.pyplot as plt
import pandas as pd

# %%
# Settings
# --------
slope = 2.0
points = 6

# %%
# Fit and plot
# ------------
ys = [slope * x for x in range(points)]
plt.plot(ys)
plt.title("the line")
plt.show()
display(pd.DataFrame({"x": list(range(3)), "y": ys[:3]}))
print(f"final_value: {ys[-1]}")
'''


@pytest.fixture
def page(data_dir, settings, monkeypatch):
    yield from open_page(monkeypatch, "pages/experiment.py")


def _images(at) -> int:
    return len(at.get("image")) + len(at.get("imgs"))  # st.image's element (its name moved between releases)


def test_an_uploaded_script_is_marked_in_a_copy_runs_with_an_override_and_shows_its_figure(page, settings):
    at = page
    at.run()
    at.file_uploader(key="exp-upload").set_value([("noisy_line.py", SCRIPT, "text/x-python")]).run()
    at.button(key="exp-add").click().run()
    assert not at.exception, at.exception
    assert "noisy_line" in at.selectbox(key="exp-proto").value.path.name
    stored = settings.prototypes_dir / "noisy_line.ipynb"
    before = stored.read_bytes()
    assert [s.value for s in at.selectbox if s.key == "exp-kernel-noisy_line"] == ["python3"]
    assert any("has no cell tagged `parameters`" in m.value for m in at.markdown)
    assert any(c.value.startswith("slope = 2.0\npoints = 6") for c in at.code)
    assert not [e.value for e in at.error]

    next(b for b in at.button if b.key == "exp-mark-noisy_line").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="exp-proto").value.path.name == "noisy_line-parameters.ipynb"
    assert any("the original is unchanged" in s.value for s in at.success)
    assert stored.read_bytes() == before  # the stored original is never written
    assert at.number_input(key="exp-noisy_line-parameters-slope").value == 2.0

    at.number_input(key="exp-noisy_line-parameters-slope").set_value(3.0)  # submitted with the form
    next(b for b in at.button if b.label == "Run variant").click().run()
    assert not at.exception, at.exception
    poll(at, lambda at: any("Figures and tables" in m.value for m in at.markdown), timeout=180,
         shown=lambda at: [m.value for m in at.markdown][-5:])
    in_notebook = sum(len(e.get("image")) + len(e.get("imgs")) for e in at.expander if e.label == "Executed notebook")
    assert in_notebook >= 1 and _images(at) > in_notebook  # the matplotlib figure, on the results, not only inside
    assert any("<table>" in m.value and "<script" not in m.value for m in at.markdown)  # the DataFrame, sanitised
    assert any("Metrics from last output (cell" in c.value for c in at.caption)
    assert any(df.value.to_dict("records") == [{"metric": "final_value", "value": "15"}] for df in at.dataframe
               if "metric" in getattr(df.value, "columns", []))
