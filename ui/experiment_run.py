"""Streamlit pieces of the Experiment page: plan/prototype pickers, the parameter form, live runs,
results and the executed notebook. Which runs belong to the experiment, which pair is compared, on which
metric and with what verdict is decided by ``mlr.experiments.scope.ExperimentScope``; these only draw."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import streamlit as st

from mlr import notebook_readiness, selection, words
from mlr.execution.errors import ExecutionError, NotebookContractError
from mlr.execution.notebook_view import notebook_cells, printed_output, rich_outputs
from mlr.execution.parameters import Parameter, parse_value
from mlr.execution.prototypes import Prototype, add_prototype
from mlr.experiments.scope import ExperimentScope
from mlr.store.records import Paper, Plan, PlanListing, Run
from ui import notebook_help
from ui.experiment_byon import metrics_source, switch_to
from ui.untrusted import escape
from ui.untrusted import markdown as untrusted_markdown

STATUS_ICON = {"queued": "⏳", "running": "▶️", "succeeded": "✅", "failed": "❌", "timed_out": "⏱️",
               "cancelled": "🚫", "interrupted": "⚠️"}
AD_HOC = "No plan: ad-hoc run"


def plan_label(plan: PlanListing) -> str:
    text = plan.data.objective or plan.hypothesis.method or "plan"
    return f"Plan {plan.id} · v{plan.version} · {text[:80]}"


def _remember(name: str, value: str) -> None:
    """Keep a selection in the address (a reload or a shared link shows the same) and in the session."""
    st.session_state[f"exp-last-{name}"] = value
    if st.query_params.get(name) != value:
        st.query_params[name] = value


def pick_plan(plans: list[PlanListing]) -> PlanListing | None:
    options = [None, *plans]
    wanted = st.query_params.get("plan") or st.session_state.get("exp-last-plan")
    start = selection.pick_plan(plans, wanted)  # the address's plan, else the accepted plan touched last
    choice = st.selectbox("Plan", options, index=selection.index_of(options, start, lambda p: p and p.id),
                          format_func=lambda p: AD_HOC if p is None else plan_label(p),
                          key="exp-plan", help="An accepted plan from the Plan page, or an ad-hoc run.")
    _remember("plan", str(choice.id) if choice is not None else selection.AD_HOC)
    if choice is not None:
        with st.expander("Plan details", expanded=False):
            for field in ("objective", "method", "dataset", "baseline", "primary_metric", "compute_budget"):
                if value := getattr(choice.data, field):
                    st.markdown(f"**{field.replace('_', ' ').capitalize()}** · {escape(value)}")
    return choice


def upload_prototype(settings) -> None:
    with st.expander("Add a prototype notebook (.ipynb, or a .py script: `# %%`, `# In[ ]:` or sphinx-gallery cells)"):
        st.caption("Any notebook runs as is. A cell tagged `parameters` lets runs change its settings (the app "
                   "proposes one if there is none); metrics come from scrapbook glue, `metrics.json` or the numbers "
                   "the last cell prints.")
        upload = st.file_uploader("Prototype", type=["ipynb", "py"], key="exp-upload")
        if upload is not None and st.button("Add prototype", key="exp-add"):
            missing = notebook_readiness.check(notebook_readiness.read(upload.name, upload.getvalue()), upload.name)
            try:
                proto = add_prototype(settings, upload.name, upload.getvalue())
            except NotebookContractError as exc:
                if not any(m.blocking for m in missing):  # something the checks do not know: its message
                    st.error(str(exc))
                notebook_help.way_forward(missing, f"**The app cannot run {escape(upload.name)} as is.** What is "
                                                   "missing, and how to add it (then upload it again):")
            else:
                st.session_state["exp-added-note"] = f"Added {proto.title} ({proto.path.name})."
                st.session_state["exp-added-missing"] = missing
                switch_to(proto.slug)
        if note := st.session_state.pop("exp-added-note", None):
            st.success(note)
            notebook_help.way_forward(st.session_state.pop("exp-added-missing", []), "**Before its runs can be "
                                                                                    "compared:**")


def pick_prototype(protos: list[Prototype], plan: Plan | None, paper: Paper | None = None) -> Prototype:
    # Pre-select the plan's prototype (set by the ExperimentAgent), else the one of the plan's paper
    # (a sample paper is listed as "<slug>.pdf" and its notebook names that slug in metadata).
    # The address's prototype (a reload, a shared link) comes first.
    preferred = plan.data.prototype if plan else None
    stem = Path(paper.file_name).stem if paper else ""
    # A prototype just added or marked comes first: the browser's address and the box still hold the previous one.
    switch = st.session_state.pop("exp-switch-to", None)
    wanted = switch or st.query_params.get("prototype") or st.session_state.get("exp-last-prototype")
    index = next((i for i, p in enumerate(protos) if wanted and p.slug == wanted), None)
    if switch and index is not None:
        st.session_state["exp-proto"] = protos[index]  # the way to move a box the browser already shows
        index = 0  # ignored when the key is set; 0 keeps Streamlit from warning about two defaults
    if index is None:
        index = next((i for i, p in enumerate(protos) if preferred and p.slug == preferred), None)
    if index is None:
        index = next((i for i, p in enumerate(protos) if stem and stem in (p.paper, p.slug)), 0)
    seen = [p.label for p in protos]  # the browser tells options apart by their labels: two alike get the file name
    labels = {p.path: p.label + (f" · {p.path.name}" if seen.count(p.label) > 1 else "") for p in protos}
    chosen = st.selectbox("Prototype notebook", protos, index=index, format_func=lambda p: labels.get(p.path, p.label),
                          key="exp-proto")
    proto = next((p for p in protos if p.path == chosen.path), chosen)  # as read now (its metric may have been set)
    _remember("prototype", proto.slug)
    if proto.description:
        st.caption(escape(proto.description))
    return proto


def metric_choice(scope: ExperimentScope) -> tuple[str | None, bool]:
    choice = scope.metric()
    if choice.note:
        st.caption(choice.note)
    return choice.name, choice.higher_is_better


def _shown(param: Parameter, value: Any) -> Any:
    """``value`` as its widget holds it (the session-state form of the field)."""
    if param.type == "bool":
        return bool(value)
    if param.type == "int":
        return int(value)
    if param.type == "float":
        return float(value)
    if param.type == "str":
        return str(value)
    return value if isinstance(value, str) and param.type == "expression" else json.dumps(value)


def _widget(param: Parameter, key: str) -> Any:
    """The field of ``param``; its value is in ``st.session_state[key]`` (filled by :func:`parameter_form`)."""
    label = param.name + (f" ({param.type})" if param.type not in ("expression", "none") else "")
    helptext = param.help or None
    if param.type == "bool":
        return st.checkbox(label, key=key, help=helptext)
    if param.type == "int":
        return int(st.number_input(label, step=1, key=key, help=helptext))
    if param.type == "float":
        return float(st.number_input(label, format="%.6g", key=key, help=helptext))
    if param.type == "str":
        return st.text_input(label, key=key, help=helptext)
    text = st.text_input(label, key=key, help=(helptext or "") + " A Python/JSON literal.")
    return parse_value(param, text)


def parameter_form(proto: Prototype, params: list[Parameter], plan_values: dict[str, Any],
                   plan_key: str = "") -> dict | None:
    """The variant's parameters, pre-filled with the plan's values; returns them when 'Run variant' is pressed.

    Streamlit keeps a field's value across reruns, so switching to another plan would leave the previous
    plan's values on screen (and run them). The fields are re-filled whenever what pre-fills them changes:
    the plan (``plan_key``: its id and version), the prototype, or the values the plan gives.
    """
    if not params:
        st.caption("This notebook's parameters cell sets no parameters.")
    starts = {p.name: plan_values.get(p.name, p.default) for p in params}
    filled = json.dumps([plan_key, str(proto.path), {p.name: _shown(p, starts[p.name]) for p in params}],
                        sort_keys=True, default=str)
    keys = {p.name: f"exp-{proto.slug}-{p.name}" for p in params}
    if st.session_state.get("exp-form-filled") != filled or any(k not in st.session_state for k in keys.values()):
        for p in params:
            st.session_state[keys[p.name]] = _shown(p, starts[p.name])
        st.session_state["exp-form-filled"] = filled
    with st.form(f"exp-form-{proto.slug}"):
        values, problems = {}, []
        cols = st.columns(2)
        for i, param in enumerate(params):
            with cols[i % 2]:
                try:
                    values[param.name] = _widget(param, keys[param.name])
                except ValueError as exc:
                    problems.append(str(exc))
        changed = [n for n in plan_values if n in values]
        if changed:
            st.caption("Pre-filled from the plan: " + ", ".join(
                f"{n} = {_shown(next(p for p in params if p.name == n), plan_values[n])}" for n in changed))
        if st.form_submit_button("Run variant", type="primary"):
            if problems:
                for problem in problems:
                    st.error(problem)
                return None
            return values
    return None


def _progress_line(run: Run) -> str:
    prog = run.progress
    total, number = prog.cells_total, prog.cell_number
    where = f"cell {number} of {total}" if number and total else prog.phase or "starting"
    if prog.cell_index is not None:
        where += f" (notebook cell {prog.cell_index})"
    return f"{where} · {prog.elapsed_s:.0f} s"


def render_live(run: Run, runner) -> None:
    prog = run.progress
    icon = STATUS_ICON.get(run.status, "")
    st.markdown(f"{icon} **Run {run.id}** · {run.kind} · {run.status}"
                + (f" · {_progress_line(run)}" if run.status == "running" else ""))
    if run.status == "running":
        total, done = prog.cells_total or 0, prog.cells_done or 0
        st.progress(min(1.0, done / total) if total else 0.0)
        gpu = " · ".join(f"GPU {g.index} {g.memory_used_mib}/{g.memory_total_mib} MiB "
                         f"{g.utilization_pct} %" for g in prog.gpus) or "no GPU"
        st.caption(f"CPU {prog.cpu_percent:.0f} % · RAM {prog.rss_mib:.0f} MiB · "
                   f"{prog.processes} processes · {gpu}")
        if prog.output_tail:
            st.code(prog.output_tail, language=None)
    if st.button("Cancel", key=f"exp-cancel-{run.id}"):
        runner.cancel(run.id)
        st.rerun()


def live_runs(scope: ExperimentScope, runner) -> None:
    """Queued and running runs of this plan and notebook, polled once a second."""
    @st.fragment(run_every=1.0)
    def _poll():
        runs = scope.active()
        ids = {r.id for r in runs}
        before = st.session_state.get("exp-active-ids", set())
        st.session_state["exp-active-ids"] = ids
        if before - ids:  # a run ended: redraw the whole page so the results show it
            st.rerun()
        if not runs:
            return
        st.subheader("Running")
        for run in reversed(runs):
            with st.container(border=True):
                render_live(run, runner)

    _poll()


def render_run(run: Run) -> None:
    err = run.error
    left, right = st.columns(2)
    left.markdown("**Parameters**")
    left.dataframe(words.rows(run.parameters, "parameter"), hide_index=True, width="stretch")
    if run.metrics:
        right.markdown("**Metrics**")
        right.dataframe(words.rows(run.metrics, "metric"), hide_index=True, width="stretch")
    with right:
        metrics_source(run)
    if run.kernel:
        st.caption(f"Kernel: {escape(run.kernel)}")
    if err:
        where = f" in cell {err.cell_index}" if err.cell_index is not None else ""
        st.error(escape(f"{err.ename}{where}: {err.evalue}"))
        if err.traceback:
            with st.expander("Traceback"):
                st.code(err.traceback, language=None)
    path = run.output_notebook
    if not path or not Path(path).is_file():
        st.caption("No executed notebook was kept for this run.")
        return
    try:
        cells = notebook_cells(path, err.cell_index if err else None)
    except (OSError, ValueError, ExecutionError) as exc:
        st.warning(f"Cannot read the executed notebook {path}: {exc}")
        return
    for cell in (c for c in cells if c.failed):  # the failing cell in view, not somewhere down the notebook
        render_cell(cell)
    if not err and (rich := rich_outputs(cells)):  # figures and tables first; a failed run shows them at its cell
        st.markdown("**Figures and tables**")
        for cell, out in rich:
            st.caption(f"cell {cell.index}")
            render_output(out)
    if printed := printed_output(cells):
        with st.expander("Printed output", expanded=False):
            st.code(printed, language=None)
    with st.expander("Executed notebook", expanded=False):
        for cell in cells:
            render_cell(cell)


def render_cell(cell) -> None:
    if cell.cell_type == "markdown":
        untrusted_markdown(cell.source)
        return
    if cell.cell_type != "code":
        return
    label = "injected parameters" if cell.injected else f"cell {cell.index}"
    with st.container(border=True):
        if cell.failed:
            st.error(f"This cell failed ({label})")
        else:
            st.caption(f"{label} · In [{cell.execution_count or ' '}]")
        st.code(cell.source, language="python")
        for out in cell.outputs:
            render_output(out)


def render_output(out) -> None:
    """One output of a cell: a figure, a table (HTML already sanitised by nh3), Markdown, printed text, an error."""
    if out.kind == "error":
        st.code(out.text, language=None)
    elif out.kind == "image" and out.image_png:
        st.image(base64.b64decode(out.image_png))
    elif out.kind == "html":
        st.markdown(out.text, unsafe_allow_html=True)  # mlr.safe_text.html_fragment: no scripts, links or URLs
    elif out.kind == "markdown":
        untrusted_markdown(out.text)
    elif out.text:
        st.text(out.text)
