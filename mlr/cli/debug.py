"""``python -m mlr debug NOTEBOOK [--attempts N] [--autopilot] [--timeout SECONDS] [--json]``.

Runs the notebook (through the engine's queue, recorded like any run) and, while it fails, the
debug loop: rule-based fixers first, then the local model. Every patch goes to a copy of the
notebook. Without ``--autopilot`` each patch is shown and needs a yes on a terminal; with no
terminal and no autopilot the loop stops and says approval is needed. Prints
``{"fixed", "attempts", "final_status", "final_notebook", "metrics", "reason"}`` with ``--json``.
Exit code 0 when the final run succeeded, 1 when it did not, 2 for bad input.
"""

from __future__ import annotations

import logging
import sys

from mlr.cli.notebook_args import add_notebook_arguments, notebook_parameters
from mlr.cli.output import emit_json, fail
from mlr.cli.terminal import ask_yes_no

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("debug", help="run a notebook and, while it fails, let the rules and the local model fix a copy")
    add_notebook_arguments(p, notebook_help="path to a .ipynb; it is never modified (patches go to copies)",
                           timeout_help="time limit of each run (default: MLR_RUN_TIMEOUT_S)")
    p.add_argument("--attempts", type=int, default=None, metavar="N",
                   help="most fixes to try (default: MLR_DEBUG_ATTEMPTS)")
    p.add_argument("--autopilot", action="store_true", help="apply each proposed fix without asking")
    p.add_argument("--rules-only", action="store_true", help="never ask the model; rule-based fixers only")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def ask_on_terminal(proposal):
    """The fix: y (apply) / n or empty (reject) / anything else (rejected, with an instruction for the next try)."""
    return ask_yes_no(f"Proposed fix ({proposal.source}): {proposal.explanation}", proposal.diff,
                      "Apply it? [y]es / [n]o / or type an instruction for the next try: ")


def _model(ws, rules_only: bool):
    if rules_only:
        return None, "rules only"
    from mlr.llm.errors import LLMError

    try:
        llm = ws.llm
    except LLMError as exc:
        return None, f"no model ({exc}); rules only"
    return llm, f"{llm.backend}:{llm.model}"


def run(args, ws) -> int:
    from mlr.execution.errors import ExecutionError

    if args.attempts is not None and args.attempts < 0:
        return fail("--attempts must be 0 or more", 2)
    try:
        parameters = notebook_parameters(args)
    except (ExecutionError, ValueError) as exc:
        return fail(str(exc), 2)
    runner = ws.runner
    llm, model_note = _model(ws, args.rules_only)
    log.info("debugging %s with %s", args.notebook, model_note)
    approve = None if args.autopilot or not sys.stdin.isatty() else ask_on_terminal
    debugger = ws.debugger(timeout_s=args.timeout, use_model=llm is not None)
    try:
        result = debugger.run_loop(args.notebook, parameters, max_attempts=args.attempts, autopilot=args.autopilot,
                                   approve=approve, use_llm=llm is not None)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except (ExecutionError, ValueError) as exc:  # e.g. a file that is not a notebook
        return fail(str(exc), 2)
    finally:
        runner.stop(cancel_running=True)
    out = {"fixed": result.fixed, "attempts": result.attempts, "final_status": result.final_status,
           "final_notebook": result.final_notebook, "metrics": result.metrics, "reason": result.reason,
           "command": result.command, "model": model_note}
    if args.json:
        emit_json(out)
    else:
        lines = [f"{'FIXED' if result.fixed else 'NOT FIXED'} — final run {result.final_status}; {result.reason}"]
        for a in result.attempts:
            mark = "✗" if a["is_buggy"] else ("✓" if a["is_buggy"] is False else "·")
            lines.append(f"{'  ' * a['depth']}{mark} #{a['id']} {a['source']} → {a['outcome']}"
                         + (f"  ({a['error']})" if a["error"] else ""))
        if result.metrics:
            lines.append("metrics: " + ", ".join(f"{k}={v}" for k, v in result.metrics.items()))
        lines.append(f"final notebook: {result.final_notebook}")
        sys.stdout.write("\n".join(lines) + "\n")
    return 0 if result.final_status == "succeeded" else 1
