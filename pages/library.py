"""Library: the papers of this research session."""

import streamlit as st

from ui import resources

st.title("Library")
papers = resources.store().list_papers()
if not papers:
    st.info("The library is empty.")
else:
    st.dataframe([{k: p[k] for k in ("id", "title", "file_name", "pages", "chunks", "added_at")} for p in papers])
