"""Small pieces every page uses."""

from __future__ import annotations

import streamlit as st


def require(items: list, message: str) -> list:
    """``items``, or stop the page with ``message`` (what to do first) when there are none."""
    if not items:
        st.info(message)
        st.stop()
    return items


_first_run_seen = False


def through_navigation() -> None:
    """Draw this page through app.py's navigation, also on the first visit to its address.

    While a folder named ``pages/`` sits beside app.py, Streamlit serves the first request of a fresh server in its
    old multipage mode when that request names a page (``/library``): the page script runs alone, the sidebar lists
    the raw file names ("app", "experiment", ...) and the status panel is missing, for every later session too
    (the mode is process-wide until ``st.navigation`` runs once). This switches the mode off and reruns, so app.py
    draws the page with its titles and the sidebar. It acts on the process's first page run only: that run has no
    click to lose in the rerun, and later the mode stays off (AppTest turns it back on before every run, where
    app.py's ``st.navigation`` turns it off again).
    """
    global _first_run_seen
    from streamlit.runtime.pages_manager import PagesManager

    if _first_run_seen:
        return
    _first_run_seen = True
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
