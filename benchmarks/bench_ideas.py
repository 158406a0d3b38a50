"""IdeaAgent with the embedded model: LLM calls, tokens and seconds per hypothesis, valid on the first try.

Figure: seconds per VALID hypothesis and first-try validity of the agent's focused requests (one
hypothesis per call, a few passages, then one plan and one review each), against the baseline of
one big request that asks for all N hypotheses at once over all the related passages (the
"one giant prompt" the design avoids), same model, same paper, same run. Runs over the bundled
sample papers in a temporary data directory.

    python benchmarks/bench_ideas.py [--n 3] [--paper 1]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def delta(usage, before: dict) -> dict:
    now = usage.as_dict()
    return {k: round(now[k] - before[k], 3) for k in ("calls", "prompt_tokens", "completion_tokens", "seconds",
                                                      "structured", "first_try_valid")}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--paper", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ["MLR_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-ideas-")

    from pydantic import Field, create_model

    from mlr.agents import prompts
    from mlr.agents.idea_agent import IdeaAgent, IdeaConfig, _hypothesis_schema
    from mlr.config import Settings
    from mlr.library import open_library
    from mlr.llm.embedded import EmbeddedLLM
    from mlr.llm.errors import LLMError
    from mlr.store import Store

    settings = Settings.from_env()
    settings.ensure_dirs()
    store = Store(settings.db_path)
    library = open_library(settings, store)
    library.add_samples()
    llm = EmbeddedLLM(n_ctx=settings.embedded_ctx, max_tokens=settings.embedded_max_tokens,
                      retries=settings.llm_retries, temperature=settings.llm_temperature)
    agent = IdeaAgent(llm, library.retriever, embedder=library.embedder, config=IdeaConfig(n_hypotheses=args.n))
    paper = store.get_paper(args.paper)
    llm.chat([{"role": "user", "content": "Hi"}], max_tokens=4)  # load the model outside the measurement

    start = llm.usage.as_dict()
    problem, failures = None, []
    for _ in range(3):  # the demo model sometimes loops; a researcher would press the button again
        try:
            problem = agent.extract_problem(args.paper, title=paper.title)
            break
        except LLMError as exc:
            failures.append(str(exc)[:200])
    problem_cost = {**delta(llm.usage, start), "failed_attempts": failures}
    if problem is None:
        print(json.dumps({"problem": problem_cost}, indent=1))
        print("the model gave no valid research problem in 3 attempts: no figure")
        return 1
    related = agent.related_work(problem, args.paper).passages

    # -- the agent: one focused request per hypothesis, then a plan and a review for each -----------
    per_hypothesis, valid, done = [], 0, []
    for i in range(args.n):
        before = llm.usage.as_dict()
        row = {"hypothesis_valid": False, "plan_valid": False, "review_valid": False}
        try:
            try:
                h = agent.generate_hypothesis(problem, related, index=i, n=args.n,
                                              previous=[d.method for d in done])
            finally:
                row["hypothesis_only"] = delta(llm.usage, before)
            row["hypothesis_valid"] = True
            done.append(h)
            valid += 1
            try:
                plan = agent.make_plan(h, problem)
                row["plan_valid"] = True
            except LLMError:
                plan = None
            try:
                agent.review(h, problem, plan)
                row["review_valid"] = True
            except LLMError:
                pass
        except LLMError:
            pass
        row.update(delta(llm.usage, before))
        per_hypothesis.append(row)
    focused = {k: sum(r[k] for r in per_hypothesis) for k in ("calls", "prompt_tokens", "completion_tokens",
                                                              "seconds", "structured", "first_try_valid")}

    # -- baseline: all N hypotheses in one request -----------------------------------------------
    offered = agent._clip(related)
    draft = _hypothesis_schema(library.retriever, offered)
    batch = create_model("Hypotheses", hypotheses=(list[draft], Field(min_length=args.n, max_length=args.n)))
    messages = [{"role": "system", "content": prompts.render("idea/system")},
                {"role": "user", "content": prompts.render("idea/hypotheses_batch", task=problem.task,
                                                           gaps=[g.text for g in problem.gaps],
                                                           keywords=problem.keywords, passages=offered, n=args.n)}]
    before = llm.usage.as_dict()
    try:
        batch_valid = len(llm.structured(messages, batch, max_tokens=min(2048, 450 * args.n)).hypotheses)
    except LLMError:
        batch_valid = 0
    baseline = delta(llm.usage, before)

    # Like for like with the baseline: the agent's hypothesis requests alone (no plan, no review).
    hyp_only_seconds = sum(r["hypothesis_only"]["seconds"] for r in per_hypothesis)
    hyp_first = sum(r["hypothesis_only"]["first_try_valid"] for r in per_hypothesis)
    focused_spv = hyp_only_seconds / valid if valid else float("inf")
    baseline_spv = baseline["seconds"] / batch_valid if batch_valid else float("inf")
    report = {"paper": paper.title, "n": args.n, "model": llm.model, "problem": problem_cost,
              "per_hypothesis": per_hypothesis, "focused_total": focused, "valid_hypotheses": valid,
              "baseline_one_request": {**baseline, "valid_hypotheses": batch_valid}}
    print(json.dumps(report, indent=1))
    share = focused["first_try_valid"] / focused["structured"] if focused["structured"] else 0.0
    print(f"\nper hypothesis (hypothesis + plan + review): {focused['calls'] / args.n:.1f} LLM calls, "
          f"{(focused['prompt_tokens'] + focused['completion_tokens']) / args.n:.0f} tokens, "
          f"{focused['seconds'] / args.n:.1f} s")
    print(f"answers valid on the first try: {focused['first_try_valid']}/{focused['structured']} ({share:.0%}); "
          f"baseline one request: {baseline['first_try_valid']}/{baseline['structured']}")
    print(f"valid hypotheses: focused {valid}/{args.n} ({hyp_first} on the first try), "
          f"baseline one request {batch_valid}/{args.n}")
    ratio = focused_spv / baseline_spv if baseline_spv not in (0, float("inf")) else float("nan")
    print(f"seconds per valid hypothesis (hypothesis requests only): focused {focused_spv:.1f} s vs baseline "
          f"one request for all {args.n} {baseline_spv:.1f} s -> ratio {ratio:.2f}x")
    cited = "n/a"
    if done:
        own = sum(c.paper_id == args.paper for h in done for c in h.citations)
        cited = f"{own}/{sum(len(h.citations) for h in done)} citations of the paper itself"
    print(f"grounding of the focused hypotheses: {cited}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
