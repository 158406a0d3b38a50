"""``python -m mlr ideas PAPER_ID [--n N] [--json]``: the whole IdeaAgent phase for one paper.

Extracts the research problem, retrieves related work, generates N hypotheses, and plans and
reviews each; everything is stored in the record as it is produced. A step that fails is listed in
``failed`` (step, reason) and the others go on: partial results are results. Exit code 1 only when
nothing was produced (no research problem). Progress goes to stderr, the result to stdout.
"""

from __future__ import annotations

import sys

from mlr.cli.output import emit_json, fail


def register(sub) -> None:
    p = sub.add_parser("ideas", help="problem, related work, hypotheses, plans and reviews for one paper")
    p.add_argument("paper_id", type=int, help="id of a paper in the library (see the Library page)")
    p.add_argument("--n", type=int, default=None, help="number of hypotheses (default: MLR_N_HYPOTHESES)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args, ws) -> int:
    from mlr.agents.idea_agent import IdeaError
    from mlr.llm.errors import LLMError  # the model clients: imported by this command only

    if args.n is not None and not 1 <= args.n <= 20:
        return fail("--n must be between 1 and 20")
    try:
        recorder = ws.idea_recorder()
        llm = ws.llm
        if llm.demo_grade:
            _say(f"note: {llm.model} is a demo-grade model; its ideas show the flow, not research.")
        _say(f"mode: {recorder.agent.mode} (MLR_IDEA_MODE={recorder.agent.config.mode})")
        if ws.store.get_paper(args.paper_id) is None:
            raise IdeaError(f"There is no paper {args.paper_id} in the library.")
        result = recorder.run_all(args.paper_id, args.n, progress=_say)
    except (IdeaError, LLMError) as exc:
        return fail(f"{exc} (finished steps are kept in the record)")
    except Exception as exc:  # the library's own errors (bad index, model missing) carry their message
        if exc.__class__.__module__.startswith("mlr."):
            return fail(str(exc))
        raise
    usage = llm.usage
    _say(f"LLM: {usage.calls} calls, {usage.prompt_tokens}+{usage.completion_tokens} tokens, "
         f"{usage.seconds:.1f} s, {usage.first_try_valid}/{usage.structured} answers valid on the first try")
    if args.json:
        emit_json(result)
    else:
        sys.stdout.write(_text(result))
    if result["problem"] is None:
        _say("nothing was produced: " + "; ".join(f"{f['step']}: {f['reason']}" for f in result["failed"]))
        return 1
    return 0


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")


def _text(result: dict) -> str:
    problem = result["problem"]
    failed = [f"FAILED {f['step']}: {f['reason']}" for f in result["failed"]]
    if problem is None:
        return "\n".join(failed) + "\n"
    modes = problem.get("modes") or {}
    lines = [f"Task: {problem['task']}" + (f"  ({modes['task']})" if modes.get("task") else ""), "Gaps:"]
    lines += [f"  - {g['text']}  [{g['chunk_id']}]" for g in problem["gaps"]]
    lines.append("Keywords: " + ", ".join(problem["keywords"]))
    lines.append(f"Related: {len(result['related'])} items")
    for h in result["hypotheses"]:
        lines += ["", f"Hypothesis {h['id']}: {h['method']}", f"  why: {h['rationale']}",
                  "  modes: " + ", ".join(f"{k} {v}" for k, v in (h.get("modes") or {}).items()),
                  "  cites: " + ", ".join(c["chunk_id"] for c in h["citations"])]
        if h.get("plan"):
            plan = h["plan"]
            lines.append(f"  plan: {plan['objective']} ({plan['primary_metric']}, "
                         f"{'higher' if plan['higher_is_better'] else 'lower'} is better, vs {plan['baseline']})")
        if h.get("review"):
            review = h["review"]
            scores = ", ".join(f"{k} {review[k]['score']}" for k in
                               ("clarity", "validity", "rigor", "innovativeness", "generalizability"))
            novelty = review["novelty"]
            flag = "  RESTATES EXISTING WORK" if novelty["restates_existing"] else ""
            lines.append(f"  review: {scores}; nearest passage similarity {novelty['max_similarity']:.2f}{flag}")
    return "\n".join(lines + ([""] + failed if failed else [])) + "\n"
