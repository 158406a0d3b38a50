"""The status sidebar alone, for AppTest (reruns of an st.navigation app drop `at.sidebar`)."""

from ui import sidebar

sidebar.render()
