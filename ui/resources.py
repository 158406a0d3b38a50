"""The app's parts, taken from one :class:`mlr.workspace.Workspace` per server process.

``st.cache_resource`` keeps the workspace for every session; the workspace builds each part once, on
first use (heavy imports and model loads happen then, never on every rerun). Shared parts are either
immutable or guard their own mutation with locks.
"""

from __future__ import annotations

import streamlit as st

from mlr.config import Settings
from mlr.status import collect_status
from mlr.store import Store
from mlr.workspace import Workspace


@st.cache_resource(show_spinner=False)
def workspace() -> Workspace:
    # The app serves the run queue: its runner works off queued runs and marks runs of a dead app interrupted.
    return Workspace.open(serve_queue=True)


def settings() -> Settings:
    return workspace().settings


def store() -> Store:
    return workspace().store


def _first_build(name: str, message: str):
    ws = workspace()
    if ws.is_built(name):
        return getattr(ws, name)
    with st.spinner(message):
        return getattr(ws, name)


def llm():
    return _first_build("llm", "Connecting to the local model…")


def reselect_llm() -> None:
    """Probe the backends again on next use (the sidebar's "Switch to it")."""
    workspace().reselect_llm()


@st.cache_data(ttl=15, show_spinner=False)
def status_snapshot() -> dict:
    # Probing Ollama and NVML costs milliseconds to seconds: cache for a few seconds, not per rerun.
    ws = workspace()  # the app's runner holds the Ray connection: describe the cluster it uses
    return collect_status(settings(), executor=ws.runner.executor if ws.is_built("runner") else None)


def library():
    """The paper library (index + embedding model), loaded once per server process."""
    return _first_build("library", "Loading the paper library and its embedding model…")


def library_jobs():
    """Library work (uploads, samples, rebuild) on the shared job board."""
    return workspace().library_jobs


def jobs():
    """The job board shared by every session: IdeaAgent steps, agent actions, library work."""
    return workspace().jobs


def runner():
    """The notebook runner and its queue worker, started once per server process."""
    return workspace().runner
