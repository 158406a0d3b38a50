"""Plan: edit hypotheses and experiment plans; every save is a version; accept a plan to run it."""

import streamlit as st

from mlr import selection, words
from mlr.agents.idea_flow import restore_plan
from ui import common, ideas_jobs, ideas_view, plan_form, resources
from ui.common import require
from ui.report_download import button as report_button

common.through_navigation()  # the first visit to this address too: app.py's navigation
st.title("Plan")
store = resources.store()
hypotheses = require(store.list_hypotheses(), "No hypotheses yet: generate them on the Ideas page.")

by_id = {h.id: h for h in hypotheses}


def label(hid: int) -> str:
    h = by_id[hid]
    status = h.plan_status or "no plan"
    method = h.data.method
    return f"#{hid} · {status} · {h.paper_title} · {method[:70]}{'…' if len(method) > 70 else ''}"


# Which hypothesis: one the Ideas page asked for, else the address's (a reload, a shared link), else the
# one touched last in this session, else the one edited, saved or accepted last (mlr/selection.py).
if (asked := st.session_state.pop("plan_hypothesis", None)) in by_id:
    st.session_state["plan-hypothesis"] = asked
elif st.session_state.get("plan-hypothesis") not in by_id:
    wanted = st.query_params.get("hypothesis") or st.session_state.get("plan-last-hypothesis")
    st.session_state["plan-hypothesis"] = selection.pick(hypotheses, wanted,
                                                         selection.plan_touches(store.list_plans())).id
hid = st.selectbox("Hypothesis", list(by_id), format_func=label, key="plan-hypothesis")
st.session_state["plan-last-hypothesis"] = str(hid)
if st.query_params.get("hypothesis") != str(hid):
    st.query_params["hypothesis"] = str(hid)
h = by_id[hid]

st.header("Hypothesis")
ideas_view.demo_note(h.generated_by)
st.caption(f"Version {h.version}")
plan_form.hypothesis_form(store, h)
plan_form.show_flash("hypothesis")  # the save message next to the button pressed
plan_form.history(store.hypothesis_versions(hid), h.version, lambda v: store.restore_hypothesis(hid, v),
                  "Hypothesis", f"h{hid}")

st.header("Experiment plan")
key = ideas_jobs.key_for(h.paper_id)
ideas_jobs.panel(key)
plan = store.plan_for_hypothesis(hid)
if plan is None:
    st.info("This hypothesis has no plan yet.")
    if st.button("Generate a plan", disabled=ideas_jobs.busy(key)):
        ideas_jobs.start(key, "Planning", lambda rec, job: rec.plan(hid, on_token=job.on_token))
    st.stop()

ideas_view.demo_note(plan.generated_by)
st.caption(f"Version {plan.version} · {plan.status}", help=f"saved {words.exact(plan.updated_at)}")
plan_form.plan_form(store, plan)
# Accept comes after the fields it accepts.
if plan.status == "accepted":
    st.success(f"Version {plan.version} is accepted ({words.ago(plan.accepted_at)}): the Experiment page can "
               "run it.")
    if st.button("Back to draft", help=f"accepted {words.exact(plan.accepted_at)}"):
        store.set_plan_status(plan.id, "draft")
        st.rerun()
elif st.button("Accept this plan for experimentation", type="primary"):
    store.set_plan_status(plan.id, "accepted")
    plan_form.flash("plan", f"Plan version {plan.version} accepted.")
    st.rerun()
plan_form.show_flash("plan")
plan_form.history(store.plan_versions(plan.id), plan.version, lambda v: restore_plan(store, plan.id, v),
                  "Plan", f"p{plan.id}")
report_button(resources.settings(), store, plan.id, key="plan-report")  # ui/report_download.py
if h.review:
    st.header("Review")
    ideas_view.review_view(h.review)
