"""Widgets of the Plan page: hypothesis and plan forms, version history with restore."""

from __future__ import annotations

import json

import streamlit as st

from mlr import version_diff, words
from mlr.agents.idea_agent import IdeaError
from mlr.agents.idea_flow import save_hypothesis, save_plan
from mlr.store import Store
from mlr.store.records import (CitationData, Hypothesis, HypothesisData, HypothesisVersion, Plan, PlanData,
                               PlanParameter, PlanVersion)


def parse_value(text: str):
    """A parameter value typed in a form: JSON scalars (1, 0.5, true) stay typed, anything else is text."""
    text = text.strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, (int, float, bool, str)) else text


def parse_values(text: str) -> list:
    return [parse_value(v) for v in text.split(",") if v.strip()]


def _show(value) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def flash(where: str, text: str) -> None:
    """A save message for the next run, shown next to the button pressed (``where``: "hypothesis" or "plan")."""
    st.session_state["plan_flash"] = (where, text)


def show_flash(where: str) -> None:
    """The save message of ``where``'s buttons, if one was pressed."""
    kept = st.session_state.get("plan_flash")
    if isinstance(kept, tuple) and kept[0] == where:
        st.session_state.pop("plan_flash")
        st.success(kept[1])


def cited_passages(store: Store, chunk_ids: list[str]) -> None:
    """The cited passages as "Paper title, section, page N", each opening onto its text."""
    for chunk_id in chunk_ids:
        chunk = store.get_chunk(chunk_id)
        with st.expander(words.cite(chunk, chunk_id)):
            st.markdown(chunk.text if chunk else "This passage is no longer in the library.")


def hypothesis_form(store: Store, h: Hypothesis) -> None:
    d, tag = h.data, f"{h.id}-{h.version}"
    if d.citations:
        st.markdown(f"**Cited passages** ({len(d.citations)})")
        cited_passages(store, [c.chunk_id for c in d.citations])
    with st.form(f"hyp-{h.id}-v{h.version}"):
        method = st.text_area("Method", d.method, key=f"hmethod-{tag}")
        rationale = st.text_area("Rationale", d.rationale, key=f"hrationale-{tag}")
        with st.expander("Details: cited passage ids"):
            cites = st.text_input("Cited passages (chunk ids, comma-separated)",
                                  ", ".join(c.chunk_id for c in d.citations), key=f"hcites-{tag}")
        if st.form_submit_button("Save hypothesis as a new version"):
            citations = []
            for chunk_id in [c.strip() for c in cites.split(",") if c.strip()]:
                row = store.get_chunk(chunk_id)
                citations.append(CitationData(chunk_id=chunk_id, paper_id=row.paper_id if row else -1))
            edited = HypothesisData(method=method, rationale=rationale, citations=citations)
            try:
                version = save_hypothesis(store, h.id, edited.stored())
            except IdeaError as exc:
                st.error(str(exc))
            else:
                flash("hypothesis", f"Hypothesis saved as version {version}.")
                st.rerun()


def plan_form(store: Store, plan: Plan) -> None:
    d, tag = plan.data, f"{plan.id}-{plan.version}"
    with st.form(f"plan-{tag}"):
        objective = st.text_area("Objective", d.objective, key=f"pobj-{tag}")
        method = st.text_area("Method", d.method, key=f"pmethod-{tag}")
        design = st.text_area("Experiment design (one step per line)", "\n".join(d.experiment_design),
                              key=f"pdesign-{tag}")
        a, b, c = st.columns(3)
        dataset = a.text_input("Dataset", d.dataset, key=f"pdata-{tag}")
        baseline = b.text_input("Baseline", d.baseline, key=f"pbase-{tag}")
        budget = c.text_input("Compute budget", d.compute_budget, key=f"pbudget-{tag}")
        a, b = st.columns(2)
        metric = a.text_input("Primary metric", d.primary_metric, key=f"pmetric-{tag}")
        higher = b.checkbox("Higher is better", d.higher_is_better is not False, key=f"phigher-{tag}")
        st.markdown("**Parameters to vary** (values comma-separated; empty the name to drop one)")
        params = []
        current = d.parameter_list()
        for i, p in enumerate((current + [PlanParameter()] * (4 - len(current)))[:4]):
            x, y, z = st.columns([2, 2, 3])
            name = x.text_input(f"Name {i + 1}", p.name, key=f"pname-{tag}-{i}")
            values = y.text_input(f"Values {i + 1}", ", ".join(_show(v) for v in p.values), key=f"pvals-{tag}-{i}")
            desc = z.text_input(f"Description {i + 1}", p.description, key=f"pdesc-{tag}-{i}")
            if name.strip():
                params.append(PlanParameter(name=name, values=parse_values(values), description=desc))
        if st.form_submit_button("Save plan as a new version"):
            edited = PlanData(objective=objective, method=method,
                              experiment_design=[s.strip() for s in design.splitlines() if s.strip()],
                              dataset=dataset, baseline=baseline, compute_budget=budget, primary_metric=metric,
                              higher_is_better=higher, parameters=params)
            try:
                version = save_plan(store, plan.id, edited.model_dump(exclude={"prototype"}))
            except IdeaError as exc:
                st.error(str(exc))
            else:
                note = " It is a draft again: accept it to run it." if plan.status == "accepted" else ""
                flash("plan", f"Plan saved as version {version}.{note}")
                st.rerun()


def history(versions: list[HypothesisVersion] | list[PlanVersion], current: int, restore, what: str,
            key: str) -> None:
    """Every version, newest first; any one can be viewed and restored (as a new version)."""
    with st.expander(f"{what} history ({words.plural(len(versions), 'version')})"):
        st.dataframe([{"version": v.version, "note": v.note, "saved": words.ago(v.created_at),
                       "at": words.exact(v.created_at)} for v in versions], hide_index=True, width="stretch")
        numbers = [v.version for v in versions]
        pick = st.selectbox(f"Show {what.lower()} version", numbers, key=f"hist-{key}")
        chosen = next(v for v in versions if v.version == pick)
        st.json(chosen.data.stored(), expanded=False)
        if st.button(f"Restore version {pick}", key=f"restore-{key}", disabled=pick == current):
            new = restore(pick)
            flash(what.lower(), f"{what} version {pick} restored as version {new}.")
            st.rerun()
        if len(versions) > 1:
            compare(versions, what, key)


def compare(versions: list[HypothesisVersion] | list[PlanVersion], what: str, key: str) -> None:
    """Two versions side by side, the fields that differ (mlr/version_diff.py decides what differs)."""
    st.markdown(f"**Compare two {what.lower()} versions**")
    numbers = [v.version for v in versions]  # newest first: by default the one before the newest, and the newest
    left, right = st.columns(2)
    a = left.selectbox("Version", numbers, index=1, key=f"cmp-a-{key}")
    b = right.selectbox("with version", numbers, index=0, key=f"cmp-b-{key}")
    data = {v.version: v.data.stored() for v in versions}
    changes = version_diff.changed(data[a], data[b])
    if a == b:
        st.caption("Pick two different versions.")
    elif not changes:
        st.caption(f"Versions {a} and {b} have the same fields.")
    else:
        st.dataframe([{"field": c.label, f"version {a}": c.before, f"version {b}": c.after} for c in changes],
                     hide_index=True, width="stretch")
        unchanged = len(version_diff.compare(data[a], data[b])) - len(changes)
        st.caption(f"{words.plural(len(changes), 'field')} changed, {unchanged} the same.")
