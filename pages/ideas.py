"""Ideas: from a paper to a research problem, related work and hypotheses."""

import streamlit as st

from ui import resources

st.title("Ideas")
if not resources.store().list_papers():
    st.info("Add papers on the Library page first.")
