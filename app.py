"""MLR Copilot entry point: `streamlit run app.py`.

Navigation over the thin scripts in pages/ and the status sidebar; all logic lives in mlr/.
"""

import logging

import streamlit as st

from ui import sidebar

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

st.set_page_config(page_title="MLR Copilot", page_icon=":material/science:", layout="wide")

navigation = st.navigation([
    st.Page("pages/library.py", title="Library", icon=":material/library_books:", default=True),
    st.Page("pages/ideas.py", title="Ideas", icon=":material/lightbulb:"),
    st.Page("pages/plan.py", title="Plan", icon=":material/edit_note:"),
    st.Page("pages/experiment.py", title="Experiment", icon=":material/science:"),
    st.Page("pages/tour.py", title="Tour", icon=":material/tour:"),
])
sidebar.render()
navigation.run()
