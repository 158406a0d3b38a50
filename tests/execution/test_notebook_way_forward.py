"""A notebook the app cannot run as is gets a way forward on the Experiment page (issue 14): what is missing, why,
how to add it and a snippet to copy, not only an error (the checks: mlr/notebook_readiness.py)."""

from __future__ import annotations

import nbformat
import pytest

from mlr.execution.prototypes import add_prototype
from tests.support.apptest import open_page

pytestmark = pytest.mark.timeout(300)


def _notebook(*cells: str, tag_first: bool = False) -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if tag_first:
        nb.cells[0].metadata["tags"] = ["parameters"]
    return nbformat.writes(nb).encode()


@pytest.fixture
def page(data_dir, settings, monkeypatch):
    yield from open_page(monkeypatch, "pages/experiment.py")


def test_an_upload_without_parameters_cell_or_metrics_is_added_and_told_what_to_add(page):
    # Issue 17: such a notebook runs as is; what is missing is advice (info), not a refusal (error).
    at = page
    at.run()
    at.file_uploader(key="exp-upload").set_value(
        [("train.ipynb", _notebook("lr = 0.1\nepochs = 3", "print(lr * epochs)"), "application/json")]).run()
    at.button(key="exp-add").click().run()
    assert not at.exception, at.exception
    assert any(s.value == "Added train (train.ipynb)." for s in at.success)
    assert not [e.value for e in at.error]
    assert {i.value for i in at.info} >= {"No cell tagged `parameters`",
                                          "No results written to `metrics.json` or glued with scrapbook",
                                          "No primary metric named"}
    how = "\n".join(m.value for m in at.markdown)
    assert "Cell 0 looks like the settings (`lr`, `epochs`): mark it below" in how
    assert any(c.value == "lr = 0.1\nepochs = 3" for c in at.code)  # the proposed cell, shown
    snippets = [c.value for c in at.code]
    assert any('tags=["parameters"]' in s for s in snippets) and any("json.dump(" in s for s in snippets)


def test_a_prototype_that_writes_no_metrics_shows_the_fix_before_it_is_run(page, settings):
    add_prototype(settings, "nometrics.ipynb", _notebook("lr = 0.1", "print(lr)", tag_first=True))
    at = page
    at.run()
    box = at.selectbox(key="exp-proto")
    box.select_index(next(i for i, o in enumerate(box.options) if "nometrics" in o.lower())).run()
    assert not at.exception, at.exception
    assert not [e.value for e in at.error]
    assert "No results written to `metrics.json` or glued with scrapbook" in [i.value for i in at.info]
    assert any('with open("metrics.json", "w") as f:' in c.value for c in at.code)
