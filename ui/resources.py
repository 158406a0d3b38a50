"""Objects built once per server process and shared by every session (``st.cache_resource``).

Heavy imports and model loads happen here, once, never on every rerun. Shared objects are
either immutable or guard their own mutation with locks.
"""

from __future__ import annotations

import streamlit as st

from mlr.config import Settings
from mlr.status import collect_status
from mlr.store import Store


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    s = Settings.from_env()
    s.ensure_dirs()
    return s


@st.cache_resource(show_spinner=False)
def store() -> Store:
    return Store(settings().db_path)


@st.cache_resource(show_spinner="Connecting to the local model…")
def llm_selection():
    from mlr.llm.select import select_llm

    return select_llm(settings())


def llm():
    return llm_selection().llm


@st.cache_data(ttl=15, show_spinner=False)
def status_snapshot() -> dict:
    # Probing Ollama and NVML costs milliseconds to seconds: cache for a few seconds, not per rerun.
    return collect_status(settings())


@st.cache_resource(show_spinner="Loading the paper library and its embedding model…")
def library():
    """The paper library (index + embedding model), loaded once per server process."""
    from mlr.library import open_library

    return open_library(settings(), store())


@st.cache_resource(show_spinner=False)
def library_jobs():
    """The background queue that adds papers while the page stays responsive."""
    from mlr.library.jobs import LibraryJobs

    return LibraryJobs(library())


@st.cache_resource(show_spinner=False)
def runner():
    """The notebook runner and its queue worker, started once per server process.

    Starting it marks runs left 'running' by a dead app 'interrupted' and resumes queued ones.
    """
    from mlr.execution.runner import NotebookRunner

    return NotebookRunner(settings(), store()).start()
