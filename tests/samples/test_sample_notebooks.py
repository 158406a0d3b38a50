"""The sample prototype notebooks follow the notebook contract and deliver the headroom their READMEs state.

Executions are real: papermill with the python3 kernel, in a temporary working directory, in a child
process (papermill's cwd= would chdir the whole pytest process).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import papermill
import pytest
from sample_support import SAMPLES, SLUGS, notebook_meta, readme_runs

RUNNER = """
import json, sys, papermill
nb, out, cwd, params = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
try:
    papermill.execute_notebook(nb, out, parameters=params, kernel_name="python3", cwd=cwd, progress_bar=False)
except papermill.PapermillExecutionError as exc:
    print(json.dumps({"ename": exc.ename, "evalue": exc.evalue}))
    sys.exit(3)
"""


def execute(slug: str, params: dict, workdir) -> dict:
    """Run the notebook of `slug` with `params` in `workdir`; return its metrics.json."""
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(SAMPLES / slug / "prototype.ipynb"), str(workdir / "out.ipynb"),
         str(workdir), json.dumps(params)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"{slug} {params} failed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return json.loads((workdir / "metrics.json").read_text())


def relative_improvement(baseline: float, variant: float, higher_is_better: bool) -> float:
    """The success measure (docs/ARCHITECTURE.md): (variant - baseline) / |baseline|, negated when lower is better."""
    gain = (variant - baseline) / abs(baseline)
    return gain if higher_is_better else -gain


# --- contract (fast) --------------------------------------------------------------------------------

@pytest.mark.parametrize("slug", SLUGS)
def test_notebook_metadata_follows_the_contract(slug):
    meta = notebook_meta(slug)
    mlr = meta["mlr"]
    assert set(mlr) >= {"primary_metric", "higher_is_better", "description", "paper"}
    assert mlr["paper"] == slug
    assert isinstance(mlr["higher_is_better"], bool)
    assert isinstance(mlr["primary_metric"], str) and mlr["primary_metric"]
    assert len(mlr["description"]) > 200  # one real paragraph, naming the parameters that matter
    assert meta["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("slug", SLUGS)
def test_notebook_is_clean_and_offline(slug):
    nb = json.loads((SAMPLES / slug / "prototype.ipynb").read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code), "outputs not cleared"
    tagged = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    source = "".join("".join(c["source"]) for c in code)
    assert "fetch_" not in source  # fetch_* downloads; samples must run offline
    assert "metrics.json" in source


@pytest.mark.parametrize("slug", SLUGS)
def test_papermill_finds_typed_parameters(slug):
    params = papermill.inspect_notebook(str(SAMPLES / slug / "prototype.ipynb"))
    assert len(params) >= 4
    for name, p in params.items():
        assert p["inferred_type_name"] in {"int", "float", "str", "bool"}, (name, p)
        assert p["default"] not in (None, "None"), name
        assert p["help"], f"{slug}: parameter {name} has no comment saying what it does"


def test_samples_cover_every_parameter_type_and_both_directions():
    types, directions = set(), set()
    for slug in SLUGS:
        types |= {p["inferred_type_name"] for p in
                  papermill.inspect_notebook(str(SAMPLES / slug / "prototype.ipynb")).values()}
        directions.add(notebook_meta(slug)["mlr"]["higher_is_better"])
    assert len(SLUGS) == 3
    assert types == {"int", "float", "str", "bool"}
    assert directions == {True, False}


@pytest.mark.parametrize("slug", SLUGS)
def test_readme_states_a_baseline_and_an_improvement_of_ten_percent(slug):
    runs = readme_runs(slug)
    assert set(runs) == {"baseline", "improved"}
    assert runs["baseline"][0] == {}, "the baseline is the notebook's defaults"
    hib = notebook_meta(slug)["mlr"]["higher_is_better"]
    assert relative_improvement(runs["baseline"][1], runs["improved"][1], hib) >= 0.10


# --- real executions ----------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_baseline_and_improved_runs_reproduce_the_readme(slug, tmp_path):
    """Both documented runs execute, write the primary metric, match the README, and differ by >= 10 %."""
    mlr = notebook_meta(slug)["mlr"]
    metric, hib = mlr["primary_metric"], mlr["higher_is_better"]
    measured = {}
    for kind, (params, stated, decimals) in readme_runs(slug).items():
        metrics = execute(slug, params, tmp_path / kind)
        assert metric in metrics, f"{slug}: metrics.json lacks the primary metric {metric!r}"
        value = metrics[metric]
        assert isinstance(value, float) and math.isfinite(value)
        assert round(value, decimals) == pytest.approx(stated), f"{slug} {kind}: README says {stated}, ran {value}"
        measured[kind] = value
    assert relative_improvement(measured["baseline"], measured["improved"], hib) >= 0.10


@pytest.mark.slow
def test_a_bad_parameter_fails_with_a_message_naming_it(tmp_path):
    out = tmp_path / "bad"
    out.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(SAMPLES / "digit-thumbnails" / "prototype.ipynb"),
         str(out / "out.ipynb"), str(out), json.dumps({"pool": 3})],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 3, proc.stderr[-2000:]
    error = json.loads(proc.stdout.strip().splitlines()[-1])
    assert error["ename"] == "ValueError" and "pool" in error["evalue"]
    assert not (out / "metrics.json").exists()  # a failed run leaves no metrics to misread
