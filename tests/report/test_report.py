"""The research report of a plan with real runs: every section, every number equal to the record's, the lineage
of each run, who wrote what, and the HTML self-contained (parsed: nothing it would load or link leaves it)."""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser

import nbformat
import pytest

from mlr import safe_text
from mlr.execution.metrics import compare
from mlr.report import build_report, render_html, render_markdown
from mlr.report.chart import num
from mlr.report.render import measure, pct
from tests.report.research import CHUNKS, MODEL

pytestmark = pytest.mark.timeout(300)

SECTIONS = ["Paper", "Research problem", "Hypothesis", "Review", "Plan", "Result", "Experiments", "Lineage",
            "Environment", "Who wrote what"]


def cells_hash(path) -> str:
    """The hash the report promises, computed here independently: the cells' type and source, papermill's
    injected parameters cell left out."""
    nb = nbformat.read(str(path), as_version=4)
    cells = [[c.cell_type, c.source] for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode()).hexdigest()


@pytest.fixture(scope="module")
def loop_report(research):
    return build_report(research.store, research.settings, research.loop_plan)


@pytest.fixture(scope="module")
def direct_report(research):
    return build_report(research.store, research.settings, research.direct_plan)


def test_loop_report_numbers_are_the_loops_experiments(research, loop_report):
    store, r = research.store, loop_report
    loop = store.get_loop(research.loop_id)
    exps = store.list_experiments(loop.id)
    base, best = exps[0], store.get_experiment(loop.best_id)
    o = r.outcome
    assert o.source == f"experiment loop {loop.id}" and o.metric == "score" and o.bar == loop.config.bar
    assert (o.baseline.mean, o.baseline.sd, o.baseline.n, o.baseline.run_ids) == (base.mean, base.sd, 2, base.run_ids)
    assert (o.best.mean, o.best.sd, o.best.n, o.best.run_ids) == (best.mean, best.sd, 2, best.run_ids)
    assert o.baseline.values == [store.get_run(i).metrics["score"] for i in base.run_ids]  # seed by seed, from runs
    assert o.relative_improvement == best.relative_improvement and o.p_value == best.p_value
    assert o.verdict == best.verdict == "success" and o.cleared is True and "Welch" in o.test
    assert o.changed == {"mode": "better"} and o.parameters == best.parameters
    assert r.success_line == pytest.approx(base.mean * (1 + loop.config.bar))
    assert [(e.label, e.measure.mean, e.role) for e in r.experiments] == [
        (f"#{e.ordinal} {e.kind}", e.mean, "baseline" if e.id == base.id else "best") for e in exps]

    md = render_markdown(r)
    for figure in (measure(o.baseline), measure(o.best), pct(best.relative_improvement), num(best.p_value),
                   *(num(v) for v in o.best.values)):
        assert figure in md, figure
    assert f"{best.relative_improvement:+.1%}" in md and f"{base.mean:.6g}" in md and f"{best.sd:.6g}" in md


def test_direct_runs_report_compares_baseline_and_best_variant(research, direct_report):
    store, r = research.store, direct_report
    runs = {run.kind: run for run in store.list_runs(plan_id=research.direct_plan)}
    base, variant = runs["baseline"], runs["variant"]
    o = r.outcome
    assert o.source == "direct runs" and o.test == "" and o.p_value is None
    assert o.baseline.mean == base.metrics["score"] and o.best.mean == variant.metrics["score"]
    comp = compare(base, variant, "score", True, research.settings.success_bar)
    assert o.relative_improvement == comp.improvement and o.cleared is comp.cleared
    assert o.changed == {"mode": "better"}
    md, html = render_markdown(r), render_html(r)
    for text in (md, html):
        assert num(base.metrics["score"]) in text and num(variant.metrics["score"]) in text
        assert pct(comp.improvement) in text


def test_every_section_with_passages_plan_version_and_authorship(research, loop_report, direct_report):
    r = loop_report
    md, html = render_markdown(r), render_html(r)
    for name in SECTIONS:
        assert f"\n## {name}\n" in md, name
        assert f"<h2>{name}</h2>" in html, name
    # the paper, the problem's gaps and the hypothesis' citations, each passage quoted with section and page
    assert r.paper.title == "Boosting Toy Scores" and r.paper.file_name == "toy.pdf"
    by_id = {c["id"]: c for c in CHUNKS}
    gaps = [(g.text, g.passage.text, g.passage.section, g.passage.page) for g in r.problem.gaps]
    assert gaps == [("Modes were never compared.", by_id["c-limits"]["text"], "Limitations", 7),
                    ("The score saturates.", by_id["c-intro"]["text"], "Introduction", 1)]
    assert [(c.text, c.page) for c in r.hypothesis.citations] == [(by_id["c-method"]["text"], 3)]
    assert "> " + safe_text.escape(by_id["c-intro"]["text"]) in md
    assert "section Limitations, page 7" in md and "section Method, page 3" in html
    # the plan version that ran (the researcher's edit, accepted before the runs) and what came after
    assert r.plan.run_version == 2 and r.plan.data.objective == "Raise the toy score by at least 10 %"
    assert r.plan.written.by == "researcher"
    assert [(v.version, v.written.by) for v in r.plan.later] == [(3, "program")]  # the loop's refined draft
    assert direct_report.plan.run_version == 2
    assert [(v.version, v.written.by) for v in direct_report.plan.later] == [(3, "researcher")]  # edited after
    assert "Version **2** ran" in md and "Edits after the runs" in md
    # who wrote what
    assert r.problem.written.model == MODEL and r.hypothesis.written.by == "model"
    who = {row.what: row.written.words() for row in r.authorship}
    assert who["Research problem and gaps"] == (f"written by a model ({MODEL}); the record keeps no history of "
                                                "edits to a problem")
    assert who["Plan (version 2, the one that ran)"] == "written by the researcher (edited)"
    assert [s.score for s in r.review.scores] == [4, 3, 3, 2, 2] and r.review.max_similarity == 0.61


def test_lineage_of_every_run(research, loop_report):
    store, r = research.store, loop_report
    loop_runs = sorted(i for e in store.list_experiments(research.loop_id) for i in e.run_ids)
    assert [x.run_id for x in r.runs] == loop_runs
    prototype_hash = cells_hash(research.notebook)
    for lin in r.runs:
        run = store.get_run(lin.run_id)
        assert lin.parameters == run.parameters and lin.metrics == run.metrics
        assert lin.code_hash == cells_hash(run.output_notebook) == prototype_hash and lin.notebook_changed is False
        assert lin.kernel == "python3" and lin.kernel_python and lin.papermill
        assert (lin.queued_at, lin.started_at, lin.finished_at) == (run.queued_at, run.started_at, run.finished_at)
        assert lin.loop_id == research.loop_id and lin.seed == run.data["seed"]
    env = r.environment
    import importlib.metadata as md

    assert env.packages["papermill"] == md.version("papermill") and env.used["papermill"] == md.version("papermill")
    assert env.cores >= 1 and env.cpu and not env.problem
    text = render_markdown(r)
    assert all(f"### Run {i} " in text for i in loop_runs) and prototype_hash in text


class _Refs(HTMLParser):
    """Every tag and every attribute value that could load or link something."""

    def __init__(self):
        super().__init__()
        self.tags, self.refs = set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.refs += [(tag, name, value or "") for name, value in attrs
                      if name in ("src", "href", "srcset", "action", "data", "poster", "background", "xlink:href")]


def test_html_is_self_contained_with_no_remote_url(loop_report):
    html = render_html(loop_report)
    parser = _Refs()
    parser.feed(html)
    assert not parser.tags & {"script", "link", "iframe", "object", "embed", "a"}
    assert parser.refs and all(value.startswith("data:image/svg+xml;base64,") for _, _, value in parser.refs)
    assert "leak.png" in html  # the planted passage is quoted…
    assert not re.search(r"(?i)\b(?:https?|ftp)://|url\(", html)  # …but no URL, remote or not, remains
    assert "<style>" in html and "font-family" in html  # the CSS is inline
