"""The experiment loop panel of the Experiment page: start a loop, watch it live, steer it, download its log.

``render(plan, prototype, store, settings)`` is called by pages/experiment.py for the selected plan (or
none: ad hoc) and prototype notebook. Everything shown is read from the record (:mod:`mlr.experiments`),
so a second tab, the CLI or an app restart see the same loop; every control writes to the record through
:mod:`mlr.experiments.control` and the process running the loop picks it up between runs. The loop itself
runs on the shared job board (``Workspace.start_loop``, a worker thread that never calls ``st.*``); the
live view is a fragment that rereads the record every two seconds.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

import streamlit as st

from mlr.execution.errors import NotebookContractError
from mlr.experiments import control, outcome
from mlr.experiments.control import LoopInputError
from mlr.experiments.space import SearchSpace, space_for_notebook
from mlr.store.loop_records import Loop, LoopExperiment
from ui import resources

LIVE_EVERY_S = 2.0
ENDED = ("stopped", "finished", "failed")
STATUS_WORDS = {"created": "Starting", "running": "Running", "paused": "Paused", "stopped": "Stopped",
                "finished": "Finished", "interrupted": "Interrupted", "failed": "Failed"}
EXP_WORDS = {"baseline": "baseline", "pending": "waiting to run", "awaiting_approval": "awaiting your approval",
             "rejected": "rejected by you", "refused": "refused (unsafe change)", "running": "running",
             "kept": "kept", "discarded": "discarded", "failed": "failed"}
VERDICT_WORDS = {"success": "success", "unconfirmed": "unconfirmed (one seed)", "below_bar": "below the bar",
                 "not_significant": "not significant", "worse": "worse than the baseline", "failed": "failed"}
# Colours of the progress chart (outcome → colour), fixed so a dot keeps its colour as the loop grows.
OUTCOMES = {"baseline": "#7f7f7f", "kept": "#2ca02c", "discarded": "#ff7f0e", "failed": "#d62728",
            "running": "#1f77b4"}


# -- the panel -----------------------------------------------------------------------------------------------
def render(plan, prototype, store, settings) -> None:
    """The loop panel for ``plan`` (a plan listing, or None for ad hoc) and the ``prototype`` notebook."""
    plan_id = plan.id if plan else None
    notebook = str(prototype.path.resolve())
    scope = f"{plan_id if plan_id is not None else 'adhoc'}-{prototype.slug}"
    st.subheader("Experiment loop")
    st.caption("The agent searches for an improvement on its own: the baseline over several seeds, then one "
               "candidate per step (parameters from an Optuna search, or a model-written code change), each "
               "kept or discarded against the best so far, until the budget is spent. You can leave and come "
               "back; pause, resume or stop it from any tab.")
    loops = [lp for lp in store.list_loops(plan_id=plan_id, notebook=notebook) if lp.plan_id == plan_id]
    running = [lp for lp in loops if lp.status == "running"]
    with st.expander("Start a new loop" if loops else "Start a loop", expanded=not loops):
        _start_form(plan, prototype, store, settings, scope, busy=bool(running))
    if not loops:
        return
    pick_key = f"xl-pick-{scope}"
    ids = [lp.id for lp in loops]
    if st.session_state.get(pick_key) not in ids:
        st.session_state.pop(pick_key, None)
    by_id = {lp.id: lp for lp in loops}
    if len(loops) > 1:
        loop_id = st.selectbox("Loop", ids, format_func=lambda i: _loop_label(by_id[i]), key=pick_key,
                               help="The latest loop of this plan and notebook, or an earlier one.")
    else:
        loop_id = ids[0]
    _live(loop_id)


def _loop_label(loop: Loop) -> str:
    return (f"Started {_when(loop.created_at)} · {STATUS_WORDS.get(loop.status, loop.status).lower()} · "
            f"{loop.runs_used} of {loop.config.budget_runs} runs")


def _when(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%d %b %H:%M")
    except (TypeError, ValueError):
        return stamp or "?"


# -- start ---------------------------------------------------------------------------------------------------
def _space_rows(space: SearchSpace) -> list[dict[str, Any]]:
    rows = []
    for p in space.params:
        if p.searchable and p.distribution is not None:
            what = p.distribution.text()
        else:
            what = f"fixed at {p.value!r}"
        rows.append({"parameter": p.name, "search it": p.searchable, "range / choices": what,
                     "why fixed": "" if p.searchable else ("🔒 " if p.locked else "") + p.reason,
                     "default": repr(p.value)})
    return rows


def edited_space(space: SearchSpace, wanted: dict[str, bool], fallback: SearchSpace | None = None
                 ) -> tuple[SearchSpace, list[str]]:
    """``space`` with the researcher's "search it" choices applied; ``(space, problems)``.

    A locked parameter (the seed, the split, …) stays fixed; a parameter with no range or choices can be
    searched only when ``fallback`` (the space derived without the plan) has a distribution for it.
    """
    params, problems = [], []
    for p in space.params:
        want = wanted.get(p.name, p.searchable)
        if want == p.searchable:
            params.append(p)
        elif not want:
            params.append(p.model_copy(update={"searchable": False, "reason": "kept fixed by you"}))
        elif p.locked:
            problems.append(f"{p.name} must stay fixed: it is {p.reason}")
            params.append(p)
        else:
            dist = p.distribution
            if dist is None and fallback is not None and (alt := fallback.get(p.name)) is not None:
                dist = alt.distribution
            if dist is None:
                problems.append(f"{p.name} cannot be searched: {p.reason or 'no range or choices are known'}")
                params.append(p)
            else:
                params.append(p.model_copy(update={"searchable": True, "distribution": dist,
                                                   "reason": "searched at your request"}))
    return space.model_copy(update={"params": params}), problems


def _start_form(plan, prototype, store, settings, scope: str, *, busy: bool) -> None:
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
        table = st.data_editor(_space_rows(space), key=f"xl-space-{scope}", hide_index=True, width="stretch",
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
    _run(loop_id, params_only)
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


def _run(loop_id: int, params_only: bool) -> None:
    """Run or resume the loop on the job board of this app (a worker thread; nothing of Streamlit there)."""
    resources.workspace().start_loop(loop_id, use_model=not params_only)


# -- live view -------------------------------------------------------------------------------------------------
@st.fragment(run_every=LIVE_EVERY_S)
def _live(loop_id: int) -> None:
    store = resources.store()
    loop = store.get_loop(loop_id)
    if loop is None:
        st.info("This loop is no longer in the record.")
        return
    seen_key = f"xl-seen-{loop_id}"
    before = st.session_state.get(seen_key)
    st.session_state[seen_key] = loop.status
    if before in ("created", "running") and loop.status not in ("created", "running"):
        st.rerun()  # it ended or paused: redraw the whole page (the start form, the other panels)
    exps = store.list_experiments(loop_id)
    view = outcome.view(store, loop_id)
    _status(loop, view)
    _controls(loop)
    _current_run(store, exps)
    if any(e.mean is not None or e.status == "failed" for e in exps):
        _chart(loop, exps, view)
        _table(loop, exps)
    elif loop.status in ("created", "running"):
        st.caption("Measuring the baseline; the chart appears with the first result.")
    _awaiting(loop, exps)
    if loop.status not in ENDED:
        _steer(loop)
    _code_changes(exps)
    if exps:
        st.download_button("Download log (CSV)", data=log_csv(loop, exps), file_name=f"experiment-loop-{loop.created_at[:10]}.csv",
                           mime="text/csv", key=f"xl-csv-{loop_id}", on_click="ignore")
    if loop.status in ENDED or (loop.status in ("paused", "interrupted") and view.summary):
        _ending(loop, view)


def _minutes(loop: Loop) -> float:
    seconds = loop.seconds
    job = resources.jobs().get(f"loop:{loop.id}")
    if loop.status == "running" and job is not None and not job.done:
        seconds += job.seconds  # the record adds this run's time when it ends
    return seconds / 60


def status_line(loop: Loop, minutes: float) -> str:
    cfg = loop.config
    used = f"{loop.runs_used} of {cfg.budget_runs} runs used, {minutes:.1f}"
    used += f" of {cfg.budget_minutes:g} min" if cfg.budget_minutes else " min"
    word = STATUS_WORDS.get(loop.status, loop.status)
    if loop.status == "running" and loop.control == "pause":
        word = "Pausing after the current run"
    elif loop.status == "running" and loop.control == "stop":
        word = "Stopping"
    line = f"{word} — {used}"
    if loop.status in ("paused", "stopped", "finished") and loop.stopped_because:
        line += f" · {loop.stopped_because}"
    return line


def _status(loop: Loop, view: outcome.LoopView) -> None:
    line = status_line(loop, _minutes(loop))
    job = resources.jobs().get(f"loop:{loop.id}")
    if loop.status == "failed":
        st.error(f"The loop failed: {loop.stopped_because or 'no reason was recorded'}")
        st.caption(line)
    elif loop.status == "interrupted":
        st.warning("The app stopped while this loop ran; its measurements are kept. Resume?")
        st.caption(line)
    else:
        st.markdown(f"**{line}**")
    if job is not None and job.done and job.error and loop.status != "failed":
        st.error(f"The loop could not go on: {job.error}")
    if loop.status == "created" and (job is None or job.done):
        st.caption("This loop has not started: press Resume to start it.")
    base = view.baseline
    metric = loop.config.metric or "metric"
    direction = "higher" if loop.config.higher_is_better else "lower"
    if base is not None and base.mean is not None:
        st.caption(f"Goal: {loop.goal or 'improve ' + metric} · {metric} ({direction} is better) · baseline "
                   f"{_mean_sd(base.mean, base.sd, base.n)} · success bar {loop.config.bar:.0%} · "
                   f"{loop.config.seeds} seed(s)")
    if view.model_note:
        st.caption(f"Model: {view.model_note}")


def _mean_sd(mean: float | None, sd: float | None, n: int) -> str:
    if mean is None:
        return "no value"
    return f"{mean:.4g}" + ("" if sd is None else f" ± {sd:.2g}") + f" (n={n})"


def _controls(loop: Loop) -> None:
    store = resources.store()
    job = resources.jobs().get(f"loop:{loop.id}")
    starting = loop.status == "created" and job is not None and not job.done
    cols = st.columns([1, 1, 5])
    if loop.status == "running":
        if cols[0].button("Pause", key=f"xl-pause-{loop.id}", disabled=loop.control is not None,
                          help="Finish the current run, then wait; nothing measured is lost."):
            _act(lambda: control.pause(store, loop.id), "The loop pauses after the current run.")
    elif loop.status in ("paused", "interrupted") or (loop.status == "created" and not starting):
        if cols[0].button("Resume", key=f"xl-resume-{loop.id}", type="primary"):
            _act(lambda: _run(loop.id, loop.config.params_only), "The loop goes on.")
    if loop.status not in ENDED:
        if cols[1].button("Stop", key=f"xl-stop-{loop.id}", disabled=loop.control == "stop",
                          help="End the loop now; the current run is cancelled, everything measured is kept."):
            _act(lambda: control.stop(store, loop.id), "The loop stops.")


def _act(action, message: str) -> None:
    try:
        action()
    except LoopInputError as exc:
        st.error(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        return
    st.toast(message)
    st.rerun()


def _current_run(store, exps: list[LoopExperiment]) -> None:
    for exp in exps:
        if exp.status != "running":
            continue
        for seed, run_id in exp.data.get("runs", {}).items():
            run = store.get_run(run_id)
            if run is None or run.status not in ("queued", "running"):
                continue
            label = f"Experiment {exp.ordinal}" + ("" if seed == "None" else f", seed {seed}")
            prog = run.progress
            if run.status == "queued":
                st.caption(f"{label}: waiting for a free run slot")
                continue
            total, done = prog.cells_total or 0, prog.cells_done or 0
            where = (f"cell {prog.cell_number} of {total}" if prog.cell_number and total
                     else prog.phase or "starting")
            st.progress(min(1.0, done / total) if total else 0.0,
                        text=f"{label}: {where} · {prog.elapsed_s:.0f} s")


# -- chart and table -----------------------------------------------------------------------------------------------
def chart_rows(loop: Loop, exps: list[LoopExperiment]) -> tuple[list[dict], list[dict]]:
    """The dots (one per measured or failed experiment) and the best-so-far step line of the progress chart."""
    higher = loop.config.higher_is_better
    values = [e.mean for e in exps if e.mean is not None]
    worst = (min(values) if higher else max(values)) if values else 0.0
    dots, line, best = [], [], None
    for e in exps:
        if e.mean is None and e.status != "failed":
            continue
        outcome_ = ("baseline" if e.kind == "baseline" else e.status if e.status in ("kept", "discarded", "failed")
                    else "running")
        y = e.mean if e.mean is not None else worst  # a failed experiment has no value: drawn at the worst one
        dots.append({"experiment": e.ordinal, "value": y, "outcome": outcome_, "kind": e.kind,
                     "mean ± sd": _mean_sd(e.mean, e.sd, e.n), "change": e.reason[:120]})
        if outcome_ in ("baseline", "kept") and e.mean is not None:
            if best is None or (e.mean > best if higher else e.mean < best):
                best = e.mean
        if best is not None:
            line.append({"experiment": e.ordinal, "best": best})
    return dots, line


def bar_value(baseline: float, bar: float, higher: bool) -> float:
    """The metric a candidate must reach: the baseline moved by ``bar`` × |baseline| in the metric's direction."""
    return baseline + bar * abs(baseline) if higher else baseline - bar * abs(baseline)


def _chart(loop: Loop, exps: list[LoopExperiment], view: outcome.LoopView) -> None:
    import altair as alt
    import pandas as pd

    dots, line = chart_rows(loop, exps)
    metric = loop.config.metric or "metric"
    x = alt.X("experiment:Q", title="experiment", axis=alt.Axis(tickMinStep=1, format="d"))
    colour = alt.Color("outcome:N", title="", scale=alt.Scale(domain=list(OUTCOMES), range=list(OUTCOMES.values())))
    layers = [alt.Chart(pd.DataFrame(dots)).mark_circle(size=90, opacity=0.9).encode(
        x=x, y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False)), color=colour,
        tooltip=["experiment:Q", "kind:N", "outcome:N", "mean ± sd:N", "change:N"])]
    if line:
        layers.insert(0, alt.Chart(pd.DataFrame(line)).mark_line(interpolate="step-after", color="#2ca02c").encode(
            x=x, y=alt.Y("best:Q", title=metric), tooltip=[alt.Tooltip("best:Q", title="best so far")]))
    base = view.baseline.mean if view.baseline else None
    if base is not None:
        rules = pd.DataFrame([{"what": "baseline", "y": base},
                              {"what": f"success bar ({loop.config.bar:.0%})",
                               "y": bar_value(base, loop.config.bar, loop.config.higher_is_better)}])
        layers.append(alt.Chart(rules).mark_rule(strokeDash=[6, 4]).encode(
            y="y:Q", color=alt.value("#555555"), tooltip=["what:N", "y:Q"]))
        rules["experiment"] = min(d["experiment"] for d in dots) if dots else 0
        layers.append(alt.Chart(rules).mark_text(align="left", dx=4, dy=-7, color="#555555", fontSize=11).encode(
            x="experiment:Q", y="y:Q", text="what:N"))
    st.altair_chart(alt.layer(*layers).properties(height=300), width="stretch", key=f"xl-chart-{loop.id}")
    best = view.best
    caption = f"Progress: {len(dots)} experiments measured"
    if best is not None and best.mean is not None:
        caption += f"; best so far: experiment {best.ordinal}, {_mean_sd(best.mean, best.sd, best.n)}"
    st.caption(caption + ". Dashed lines: the baseline and the success bar; the line: the best so far.")


def changed_parameters(loop: Loop, exp: LoopExperiment) -> str:
    base = loop.config.base_parameters
    seed = loop.config.seed_parameter
    changed = {k: v for k, v in exp.parameters.items() if k != seed and base.get(k) != v}
    return ", ".join(f"{k}={v!r}" for k, v in changed.items())


def table_rows(loop: Loop, exps: list[LoopExperiment]) -> list[dict[str, Any]]:
    rows = []
    for e in exps:
        verdict = VERDICT_WORDS.get(e.verdict, e.verdict)
        rows.append({"experiment": e.ordinal, "kind": e.kind, "status": EXP_WORDS.get(e.status, e.status),
                     "mean": e.mean, "sd": e.sd, "n": e.n, "verdict": verdict,
                     "change / reason": e.reason + (" (code change: see below)" if e.diff else ""),
                     "parameters": "the prototype's defaults" if e.kind == "baseline"
                     else changed_parameters(loop, e) or "as the best so far",
                     "error": e.error[:200]})
    return rows


def _table(loop: Loop, exps: list[LoopExperiment]) -> None:
    import pandas as pd

    st.dataframe(pd.DataFrame(table_rows(loop, exps)), hide_index=True, width="stretch", key=f"xl-table-{loop.id}",
                 column_config={"experiment": st.column_config.NumberColumn("#", format="%d"),
                                "mean": st.column_config.NumberColumn(loop.config.metric or "mean", format="%.4g"),
                                "sd": st.column_config.NumberColumn("± sd", format="%.2g")})


# -- steering ---------------------------------------------------------------------------------------------------------
def _awaiting(loop: Loop, exps: list[LoopExperiment]) -> None:
    store = resources.store()
    waiting = [e for e in exps if e.status == "awaiting_approval"]
    if not waiting:
        return
    st.markdown(f"**Code changes awaiting your approval ({len(waiting)})** — nothing model-written runs until "
                "you approve it.")
    for e in waiting:
        with st.container(border=True):
            st.markdown(f"**Experiment {e.ordinal}** · {e.reason or 'a code change proposed by the model'}")
            st.code(e.diff or "(no diff recorded)", language="diff")
            note = st.text_input("Note to the agent (optional)", key=f"xl-note-{loop.id}-{e.id}")
            a, r = st.columns(2)
            if a.button("Approve", key=f"xl-approve-{loop.id}-{e.id}", type="primary"):
                _act(lambda: control.decide(store, e.id, True, note), f"Experiment {e.ordinal} approved: it runs "
                     "at the loop's next step.")
            if r.button("Reject", key=f"xl-reject-{loop.id}-{e.id}"):
                _act(lambda: control.decide(store, e.id, False, note), f"Experiment {e.ordinal} rejected.")


def _steer(loop: Loop) -> None:
    store = resources.store()
    space = SearchSpace.model_validate(loop.config.space) if loop.config.space else None
    with st.expander("Steer the loop: feedback, pin or ban a parameter value"):
        text = st.text_input("Feedback for the next proposal (e.g. \"try a smaller learning rate\")",
                             key=f"xl-feedback-{loop.id}")
        if st.button("Send feedback", key=f"xl-feedback-send-{loop.id}", disabled=not text.strip()):
            _act(lambda: control.feedback(store, loop.id, text), "Feedback saved: the next proposal reads it.")
        names = [p.name for p in space.params if not p.locked] if space else []
        if not names:
            return
        c1, c2, c3 = st.columns([2, 2, 1])
        name = c1.selectbox("Parameter", names, key=f"xl-pin-name-{loop.id}")
        value = c2.text_input("Value", key=f"xl-pin-value-{loop.id}", placeholder="e.g. 0.01 or 'ridge'")
        how = c3.radio("Action", ["pin", "ban"], key=f"xl-pin-how-{loop.id}", horizontal=True,
                       help="Pin: always use this value. Ban: never try it again.")
        if st.button("Apply", key=f"xl-pin-apply-{loop.id}", disabled=not value.strip()):
            _act(lambda: control.pin(store, loop.id, name, value.strip(), ban=how == "ban"),
                 f"{name} {'pinned to' if how == 'pin' else 'banned at'} {value.strip()}.")


def _code_changes(exps: list[LoopExperiment]) -> None:
    tried = [e for e in exps if e.diff and e.status != "awaiting_approval"]
    if not tried:
        return
    with st.expander(f"Code changes tried ({len(tried)})"):
        for e in tried:
            st.markdown(f"**Experiment {e.ordinal}** · {e.kind} · {EXP_WORDS.get(e.status, e.status)} · {e.reason}")
            st.code(e.diff, language="diff")


# -- the end -------------------------------------------------------------------------------------------------------
def _ending(loop: Loop, view: outcome.LoopView) -> None:
    best = view.best
    if best is not None and best.mean is not None:
        imp = "" if best.relative_improvement is None else f", {best.relative_improvement:+.1%} against the baseline"
        p = "" if best.p_value is None else f", p = {best.p_value:.3g}"
        text = (f"experiment {best.ordinal} ({best.kind}) reached {_mean_sd(best.mean, best.sd, best.n)}{imp}{p}")
        if best.verdict == "success":
            st.success(f"Success: {text} — it clears the {loop.config.bar:.0%} bar and the difference is "
                       "statistically supported.")
        elif best.verdict == "unconfirmed":
            st.info(f"Unconfirmed: {text} — measured on one seed only, so it cannot be called a success.")
        else:
            st.info(f"Best candidate: {text} — {VERDICT_WORDS.get(best.verdict, best.verdict) or 'not judged'}.")
    elif loop.status != "failed" and view.baseline is not None:
        st.info("No candidate beat the baseline.")
    if view.summary:
        st.markdown(f"**Summary** · {view.summary}")
    if loop.data.refined_plan_version is not None:
        st.success(f"A refined plan is saved as a draft version (version {loop.data.refined_plan_version}) "
                   "on the Plan page.")


def log_csv(loop: Loop, exps: list[LoopExperiment]) -> str:
    """The loop's log: one row per experiment and seed (an experiment not measured yet: one row, no seed)."""
    out = io.StringIO()
    fields = ["experiment", "parent", "kind", "status", "seed", "metric", "value", "run", "mean", "sd", "n",
              "verdict", "p_value", "relative_improvement", "parameters", "reason", "code_change", "error"]
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    ordinals = {e.id: e.ordinal for e in exps}
    for e in exps:
        runs = e.data.get("runs", {})
        seeds = list(dict.fromkeys([*e.metric_by_seed, *runs])) or [""]
        for seed in seeds:
            writer.writerow({"experiment": e.ordinal, "parent": ordinals.get(e.parent_id, ""), "kind": e.kind,
                             "status": e.status, "seed": "" if seed in ("", "None") else seed,
                             "metric": loop.config.metric or "", "value": _blank(e.metric_by_seed.get(seed)),
                             "run": _blank(runs.get(seed)), "mean": _blank(e.mean), "sd": _blank(e.sd), "n": e.n,
                             "verdict": e.verdict, "p_value": _blank(e.p_value),
                             "relative_improvement": _blank(e.relative_improvement),
                             "parameters": json.dumps(e.parameters, sort_keys=True, default=str),
                             "reason": e.reason, "code_change": "yes" if e.diff else "", "error": e.error})
    return out.getvalue()


def _blank(value) -> Any:
    return "" if value is None else value
