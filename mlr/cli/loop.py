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
import threading

from mlr.cli.output import emit_json, fail

log = logging.getLogger(__name__)

ACTIONS = ("status", "pause", "resume", "stop", "approve", "reject")
ENDED = ("baseline", "kept", "discarded", "failed", "refused", "rejected", "awaiting_approval")


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
    _describe(store.get_loop(loop_id))
    return _foreground(ws, loop_id, args)


def _describe(loop) -> None:
    from mlr.experiments.space import SearchSpace

    cfg = loop.config
    space = SearchSpace.model_validate(cfg.space)
    searched = ", ".join(f"{p.name} ({p.distribution.text()})" for p in space.searchable) or "none"
    fixed = ", ".join(f"{p.name}={p.value!r}" for p in space.fixed) or "none"
    budget = f"{cfg.budget_runs} runs" + (f" / {cfg.budget_minutes:g} min" if cfg.budget_minutes else "")
    _err(f"loop {loop.id} on {loop.notebook}: {cfg.metric} ({'higher' if cfg.higher_is_better else 'lower'} is "
         f"better), budget {budget}, {cfg.seeds} seed(s), bar {cfg.bar:.0%}"
         + (", parameters only" if cfg.params_only else ", autopilot" if cfg.autopilot else ""))
    _err(f"  searched: {searched}")
    _err(f"  fixed: {fixed}")


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
        _err(note)
    watcher = _Progress(store, loop_id)
    watcher.start()
    try:
        try:
            engine.run(loop_id)
        except KeyboardInterrupt:
            _err(f"interrupted: pausing loop {loop_id} (its current run is cancelled and runs again on resume)…")
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
        sys.stdout.write(_text(v) + "\n")
    return 1 if v.status == "failed" else 0


def loop_json(v) -> dict:
    """The CLI's one object (see the issue): baseline, best, success, why it stopped, runs, minutes, experiments."""
    best = None
    if v.best is not None:
        b = v.best
        best = {"experiment_id": b.experiment_id, "kind": b.kind, "parameters": b.parameters, "diff": b.diff,
                "mean": b.mean, "sd": b.sd, "n": b.n, "relative_improvement": b.relative_improvement,
                "p_value": b.p_value}
    return {
        "loop_id": v.loop_id, "status": v.status,
        "baseline": v.baseline.model_dump() if v.baseline else None,
        "best": best, "success": v.success, "stopped_because": v.stopped_because,
        "runs_used": v.runs_used, "minutes": v.minutes,
        "experiments": [{"id": e.id, "parent_id": e.parent_id, "kind": e.kind, "parameters": e.parameters,
                         "status": e.status, "metric_by_seed": e.metric_by_seed, "mean": e.mean, "reason": e.reason}
                        for e in v.experiments],
    }


def _fmt(mean, sd, n) -> str:
    if mean is None:
        return "no value"
    return f"{mean:.4g}" + ("" if sd is None else f" ± {sd:.3g}") + f" (n={n})"


def _text(v) -> str:
    lines = [f"loop {v.loop_id} {v.status}: {v.stopped_because}",
             f"runs used: {v.runs_used} of {v.budget_runs}, {v.minutes:.1f} min"]
    if v.baseline:
        lines.append(f"baseline {v.metric}: {_fmt(v.baseline.mean, v.baseline.sd, v.baseline.n)}")
    if v.best is None:
        lines.append("best: the baseline (no candidate beat it)")
    else:
        b = v.best
        imp = "n/a" if b.relative_improvement is None else f"{b.relative_improvement:+.1%}"
        p = "n/a" if b.p_value is None else f"{b.p_value:.3g}"
        lines.append(f"best: experiment {b.ordinal} ({b.kind}) {_fmt(b.mean, b.sd, b.n)}, {imp}, p={p} → "
                     f"{'SUCCESS' if v.success else b.verdict}")
    waiting = [e for e in v.experiments if e.status == "awaiting_approval"]
    if waiting:
        lines.append(f"{len(waiting)} code candidate(s) await approval: python -m mlr loop approve "
                     f"{waiting[0].id}, then python -m mlr loop resume {v.loop_id}")
    if v.model_note:
        lines.append(v.model_note)
    if v.summary:
        lines.append(v.summary)
    return "\n".join(lines)


def _line(e) -> str:
    value = _fmt(e.mean, e.sd, e.n) if e.n else ""
    head = f"#{e.ordinal} {e.kind} {e.status}"
    extra = f" — {e.verdict}" if e.verdict and e.status in ("kept", "discarded") else ""
    return f"{head}: {value}{extra}  [{e.reason[:140]}]" if value else f"{head}  [{e.reason[:140]}]"


class _Progress:
    """Prints one line on stderr for each experiment of the loop as it ends (a thread polling the record)."""

    def __init__(self, store, loop_id: int, poll_s: float = 0.5):
        self.store, self.loop_id, self.poll_s = store, loop_id, poll_s
        self._seen = {e.id: e.status for e in store.list_experiments(loop_id) if e.status in ENDED}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mlr-loop-progress", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._print_new()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self._print_new()
            except Exception:  # boundary: progress lines must never break the loop
                log.debug("progress could not be read", exc_info=True)

    def _print_new(self) -> None:
        for e in self.store.list_experiments(self.loop_id):
            if e.status in ENDED and self._seen.get(e.id) != e.status:
                self._seen[e.id] = e.status
                _err(_line(e))


def _ask_on_terminal(exp):
    """Show a code candidate on stderr (stdout stays clean for --json) and read y / n / later / feedback."""
    err = sys.stderr
    err.write(f"\nCode candidate #{exp.ordinal}: {exp.reason}\n{exp.diff or '(no diff)'}\n")
    err.write("Run it? [y]es / [n]o / [l]ater / or type why not (feedback for the next proposal): ")
    err.flush()
    answer = sys.stdin.readline()
    if not answer:
        return None
    answer = answer.strip()
    if answer.lower() in {"y", "yes"}:
        return True
    if answer.lower() in {"n", "no"}:
        return False
    if answer.lower() in {"", "l", "later"}:
        return None
    return answer


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


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
    _err(f"resuming loop {loop_id} ({loop.runs_used} of {loop.config.budget_runs} runs used)")
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
