"""Steering a loop from the page: approve or reject code candidates, feedback, pin or ban a value, and
the code changes it tried. Every action writes to the record; the loop reads it at its next step.
"""

from __future__ import annotations

import streamlit as st

from mlr.experiments import control
from mlr.experiments.control import LoopInputError
from mlr.experiments.progress import EXP_WORDS
from mlr.experiments.space import SearchSpace
from mlr.store.loop_records import Loop, LoopExperiment
from ui import resources
from ui.untrusted import escape


def act(action, message: str) -> None:
    """Do ``action``; a refusal is shown in words, success as a toast and a rerun."""
    try:
        action()
    except LoopInputError as exc:
        st.error(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        return
    st.toast(message)
    st.rerun()


# -- steering ---------------------------------------------------------------------------------------------------------
def awaiting(loop: Loop, exps: list[LoopExperiment]) -> None:
    store = resources.store()
    waiting = [e for e in exps if e.status == "awaiting_approval"]
    if not waiting:
        return
    st.markdown(f"**Code changes awaiting your approval ({len(waiting)})** — nothing model-written runs until "
                "you approve it.")
    for e in waiting:
        with st.container(border=True):
            st.markdown(f"**Experiment {e.ordinal}** · {escape(e.reason or 'a code change proposed by the model')}")
            st.code(e.diff or "(no diff recorded)", language="diff")
            note = st.text_input("Note to the agent (optional)", key=f"xl-note-{loop.id}-{e.id}")
            a, r = st.columns(2)
            if a.button("Approve", key=f"xl-approve-{loop.id}-{e.id}", type="primary"):
                act(lambda e=e, note=note: control.decide(store, e.id, True, note),
                    f"Experiment {e.ordinal} approved: it runs at the loop's next step.")
            if r.button("Reject", key=f"xl-reject-{loop.id}-{e.id}"):
                act(lambda e=e, note=note: control.decide(store, e.id, False, note),
                    f"Experiment {e.ordinal} rejected.")


def steer(loop: Loop) -> None:
    store = resources.store()
    space = SearchSpace.model_validate(loop.config.space) if loop.config.space else None
    with st.expander("Steer the loop: feedback, pin or ban a parameter value"):
        text = st.text_input("Feedback for the next proposal (e.g. \"try a smaller learning rate\")",
                             key=f"xl-feedback-{loop.id}")
        if st.button("Send feedback", key=f"xl-feedback-send-{loop.id}", disabled=not text.strip()):
            act(lambda: control.feedback(store, loop.id, text), "Feedback saved: the next proposal reads it.")
        names = [p.name for p in space.params if not p.locked] if space else []
        if not names:
            return
        c1, c2, c3 = st.columns([2, 2, 1])
        name = c1.selectbox("Parameter", names, key=f"xl-pin-name-{loop.id}")
        value = c2.text_input("Value", key=f"xl-pin-value-{loop.id}", placeholder="e.g. 0.01 or 'ridge'")
        how = c3.radio("Action", ["pin", "ban"], key=f"xl-pin-how-{loop.id}", horizontal=True,
                       help="Pin: always use this value. Ban: never try it again.")
        if st.button("Apply", key=f"xl-pin-apply-{loop.id}", disabled=not value.strip()):
            act(lambda: control.pin(store, loop.id, name, value.strip(), ban=how == "ban"),
                 f"{name} {'pinned to' if how == 'pin' else 'banned at'} {value.strip()}.")


def code_changes(exps: list[LoopExperiment]) -> None:
    tried = [e for e in exps if e.diff and e.status != "awaiting_approval"]
    if not tried:
        return
    with st.expander(f"Code changes tried ({len(tried)})"):
        for e in tried:
            st.markdown(f"**Experiment {e.ordinal}** · {e.kind} · {EXP_WORDS.get(e.status, e.status)} · {escape(e.reason)}")
            st.code(e.diff, language="diff")
