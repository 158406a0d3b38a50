"""The way forward for a notebook the app cannot run as is: what is missing, why, how to add it, a snippet to copy
(the checks: mlr/notebook_readiness.py)."""

from __future__ import annotations

import streamlit as st

from mlr.notebook_readiness import Missing


def way_forward(missing: list[Missing], intro: str) -> None:
    if not missing:
        return
    with st.container(border=True):
        st.markdown(intro)
        for m in missing:
            (st.error if m.blocking else st.info)(m.what)
            st.markdown(f"{m.why} **How:** {m.fix}")
            if m.snippet:
                st.code(m.snippet, language=m.language)  # the copy button is on the code block
