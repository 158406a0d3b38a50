"""Where "relevant" ends: the similarity score below which the Library's search says "No passage is close to this
query" instead of listing unrelated passages (``mlr.relevance.MIN_SIMILARITY``).

Indexes the three sample papers and the two real papers (benchmarks/real_papers) with the real embedder (MiniLM),
then asks two kinds of query and keeps each query's best score (the score the search returns: cosine similarity
of the query to the passage):

- relevant: the 37 questions of the retrieval benchmark (``retrieval/questions.json``, written from the papers before
  any tuning), 21 more questions a researcher would type about these papers (written by hand, not copied), and
  phrases taken from the papers themselves (8 consecutive words of a passage, picked with a fixed seed);
- off-topic: cooking, football and other everyday subjects that none of the papers is about.

It prints the distributions, how many of each kind a cut at 0.20 … 0.40 keeps or refuses, and the threshold: the
highest cut (two decimals) that still keeps every question, so no question the papers answer is ever told "no
passage is close"; how many off-topic queries that cut refuses is the figure to watch. The cut that classifies the
most questions and off-topic queries right (mean of both recalls) is printed beside it. Phrases copied from the papers
are reported too; some are fragments (a row of numbers) that nobody would search for.

    python benchmarks/bench_search_threshold.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mlr.config import Settings
from mlr.library.embedders import MiniLMEmbedder
from mlr.workspace import Workspace

PAPERS = sorted((ROOT / "sample_papers").glob("*/paper.pdf")) + sorted((ROOT / "benchmarks/real_papers").glob("*/paper.pdf"))

BENCHMARK = [q["question"] for q in json.loads((ROOT / "benchmarks/retrieval/questions.json").read_text())["questions"]]
ASKED = [  # what a researcher would type, in their own words
    "limitations of downsampling digits to 4x4 thumbnails", "nearest centroid classifier for handwritten digits",
    "memory budget per glyph on a microcontroller", "which digits does template matching confuse",
    "support vector machine with an RBF kernel on pooled pixels",
    "predicting diabetes progression from body-mass index", "linear regression baseline and its RMSE",
    "cross-validation of ordinary least squares", "adding clinical measurements beyond BMI",
    "how far the disease progresses within a year",
    "class imbalance in screening tasks", "balanced accuracy when positives are rare",
    "class weights for logistic regression", "choosing the decision threshold for rare events",
    "flagging fraudulent transactions with few positive examples",
    "association rule mining library", "stacking ensembles of classifiers in Python",
    "sequential feature selection utilities", "non-linear dimension reduction for visualisation",
    "UMAP compared with t-SNE", "manifold learning with partial labels",
]
OFF_TOPIC = [
    "how to bake sourdough bread at home", "best spaghetti carbonara recipe", "football world cup final score",
    "the offside rule in soccer explained", "growing tomatoes in a greenhouse", "cheap flights to Lisbon in May",
    "how to fix a flat bicycle tyre", "history of the Roman empire", "knitting a wool scarf for winter",
    "guitar chords for beginners", "how to house-train a puppy", "weather forecast for the weekend",
    "Premier League transfer news", "vegan chocolate cake without eggs", "marathon training plan for a beginner",
    "learning to ski in the Alps", "car insurance quotes comparison", "grilling a steak medium rare",
    "basketball playoff predictions", "painting a living room wall", "wedding dress shopping tips",
    "chess openings for beginners", "when is the tax return deadline", "recipe for french onion soup",
    "who won the champions league", "how long to boil an egg",
]


def phrases(library, per_paper: int, seed: int = 14) -> list[str]:
    """``per_paper`` spans of 8 consecutive words from each paper's passages (fixed seed)."""
    rng = random.Random(seed)
    out = []
    for paper in library.list():
        words_of = [c.text.split() for c in library.store.paper_chunks(paper.id) if len(c.text.split()) >= 16]
        for words in rng.sample(words_of, min(per_paper, len(words_of))):
            start = rng.randrange(0, len(words) - 8)
            out.append(" ".join(words[start:start + 8]))
    return out


def best_scores(library, queries: list[str], k: int = 5) -> list[float]:
    return [max((p.score for p in library.retriever.search(q, k=k)), default=0.0) for q in queries]


def summary(scores: list[float]) -> str:
    q = statistics.quantiles(scores, n=4)
    return (f"n={len(scores):3d}  min {min(scores):.3f}  q1 {q[0]:.3f}  median {q[1]:.3f}  q3 {q[2]:.3f}  "
            f"max {max(scores):.3f}")


def balanced(t: float, relevant: list[float], off: list[float]) -> float:
    return (sum(s >= t for s in relevant) / len(relevant) + sum(s < t for s in off) / len(off)) / 2


def separate(relevant: list[float], off: list[float]) -> tuple[float, float]:
    """(threshold, balanced accuracy): the gap's midpoint when the two do not overlap, else the best cut."""
    if max(off) < min(relevant):
        return round((max(off) + min(relevant)) / 2, 3), 1.0
    best = (0.0, 0.0)
    for t in sorted(set(relevant + off)):
        acc = balanced(t, relevant, off)
        if acc > best[1]:
            best = (round(t, 3), acc)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-paper", type=int, default=4, help="phrases taken from each paper")
    ap.add_argument("--json", type=Path, help="write the scores here too")
    args = ap.parse_args()

    data = Path(tempfile.mkdtemp(prefix="bench-threshold-"))
    settings = Settings.from_env({}, data_dir=data, ollama_host="http://127.0.0.1:9")
    started = time.perf_counter()
    library = Workspace.open(settings, embedder=MiniLMEmbedder()).library
    results = library.add_files(PAPERS)
    assert all(r.status == "added" for r in results), results
    print(f"indexed {len(PAPERS)} papers, {sum(r.chunks for r in results)} passages "
          f"in {time.perf_counter() - started:.0f} s")

    taken = phrases(library, args.per_paper)
    bench, typed = best_scores(library, BENCHMARK), best_scores(library, ASKED)
    asked, copied, off = bench + typed, best_scores(library, taken), best_scores(library, OFF_TOPIC)
    questions = BENCHMARK + ASKED
    relevant = asked + copied
    print("best score per query (cosine similarity of the query to its nearest passage)")
    print(f"  relevant, benchmark questions  {summary(bench)}")
    print(f"  relevant, asked in own words   {summary(typed)}")
    print(f"  relevant, phrases from papers  {summary(copied)}")
    print(f"  off-topic                      {summary(off)}")
    print(f"highest off-topic {max(off):.3f} ({OFF_TOPIC[off.index(max(off))]!r}); lowest asked {min(asked):.3f} "
          f"({questions[asked.index(min(asked))]!r}); lowest phrase {min(copied):.3f} ({taken[copied.index(min(copied))]!r})")
    print("cut    questions kept  phrases kept  off-topic refused  balanced accuracy (asked + phrases vs off-topic)")
    for t in [round(0.20 + 0.02 * i, 2) for i in range(11)]:
        print(f"{t:.2f}   {sum(s >= t for s in asked):3d}/{len(asked)}          {sum(s >= t for s in copied):3d}/{len(copied)}"
              f"        {sum(s < t for s in off):3d}/{len(off)}             {balanced(t, relevant, off):.3f}")
    best, accuracy = separate(asked, off)
    print(f"best cut questions vs off-topic: {best:.3f} (balanced accuracy {accuracy:.3f})")
    threshold = math.floor(min(asked) * 100) / 100
    print(f"threshold {threshold:.2f} (keeps every question): {sum(s >= threshold for s in asked)}/{len(asked)} "
          f"questions kept, {sum(s >= threshold for s in copied)}/{len(copied)} phrases kept, "
          f"{sum(s < threshold for s in off)}/{len(off)} off-topic refused, balanced accuracy "
          f"{balanced(threshold, relevant, off):.3f} (questions + phrases vs off-topic)")
    if args.json:
        args.json.write_text(json.dumps({"benchmark": dict(zip(BENCHMARK, bench)), "asked": dict(zip(ASKED, typed)), "phrases": dict(zip(taken, copied)),
                                         "off_topic": dict(zip(OFF_TOPIC, off)), "threshold": threshold,
                                         "best_cut": best, "best_cut_balanced_accuracy": accuracy}, indent=1))


if __name__ == "__main__":
    main()
