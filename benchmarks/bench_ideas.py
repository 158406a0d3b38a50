"""IdeaAgent without a model server: free-writing vs grounded mode, same embedded model, same papers, same run.

Papers: the three bundled samples (each with its prototype notebook) and two real CC-BY papers
(benchmarks/real_papers, no prototype). For each paper and mode, the whole phase (``IdeaRecorder.run_all``,
what ``python -m mlr ideas PAPER --n N`` runs) on a fresh problem; every stored text field is then judged:

- echo: it repeats an instruction, a schema description, a worked example or a field name of any IdeaAgent
  prompt (``mlr.agents.echo.EchoGuard``, the same check the agent applies), or is not a sentence where one is due;
- in paper: its normalised text occurs verbatim in the paper;
- supported: at least 60 % of its content words (4+ letters) occur in the paper or its prototype's
  documented description and parameters ("grounded" in the table = supported and not an echo);
- for hypotheses on the samples: does it name a concrete change the prototype can run (a parameter and a
  documented value of it, never the seed/split/data)?
Also: structured answers valid on the first try, seconds per hypothesis (the hypotheses step / hypotheses
made), failed steps, and for the grounded plans on the samples: each plan's variant run against the
prototype's baseline (papermill), relative improvement vs the 10 % bar.

    python benchmarks/bench_ideas.py [--n 3] [--models smollm2,gemma3-270m] [--gemma-samples-only]
    python benchmarks/bench_ideas.py --report          # the table of the last run (benchmarks/results/ideas.json)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "results" / "ideas.json"
REAL = ROOT / "benchmarks" / "real_papers"
log = logging.getLogger("bench_ideas")
_STOP = {"with", "that", "this", "from", "their", "they", "which", "into", "over", "than", "when", "where", "each",
         "these", "those", "have", "will", "would", "should", "could", "more", "most", "other", "only", "also"}


def norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", str(text).lower()))


def fields(result: dict) -> list[tuple[str, str, bool]]:
    """(name, text, sentence required) of every stored text field."""
    p = result["problem"] or {}
    out = [("task", p.get("task", ""), True)] if p else []
    out += [("gap", g["text"], True) for g in p.get("gaps", [])] + [("keyword", k, False) for k in p.get("keywords", [])]
    for h in result["hypotheses"]:
        out += [("method", h["method"], True), ("rationale", h["rationale"], True)]
        if h.get("plan"):
            out += [(f"plan.{k}", h["plan"][k], k in ("objective", "method")) for k in
                    ("objective", "method", "dataset", "baseline", "primary_metric")]
        if h.get("review"):
            out += [(f"review.{k}", h["review"][k]["why"], False) for k in
                    ("clarity", "validity", "rigor", "innovativeness", "generalizability")]
    return out


def judge(result: dict, paper_text: str, source_words: set[str], guard) -> dict:
    rows = []
    for name, text, sentence in fields(result):
        words = [w for w in re.findall(r"[a-z_]{4,}", text.lower()) if w not in _STOP]
        support = sum(w in source_words for w in words) / len(words) if words else 0.0
        echo = guard.problem(text, sentence=sentence)
        rows.append({"field": name, "echo": echo, "in_paper": bool(norm(text)) and norm(text) in paper_text,
                     "supported": support >= 0.6, "text": text})
    return {"fields": len(rows), "echoes": sum(bool(r["echo"]) for r in rows),
            "in_paper": sum(r["in_paper"] for r in rows),
            "grounded": sum((r["in_paper"] or r["supported"]) and not r["echo"] for r in rows),
            "echo_examples": [f"{r['field']}: {r['text'][:60]!r} ({r['echo']})" for r in rows if r["echo"]][:4]}


def names_change(h: dict, changes: list) -> bool:
    if h.get("change"):
        return any(c.parameter == h["change"]["parameter"] and c.new == h["change"]["new"] for c in changes)
    text = h["method"].lower()
    return any(c.parameter.lower() in text and str(c.new).lower() in text for c in changes)


def run_variants(ws, spec_path: Path, hypotheses: list[dict], higher: bool, metric: str) -> list[dict]:
    base = ws.runner.run(str(spec_path), {})
    b = base.metrics.get(metric)
    out = []
    for h in hypotheses:
        params = {p["name"]: p["values"][0] for p in (h.get("plan") or {}).get("parameters", []) if p.get("values")}
        if not params or b is None:
            continue
        v = ws.runner.run(str(spec_path), params).metrics.get(metric)
        rel = None if v is None else ((v - b) / abs(b)) * (1 if higher else -1)
        out.append({"parameters": params, "baseline": b, "variant": v, "relative": rel})
    return out


def bench(args) -> dict:
    os.environ["MLR_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-ideas-")
    from mlr.agents.echo import EchoGuard
    from mlr.agents.grounding import change_candidates
    from mlr.agents.idea_agent import IdeaAgent, IdeaConfig
    from mlr.agents.idea_flow import IdeaRecorder
    from mlr.agents.idea_schemas import ExperimentPlan, HypothesisDraft, ProblemDraft, Review
    from mlr.agents.prompts import template_names
    from mlr.config import Settings
    from mlr.execution.prototypes import list_prototypes
    from mlr.idea_prototypes import PaperPrototypes
    from mlr.llm.embedded import EmbeddedLLM
    from mlr.workspace import Workspace
    from pydantic import create_model

    settings = Settings.from_env()
    ws = Workspace.open(settings)
    library, store = ws.library, ws.store
    library.add_samples()
    library.add_files([(d / "paper.pdf", f"{d.name}.pdf") for d in sorted(REAL.iterdir()) if (d / "paper.pdf").is_file()])
    papers = {p.id: p for p in store.list_papers()}
    protos = PaperPrototypes(settings, store)
    every = create_model("Every", problem=(ProblemDraft, ...), hypothesis=(HypothesisDraft, ...),
                         plan=(ExperimentPlan, ...), review=(Review, ...))
    guard = EchoGuard.for_prompt([t for t in template_names() if t.startswith("idea/")], every)
    report = {"n": args.n, "runs": []}
    for model in args.models.split(","):
        llm = EmbeddedLLM(n_ctx=settings.embedded_ctx, max_tokens=settings.embedded_max_tokens, model=model,
                          retries=settings.llm_retries, temperature=settings.llm_temperature)
        llm.chat([{"role": "user", "content": "Hi"}], max_tokens=4)  # load outside the measurement
        for pid, paper in papers.items():
            spec = protos(pid)
            if args.papers and not any(k in paper.file_name for k in args.papers.split(",")):
                continue
            if model != "smollm2" and args.gemma_samples_only and spec is None:
                continue
            chunks = store.paper_chunks(pid)
            paper_text = norm(" ".join(c.text for c in chunks))
            source = " ".join(c.text for c in chunks) + (" " + spec.model_dump_json() if spec else "")
            source_words = set(re.findall(r"[a-z_]{4,}", source.lower()))
            changes = change_candidates(spec) if spec else []
            for mode in ("free", "grounded"):
                agent = IdeaAgent(llm, library.retriever, embedder=library.embedder, prototypes=protos,
                                  config=IdeaConfig(n_hypotheses=args.n, mode=mode))
                stamps: dict[str, float] = {}

                def progress(message, stamps=stamps):
                    stamps.setdefault(message.split(" ")[0] + (" " + message.split(" ")[1] if " " in message else ""),
                                      time.perf_counter())

                before, start = llm.usage.as_dict(), time.perf_counter()
                result = IdeaRecorder(agent, store).run_all(pid, args.n, progress=progress)
                total = time.perf_counter() - start
                hyp_end = stamps.get("planning and", time.perf_counter())
                hyp_s = hyp_end - stamps.get("generating hypotheses", hyp_end)
                after = llm.usage.as_dict()
                row = {"model": model, "paper": paper.file_name, "mode": mode, "seconds": round(total, 1),
                       "structured": after["structured"] - before["structured"],
                       "first_try_valid": after["first_try_valid"] - before["first_try_valid"],
                       "hypotheses": len(result["hypotheses"]),
                       "seconds_per_hypothesis": round(hyp_s / max(1, len(result["hypotheses"])), 1),
                       "failed": result["failed"], **judge(result, paper_text, source_words, guard),
                       "runnable": sum(names_change(h, changes) for h in result["hypotheses"]) if spec else None,
                       "sample": [{"method": h["method"], "rationale": h["rationale"]} for h in result["hypotheses"]],
                       "problem": result["problem"]}
                if spec and mode == "grounded" and model == "smollm2" and not args.no_runs:
                    path = next(p.path for p in list_prototypes(settings) if p.slug == spec.slug)
                    row["variants"] = run_variants(ws, path, result["hypotheses"], spec.higher_is_better,
                                                   spec.primary_metric)
                report["runs"].append(row)
                log.warning("%s %s %s: %s s, %d/%d fields grounded, %d echoes, %d failed", model, paper.file_name,
                            mode, row["seconds"], row["grounded"], row["fields"], row["echoes"], len(row["failed"]))
                OUT.parent.mkdir(parents=True, exist_ok=True)
                OUT.write_text(json.dumps(report, indent=1))
    ws.close()
    return report


def table(report: dict) -> str:
    lines = ["| model | papers | mode | grounded, not echo | echoes | valid 1st try | s / hypothesis | hypotheses "
             "| failed steps | concrete change (samples) |", "|---" * 10 + "|"]
    groups: dict[tuple, list] = {}
    for r in report["runs"]:
        kind = "samples" if r["runnable"] is not None else "real"
        for key in ((r["model"], kind, r["mode"]), (r["model"], "all", r["mode"])):
            groups.setdefault(key, []).append(r)
    for (model, kind, mode), rows in groups.items():
        s = lambda k: sum(r[k] for r in rows)  # noqa: E731
        runnable = "" if kind == "real" else f"{sum(r['runnable'] or 0 for r in rows)}/{s('hypotheses')}"
        sph = sum(r["seconds_per_hypothesis"] * r["hypotheses"] for r in rows) / max(1, s("hypotheses"))
        lines.append(f"| {model} | {kind} ({len(rows)}) | {mode} | {s('grounded')}/{s('fields')} "
                     f"({s('grounded') / max(1, s('fields')):.0%}) | {s('echoes')} | {s('first_try_valid')}/"
                     f"{s('structured')} | {sph:.1f} | {s('hypotheses')}/{len(rows) * report['n']} | "
                     f"{sum(len(r['failed']) for r in rows)} | {runnable} |")
    bars = [(r["paper"], v) for r in report["runs"] for v in r.get("variants", [])]
    for paper, v in bars:
        rel = "n/a" if v["relative"] is None else f"{v['relative']:+.1%}"
        lines.append(f"\n{paper}: {v['parameters']} -> {v['variant']} vs baseline {v['baseline']} ({rel})")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--models", default="smollm2")
    parser.add_argument("--gemma-samples-only", action="store_true", help="the second model on the samples only")
    parser.add_argument("--no-runs", action="store_true", help="skip the prototype runs of the grounded plans")
    parser.add_argument("--papers", default="", help="comma-separated parts of file names (default: all)")
    parser.add_argument("--report", action="store_true", help="print the table of the last run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    report = json.loads(OUT.read_text()) if args.report else bench(args)
    print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
