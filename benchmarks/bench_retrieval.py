"""Retrieval quality: recall@1, recall@5 and MRR of dense-only, keyword-only and hybrid search, in one run.

The library is built from the papers the repository ships (the three sample papers and the two real JOSS
papers of ``benchmarks/real_papers``) with the real pipeline (pypdf, sections, chunking, MiniLM int8, FAISS,
bm25s). The questions are ``benchmarks/retrieval/questions.json``: 37 questions written from the papers' text
before the benchmark was first run; nothing in the retriever was tuned on them. A passage answers a question
when it contains one of the question's keys (case and whitespace ignored); a question whose keys are in no
passage of the library is reported (that is an ingest miss, e.g. text in a dropped section) and counts as a miss.

Five short papers make only ~46 passages, where recall@5 is nearly saturated for any ranker. The second run
adds the repository's own documentation (README, docs/, the folder READMEs; never benchmarks/README.md, which
holds these results) rendered to PDF by the sample papers' renderer, as distractors: text about the same
project, metrics and models that answers none of the questions. The same questions, the same retriever.

    python benchmarks/bench_retrieval.py [--json benchmarks/results/bench_retrieval.json]
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
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mlr.config import Settings
from mlr.library import open_library
from mlr.library.embedders import MiniLMEmbedder
from mlr.store import Store

QUESTIONS = ROOT / "benchmarks" / "retrieval" / "questions.json"
MODES = ("dense", "keyword", "hybrid")
DEPTH = 10  # MRR counts a hit up to this rank


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def pdfs() -> list[tuple[Path, str]]:
    out = [(p, f"{p.parent.name}.pdf") for p in sorted((ROOT / "sample_papers").glob("*/paper.pdf"))]
    out += [(p, f"{p.parent.name}.pdf") for p in sorted((ROOT / "benchmarks" / "real_papers").glob("*/paper.pdf"))]
    return out


def distractor_docs() -> list[Path]:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted(ROOT.glob("*/README.md")),
            *sorted(ROOT.glob("mlr/*/README.md"))]
    return [d for d in docs if d.exists() and d != ROOT / "benchmarks" / "README.md"
            and not any(part.startswith(".") for part in d.relative_to(ROOT).parts)]  # not tool caches


def render_distractors(folder: Path) -> list[tuple[Path, str]]:
    """The documentation as PDFs (the sample papers' renderer): headings kept, code fences dropped."""
    sys.path.insert(0, str(ROOT / "sample_papers"))
    import warnings

    from build_pdfs import parse, render

    warnings.filterwarnings("ignore", message="character .* cannot be drawn")  # box-drawing characters in diagrams
    logging.getLogger("fpdf").setLevel(logging.ERROR)

    out = []
    for doc in distractor_docs():
        body = []
        for line in doc.read_text(encoding="utf-8").splitlines():
            if line.startswith("```"):
                continue
            if line.startswith("#"):
                body += ["", "## " + line.lstrip("#").strip(), ""]
            else:
                body.append(line)
        name = str(doc.relative_to(ROOT)).replace("/", "-").removesuffix(".md")
        text = (f"---\ntitle: {name}\nauthors: MLR Copilot\nyear: 2026\nlayout: one-column\n---\n"
                + re.sub(r"\n{3,}", "\n\n", "\n".join(body)))
        try:
            pdf = render(parse(text))
        except Exception as exc:  # noqa: BLE001 - a document the small renderer cannot lay out: left out, said so
            sys.stderr.write(f"distractor {name} left out: {exc}\n")
            continue
        path = folder / f"{name}.pdf"
        path.write_bytes(pdf)
        out.append((path, f"{name}.pdf"))
    return out


def answers(passage_text: str, keys: list[str]) -> bool:
    text = norm(passage_text)
    return any(norm(k) in text for k in keys)


def measure(library, questions: list[dict]) -> dict:
    chunks = [p for paper in library.list() for p in library.retriever.paper_passages(paper.id)]
    unanswerable = [q["id"] for q in questions if not any(answers(c.text, q["keys"]) for c in chunks)]
    per_mode: dict[str, dict] = {}
    for mode in MODES:
        rows, seconds = [], []
        for q in questions:
            start = time.perf_counter()
            hits = library.retriever.search(q["question"], k=DEPTH, mode=mode)
            seconds.append(time.perf_counter() - start)
            rank = next((i for i, h in enumerate(hits, start=1) if answers(h.text, q["keys"])), None)
            rows.append({"id": q["id"], "kind": q["kind"], "rank": rank,
                         "found_by": hits[rank - 1].found_by if rank else None})
        per_mode[mode] = {"rows": rows, "summary": summarise(rows), "median_ms": round(1000 * sorted(seconds)[len(seconds) // 2], 1)}
    return {"passages": len(chunks), "unanswerable": unanswerable, "modes": per_mode}


def summarise(rows: list[dict]) -> dict:
    out = {}
    for kind in ("all", "factual", "conceptual"):
        sel = [r for r in rows if kind == "all" or r["kind"] == kind]
        n = len(sel)
        out[kind] = {"n": n,
                     "recall@1": round(sum(r["rank"] == 1 for r in sel) / n, 3),
                     "recall@5": round(sum(r["rank"] is not None and r["rank"] <= 5 for r in sel) / n, 3),
                     "mrr": round(sum(1 / r["rank"] for r in sel if r["rank"]) / n, 3)}
    return out


def table(report: dict) -> str:
    lines = ["| ranker | questions | recall@1 | recall@5 | MRR@10 |", "| --- | --- | --- | --- | --- |"]
    for mode in MODES:
        s = report["modes"][mode]["summary"]
        for kind in ("all", "factual", "conceptual"):
            k = s[kind]
            lines.append(f"| {mode} | {kind} ({k['n']}) | {k['recall@1']:.3f} | {k['recall@5']:.3f} | {k['mrr']:.3f} |")
    dense, hybrid = report["modes"]["dense"]["summary"]["all"], report["modes"]["hybrid"]["summary"]["all"]
    ratio = hybrid["recall@5"] / dense["recall@5"] if dense["recall@5"] else float("inf")
    lines.append("")
    lines.append(f"hybrid / dense recall@5: {ratio:.2f}x (aim >= 1.3x); passages in the library: {report['passages']}; "
                 f"questions whose answer is in no passage: {', '.join(report['unanswerable']) or 'none'}")
    lines.append("median seconds per query (with the query embedding): "
                 + ", ".join(f"{m} {report['modes'][m]['median_ms']} ms" for m in MODES))
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "bench_retrieval.json")
    args = ap.parse_args()
    questions = json.loads(QUESTIONS.read_text())["questions"]
    embedder = MiniLMEmbedder()
    reports = {}
    for run in ("papers", "papers+distractors"):
        data = Path(tempfile.mkdtemp(prefix="bench-retrieval-"))
        settings = Settings.from_env({}, data_dir=data, ollama_host="http://127.0.0.1:9")
        settings.ensure_dirs()
        library = open_library(settings, Store(settings.db_path), embedder)
        files = pdfs() + (render_distractors(data) if run != "papers" else [])
        results = library.add_files(files)
        bad = [r for r in results if r.status != "added"]
        if bad:
            sys.stderr.write(f"could not add: {bad}\n")
            return 1
        report = measure(library, questions)
        report["files"] = [name for _, name in files]
        reports[run] = report
        sys.stdout.write(f"\n## {run} ({len(files)} files)\n\n" + table(report) + "\n")
        misses = {m: [r["id"] for r in report["modes"][m]["rows"] if not r["rank"] or r["rank"] > 5] for m in MODES}
        sys.stdout.write("not in the top 5: " + "; ".join(f"{m}: {', '.join(v) or 'none'}" for m, v in misses.items())
                         + "\n")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(reports, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
