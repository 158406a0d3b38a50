"""The reproducibility bundle of a plan: one zip with the report (Markdown and HTML), the prototype and every
executed notebook, each run's parameters, metrics and lineage, the kernel's environment lock, and a
``reproduce.sh`` that reruns the baseline and the best variant with papermill alone.

Layout::

    report.md, report.html
    notebooks/<name>.ipynb            the notebooks as they are now (prototype, edited copies)
    runs/run-00012/output.ipynb       each executed notebook, with parameters.json, metrics.json, lineage.json
    environment/requirements.txt      name==version of every distribution of the kernel's environment
    environment/environment.json      kernel, interpreter, Python, machine
    reproduce/baseline.ipynb|.json    the code as it ran (from the executed copy) and the run's parameters
    reproduce/best.ipynb|.json        the same for the best variant
    reproduce/expected.json           the recorded metric of each, with its run id
    reproduce.sh
"""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import nbformat

from mlr.atomic import atomic_path
from mlr.report.build import build_report
from mlr.report.environment import freeze
from mlr.report.lineage import as_ran
from mlr.report.model import Report
from mlr.report.render import TEMPLATES, render_html, render_markdown
from mlr.store import Store

log = logging.getLogger(__name__)


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n"


def reproducible(report: Report, store: Store) -> dict[str, int]:
    """Which run each rerun repeats: the first recorded run (seed) of the baseline and of the best variant."""
    o = report.outcome
    picks: dict[str, int] = {}
    if o is not None and o.baseline.run_ids:
        picks["baseline"] = o.baseline.run_ids[0]
    if o is not None and o.best is not None and o.best.run_ids:
        picks["best"] = o.best.run_ids[0]
    return {name: run_id for name, run_id in picks.items()
            if (run := store.get_run(run_id)) is not None and run.output_notebook and Path(run.output_notebook).is_file()}


def export_bundle(store: Store, settings, plan_id: int, out: str | Path) -> Path:
    """Write the bundle of ``plan_id`` to ``out`` (atomically); returns its path."""
    report = build_report(store, settings, plan_id)
    out = Path(out)
    with atomic_path(out, suffix=".zip") as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("report.md", render_markdown(report))
        z.writestr("report.html", render_html(report))
        for name in sorted({Path(r.notebook).name for r in report.runs}):
            source = next(Path(r.notebook) for r in report.runs if Path(r.notebook).name == name)
            if source.is_file():
                z.write(source, f"notebooks/{name}")
        for lin in report.runs:
            run = store.get_run(lin.run_id)
            folder = f"runs/run-{run.id:05d}"
            if run.output_notebook and Path(run.output_notebook).is_file():
                z.write(run.output_notebook, f"{folder}/output.ipynb")
            z.writestr(f"{folder}/parameters.json", _dump(run.parameters))
            z.writestr(f"{folder}/metrics.json", _dump(run.metrics or {}))
            z.writestr(f"{folder}/lineage.json", lin.model_dump_json(indent=2) + "\n")
        if report.environment is not None:
            env = report.environment
            z.writestr("environment/requirements.txt", freeze(env))
            z.writestr("environment/environment.json", _dump(env.model_dump(exclude={"packages"})))
        picks = reproducible(report, store)
        expected = {}
        kernel = next((r.kernel for r in report.runs if r.kernel), settings.kernel_name)
        for name, run_id in picks.items():
            run = store.get_run(run_id)
            z.writestr(f"reproduce/{name}.ipynb", nbformat.writes(as_ran(run.output_notebook)))
            z.writestr(f"reproduce/{name}.json", _dump(run.parameters))
            metric = report.outcome.metric
            expected[name] = {"metric": metric, "value": (run.metrics or {}).get(metric), "run_id": run.id}
        z.writestr("reproduce/expected.json", _dump(expected))
        script = (TEMPLATES / "reproduce.sh").read_text(encoding="utf-8")
        script = script.replace("{{NAMES}}", " ".join(picks) or "").replace("{{KERNEL}}", kernel)
        info = zipfile.ZipInfo("reproduce.sh")
        info.external_attr = 0o755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, script)
    log.info("bundle of plan %s written to %s (%d reruns)", plan_id, out, len(picks))
    return out
