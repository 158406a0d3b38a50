"""Experiment: run a prototype notebook for an accepted plan (or ad hoc): baseline, variant, live runs, results."""

import streamlit as st

from mlr import notebook_readiness
from mlr.execution.errors import NotebookContractError
from mlr.execution.parameters import (
    defaults,
    inspect_parameters,
    parameters_cell_index,
    read_notebook,
    values_from_plan,
)
from mlr.execution.prototypes import list_prototypes
from mlr.experiments.scope import ExperimentScope
from ui import common, experiment_agent, experiment_loop, experiment_results, notebook_help, resources
from ui import experiment_byon as byon
from ui import experiment_run as view
from ui.report_download import button as report_button
from ui.untrusted import escape

common.through_navigation()  # the first visit to this address too: app.py's navigation
st.title("Experiment")
settings, store, runner = resources.settings(), resources.store(), resources.runner()

# 1. What to run: an accepted plan (or none), a prototype notebook and its parameters.
plans = store.list_plans(status="accepted")
if not plans:
    st.info("No accepted plan yet: accept one on the Plan page, or make an ad-hoc run of a prototype below.")
plan = view.pick_plan(plans)
plan_id = plan.id if plan else None
view.upload_prototype(settings)
prototypes = list_prototypes(settings)
if not prototypes:
    st.info("No prototype notebooks yet: add one above (a notebook, or a script with `# %%` cells).")
    st.stop()
proto = view.pick_prototype(prototypes, plan, store.get_paper(plan.paper_id) if plan else None)
byon.marked_note()
nb = read_notebook(proto.path)
missing = notebook_readiness.check(nb, proto.path.name)  # the way forward, not only an error
kernel = byon.kernel_picker(proto, nb, settings)  # the environment the runs use
submit_data = {"kernel": kernel} if kernel else None
if parameters_cell_index(nb) is None:  # runs as is; marking a cell writes a tagged copy
    params = []
    byon.offer_marking(proto, nb, settings.prototypes_dir)
    missing = [m for m in missing if not m.what.startswith("No cell tagged")]
else:
    try:
        params = inspect_parameters(proto.path)
    except NotebookContractError as exc:
        st.error(str(exc))
        notebook_help.way_forward(missing, "**What is missing, and how to add it:**")
        st.stop()
notebook_help.way_forward([m for m in missing if m.blocking],
                          f"**{escape(proto.title)} cannot be compared as is:** its runs would end without results.")
if advice := [m for m in missing if not m.blocking]:
    with st.expander("Before its runs can be compared", expanded=False):
        notebook_help.way_forward(advice, f"**{escape(proto.title)} runs as is.** To compare its runs:")
scope = ExperimentScope.of(store, plan, proto, params)  # this plan, this notebook: mlr/experiments/scope.py
byon.metric_picker(proto, scope.finished(), settings)
metric, higher = view.metric_choice(scope)
st.caption(f"Primary metric: **{metric or 'not named'}** ({'higher' if higher else 'lower'} is better) · "
           f"success bar {settings.success_bar:.0%}")

# 2. Baseline (the notebook's defaults) and variant (the plan's values, editable).
if st.button("Run baseline (defaults)" if params else "Run as is (baseline)", key="exp-baseline"):
    run_id = runner.submit(proto.path, defaults(params), kind="baseline", plan_id=plan_id, data=submit_data)
    st.toast(f"Baseline queued as run {run_id}.")
variant = view.parameter_form(proto, params, values_from_plan(plan.data if plan else None, params),
                              f"{plan.id}-v{plan.version}" if plan else "") if params else None
if variant is not None and (refusal := scope.refuse_variant(variant, defaults(params))):
    st.warning(refusal)
elif variant is not None:
    run_id = runner.submit(proto.path, variant, kind="variant", plan_id=plan_id, data=submit_data)
    st.toast(f"Variant queued as run {run_id}.")

# 3. ExperimentAgent panel (prototype ranking, adaptation, debug loop): ui/experiment_agent.py.
experiment_agent.render(plan=plan, prototype=proto, parameters=params, runner=runner, store=store, settings=settings)
if parameters_cell_index(nb) is not None:
    experiment_loop.render(plan, proto, store, settings)  # the experiment loop: ui/experiment_loop.py
else:
    st.caption("The experiment loop searches a notebook's parameters: mark its parameters cell above first.")

# 4. Live runs (polled every second) and results.
view.live_runs(scope, runner)
experiment_results.results(scope, settings)
if plan:  # the plan's report, paper to result (ui/report_download.py)
    report_button(settings, store, plan.id, key="exp-report")
