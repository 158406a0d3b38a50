"""Experiment page pieces for notebooks not written for this app: the kernel to run in, marking a parameters cell
(in a copy), picking the primary metric from what the runs reported, and where a run's metrics came from.
The decisions are in ``mlr.execution`` (kernels, mark_parameters, found_metrics, prototypes); these only draw."""

from __future__ import annotations

import streamlit as st

from mlr.execution import kernels
from mlr.execution.errors import NotebookContractError
from mlr.execution.found_metrics import is_number
from mlr.execution.mark_parameters import propose, write_marked_copy
from mlr.execution.prototypes import Prototype, set_kernel, set_primary_metric
from mlr.store.records import Run
from ui.untrusted import escape


def switch_to(slug: str) -> None:
    """Show prototype ``slug`` on the next run of the page (after an upload or a marked copy)."""
    st.query_params["prototype"] = slug
    st.session_state["exp-last-prototype"] = st.session_state["exp-switch-to"] = slug
    st.rerun()


def kernel_picker(proto: Prototype, nb, settings) -> str | None:
    """The Jupyter kernel the runs of ``proto`` use: the notebook's own when installed, else the app's default."""
    installed = kernels.installed()
    if not installed:
        st.warning("No Jupyter kernel is installed: " + kernels.names_in_words([]))
        return None
    names = [k.name for k in installed]
    start = kernels.default_for(proto.path, settings.kernel_name, installed)
    label = {k.name: f"{k.name} · {k.display_name}" for k in installed}
    key = f"exp-kernel-{proto.slug}"
    if st.session_state.get(key) not in names:
        st.session_state[key] = start if start in names else names[0]
    choice = st.selectbox("Kernel", names, format_func=label.get, key=key,
                          help="The Jupyter kernel (environment) the runs use. The notebook's own kernel is "
                               "the default when it is installed here.")
    if choice != start and proto.source == "added":  # kept with the app's copy: the agent's and loop's runs too
        picked = next(k for k in installed if k.name == choice)
        set_kernel(settings, proto.path, picked.name, picked.display_name, picked.language)
        st.caption(f"Kept with this notebook: its runs use {escape(choice)}.")
    elif choice != start:
        st.caption(f"Runs started here use {escape(choice)}; the agent's and the loop's runs use {escape(start)}.")
    own = kernels.notebook_kernel(nb)
    if own and own not in names:
        st.caption(escape(f"This notebook names the kernel {own!r}, which is not installed here; it runs in "
                          f"{choice}. Installed: {kernels.names_in_words(installed)}"))
    return choice


def offer_marking(proto: Prototype, nb, prototypes_dir) -> None:
    """No parameters cell: it runs as is; propose the settings cell and, when confirmed, tag it in a copy."""
    proposal = propose(nb)
    with st.container(border=True):
        st.markdown(f"**{escape(proto.title)} has no cell tagged `parameters`**: it runs as is, with its own "
                    "values. To run it with other values, mark the cell that holds its settings.")
        if proposal is None:
            st.caption("No cell is made only of assignments of literal values (`lr = 0.01`); put the settings in "
                       "one such cell near the top and tag it `parameters`, then add the notebook again.")
            return
        st.markdown(f"Proposed: **{escape(proposal.words())}**")
        st.code(proposal.source, language="python")
        if st.button("Mark this cell as the parameters (in a copy)", key=f"exp-mark-{proto.slug}", type="primary"):
            try:
                copy = write_marked_copy(proto.path, proposal.cell_index, prototypes_dir)
            except NotebookContractError as exc:
                st.error(str(exc))
                return
            st.session_state["exp-marked-note"] = (f"Marked the parameters of {proto.path.name} in a copy, "
                                                   f"{copy.name}; the original is unchanged.")
            switch_to(copy.stem)
        st.caption("The app writes the tag into a copy; the original notebook is never changed.")


def marked_note() -> None:
    if note := st.session_state.pop("exp-marked-note", None):
        st.success(note)


def reported_metrics(runs: list[Run]) -> list[str]:
    """Names of the numbers the finished runs reported, newest run first."""
    names: dict[str, None] = {}
    for run in runs:
        for name, value in (run.metrics or {}).items():
            if is_number(value):
                names.setdefault(name, None)
    return list(names)


def metric_picker(proto: Prototype, runs: list[Run], settings) -> None:
    """An added prototype that names no primary metric: pick one (and its direction) from what the runs reported."""
    if proto.source != "added" or proto.primary_metric:
        return
    found = reported_metrics(runs)
    if not found:
        return
    with st.container(border=True):
        st.markdown("**Which metric decides?** The runs reported: " + ", ".join(f"`{escape(n)}`" for n in found))
        left, right = st.columns(2)
        name = left.selectbox("Primary metric", found, key=f"exp-metric-{proto.slug}")
        better = right.radio("Better is", ["higher", "lower"], horizontal=True, key=f"exp-metric-dir-{proto.slug}")
        if st.button("Use this metric", key=f"exp-metric-save-{proto.slug}"):
            try:
                set_primary_metric(settings, proto.path, name, better == "higher")
            except NotebookContractError as exc:
                st.error(str(exc))
            else:
                st.rerun()


def metrics_source(run: Run) -> None:
    """Where a succeeded run's metrics came from, or that it reported none (a success all the same)."""
    found = run.metrics_found
    if run.status != "succeeded" or found is None:
        return
    if found.source is None:
        st.info("Succeeded · " + escape(found.note or "no metric found"))
    else:
        where = f" (cell {found.cell_index})" if found.cell_index is not None else ""
        st.caption(f"Metrics from {escape(found.source)}{where}." + (f" {escape(found.note)}"
                                                                     if found.note and found.cell_index is None else ""))
