"""Parameter candidates from Optuna (ask/tell, seeded TPE), the study kept in SQLite so a loop resumes.

This is a thin wrapper: the search is Optuna's. What it adds is what the loop needs around it:

* fixed parameters (from the :class:`~mlr.experiments.space.SearchSpace`) merged into every proposal,
  and the full parameter dict kept on the trial (user attribute ``params``);
* pins (a parameter fixed at a value by the researcher) and bans (a value never to be run), kept in
  the study's user attributes so a restarted loop keeps them. A proposal with a banned value, or one
  identical to a configuration already run, is discarded (told as FAIL with ``discarded`` set, which
  TPE ignores) and Optuna asked again, at most ``max_retries`` times; then :class:`NoCandidate`;
* ``load_if_exists``: a new object on the same SQLite file continues the same study. The sampler's
  seed is ``seed + number of trials so far``, so a restarted loop does not replay its first draws;
* ``sampler="random"``: Optuna's RandomSampler instead of TPE (the baseline of ``benchmarks/bench_loop.py``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import optuna
from optuna.trial import TrialState

from mlr.experiments.space import SearchSpace, coerce_value

log = logging.getLogger(__name__)
optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "Trial 3 finished with value ..." per tell


class NoCandidate(RuntimeError):
    """Optuna cannot propose a new configuration: nothing searchable, all values banned, or exhausted."""


class Proposal(NamedTuple):
    number: int  # the Optuna trial number, to pass back to tell()
    params: dict[str, Any]  # every parameter: searched values plus the fixed ones


@dataclass(frozen=True)
class TrialRecord:
    number: int
    state: str  # COMPLETE | FAIL | RUNNING | ...
    params: dict[str, Any]
    value: float | None
    discarded: str = ""  # why a proposal was never run (banned value, duplicate)
    source: str = "optuna"  # optuna | observation (a result added from outside: baseline, code candidate)


SAMPLERS = ("tpe", "random")


def make_sampler(name: str, seed: int, n_startup_trials: int = 3) -> optuna.samplers.BaseSampler:
    """Optuna's sampler ``name``: ``tpe`` (the loop's default) or ``random`` (the benchmark's baseline)."""
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r}; one of {', '.join(SAMPLERS)}")


class ParameterStudy:
    """One loop's Optuna study in ``storage_path`` (SQLite). ``higher_is_better`` sets the direction;
    ``sampler`` is ``tpe`` (seeded TPE) or ``random`` (Optuna's RandomSampler, seeded the same way)."""

    def __init__(self, storage_path: str | Path, space: SearchSpace, *, study_name: str = "loop",
                 higher_is_better: bool = True, seed: int = 0, n_startup_trials: int = 3, max_retries: int = 8,
                 sampler: str = "tpe"):
        self.path = Path(storage_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        storage = optuna.storages.RDBStorage(f"sqlite:///{self.path}",
                                             engine_kwargs={"connect_args": {"timeout": 30}})
        self.study = optuna.create_study(storage=storage, study_name=study_name, load_if_exists=True,
                                         direction="maximize" if higher_is_better else "minimize")
        n = len(self.study.get_trials(deepcopy=False))
        self.study.sampler = make_sampler(sampler, seed + n, n_startup_trials)
        self.sampler_name = sampler
        self.space = space
        self.max_retries = max_retries
        if n:
            log.info("continuing study %s in %s after %d trials", study_name, self.path, n)

    # pins and bans -------------------------------------------------------------------------------
    @property
    def pins(self) -> dict[str, Any]:
        return dict(self.study.user_attrs.get("pins") or {})

    @property
    def bans(self) -> dict[str, list[Any]]:
        return {k: list(v) for k, v in (self.study.user_attrs.get("bans") or {}).items()}

    def pin(self, name: str, value: Any) -> None:
        """Fix ``name`` at ``value`` from the next proposal on (ValueError for a locked or ill-typed one)."""
        pinned = self.space.pin(name, value)  # validates
        self.study.set_user_attr("pins", {**self.pins, name: pinned.get(name).value})

    def unpin(self, name: str) -> None:
        self.study.set_user_attr("pins", {k: v for k, v in self.pins.items() if k != name})

    def ban(self, name: str, value: Any) -> None:
        """Never propose ``name=value`` again."""
        spec = self.space.get(name)
        if spec is None:
            raise ValueError(f"unknown parameter {name!r}")
        value = coerce_value(spec, value)
        bans = self.bans
        if value not in bans.get(name, []):
            bans[name] = [*bans.get(name, []), value]
        self.study.set_user_attr("bans", bans)

    def effective_space(self) -> SearchSpace:
        space = self.space
        for name, value in self.pins.items():
            space = space.pin(name, value)
        return space

    # ask / tell ----------------------------------------------------------------------------------
    def ask(self) -> Proposal:
        """The next configuration to run; :class:`NoCandidate` when there is none."""
        space = self.effective_space()
        dists = space.distributions()
        if not dists:
            raise NoCandidate("nothing to search: every parameter is fixed or pinned")
        self._check_bans(space)
        seen = [r.params for r in self.trials() if not r.discarded]  # failed runs too: no reruns
        reason = ""
        for _ in range(self.max_retries + 1):
            trial = self.study.ask(dists)
            params = {**space.fixed_values(), **trial.params}
            banned = [f"{k}={v!r}" for k, v in params.items() if v in self.bans.get(k, [])]
            reason = (f"banned value {', '.join(banned)}" if banned else
                      "same configuration as an earlier experiment" if params in seen else "")
            trial.set_user_attr("params", params)
            if not reason:
                return Proposal(trial.number, params)
            trial.set_user_attr("discarded", reason)
            self.study.tell(trial.number, state=TrialState.FAIL)
            log.debug("trial %d discarded: %s", trial.number, reason)
        raise NoCandidate(f"Optuna proposed no usable configuration in {self.max_retries + 1} tries "
                          f"(last: {reason}); the search space may be exhausted")

    def tell(self, number: int, value: float | None) -> None:
        """Report trial ``number``'s metric (the loop's value for it), or None when the run failed."""
        if value is None or not math.isfinite(value):
            self.study.tell(number, state=TrialState.FAIL, skip_if_finished=True)
        else:
            self.study.tell(number, float(value), skip_if_finished=True)

    def add_observation(self, params: dict[str, Any], value: float, source: str = "observation") -> int:
        """Record a result measured outside Optuna (the baseline, a code candidate) so TPE learns from it.

        Only searchable parameters whose value lies in their distribution are given to Optuna.
        """
        space = self.effective_space()
        kept = {p.name: params[p.name] for p in space.searchable
                if p.name in params and p.distribution.contains(params[p.name])}
        dists = {k: space.get(k).distribution.to_optuna() for k in kept}
        trial = optuna.trial.create_trial(params=kept, distributions=dists, value=float(value),
                                          user_attrs={"params": dict(params), "source": source})
        self.study.add_trial(trial)
        return self.study.get_trials(deepcopy=False)[-1].number

    # reading back --------------------------------------------------------------------------------
    def trials(self) -> list[TrialRecord]:
        out = []
        for t in self.study.get_trials(deepcopy=False):
            out.append(TrialRecord(number=t.number, state=t.state.name, params=dict(t.user_attrs.get("params") or
                                                                                     t.params),
                                   value=t.value, discarded=str(t.user_attrs.get("discarded") or ""),
                                   source=str(t.user_attrs.get("source") or "optuna")))
        return out

    def running(self) -> list[int]:
        """Trials asked but never told (after a crash: tell them, or tell None to give them up)."""
        return [t.number for t in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))]

    def best(self) -> TrialRecord | None:
        done = [r for r in self.trials() if r.state == "COMPLETE" and r.value is not None]
        if not done:
            return None
        pick = max if self.study.direction == optuna.study.StudyDirection.MAXIMIZE else min
        return pick(done, key=lambda r: r.value)

    def _check_bans(self, space: SearchSpace) -> None:
        for name, values in self.bans.items():
            spec = space.get(name)
            if spec is not None and spec.searchable and spec.distribution.kind == "categorical":
                if all(c in values for c in spec.distribution.choices):
                    raise NoCandidate(f"every value of {name} is banned ({', '.join(map(repr, values))}); "
                                      "unban one or pin it")
