"""Run IdeaAgent steps in worker threads and show their progress by polling (Ideas and Plan pages).

The board is shared by every session (``st.cache_resource``), keyed by paper: a second tab on the
same paper sees the running step, and two tabs cannot start two steps on one paper at once.
Worker threads never call ``st.*``; the fragment below reads what they wrote.
"""

from __future__ import annotations

import streamlit as st

from mlr.agents.idea_agent import IdeaAgent, IdeaConfig
from mlr.agents.idea_flow import IdeaRecorder
from mlr.agents.idea_jobs import Job, JobBoard
from ui import resources


@st.cache_resource(show_spinner=False)
def board() -> JobBoard:
    from mlr.library import LibraryError

    return JobBoard(expected=(LibraryError,))


def key_for(paper_id: int) -> str:
    return f"ideas:{paper_id}"


def recorder() -> IdeaRecorder:
    """The agent over the current model and the library; cheap to build, the heavy parts are cached."""
    library = resources.library()
    agent = IdeaAgent(resources.llm(), library.retriever, embedder=library.embedder,
                      config=IdeaConfig.from_settings(resources.settings()))
    return IdeaRecorder(agent, resources.store())


def busy(key: str) -> bool:
    job = board().get(key)
    return job is not None and not job.done


def start(key: str, label: str, work) -> Job:
    """Start ``work(recorder, job)`` in a thread, unless a step already runs under ``key``."""
    rec = recorder()  # built here, in the script thread: st.cache_resource is not for worker threads
    job = board().start(key, label, lambda job: work(rec, job))
    st.rerun()  # show the progress panel at once
    return job


@st.fragment(run_every=1.0)
def _progress(key: str) -> None:
    job = board().get(key)
    if job is None or job.done:
        st.rerun()  # the whole page, to show what the step stored
        return
    with st.status(f"{job.label} · {job.seconds:.0f} s", state="running", expanded=True):
        for line in job.lines[-6:]:
            st.write(line)
        if job.text:
            st.caption("The model is writing:")
            st.code(job.text[-2500:], language="json", wrap_lines=True)


def panel(key: str) -> None:
    """The running step's live progress, or the outcome of the last one."""
    job = board().get(key)
    if job is None:
        return
    if not job.done:
        _progress(key)
        return
    if job.error:
        st.error(f"{job.label} failed: {job.error}")
    else:
        st.success(f"{job.label}: done in {job.seconds:.1f} s.")
    for line in job.lines:
        if not line.startswith("hypothesis "):
            st.caption(line)
    if st.button("Dismiss", key=f"dismiss-{key}"):
        board().clear(key)
        st.rerun()
