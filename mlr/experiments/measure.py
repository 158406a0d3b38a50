"""Measuring one experiment of a loop: run it on seeds, read its metric, keep every number in the record.

Runs are submitted before any is awaited (with several run slots they execute together) and linked to
the experiment at once (``data.runs``: seed → run id), so a loop killed mid-run finds them again on
resume: a finished run is read back, an interrupted or cancelled one is run again. Every submitted run
counts against the loop's budget. The control column is read before an experiment's runs are submitted
and between polls: *stop* cancels the runs of the measurement (the executing one and any still queued),
*pause* lets them finish. A run found queued from an earlier process that this runner will not execute
(the CLI's runner runs only what it submitted) is cancelled and submitted again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mlr.execution.errors import MetricsError
from mlr.execution.metrics import metric_value
from mlr.protocols import RunOutcome
from mlr.store import Store
from mlr.store.loop_records import Loop, LoopExperiment

log = logging.getLogger(__name__)

POLL_S = 0.5
RERUN = ("interrupted", "cancelled")


class LoopStopped(Exception):
    """The researcher asked the loop to stop (or pause); carries the words for the record."""

    def __init__(self, reason: str, pause: bool = False):
        super().__init__(reason)
        self.reason, self.pause = reason, pause


@dataclass
class SeedResult:
    seed: int
    run_id: int
    value: float | None
    outcome: RunOutcome
    problem: str = ""  # why there is no value (a failed run, a missing metric)


class Measurer:
    def __init__(self, store: Store, runner, *, poll_s: float = POLL_S):
        self.store, self.runner, self.poll_s = store, runner, poll_s

    def check_control(self, loop_id: int) -> None:
        """Raise :class:`LoopStopped` when a stop or pause was requested (between runs)."""
        loop = self.store.get_loop(loop_id)
        if loop is not None and loop.control == "stop":
            raise LoopStopped("stopped by the researcher")
        if loop is not None and loop.control == "pause":
            raise LoopStopped("paused by the researcher", pause=True)

    def measure(self, loop: Loop, exp: LoopExperiment, seeds: list[int | None]) -> list[SeedResult]:
        """Run ``exp`` on each seed not measured yet (``None``: the notebook has no seed parameter)."""
        return self.measure_many(loop, [(exp, seeds)])[0]

    def measure_many(self, loop: Loop, work: list[tuple[LoopExperiment, list[int | None]]]) -> list[list[SeedResult]]:
        """Submit the runs of several experiments before awaiting any (with several run slots, e.g. a Ray
        cluster, they execute together); one list of results per experiment, in order."""
        self.check_control(loop.id)  # once, before any submission: a pause never leaves seeds queued
        pendings = [self._submit(loop, exp, seeds) for exp, seeds in work]
        try:
            return [[self._result(loop, seed, run_id) for seed, run_id in pending] for pending in pendings]
        except LoopStopped:
            self.cancel_open([run_id for pending in pendings for _, run_id in pending])
            raise

    def _submit(self, loop: Loop, exp: LoopExperiment, seeds: list[int | None]) -> list[tuple[int | None, int]]:
        cfg = loop.config
        runs: dict[str, int] = dict(exp.data.get("runs", {}))
        pending: list[tuple[int | None, int]] = []
        for seed in seeds:
            key = str(seed)
            run_id = runs.get(key)
            if run_id is not None:
                run = self.store.get_run(run_id)
                if run is not None and run.status == "queued" and not getattr(self.runner, "adopt_queue", True):
                    log.info("run %s was queued by an earlier process; submitting it again", run_id)
                    self.runner.cancel(run_id)  # this runner executes only what it submitted itself
                    run = self.store.get_run(run_id)
                if run is not None and run.status not in RERUN:
                    pending.append((seed, run_id))  # submitted before a restart: read it back
                    continue
            params = dict(exp.parameters)
            if seed is not None and cfg.seed_parameter:
                params[cfg.seed_parameter] = seed
            run_id = self.runner.submit(exp.notebook, params, kind="loop", plan_id=loop.plan_id,
                                        timeout_s=cfg.run_timeout_s,
                                        data={"loop_id": loop.id, "experiment_id": exp.id, "seed": seed})
            runs[key] = run_id
            self.store.update_experiment(exp.id, data={**exp.data, "runs": runs},
                                         run_ids=sorted(set(exp.run_ids) | set(runs.values())))
            self._count_run(loop.id)
            pending.append((seed, run_id))
        return pending

    def cancel_open(self, run_ids: list[int]) -> None:
        """Cancel the runs among ``run_ids`` that have not ended (queued or running)."""
        from mlr.store import FINAL

        for run_id in run_ids:
            run = self.store.get_run(run_id)
            if run is not None and run.status not in FINAL:
                try:
                    self.runner.cancel(run_id)
                except Exception:  # boundary: a run that vanished must not hide why the loop stopped
                    log.warning("run %s could not be cancelled", run_id, exc_info=True)

    def record(self, exp_id: int, results: list[SeedResult]) -> LoopExperiment:
        """Store the metric of each seed (``None`` for a seed without one) and the summary columns."""
        from mlr.experiments.stats import summarize

        exp = self.store.get_experiment(exp_id)
        by_seed = dict(exp.metric_by_seed)
        for r in results:
            by_seed[str(r.seed)] = r.value
        values = [v for v in by_seed.values() if v is not None]
        summary = summarize(values) if values else None
        problems = "; ".join(r.problem for r in results if r.problem)
        self.store.update_experiment(exp_id, metric_by_seed=by_seed, n=len(values),
                                     mean=summary.mean if summary else None,
                                     sd=summary.sd if summary else None,
                                     error=problems or exp.error)
        return self.store.get_experiment(exp_id)

    def _count_run(self, loop_id: int) -> None:
        with self.store.write() as conn:
            conn.execute("UPDATE loops SET runs_used = runs_used + 1 WHERE id = ?", (loop_id,))

    def _result(self, loop: Loop, seed: int | None, run_id: int) -> SeedResult:
        outcome = self._wait(loop.id, run_id)
        if outcome.status != "succeeded":
            err = outcome.error
            what = f"{err.ename}: {err.evalue}" if err else outcome.status
            return SeedResult(seed, run_id, None, outcome, f"run {run_id} {outcome.status} ({what})")
        try:
            value = metric_value(outcome.metrics, loop.config.metric or "", "run")
        except MetricsError as exc:
            return SeedResult(seed, run_id, None, outcome, f"run {run_id}: {exc}")
        return SeedResult(seed, run_id, value, outcome)

    def _wait(self, loop_id: int, run_id: int) -> RunOutcome:
        while True:
            try:
                return self.runner.wait(run_id, timeout=self.poll_s)
            except TimeoutError:
                pass
            loop = self.store.get_loop(loop_id)
            if loop is not None and loop.control == "stop":
                log.info("loop %s: stop requested, cancelling run %s", loop_id, run_id)
                self.runner.cancel(run_id)
                try:
                    self.runner.wait(run_id, timeout=60)
                except TimeoutError:
                    log.warning("run %s did not stop within 60 s of its cancel", run_id)
                raise LoopStopped("stopped by the researcher")
