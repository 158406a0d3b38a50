"""``python -m mlr report`` in each format and ``python -m mlr export``: the bundle holds every executed notebook,
its parameters and metrics and the kernel's environment lock, and its ``reproduce.sh`` (run here with bash)
reruns the baseline with papermill alone and gets the recorded metric."""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pypdf
import pytest

from mlr.cli import main
from mlr.report import pdf

pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_cli_writes_the_report(research, tmp_path, capsys, fmt):
    out = tmp_path / f"report.{fmt}"
    assert main(["report", str(research.loop_plan), "--format", fmt, "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "Boosting Toy Scores" in text and "Who wrote what" in text
    assert f"written to {out}" in capsys.readouterr().out


def test_cli_refuses_a_plan_that_does_not_exist(research, tmp_path, capsys):
    assert main(["report", "999", "--out", str(tmp_path / "r.md")]) == 2
    assert "There is no plan 999" in capsys.readouterr().err and not (tmp_path / "r.md").exists()


@pytest.mark.skipif(bool(pdf.available()), reason="Chromium or Playwright is not installed here")
def test_cli_writes_a_pdf_through_chromium(research, tmp_path):
    out = tmp_path / "report.pdf"
    assert main(["report", str(research.loop_plan), "--format", "pdf", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(str(out)).pages)
    loop = research.store.get_loop(research.loop_id)
    best = research.store.get_experiment(loop.best_id)
    assert "Research problem" in text and "Who wrote what" in text and f"{best.mean:.6g}" in text


def test_without_chromium_the_cli_says_what_to_install(research, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(pdf, "chromium", lambda: None)
    assert main(["report", str(research.loop_plan), "--format", "pdf", "--out", str(tmp_path / "r.pdf")]) == 3
    err = capsys.readouterr().err
    assert "PDF needs Chromium" in err and "apt-get install chromium" in err and "--format html" in err
    assert not (tmp_path / "r.pdf").exists()


def test_bundle_holds_the_runs_and_its_script_reruns_the_baseline(research, tmp_path):
    store = research.store
    out = tmp_path / "bundle.zip"
    assert main(["export", str(research.loop_plan), "--out", str(out)]) == 0
    folder = tmp_path / "bundle"
    with zipfile.ZipFile(out) as z:
        z.extractall(folder)
    loop = store.get_loop(research.loop_id)
    exps = store.list_experiments(loop.id)
    for run_id in (i for e in exps for i in e.run_ids):
        run = store.get_run(run_id)
        run_dir = folder / "runs" / f"run-{run_id:05d}"
        assert json.loads((run_dir / "metrics.json").read_text()) == run.metrics
        assert json.loads((run_dir / "parameters.json").read_text()) == run.parameters
        assert (run_dir / "output.ipynb").read_bytes() == Path(run.output_notebook).read_bytes()
    assert (folder / "notebooks" / research.notebook.name).read_bytes() == research.notebook.read_bytes()
    lock = (folder / "environment" / "requirements.txt").read_text().splitlines()
    assert f"papermill=={md.version('papermill')}" in lock and f"nbformat=={md.version('nbformat')}" in lock
    assert "report.md" in os.listdir(folder) and "report.html" in os.listdir(folder)

    base = exps[0]
    recorded = store.get_run(base.run_ids[0])
    expected = json.loads((folder / "reproduce" / "expected.json").read_text())
    assert expected["baseline"] == {"metric": "score", "value": recorded.metrics["score"], "run_id": recorded.id}
    assert expected["best"]["run_id"] == store.get_experiment(loop.best_id).run_ids[0]
    done = subprocess.run(["bash", "reproduce.sh", "baseline"], cwd=folder, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHON": sys.executable}, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    rerun = json.loads((folder / "out" / "baseline" / "metrics.json").read_text())
    assert rerun["score"] == recorded.metrics["score"]
    assert f"baseline: score = {recorded.metrics['score']}" in done.stdout and "same" in done.stdout
