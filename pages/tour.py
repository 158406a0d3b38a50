"""Tour: one button walks the whole flow on a sample paper — library, problem, hypothesis, plan, baseline and
variant, report — with plain words for each step and each result as it arrives (mlr/tour)."""

import streamlit as st

from mlr.tour.reset import reset
from mlr.tour.run import run_tour
from mlr.tour.script import script
from mlr.tour.state import load
from ui import common, jobs, resources, tour_view
from ui.report_download import button as report_button

common.through_navigation()  # the first visit to this address too: app.py's navigation
st.title("Tour")
ws = resources.workspace()
st.markdown(f"One button walks the whole research flow on a sample paper, about **{script().expected_s:.0f} "
            "seconds** of work with "
            "the built-in demo model: the assistant reads the paper, finds its problem, proposes a hypothesis and a "
            "plan, runs the paper's notebook twice and writes a report. It needs no network.")
st.caption("What the tour makes is marked **tour** on every page (its texts say “· tour”) and goes away with "
           "**Reset the tour**; starting it again replaces it.")

running = jobs.busy(tour_view.KEY)
state = load(ws.settings)
left, right = st.columns(2)
if left.button("Start the tour", type="primary", disabled=running, key="tour-start"):
    jobs.clear(tour_view.KEY)
    jobs.start(tour_view.KEY, "Tour", lambda job: run_tour(ws, job))
if right.button("Reset the tour", disabled=running or state is None, key="tour-reset",
                help="Remove the problem, hypothesis, plan and runs the tour made (and the sample paper if the tour "
                     "added it)."):
    removed = reset(ws)
    st.toast("Removed " + ", ".join(removed) + "." if removed else "The tour had made nothing.")
    st.rerun()

if running:
    tour_view.live_steps()
else:
    if state is not None and state.finished and not state.error:  # the outcome first, then how it got there
        st.success(f"The tour finished in {state.seconds:.0f} s with {state.model}. "
                   f"{state.steps['report'].result} Open the Plan and Experiment pages to see what it made.")
        report_button(ws.settings, ws.store, state.plan_id, key="tour-report")
    tour_view.steps(live=False)
