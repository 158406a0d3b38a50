"""``python -m mlr loop``: the experiment loop from the command line.

Start one and run it in the foreground (one progress line per experiment on stderr)::

    python -m mlr loop (--plan ID | NOTEBOOK) [--budget-runs N] [--budget-minutes M] [--seeds K] [--bar 0.10]
                       [--autopilot] [--params-only] [--go-on-after-success] [--run-timeout S] [--goal TEXT] [--json]

Act on a loop (from any process; ``resume`` runs it in the foreground again)::

    python -m mlr loop status|pause|resume|stop LOOP_ID [--json]
    python -m mlr loop approve|reject EXPERIMENT_ID [--note TEXT]

Without ``--autopilot``, a model-written code candidate needs a yes: asked on a terminal, and without
one recorded as *awaiting approval* and skipped (approve it in the app or with ``loop approve``, then
``loop resume``). Ctrl-C pauses the loop (its current run is cancelled and runs again on resume).
``--json`` prints one object built from :func:`mlr.experiments.outcome.view`. Exit code 0 when the loop
ended (finished, stopped or paused), 1 when it failed, 2 for bad input (nothing is written then).
"""

from __future__ import annotations

import logging
import sys

from mlr.cli.loop_report import Progress, describe, err, loop_json, text
from mlr.cli.output import emit_json, fail
from mlr.cli.terminal import ask_yes_no

log = logging.getLogger(__name__)

ACTIONS = ("status", "pause", "resume", "stop", "approve", "reject")


def register(sub) -> None:
    p = sub.add_parser("loop", help="search for an improvement on its own: baseline over seeds, candidates, "
                                    "keep or discard",
                       description="python -m mlr loop (--plan ID | NOTEBOOK) [options] starts a loop and runs it "
                                   "in the foreground; python -m mlr loop status|pause|resume|stop LOOP_ID acts on "
                                   "one; python -m mlr loop approve|reject EXPERIMENT_ID decides a code candidate.")
    p.add_argument("target", nargs="?", metavar="NOTEBOOK | ACTION",
                   help="a prototype .ipynb to start a loop on, or one of: " + ", ".join(ACTIONS))
    p.add_argument("ident", nargs="?", metavar="ID", help="LOOP_ID (status, pause, resume, stop) or EXPERIMENT_ID "
                                                          "(approve, reject)")
    p.add_argument("--plan", type=int, default=None, metavar="ID",
                   help="start on this plan's prototype notebook (the plan's `prototype`)")
    p.add_argument("--goal", default="", help="one sentence of goal (default: the plan's objective)")
    p.add_argument("--budget-runs", type=int, default=12, metavar="N", help="most notebook runs, all seeds (12)")
    p.add_argument("--budget-minutes", type=float, default=None, metavar="M", help="most minutes (no limit)")
    p.add_argument("--seeds", type=int, default=3, metavar="K", help="seeds of the baseline and of a confirmation (3)")
    p.add_argument("--bar", type=float, default=None, metavar="REL",
                   help="relative improvement that counts as success (default: MLR_SUCCESS_BAR, 0.10)")
    p.add_argument("--autopilot", action="store_true", help="run model-written code candidates without asking")
    p.add_argument("--params-only", action="store_true", help="parameter candidates only (Optuna); no model")
    p.add_argument("--go-on-after-success", action="store_true",
                   help="spend the whole budget instead of stopping at the first success")
    p.add_argument("--run-timeout", type=float, default=None, metavar="S",
                   help="time limit of each run (default: MLR_RUN_TIMEOUT_S)")
    p.add_argument("--note", default="", help="approve / reject: a note for the next proposal")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args, ws) -> int:
    action = args.target if args.target in ACTIONS else None
    if action is None:
        problem = _start_problem(args)
        if problem:
            return fail(problem, 2)
    else:
        if args.plan is not None:
            return fail(f"--plan starts a loop; `loop {action}` takes only an id", 2)
        try:
            ident = int(args.ident)
        except (TypeError, ValueError):
            what = "EXPERIMENT_ID" if action in ("approve", "reject") else "LOOP_ID"
            return fail(f"`python -m mlr loop {action} {what}`: give the {what} (a number)", 2)
    if action is None:
        return _start(ws, args)
    if action in ("approve", "reject"):
        return _decide(ws, ident, action == "approve", args)
    return {"status": _status, "pause": _pause, "stop": _stop, "resume": _resume}[action](ws, ident, args)


# -- start -----------------------------------------------------------------------------------------------
def _start_problem(args) -> str:
    if args.plan is None and not args.target:
        return "give a NOTEBOOK (a prototype .ipynb) or --plan ID: python -m mlr loop NOTEBOOK [options]"
    if args.plan is not None and args.target:
        return "give either a NOTEBOOK or --plan ID, not both"
    if args.ident is not None:
        return f"unexpected argument {args.ident!r} after the NOTEBOOK"
    if args.run_timeout is not None and args.run_timeout <= 0:
        return "--run-timeout must be a positive number of seconds"
    return ""


def _plan_notebook(ws, plan_id: int) -> str:
    from mlr.execution.prototypes import list_prototypes
    from mlr.experiments.control import LoopInputError

    plan = ws.store.get_plan(plan_id)
    if plan is None:
        raise LoopInputError(f"there is no plan {plan_id}")
    slug = getattr(plan.data, "prototype", None)
    if not slug:
        raise LoopInputError(f"plan {plan_id} names no prototype notebook (its `prototype` is empty); give the "
                             "NOTEBOOK instead: python -m mlr loop NOTEBOOK [options]")
    found = next((p for p in list_prototypes(ws.settings) if p.slug == slug), None)
    if found is None:
        raise LoopInputError(f"plan {plan_id} names the prototype {slug!r}, which is not among the prototypes "
                             "(sample_papers/*/prototype.ipynb and the added ones); give the NOTEBOOK instead: "
                             "python -m mlr loop NOTEBOOK [options]")
    return str(found.path)


def _start(ws, args) -> int:
    from mlr.experiments import control

    store = ws.store
    bar = ws.settings.success_bar if args.bar is None else args.bar
    try:
        notebook = _plan_notebook(ws, args.plan) if args.plan is not None else args.target
        control.recover(store)
        loop_id = control.create(store, notebook, plan_id=args.plan, goal=args.goal, budget_runs=args.budget_runs,
                                 budget_minutes=args.budget_minutes, seeds=args.seeds, bar=bar,
                                 autopilot=args.autopilot, params_only=args.params_only,
                                 stop_at_success=not args.go_on_after_success, run_timeout_s=args.run_timeout)
    except control.LoopInputError as exc:
        return fail(str(exc), 2)
    describe(store.get_loop(loop_id))
    return _foreground(ws, loop_id, args)


# -- running in the foreground ---------------------------------------------------------------------------
def _foreground(ws, loop_id: int, args) -> int:
    from mlr.experiments.loop import LoopError

    store = ws.store
    loop = store.get_loop(loop_id)
    use_model = not loop.config.params_only
    note = ""
    if use_model:
        from mlr.llm.errors import LLMError

        try:
            ws.llm  # noqa: B018 - choose the model now: a clear note instead of a failure mid-loop
        except LLMError as exc:
            use_model, note = False, f"no model ({exc}); parameter candidates only"
    engine = ws.experiment_loop(use_model=use_model)
    if use_model and not loop.config.autopilot and sys.stdin.isatty():
        engine.approve = _ask_on_terminal
    if note:
        err(note)
    watcher = Progress(store, loop_id)
    watcher.start()
    try:
        try:
            engine.run(loop_id)
        except KeyboardInterrupt:
            err(f"interrupted: pausing loop {loop_id} (its current run is cancelled and runs again on resume)…")
            current = store.get_loop(loop_id)
            if current is not None and current.status == "running" and current.owner == engine.owner:
                engine.pause_now(loop_id)
        except LoopError as exc:  # it could not be claimed (another process runs it, or it has ended)
            return fail(str(exc), 2)
    finally:
        watcher.stop()
        ws.runner.stop(cancel_running=True)
    return _report(store, loop_id, args)


def _report(store, loop_id: int, args) -> int:
    from mlr.experiments.outcome import view

    v = view(store, loop_id)
    if args.json:
        emit_json(loop_json(v))
    else:
        sys.stdout.write(text(v) + "\n")
    return 1 if v.status == "failed" else 0


# -- acting on a loop ------------------------------------------------------------------------------------
def _status(ws, loop_id: int, args) -> int:
    from mlr.experiments import control

    control.recover(ws.store)
    if ws.store.get_loop(loop_id) is None:
        return fail(f"there is no loop {loop_id}", 2)
    return _report(ws.store, loop_id, args)


def _pause(ws, loop_id: int, args) -> int:
    return _request(ws, loop_id, args, "pause")


def _stop(ws, loop_id: int, args) -> int:
    return _request(ws, loop_id, args, "stop")


def _request(ws, loop_id: int, args, what: str) -> int:
    from mlr.experiments import control

    control.recover(ws.store)
    try:
        loop = (control.pause if what == "pause" else control.stop)(ws.store, loop_id)
    except control.LoopInputError as exc:
        return fail(str(exc), 2)
    if loop.status == "running":
        msg = f"loop {loop_id}: {what} requested; the process running it " + (
            "stops at once (its current run is cancelled)" if what == "stop" else "pauses after the current run")
    else:
        msg = f"loop {loop_id} is {loop.status}"
    if args.json:
        emit_json({"loop_id": loop_id, "status": loop.status, "control": loop.control, "message": msg})
    else:
        sys.stdout.write(msg + "\n")
    return 0


def _resume(ws, loop_id: int, args) -> int:
    from mlr.experiments import control
    from mlr.store.loop_records import RESUMABLE

    control.recover(ws.store)
    loop = ws.store.get_loop(loop_id)
    if loop is None:
        return fail(f"there is no loop {loop_id}", 2)
    if loop.status not in RESUMABLE:
        return fail(f"loop {loop_id} is {loop.status}; only a paused or interrupted loop can be resumed", 2)
    err(f"resuming loop {loop_id} ({loop.runs_used} of {loop.config.budget_runs} runs used)")
    return _foreground(ws, loop_id, args)


def _decide(ws, experiment_id: int, approved: bool, args) -> int:
    from mlr.experiments import control

    try:
        control.decide(ws.store, experiment_id, approved, args.note)
    except control.LoopInputError as exc:
        return fail(str(exc), 2)
    exp = ws.store.get_experiment(experiment_id)
    msg = (f"experiment {experiment_id} {'approved: it runs at the loop’s next step' if approved else 'rejected'}"
           f" (python -m mlr loop resume {exp.loop_id})")
    if args.json:
        emit_json({"experiment_id": experiment_id, "loop_id": exp.loop_id, "status": exp.status})
    else:
        sys.stdout.write(msg + "\n")
    return 0


def _ask_on_terminal(exp):
    """A code candidate: y (run it) / n (reject) / l or empty (later) / anything else (rejected, with feedback)."""
    return ask_yes_no(f"Code candidate #{exp.ordinal}: {exp.reason}", exp.diff,
                      "Run it? [y]es / [n]o / [l]ater / or type why not (feedback for the next proposal): ",
                      later=True)
