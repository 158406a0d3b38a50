"""Drawing untrusted text (paper passages, model output, notebook Markdown): always through mlr.safe_text."""

from __future__ import annotations

import streamlit as st

from mlr.safe_text import escape, markdown_html


def markdown(text: object, container=st) -> None:
    """Untrusted Markdown: formatting kept, images, links, raw HTML and URLs dropped (sanitised by nh3)."""
    container.markdown(markdown_html(text), unsafe_allow_html=True)


__all__ = ["escape", "markdown"]
