"""The experiment loop: baseline over seeds, then one candidate per step until the budget is spent.

``ExperimentLoop.run(loop_id)`` reads everything from the record and writes every measurement back as it
happens, so it can be killed at any point and resumed by calling ``run`` again (from the app or the CLI).

A step: the policy (:mod:`mlr.experiments.policy`) picks a kind — *parameters* (Optuna ask/tell),
*code* (a model-written cell edit of the best version so far, guarded and, unless autopilot, approved by
the researcher first) or *debug* (the debug loop on the last failed candidate). The candidate is
*screened* on one seed; one that beats the best so far on that same seed is *confirmed* on every seed
and *kept* when its confirmed mean beats the best's. Each kept or confirmed candidate is judged against
the baseline with Welch's test (:mod:`mlr.experiments.stats`): *success* needs the improvement bar and p < alpha.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from mlr.experiments import candidates, outcome
from mlr.experiments.measure import LoopStopped, Measurer
from mlr.experiments.policy import choose_kind
from mlr.experiments.stats import verdict
from mlr.store import Store
from mlr.store.loop_records import Loop, LoopExperiment

log = logging.getLogger(__name__)

FAILING_STREAK = 4  # this many failed candidates in a row (debug fixes included) end the loop


class LoopError(Exception):
    """A loop that cannot start or go on; the message says why and what to do."""


def better(a: float | None, b: float | None, higher_is_better: bool) -> bool:
    if a is None:
        return False
    if b is None:
        return True
    return a > b if higher_is_better else a < b


class ExperimentLoop:
    """Runs loops of one workspace. ``sources`` makes candidates (:class:`candidates.CandidateSources`).

    ``approve(experiment) -> True | False | str | None``: asked about each new code candidate that awaits
    approval (the CLI on a terminal); True runs it now, False (or feedback text) rejects it, None leaves it
    waiting.
    """

    def __init__(self, store: Store, runner, sources: candidates.CandidateSources, *, owner: str,
                 poll_s: float = 0.5, approve: Callable[[LoopExperiment], bool | None] | None = None):
        self.store, self.runner, self.sources, self.owner = store, runner, sources, owner
        self.approve = approve
        self.measurer = Measurer(store, runner, poll_s=poll_s)

    # -- the whole loop -----------------------------------------------------------------------------------
    def run(self, loop_id: int) -> Loop:
        if not self.store.claim_loop(loop_id, self.owner):
            loop = self.store.get_loop(loop_id)
            if loop is None:
                raise LoopError(f"there is no loop {loop_id}")
            raise LoopError(f"loop {loop_id} is {loop.status}; only a created, paused or interrupted loop can run")
        started, reason, status = time.monotonic(), "", "finished"
        loop = self.store.get_loop(loop_id)
        try:
            recover = getattr(self.runner, "recover", None)
            if recover is not None:
                recover()  # runs left 'running' by a process that died become 'interrupted' (and run again)
            baseline = self._baseline(loop)
            while not (reason := self._stop_reason(loop_id, started)):
                self._step(self.store.get_loop(loop_id), baseline)
        except LoopStopped as stop:
            reason, status = stop.reason, "paused" if stop.pause else "stopped"
        except candidates.NothingToTry as exc:
            reason = str(exc)
        except LoopError as exc:
            reason, status = str(exc), "failed"
        except Exception as exc:  # boundary: the record says what happened, the log has the traceback
            log.exception("loop %s crashed", loop_id)
            reason, status = f"unexpected error ({type(exc).__name__}: {exc}); the log has the details", "failed"
        finally:
            loop = self.store.get_loop(loop_id)
            self.store.update_loop(loop_id, seconds=loop.seconds + time.monotonic() - started)
        return self._end(loop_id, status, reason)

    def pause_now(self, loop_id: int, reason: str = "interrupted (Ctrl-C); resume to go on") -> Loop:
        """Pause a loop this process was running, at once (after Ctrl-C): cancel its open runs (they run again
        on resume) and mark it paused. Nothing measured is lost."""
        open_runs = [rid for e in self.store.list_experiments(loop_id) for rid in e.data.get("runs", {}).values()]
        self.measurer.cancel_open(open_runs)
        return self._end(loop_id, "paused", reason)

    def _end(self, loop_id: int, status: str, reason: str) -> Loop:
        fields = {"status": status, "stopped_because": reason, "control": None, "owner": None}
        if status != "paused":
            from mlr.store import now_iso

            fields["finished_at"] = now_iso()
        self.store.update_loop(loop_id, **fields)
        if status == "stopped":  # a stop cancels the measurement: the experiment never finishes
            for exp in self.store.list_experiments(loop_id):
                if exp.status == "running":
                    self.store.update_experiment(exp.id, status="failed", verdict="stopped",
                                                 error=exp.error or "the loop was stopped while this experiment ran")
        if status in ("finished", "stopped"):
            outcome.write_summary(self.store, loop_id)
        log.info("loop %s %s: %s", loop_id, status, reason)
        return self.store.get_loop(loop_id)

    def _stop_reason(self, loop_id: int, started: float) -> str:
        self.measurer.check_control(loop_id)
        loop = self.store.get_loop(loop_id)
        cfg = loop.config
        if loop.runs_used >= cfg.budget_runs:
            return f"budget spent: {loop.runs_used} of {cfg.budget_runs} runs"
        minutes = (loop.seconds + time.monotonic() - started) / 60
        if cfg.budget_minutes is not None and minutes >= cfg.budget_minutes:
            return f"time budget spent: {minutes:.1f} of {cfg.budget_minutes:g} minutes"
        ran = [e for e in self.store.list_experiments(loop_id)
               if e.kind != "baseline" and e.status in ("kept", "discarded", "failed")]
        if len(ran) >= FAILING_STREAK and all(e.status == "failed" for e in ran[-FAILING_STREAK:]):
            last = ran[-1].error or ran[-1].reason or "no error recorded"
            return (f"every candidate fails: the last {FAILING_STREAK} all failed (last: {last[:200]}). "
                    "Check the notebook with these parameters, or narrow the search space")
        best = self.store.get_experiment(loop.best_id) if loop.best_id else None
        if cfg.stop_at_success and best is not None and best.verdict == "success":
            return f"success: experiment {best.ordinal} clears the {cfg.bar:.0%} bar with p < {cfg.alpha:g}"
        return ""

    # -- baseline -------------------------------------------------------------------------------------------
    def _baseline(self, loop: Loop) -> LoopExperiment:
        existing = [e for e in self.store.list_experiments(loop.id) if e.kind == "baseline"]
        if existing:
            exp = existing[0]
        else:
            exp_id = self.store.add_experiment(loop.id, kind="baseline", status="running", notebook=loop.notebook,
                                               parameters=loop.config.base_parameters,
                                               reason="the prototype's defaults")
            exp = self.store.get_experiment(exp_id)
        if exp.n < len(self.seeds(loop)):
            exp = self.measurer.record(exp.id, self.measurer.measure(loop, exp, self.seeds(loop)))
        if exp.n == 0:
            self.store.update_experiment(exp.id, status="failed")
            raise LoopError(f"the baseline produced no {loop.config.metric!r}: {exp.error or 'every run failed'}. "
                            "Fix the notebook (the Debug tab) and start again.")
        self.store.update_experiment(exp.id, status="baseline")
        if loop.best_id is None:
            self.store.update_loop(loop.id, best_id=exp.id)
        return self.store.get_experiment(exp.id)

    def seeds(self, loop: Loop) -> list[int | None]:
        cfg = loop.config
        if not cfg.seed_parameter:
            return [None]
        first = cfg.base_parameters.get(cfg.seed_parameter)
        first = first if isinstance(first, int) and not isinstance(first, bool) else 0
        return [first + i for i in range(max(1, cfg.seeds))]

    # -- one step -----------------------------------------------------------------------------------------
    def _step(self, loop: Loop, baseline: LoopExperiment) -> None:
        history = self.store.list_experiments(loop.id)
        best = self.store.get_experiment(loop.best_id)
        exp = next((e for e in history if e.status in ("pending", "running")), None)  # approved, or interrupted
        if exp is None:
            kind = choose_kind(history, loop.config, model_available=self.sources.has_model)
            if kind == "parameters" and self._slots() > 1:
                self._screen_batch(loop, best, baseline)
                return
            exp = self.sources.make(kind, loop, best, history)
            if exp is None:
                exp = self._ask_approval(loop.id)
            if exp is None and kind != "parameters" and len(self.store.list_experiments(loop.id)) == len(history):
                # the source recorded nothing (no failure left to debug, no debugger): without this the
                # policy would ask for the same kind again, forever, and spend no run
                log.info("loop %s: no %s candidate; a parameter candidate instead", loop.id, kind)
                exp = self.sources.parameters(loop, best)
            if exp is None:
                return  # the source recorded why (refused, awaiting approval, no candidate)
        self.store.update_experiment(exp.id, status="running")
        self._evaluate(loop, exp, best, baseline)

    def _slots(self) -> int:
        """Runs the runner's executor executes at once (1 for the local default; a Ray cluster's run slots)."""
        executor = getattr(self.runner, "executor", None)
        try:
            return int(executor.slots()) if executor is not None else 1
        except Exception:  # boundary: a cluster that stopped answering: one candidate at a time
            log.warning("the executor's slots could not be read; screening one candidate at a time", exc_info=True)
            return 1

    def _screen_batch(self, loop: Loop, best: LoopExperiment, baseline: LoopExperiment) -> None:
        """With several run slots: ask Optuna for up to that many parameter candidates, screen them together on
        the first seed (their runs submitted before any is awaited), then judge each in turn as one step would."""
        room = loop.config.budget_runs - loop.runs_used
        batch: list[LoopExperiment] = []
        for _ in range(max(1, min(self._slots(), room))):
            try:
                batch.append(self.sources.parameters(loop, best))
            except candidates.NothingToTry:
                if not batch:
                    raise
                break
        for exp in batch:
            self.store.update_experiment(exp.id, status="running")
        first = self.seeds(loop)[:1]
        results = self.measurer.measure_many(loop, [(self.store.get_experiment(e.id), first) for e in batch])
        for exp, result in zip(batch, results):
            self.measurer.record(exp.id, result)
        for exp in batch:  # each is judged against the best so far, which an earlier one of the batch may be
            current = self.store.get_loop(loop.id)
            self._evaluate(current, self.store.get_experiment(exp.id), self.store.get_experiment(current.best_id),
                           baseline)

    def _ask_approval(self, loop_id: int) -> LoopExperiment | None:
        """When the step just recorded a code candidate awaiting approval, ask ``approve`` (if any)."""
        if self.approve is None:
            return None
        history = self.store.list_experiments(loop_id)
        last = history[-1] if history else None
        if last is None or last.status != "awaiting_approval":
            return None
        answer = self.approve(last)
        if answer is None:
            return None
        from mlr.experiments.control import decide

        decide(self.store, last.id, answer is True, note=answer if isinstance(answer, str) else "")  # text: no + why
        return self.store.get_experiment(last.id) if answer is True else None

    def _evaluate(self, loop: Loop, exp: LoopExperiment, best: LoopExperiment, baseline: LoopExperiment) -> None:
        cfg, seeds = loop.config, self.seeds(loop)
        if exp.kind == "debug" and exp.data.get("screened_value") is not None and not exp.metric_by_seed:
            # the debug loop's last run already measured the fixed notebook on the first seed
            self.store.update_experiment(exp.id, metric_by_seed={str(seeds[0]): exp.data["screened_value"]}, n=1,
                                         mean=exp.data["screened_value"])
            exp = self.store.get_experiment(exp.id)
        if str(seeds[0]) not in exp.metric_by_seed:
            exp = self.measurer.record(exp.id, self.measurer.measure(loop, exp, seeds[:1]))
        if exp.n == 0:
            self.store.update_experiment(exp.id, status="failed", verdict="failed")
            self.sources.tell(loop, exp, None)
            return
        screen = exp.metric_by_seed[str(seeds[0])]
        self.sources.tell(loop, exp, screen)
        # Paired screen: against the best's value on the same seed, not its mean over seeds (a seed above
        # the mean let no-op candidates through to a confirmation; one below it hid real gains).
        reference = best.metric_by_seed.get(str(seeds[0]))
        reference = best.mean if reference is None else reference
        if not better(screen, reference, cfg.higher_is_better):
            self.store.update_experiment(exp.id, status="discarded",
                                         verdict=f"screened {screen:.4g} on one seed; best so far {reference:.4g} "
                                                 "on that seed")
            return
        if len(seeds) > 1:
            loop = self.store.get_loop(loop.id)
            room = cfg.budget_runs - loop.runs_used
            rest = [s for s in seeds[1:] if str(s) not in exp.metric_by_seed][: max(0, room)]
            exp = self.measurer.record(exp.id, self.measurer.measure(loop, exp, rest))
        judged = verdict(baseline.values(), exp.values(), cfg.higher_is_better, cfg.bar, cfg.alpha)
        confirmed = exp.n >= len(seeds)  # a candidate the budget could not confirm on every seed is never kept
        kept = confirmed and better(exp.mean, best.mean, cfg.higher_is_better)
        text = judged.text() if confirmed else (f"promising on {exp.n} of {len(seeds)} seeds, but the budget ran "
                                                "out before it could be confirmed; not kept")
        self.store.update_experiment(exp.id, status="kept" if kept else "discarded", verdict=judged.status,
                                     p_value=judged.p_value, relative_improvement=judged.relative_improvement,
                                     data={**exp.data, "verdict_text": text})
        if kept:
            self.store.update_loop(loop.id, best_id=exp.id)


def loop_dir(runs_dir: Path, loop_id: int) -> Path:
    return Path(runs_dir) / "loops" / str(loop_id)
