"""Plan: edit, version and accept hypotheses and experiment plans."""

import streamlit as st

from ui import resources

st.title("Plan")
if not resources.store().list_plans():
    st.info("No plans yet: generate hypotheses on the Ideas page.")
