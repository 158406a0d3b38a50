"""Experiment: run an accepted plan's prototype notebook, baseline and variant."""

import streamlit as st

from ui import resources

st.title("Experiment")
if not resources.store().list_plans(status="accepted"):
    st.info("No accepted plan yet: accept one on the Plan page.")
