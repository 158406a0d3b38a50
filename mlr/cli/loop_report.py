"""What ``python -m mlr loop`` prints: the loop's settings, a line per experiment as it ends, the result.

Progress goes to stderr (stdout stays clean for ``--json``); the JSON object is built from
:func:`mlr.experiments.outcome.view`, so every number is read from the record.
"""

from __future__ import annotations

import logging
import sys
import threading

log = logging.getLogger(__name__)

ENDED = ("baseline", "kept", "discarded", "failed", "refused", "rejected", "awaiting_approval")


def describe(loop) -> None:
    from mlr.experiments.space import SearchSpace

    cfg = loop.config
    space = SearchSpace.model_validate(cfg.space)
    searched = ", ".join(f"{p.name} ({p.distribution.text()})" for p in space.searchable) or "none"
    fixed = ", ".join(f"{p.name}={p.value!r}" for p in space.fixed) or "none"
    budget = f"{cfg.budget_runs} runs" + (f" / {cfg.budget_minutes:g} min" if cfg.budget_minutes else "")
    err(f"loop {loop.id} on {loop.notebook}: {cfg.metric} ({'higher' if cfg.higher_is_better else 'lower'} is "
         f"better), budget {budget}, {cfg.seeds} seed(s), bar {cfg.bar:.0%}"
         + (", parameters only" if cfg.params_only else ", autopilot" if cfg.autopilot else ""))
    err(f"  searched: {searched}")
    err(f"  fixed: {fixed}")


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


def text(v) -> str:
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


class Progress:
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
                err(_line(e))


def err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
