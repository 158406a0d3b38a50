"""The experiment loop panel of the Experiment page: start a loop, watch it live, steer it, download its log.

``render(plan, prototype, store, settings)`` is called by pages/experiment.py for the selected plan (or
none: ad hoc) and prototype notebook. Everything shown is read from the record (:mod:`mlr.experiments`),
so a second tab, the CLI or an app restart see the same loop; every control writes to the record through
:mod:`mlr.experiments.control` and the process running the loop picks it up between runs. The loop itself
runs on the shared job board (``Workspace.start_loop``, a worker thread that never calls ``st.*``); the
live view is a fragment that rereads the record every two seconds.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from mlr import words
from mlr.experiments import control, outcome
from mlr.experiments.progress import (
    ENDED,
    STATUS_WORDS,
    VERDICT_WORDS,
    bar_value,
    chart_rows,
    log_csv,
    mean_sd,
    status_line,
    table_rows,
)
from mlr.store.loop_records import Loop, LoopExperiment
from ui import resources
from ui.loop_start import run, start_form
from ui.loop_steer import act, awaiting, code_changes, steer

LIVE_EVERY_S = 2.0
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
        start_form(plan, prototype, store, settings, scope, busy=bool(running))
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
    awaiting(loop, exps)
    if loop.status not in ENDED:
        steer(loop)
    code_changes(exps)
    if exps:
        st.download_button("Download log (CSV)", data=log_csv(loop, exps),
                           file_name=f"experiment-loop-{loop.created_at[:10]}.csv", mime="text/csv", key=f"xl-csv-{loop_id}", on_click="ignore")
    if loop.status in ENDED or (loop.status in ("paused", "interrupted") and view.summary):
        _ending(loop, view)


def _minutes(loop: Loop) -> float:
    seconds = loop.seconds
    job = resources.jobs().get(f"loop:{loop.id}")
    if loop.status == "running" and job is not None and not job.done:
        seconds += job.seconds  # the record adds this run's time when it ends
    return seconds / 60


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
                   f"{mean_sd(base.mean, base.sd, base.n)} · success bar {loop.config.bar:.0%} · "
                   f"{words.plural(loop.config.seeds, 'seed')}")
    if view.model_note:
        st.caption(f"Model: {view.model_note}")


def _controls(loop: Loop) -> None:
    store = resources.store()
    job = resources.jobs().get(f"loop:{loop.id}")
    starting = loop.status == "created" and job is not None and not job.done
    cols = st.columns([1, 1, 5])
    if loop.status == "running":
        if cols[0].button("Pause", key=f"xl-pause-{loop.id}", disabled=loop.control is not None,
                          help="Finish the current run, then wait; nothing measured is lost."):
            act(lambda: control.pause(store, loop.id), "The loop pauses after the current run.")
    elif loop.status in ("paused", "interrupted") or (loop.status == "created" and not starting):
        if cols[0].button("Resume", key=f"xl-resume-{loop.id}", type="primary"):
            act(lambda: run(loop.id, loop.config.params_only), "The loop goes on.")
    if loop.status not in ENDED:
        if cols[1].button("Stop", key=f"xl-stop-{loop.id}", disabled=loop.control == "stop",
                          help="End the loop now; the current run is cancelled, everything measured is kept."):
            act(lambda: control.stop(store, loop.id), "The loop stops.")


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
    caption = f"Progress: {words.plural(len(dots), 'experiment')} measured"
    if best is not None and best.mean is not None:
        caption += f"; best so far: experiment {best.ordinal}, {mean_sd(best.mean, best.sd, best.n)}"
    st.caption(caption + ". Dashed lines: the baseline and the success bar; the line: the best so far.")


def _table(loop: Loop, exps: list[LoopExperiment]) -> None:
    import pandas as pd

    st.dataframe(pd.DataFrame(table_rows(loop, exps)), hide_index=True, width="stretch", key=f"xl-table-{loop.id}",
                 column_config={"experiment": st.column_config.NumberColumn("#", format="%d"),
                                "mean": st.column_config.NumberColumn(loop.config.metric or "mean", format="%.4g"),
                                "sd": st.column_config.NumberColumn("± sd", format="%.2g")})


# -- the end -------------------------------------------------------------------------------------------------------
def _ending(loop: Loop, view: outcome.LoopView) -> None:
    best = view.best
    if best is not None and best.mean is not None:
        imp = "" if best.relative_improvement is None else f", {best.relative_improvement:+.1%} against the baseline"
        p = "" if best.p_value is None else f", p = {best.p_value:.3g}"
        text = (f"experiment {best.ordinal} ({best.kind}) reached {mean_sd(best.mean, best.sd, best.n)}{imp}{p}")
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
