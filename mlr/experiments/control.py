"""Starting and steering experiment loops from anywhere: the app's tabs, the CLI, a second process.

Everything here reads and writes the record only; the process that runs a loop
(:class:`mlr.experiments.loop.ExperimentLoop`) picks the requests up between runs. A loop left
``running`` by a process that died is marked ``interrupted`` (with its measurements kept) and can be
resumed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mlr.execution import procs
from mlr.execution.errors import NotebookContractError
from mlr.execution.metrics import choose_metric
from mlr.execution.parameters import defaults, inspect_parameters
from mlr.execution.prototypes import describe
from mlr.experiments.integrity import seed_parameter
from mlr.experiments.space import SearchSpace, check_edit, coerce_value, space_for_notebook
from mlr.store import Store
from mlr.store.loop_records import Loop, LoopConfig

log = logging.getLogger(__name__)


class LoopInputError(ValueError):
    """A loop that cannot be started as asked; the message says what to change."""


def plan_parameters(plan_data) -> list[dict]:
    """The plan's ``parameters`` (name + values to try), as the search space reads them."""
    if plan_data is None:
        return []
    if hasattr(plan_data, "parameter_list"):  # a plan may store its parameters as a {name: value} mapping
        return [p.model_dump() for p in plan_data.parameter_list()]
    items = getattr(plan_data, "parameters", None) or []
    return [p.model_dump() if hasattr(p, "model_dump") else dict(p) for p in items]


def prepare(store: Store, notebook: str | Path, *, plan_id: int | None = None, goal: str = "",
            budget_runs: int = 12, budget_minutes: float | None = None, seeds: int = 3, bar: float = 0.10,
            autopilot: bool = False, params_only: bool = False, stop_at_success: bool = True,
            run_timeout_s: float | None = None, space: SearchSpace | None = None) -> tuple[LoopConfig, str, str]:
    """Check what the researcher asked for and build the loop's config; ``(config, notebook path, goal)``."""
    path = Path(notebook).expanduser().resolve()
    if budget_runs < 1:
        raise LoopInputError("the budget must allow at least one run (--budget-runs ≥ 1)")
    if budget_minutes is not None and budget_minutes <= 0:
        raise LoopInputError("the time budget must be positive minutes")
    if not 1 <= seeds <= 20:
        raise LoopInputError("seeds must be between 1 and 20")
    if bar < 0:
        raise LoopInputError("the success bar is a relative improvement ≥ 0 (0.10 = 10 %)")
    if not path.is_file():
        raise LoopInputError(f"notebook not found: {path}")
    try:
        params = inspect_parameters(path)
        proto = describe(path)
    except NotebookContractError as exc:
        raise LoopInputError(f"{path.name} is outside the notebook contract: {exc}") from exc
    plan = store.get_plan(plan_id) if plan_id is not None else None
    if plan_id is not None and plan is None:
        raise LoopInputError(f"there is no plan {plan_id}")
    choice = choose_metric(plan.data if plan else None, proto.primary_metric, proto.higher_is_better, set())
    if not choice.name:
        raise LoopInputError(f"{path.name} names no primary metric (the notebook's mlr metadata "
                             "'primary_metric') and the plan names none either")
    built = space_for_notebook(path, plan_parameters(plan.data) if plan else None)
    if space is not None:
        problems = check_edit(built, space)
        if problems:
            raise LoopInputError("the edited search space is not allowed: " + "; ".join(problems))
        built = space
    meta = _metadata(path)
    seed_name = seed_parameter(params, meta)
    if budget_runs < (seeds if seed_name else 1):
        raise LoopInputError(f"a budget of {budget_runs} runs cannot even measure the baseline on {seeds} seeds")
    goal = goal or (plan.data.objective if plan else "") or f"improve {choice.name}"
    config = LoopConfig(budget_runs=budget_runs, budget_minutes=budget_minutes, seeds=seeds if seed_name else 1,
                        bar=bar, autopilot=autopilot, params_only=params_only, stop_at_success=stop_at_success,
                        run_timeout_s=run_timeout_s, metric=choice.name, higher_is_better=choice.higher_is_better,
                        seed_parameter=seed_name, base_parameters=defaults(params),
                        space=built.model_dump(mode="json"))
    return config, str(path), goal


def _metadata(path: Path) -> dict:
    from mlr.execution.parameters import read_notebook

    return dict(read_notebook(path).metadata.get("mlr", {}) or {})


def create(store: Store, notebook: str | Path, *, plan_id: int | None = None, goal: str = "", **options: Any) -> int:
    config, path, goal = prepare(store, notebook, plan_id=plan_id, goal=goal, **options)
    loop_id = store.create_loop(path, config, plan_id=plan_id, goal=goal)
    log.info("loop %s created on %s (budget %s runs, %s seeds)", loop_id, path, config.budget_runs, config.seeds)
    return loop_id


def _loop(store: Store, loop_id: int) -> Loop:
    loop = store.get_loop(loop_id)
    if loop is None:
        raise LoopInputError(f"there is no loop {loop_id}")
    return loop


def pause(store: Store, loop_id: int) -> Loop:
    loop = _loop(store, loop_id)
    if loop.status != "running":
        raise LoopInputError(f"loop {loop_id} is {loop.status}, not running: nothing to pause")
    return store.request_loop_control(loop_id, "pause")


def stop(store: Store, loop_id: int) -> Loop:
    loop = _loop(store, loop_id)
    if loop.status in ("stopped", "finished", "failed"):
        raise LoopInputError(f"loop {loop_id} has already ended ({loop.status})")
    return store.request_loop_control(loop_id, "stop")


def feedback(store: Store, loop_id: int, text: str) -> int:
    _loop(store, loop_id)
    if not text.strip():
        raise LoopInputError("the feedback is empty")
    return store.add_loop_note(loop_id, "feedback", text=text.strip())


def pin(store: Store, loop_id: int, name: str, value: Any, *, ban: bool = False) -> int:
    """Pin a parameter to a value (or ban that value), checked against the loop's search space."""
    loop = _loop(store, loop_id)
    space = SearchSpace.model_validate(loop.config.space)
    spec = space.get(name)
    if spec is None:
        raise LoopInputError(f"{name} is not a parameter of this notebook")
    try:
        value = coerce_value(spec, value)
        if not ban:
            space.pin(name, value)
    except ValueError as exc:
        raise LoopInputError(str(exc)) from exc
    if ban and spec.locked:
        raise LoopInputError(f"{name} is fixed ({spec.reason}); it is never varied, so there is nothing to ban")
    return store.add_loop_note(loop_id, "ban" if ban else "pin", name=name, value=value)


def decide(store: Store, experiment_id: int, approved: bool, note: str = "") -> None:
    """Approve (it runs at the loop's next step) or reject a code candidate awaiting approval."""
    exp = store.get_experiment(experiment_id)
    if exp is None:
        raise LoopInputError(f"there is no experiment {experiment_id}")
    if exp.status != "awaiting_approval":
        raise LoopInputError(f"experiment {exp.ordinal} is {exp.status}, not awaiting approval")
    store.update_experiment(experiment_id, status="pending" if approved else "rejected")
    store.add_loop_note(exp.loop_id, "approve" if approved else "reject", value=experiment_id, text=note)
    if note:
        store.add_loop_note(exp.loop_id, "feedback", text=note)


def recover(store: Store) -> list[int]:
    """Mark ``interrupted`` every running loop whose process is gone; returns their ids."""
    out = []
    for loop in store.list_loops(status=("running",), limit=10000):
        if procs.identity_alive(loop.owner) is False:
            store.update_loop(loop.id, status="interrupted", control=None, owner=None,
                              stopped_because="the process running it stopped; press Resume to go on")
            log.warning("loop %s was running when its process died: marked interrupted", loop.id)
            out.append(loop.id)
    return out
