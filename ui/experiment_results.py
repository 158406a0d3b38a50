"""The results section of the Experiment page: a failed run announced first, the comparison (numbers whose
arrows and colours agree with them), the chart with the baseline named and the success bar drawn, the runs'
table and one run shown in full. What is compared and what it means is decided by
``mlr.experiments.scope``; this only draws."""

from __future__ import annotations

import altair as alt
import streamlit as st

from mlr import words
from mlr.experiments.scope import ExperimentScope, ScopeResults, bar_mark, improvement_mark
from ui.experiment_run import STATUS_ICON, render_run

ROLE_COLOURS = {"baseline (compared)": "#8c8c8c", "variant (compared)": "#1f77b4"}


def results(scope: ExperimentScope, settings) -> None:
    res = scope.results(settings.success_bar)
    _others(res.others)
    if not res.finished:
        st.caption(res.words)
        return
    show_key = f"exp-show-{scope.plan_id}-{scope.notebook}"
    _announce(res, show_key)
    st.subheader("Results")
    comp, metric = res.comparison, res.metric.name
    if comp is not None:
        a, b, c = st.columns(3)
        a.metric(f"Baseline {metric}", f"{comp.baseline:.4g}", help=f"run {res.baseline.id}")
        mark = improvement_mark(comp)
        b.metric(f"Variant {metric}", f"{comp.variant:.4g}", help=f"run {res.variant.id}",
                 delta=mark.text if mark else None, delta_color=mark.color if mark else "normal",
                 delta_arrow=mark.arrow if mark else "auto",
                 delta_description=None if comp.higher_is_better else f"lower {metric} is better")
        cleared = bar_mark(comp)
        c.metric("Success bar", f"{settings.success_bar:.0%}", delta=cleared.text, delta_color=cleared.color,
                 delta_arrow=cleared.arrow)
    {"success": st.success, "info": st.info, "warning": st.warning, "caption": st.caption}[res.tone](res.words)
    if chart_rows := res.chart_rows():
        _chart(res, chart_rows, metric)
    finished = res.finished
    table = [{"run": r.id, "kind": r.kind, "status": f"{STATUS_ICON.get(r.status, '')} {r.status}",
              "finished": words.ago(r.finished_at), "seconds": r.seconds, "parameters": words.inline(r.parameters),
              "metrics": words.inline({k: v for k, v in (r.metrics or {}).items()
                                       if isinstance(v, (int, float)) and not isinstance(v, bool)})}
             for r in finished]
    st.dataframe(table, hide_index=True, width="stretch")
    chosen = st.selectbox("Show run", finished, format_func=lambda r: f"Run {r.id} · {r.kind} · {r.status}",
                          key=show_key)
    render_run(chosen)


def _announce(res: ScopeResults, show_key: str) -> None:
    """A failed newest run: an error banner above the results, a toast once, and "Show run" moved to it."""
    run = res.failure
    if run is None:
        return
    st.error(f"{res.failure_words()}. It is shown below, at the failing cell.", icon="❌")
    announced = st.session_state.setdefault("exp-announced-failures", set())
    if run.id not in announced:
        announced.add(run.id)
        st.toast(res.failure_words(), icon="❌", duration="long")
        st.session_state[show_key] = run  # the failed run, not the run shown before it


def _chart(res: ScopeResults, rows: list[dict], metric: str) -> None:
    """Bars coloured by role (the compared baseline and variant named in the legend), and the success bar as a
    dashed line at the value a variant must reach."""
    roles = list(dict.fromkeys(r["role"] for r in rows))
    colours = [ROLE_COLOURS.get(role, "#c6dbef") for role in roles]
    bars = alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("run:N", sort=None, title="run"), y=alt.Y(f"{metric}:Q", title=metric),
        color=alt.Color("role:N", scale=alt.Scale(domain=roles, range=colours), title=None),
        tooltip=["run:N", f"{metric}:Q", "role:N"])
    layers = [bars]
    if (line := res.success_line()) is not None:
        rule = alt.Chart(alt.Data(values=[{"y": line, "label": f"success bar: {line:.4g}"}]))
        layers += [rule.mark_rule(strokeDash=[6, 4], color="#2ca02c").encode(y="y:Q"),
                   rule.mark_text(align="left", dx=4, dy=-6, color="#2ca02c").encode(y="y:Q", text="label:N",
                                                                                    x=alt.value(0))]
    st.altair_chart(alt.layer(*layers), width="stretch")
    caption = "Grey: the baseline compared; blue: the variant compared"
    st.caption(caption + (f"; dashed line: the success bar ({line:.4g})." if line is not None else "."))


def _others(others) -> None:
    """Runs of this plan that are not compared here (another notebook or parameter schema), named apart."""
    if others:
        st.caption("Not compared here (other experiments of this plan): " + "; ".join(
            f"{o.name} ({o.reason}): {words.plural(len(o.run_ids), 'run')}" for o in others))
