"""IdeaAgent steps on the shared job board (Ideas and Plan pages), keyed by paper.

A second tab on the same paper sees the running step, and two tabs cannot start two steps on one paper
at once. The recorder (agent + record) is built in the script thread, the work runs in a worker.
"""

from __future__ import annotations

import streamlit as st

from mlr import words
from mlr.jobs import Job
from mlr.llm.errors import StructuredOutputError
from ui import jobs, resources

busy = jobs.busy


def key_for(paper_id: int) -> str:
    return f"ideas:{paper_id}"


def start(key: str, label: str, work) -> Job:
    """Start ``work(recorder, job)`` in the background, unless a step already runs under ``key``."""
    rec = resources.workspace().idea_recorder()  # built here: the library's first load may show a spinner
    return jobs.start(key, label, lambda job: work(rec, job))


def failed_slots(key: str, problem_id: int) -> list[dict]:
    """Hypothesis slots of this problem that the last finished job could not make (for a Retry each)."""
    job = jobs.get(key)
    result = job.result if job is not None and job.done else None
    if getattr(result, "problem_id", None) != problem_id:
        return []
    return [{**f, "n": result.n} for f in result.failed]


def model_failure(key: str, job: Job) -> None:
    """"The model could not produce a usable review (3 tries) …" with Try again beside it; the validation
    detail behind a toggle."""
    failure = job.exception
    left, right = st.columns([5, 1], vertical_alignment="center")
    left.error(words.model_failure(words.thing(failure.schema), failure.attempts))
    if right.button("Try again", key=f"again-{key}", type="primary"):
        jobs.again(key)
    with st.expander("Details: why the model's answers were refused"):
        st.code(job.error, language=None, wrap_lines=True)


def panel(key: str) -> None:
    """The running step's live progress, or the outcome of the last one."""
    job = jobs.get(key)
    if job is None:
        return
    if not job.done:
        jobs.poll(key)
        return
    failed = getattr(job.result, "failed", None)
    if isinstance(job.exception, StructuredOutputError):  # the model's answers stayed unusable: say so, offer again
        model_failure(key, job)
    elif job.error:
        st.error(f"{job.label} failed: {job.error}")
    elif failed:
        st.warning(f"{job.label}: {len(job.result)} stored, {len(failed)} failed ({job.seconds:.1f} s). "
                   "The finished ones are kept; retry a failed one below.")
    else:
        st.success(f"{job.label}: done in {job.seconds:.1f} s.")
    for line in job.lines:
        if not line.startswith("hypothesis ") or " failed: " in line:
            st.caption(line)
    if st.button("Dismiss", key=f"dismiss-{key}"):
        jobs.clear(key)
        st.rerun()
