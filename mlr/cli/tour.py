"""``python -m mlr tour [--json]``: the guided tour from the command line (the whole flow on a sample paper with
whatever model is available, each step timed), and ``python -m mlr tour --reset`` to remove what it made.
Exit 0 when the tour finished, 1 when a step failed."""

from __future__ import annotations

import sys

from mlr.cli.output import emit_json, fail


def register(sub) -> None:
    p = sub.add_parser("tour", help="walk the whole flow on a sample paper (or --reset to remove what it made)")
    p.add_argument("--reset", action="store_true", help="remove everything the tour made")
    p.add_argument("--json", action="store_true", help="print the tour's state as one JSON object")
    p.set_defaults(func=run)


def run(args, ws) -> int:
    from mlr.tour.reset import reset
    from mlr.tour.run import TourError, run_tour
    from mlr.tour.script import script
    from mlr.tour.state import load

    if args.reset:
        removed = reset(ws)
        sys.stdout.write(("removed " + ", ".join(removed) if removed else "the tour made nothing to remove") + "\n")
        return 0
    try:
        state = run_tour(ws)
    except TourError as exc:
        state = load(ws.settings)
        code = fail(str(exc), 1)
    else:
        code = 0
    finally:
        if ws.is_built("runner"):
            ws.runner.stop()
    if args.json:
        emit_json(state.model_dump(mode="json"))
    else:
        for step in script().steps:
            s = state.steps.get(step.key)
            took = f"{s.seconds:.0f} s" if s and s.seconds is not None else "-"
            sys.stdout.write(f"{step.title:<28} {s.status if s else 'waiting':<8} {took:>6}  {s.result if s else ''}\n")
        sys.stdout.write(f"tour: {state.seconds:.0f} s with {state.model}\n")
    return code
