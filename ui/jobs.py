"""The one way a page shows background work (:mod:`mlr.jobs`): a fragment polls the job until it ends.

Worker threads never call ``st.*``; these helpers read what the job reported (stage, progress lines,
the text a model is streaming) and rerun the whole page once the job has finished, so the page shows
what the work stored.
"""

from __future__ import annotations

import streamlit as st

from mlr import words
from mlr.jobs import Job
from ui import resources
from ui.untrusted import escape


def get(key: str) -> Job | None:
    return resources.jobs().get(key)


def busy(key: str) -> bool:
    job = get(key)
    return job is not None and not job.done


def start(key: str, label: str, work) -> Job:
    """Start ``work(job)`` on the shared board (unless a job already runs under ``key``) and show it at once."""
    job = resources.jobs().start(key, label, work)
    st.rerun()
    return job


@st.fragment(run_every=1.0)
def poll(key: str, *, lines: int = 6, stream: bool = True) -> None:
    """Live progress of the job under ``key``; reruns the page when it has finished."""
    job = get(key)
    if job is None or job.done:
        st.rerun()
        return
    trying = words.attempt(*job.attempt)  # "attempt 2 of 3" while the model answers again
    with st.status(f"{job.label} · {trying + ' · ' if trying else ''}{job.seconds:.0f} s", state="running",
                   expanded=True):
        if job.stage not in ("starting", "queued") and job.fraction:
            st.progress(job.fraction, text=words.stage(job.stage))
        for line in job.lines[-lines:]:
            st.markdown(escape(line))  # a line may quote the model or a paper
        if stream and job.text:
            st.caption(f"The model is writing ({trying}, the last answer was not usable):" if trying else
                       "The model is writing:")
            st.code(job.text[-2500:], language="json", wrap_lines=True)


def result(key: str):
    """``(running, result, error)`` of the job under ``key``; polls it while it runs."""
    job = get(key)
    if job is None:
        return False, None, None
    if not job.done:
        poll(key, stream=False)
        return True, None, None
    return False, job.result, job.error


def again(key: str) -> None:
    """Run the finished job under ``key`` once more and show it."""
    resources.jobs().again(key)
    st.rerun()


def clear(key: str) -> None:
    resources.jobs().clear(key)
