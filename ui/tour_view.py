"""The Tour page's steps: each with its words, a progress bar against the step's expected duration while it
runs, and its result as soon as it arrives (read from the tour's state, ``mlr/tour``)."""

from __future__ import annotations

import time

import streamlit as st

from mlr.tour.script import script
from mlr.tour.state import load
from ui import jobs, resources
from ui.untrusted import escape

KEY = "tour"
ICONS = {"waiting": ":material/radio_button_unchecked:", "running": ":material/progress_activity:",
         "done": ":material/check_circle:", "failed": ":material/error:"}


def steps(live: bool) -> None:
    state = load(resources.settings())
    total = len(script().steps)
    for number, step in enumerate(script().steps, 1):
        s = state.steps.get(step.key) if state else None
        status = s.status if s else "waiting"
        with st.container(border=True):
            st.markdown(f"{ICONS[status]} **Step {number} of {total}: {step.title}**")
            st.caption(step.words)
            if status == "running" and live:
                elapsed = time.time() - (s.started or time.time())
                st.progress(min(elapsed / step.expected_s, 0.99),
                            text=f"{elapsed:.0f} s of about {step.expected_s:.0f} s")
            elif status == "done":
                st.markdown(escape(s.result))  # may quote the model or the paper
                st.caption(f"took {s.seconds:.0f} s")
            elif status == "failed":
                st.error(f"{state.error} Press **Start the tour** to try again, or **Reset the tour** first.")


@st.fragment(run_every=1.0)
def live_steps() -> None:
    """The steps, redrawn every second while the tour runs; the whole page reruns once it has ended."""
    if not jobs.busy(KEY):
        st.rerun()
        return
    steps(live=True)
