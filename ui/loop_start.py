"""The start form of the experiment loop panel: budget, seeds, bar, approval, and the search space shown
(and editable) before anything runs. Starting writes the loop to the record and runs it on the job board.
"""

from __future__ import annotations

import streamlit as st

from mlr.execution.errors import NotebookContractError
from mlr.experiments import control
from mlr.experiments.control import LoopInputError
from mlr.experiments.progress import edited_space, space_rows
from mlr.experiments.space import space_for_notebook
from ui import resources


def start_form(plan, prototype, store, settings, scope: str, *, busy: bool) -> None:
    plan_id = plan.id if plan else None
    try:
        space = space_for_notebook(prototype.path, control.plan_parameters(plan.data) if plan else None)
    except (NotebookContractError, OSError, ValueError) as exc:
        st.error(f"This notebook cannot be searched: {exc}")
        return
    has_seed = _has_seed(prototype.path)
    with st.form(f"xl-start-{scope}"):
        goal = ""
        if plan is None:
            goal = st.text_input("Goal (one sentence)", key=f"xl-goal-{scope}",
                                 placeholder=f"improve {prototype.primary_metric or 'the metric'}")
        c1, c2, c3 = st.columns(3)
        budget_runs = c1.number_input("Budget: runs", min_value=1, max_value=1000, value=12, step=1,
                                      key=f"xl-runs-{scope}", help="Every notebook run counts, each seed included.")
        budget_minutes = c2.number_input("Budget: minutes (0 = no limit)", min_value=0.0, value=0.0, step=5.0,
                                         key=f"xl-minutes-{scope}")
        run_minutes = c3.number_input("Time limit per run, minutes (0 = the app's)", min_value=0.0, value=0.0,
                                      step=1.0, key=f"xl-run-limit-{scope}")
        c1, c2 = st.columns(2)
        seeds = c1.number_input("Seeds", min_value=1, max_value=20, value=3, step=1, key=f"xl-seeds-{scope}",
                                help="The baseline and every promising candidate run once per seed (mean ± sd).")
        bar = c2.number_input("Success bar (% improvement over the baseline)", min_value=0.0, max_value=1000.0,
                              value=round(float(settings.success_bar) * 100, 2), step=1.0, key=f"xl-bar-{scope}")
        if not has_seed:
            st.caption("This notebook has no seed parameter: every experiment runs once, and results stay "
                       "unconfirmed.")
        c1, c2, c3 = st.columns(3)
        approval = c1.checkbox("Code changes need my approval", value=True, key=f"xl-approval-{scope}",
                               help="Off: autopilot, the model's code changes run without asking you.")
        params_only = c2.checkbox("Parameters only", value=False, key=f"xl-params-only-{scope}",
                                  help="Only the parameter search; the model proposes no code changes.")
        stop_at_success = c3.checkbox("Stop at success", value=True, key=f"xl-stop-success-{scope}",
                                      help="Off: go on until the budget is spent.")
        st.markdown("**What the loop may change** — untick *search it* to keep a parameter fixed. "
                    "🔒 parameters define the evaluation (seed, split, data) and are never changed.")
        table = st.data_editor(space_rows(space), key=f"xl-space-{scope}", hide_index=True, width="stretch",
                               disabled=["parameter", "range / choices", "why fixed", "default"],
                               column_config={"search it": st.column_config.CheckboxColumn(
                                   "search it", help="Let the loop vary this parameter")})
        for note in space.notes:
            st.caption(note)
        submitted = st.form_submit_button("Start loop", type="primary")
    if not submitted:
        return
    if busy:
        st.warning("A loop of this plan and notebook is already running: stop it (below) before starting another.")
        return
    wanted = {row["parameter"]: bool(row["search it"]) for row in _rows(table)}
    fallback = space_for_notebook(prototype.path) if plan is not None else None
    chosen, problems = edited_space(space, wanted, fallback)
    if problems:
        st.error("The loop was not started. " + " ".join(f"{p}." for p in problems))
        return
    if not chosen.searchable and params_only:
        st.error("The loop was not started: with *parameters only*, at least one parameter must be searched.")
        return
    try:
        loop_id = control.create(store, prototype.path, plan_id=plan_id, goal=goal.strip(),
                                 budget_runs=int(budget_runs), budget_minutes=float(budget_minutes) or None,
                                 seeds=int(seeds), bar=float(bar) / 100, autopilot=not approval,
                                 params_only=params_only, stop_at_success=stop_at_success,
                                 run_timeout_s=float(run_minutes) * 60 or None, space=chosen)
    except LoopInputError as exc:
        st.error(f"The loop was not started: {exc}.")
        return
    run(loop_id, params_only)
    st.session_state[f"xl-pick-{scope}"] = loop_id
    st.rerun()


def _has_seed(path) -> bool:
    from mlr.execution.parameters import inspect_parameters, read_notebook
    from mlr.experiments.integrity import seed_parameter

    meta = dict(read_notebook(path).metadata.get("mlr", {}) or {})
    return seed_parameter(inspect_parameters(path), meta) is not None


def _rows(table) -> list[dict]:
    if hasattr(table, "to_dict"):
        return table.to_dict("records")
    return list(table)


def run(loop_id: int, params_only: bool) -> None:
    """Run or resume the loop on the job board of this app (a worker thread; nothing of Streamlit there)."""
    resources.workspace().start_loop(loop_id, use_model=not params_only)
