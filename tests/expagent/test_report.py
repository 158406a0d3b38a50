"""The error report of a real failed run (papermill, real kernel): the failing cell's own output."""

from __future__ import annotations

import nbformat

from mlr.execution.fixers.report import build_report


def _failing_notebook(path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("epochs = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# a prototype that diverges"),
        params,
        nbformat.v4.new_code_cell("print('loading data: 8 rows')"),
        nbformat.v4.new_code_cell("for e in range(epochs):\n    print(f'epoch {e} loss {0.5 * e}')\n"
                                  "raise ValueError('loss is nan')"),
        nbformat.v4.new_code_cell("print('never reached')"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def test_last_output_is_what_the_failing_cell_printed(tmp_path, runner):
    nb = _failing_notebook(tmp_path / "diverges.ipynb")
    outcome = runner.run(str(nb), {"epochs": 3})
    assert outcome.status == "failed" and outcome.error.cell_index == 3
    report = build_report(outcome, nb, {"epochs": 3})
    # Papermill's injected-parameters cell and its error-banner cells are not counted: the output is
    # the failing cell's own, not a banner's (empty) or a neighbour's.
    assert report.last_output == "epoch 0 loss 0.0\nepoch 1 loss 0.5\nepoch 2 loss 1.0"
    assert report.ename == "ValueError" and report.evalue == "loss is nan"
    assert "raise ValueError" in report.cell_source and report.parameters == {"epochs": 3}
