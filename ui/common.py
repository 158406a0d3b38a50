"""Small pieces every page uses."""

from __future__ import annotations

import streamlit as st


def require(items: list, message: str) -> list:
    """``items``, or stop the page with ``message`` (what to do first) when there are none."""
    if not items:
        st.info(message)
        st.stop()
    return items
