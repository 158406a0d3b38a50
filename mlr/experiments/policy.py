"""Which kind of candidate the loop tries next: ``parameters``, ``code`` or ``debug``.

The policy, in the order it is applied:

1. **debug** when the last candidate that ran failed and that failure has had fewer than
   ``debug_attempts`` debug attempts (default 2); a debug attempt that fails again counts against the
   same failure. (Model calls that never produced a run are not debugged.)
2. **code** when a model is available, the loop is not ``params_only``, no code candidate awaits the
   researcher's approval, and the last ``code_misses`` code candidates (default 2) did not all miss;
   a miss is a code candidate that failed, was refused by the guard, rejected by the researcher or
   discarded (ran but did not beat the best). A kept code candidate (or a kept debug fix of one)
   resets the count, and so does new feedback from the researcher.
3. **parameters** (Optuna) otherwise. So when the model's edits keep failing or not improving (the
   embedded 135M demo model), the budget shifts to the parameter search, and stays there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

log = logging.getLogger(__name__)

Kind = Literal["parameters", "code", "debug"]
RAN = ("kept", "discarded", "failed")
MISSES = ("failed", "refused", "rejected", "discarded")


class Step(Protocol):
    """One entry of the history: the store's ``LoopExperiment`` fits (``kind``, ``status``)."""

    kind: str  # baseline | parameters | code | debug
    status: str  # pending | awaiting_approval | rejected | refused | running | baseline | kept | discarded | failed


@dataclass(frozen=True)
class Entry:
    """A minimal history entry for callers (and tests) without store records."""

    kind: str
    status: str
    ran: bool | None = None  # None: decided from the status


@dataclass(frozen=True)
class Decision:
    kind: Kind
    reason: str


def _ran(step: Any) -> bool:
    explicit = getattr(step, "ran", None)
    if explicit is not None:
        return bool(explicit)
    if step.status not in RAN:
        return False
    runs = getattr(step, "run_ids", None)  # a store record: a failure without a run never ran
    return runs is None or bool(runs) or bool(getattr(step, "metric_by_seed", None))


def _origins(history: Sequence[Any]) -> list[str]:
    """For each entry, the kind of the candidate a debug attempt belongs to (itself for the others)."""
    out, origin = [], "baseline"
    for step in history:
        if step.kind != "debug":
            origin = step.kind
        out.append(origin)
    return out


def decide(history: Sequence[Step], *, model_available: bool, params_only: bool = False, debug_attempts: int = 2,
           code_misses: int = 2, feedback_since_last_code: bool = False,
           debug_parameter_failures: bool = True) -> Decision:
    """The next kind for a loop whose experiments so far are ``history`` (oldest first)."""
    live = [s for s in history if s.status != "awaiting_approval"]
    chain = 0  # the debug attempts at the end of the history, and the candidate they debug
    while chain < len(live) and live[-1 - chain].kind == "debug":
        chain += 1
    head = live[-1 - chain] if chain < len(live) else None
    fixed = chain and live[-1].status in ("kept", "discarded")
    if head is not None and head.status == "failed" and _ran(head) and not fixed and head.kind != "baseline":
        if (head.kind != "parameters" or debug_parameter_failures) and chain < debug_attempts:
            return Decision("debug", f"the last {head.kind} candidate failed; debug attempt {chain + 1} of "
                                     f"{debug_attempts}")
    if params_only:
        return Decision("parameters", "parameters only, as asked")
    if not model_available:
        return Decision("parameters", "no model is available for code candidates; the parameter search goes on")
    if any(s.kind == "code" and s.status == "awaiting_approval" for s in history):
        return Decision("parameters", "a code candidate awaits approval; searching parameters meanwhile")
    streak = 0
    if not feedback_since_last_code:
        for step, origin in reversed(list(zip(history, _origins(history)))):
            if origin != "code" or step.status not in (*MISSES, "kept"):
                continue
            if step.status == "kept":
                break
            if step.kind == "code":
                streak += 1
    if streak >= code_misses:
        return Decision("parameters", f"the last {streak} code candidates failed or did not improve; the budget "
                                      "goes to the parameter search")
    return Decision("code", "the model proposes a code change" + (f" ({streak} miss so far)" if streak else ""))


def choose_kind(history: Sequence[Step], config: Any, *, model_available: bool) -> Kind:
    """:func:`decide` with the settings read from a loop config (``params_only``, ``debug_attempts``...)."""
    decision = decide(history, model_available=model_available,
                      params_only=bool(getattr(config, "params_only", False)),
                      debug_attempts=int(getattr(config, "debug_attempts", 2)),
                      code_misses=int(getattr(config, "code_misses", 2)),
                      debug_parameter_failures=bool(getattr(config, "debug_parameter_failures", True)))
    log.info("next candidate: %s (%s)", decision.kind, decision.reason)
    return decision.kind
