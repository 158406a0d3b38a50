"""The ExperimentAgent panel of the Experiment page: prototype ranking, adaptation, HF candidates, debug loop.

``render(...)`` is called by pages/experiment.py. Model calls and reruns take seconds to minutes, so they
run in worker threads on a shared job board (never ``st.*`` there) and the panel polls them with a
fragment. The agents come from the workspace; everything they decide lands in the record (attempts,
feedback, runs), including the debug session of this plan and notebook and its pending proposal, which
are read back from there (``mlr.experiments.scope``, ``Debugger.pending``) on every rerun, so a reload,
a second tab and the CLI see the same. Ranking and adaptation results live on the shared job board.
"""

from __future__ import annotations

import streamlit as st

from mlr import words
from mlr.agents.experiment_debug import DebugStop
from mlr.agents.hub_candidates import find_candidates
from mlr.execution.parameters import defaults
from mlr.experiments.scope import ExperimentScope
from mlr.store.records import Attempt, PlanListing, ReportData
from ui import jobs, resources
from ui.untrusted import escape


def _agent(*, with_embedder: bool = False):
    if with_embedder:
        resources.library()  # first load behind a spinner
    resources.llm()
    return resources.workspace().experiment_agent(with_embedder=with_embedder)


def _queue_variant(scope: ExperimentScope, runner, notebook, values: dict, parameters) -> int | None:
    """Queue a variant unless it only repeats the baseline (then say so); returns the run id."""
    if why := scope.refuse_variant(values, defaults(parameters)):
        st.warning(why)
        return None
    return runner.submit(notebook, values, kind="variant", plan_id=scope.plan_id)


def _start(key: str, label: str, work) -> None:
    jobs.start(key, label, lambda job: work())


_job_result = jobs.result


def render(*, plan: PlanListing | None, prototype, parameters, runner, store, settings) -> None:
    plan_id = plan.id if plan else None
    scope = f"{plan_id}:{prototype.slug}"
    experiment = ExperimentScope.of(store, plan, prototype, parameters)
    with st.expander("ExperimentAgent — prototype choice, adaptation, candidates, debugging", expanded=True):
        if getattr(resources.llm(), "demo_grade", False):
            st.warning("The agent runs on the embedded demo model: its choices and patches are demo-grade; "
                       "check every diff before approving.")
        tabs = st.tabs(["Prototype choice", "Adaptation", "Candidates", "Debug"])
        with tabs[0]:
            _ranking(plan, runner, store, settings)
        with tabs[1]:
            _adaptation(plan, prototype, parameters, runner, store, experiment, scope)
        with tabs[2]:
            _candidates(experiment, prototype, parameters, runner, settings)
        with tabs[3]:
            _debug(experiment, runner, store, settings, scope)


# -- 1. prototype choice -------------------------------------------------------------------------------
def _use_prototype(proto) -> None:
    st.session_state["exp-proto"] = proto  # a callback runs before the page's selectbox is drawn again


def _ranking(plan, runner, store, settings) -> None:
    from mlr.execution.prototypes import list_prototypes

    if not plan:
        st.caption("Pick an accepted plan to let the agent rank the prototypes for it.")
        return
    key = f"exp-rank:{plan.id}"
    running, result, error = _job_result(key)
    protos = list_prototypes(settings)
    if st.button("Rank prototypes for this plan", key="xa-rank", disabled=running):
        agent = _agent(with_embedder=True)
        _start(key, "Ranking prototypes", lambda: agent.rank_prototypes(plan.data, protos))
    if error:
        st.error(f"Ranking failed: {error}")
    if result is None:
        return
    st.markdown(f"**Agent's pick: {escape(result.pick)}** ({escape(result.picked_by)}) — {escape(result.reason)}")
    st.dataframe([{"prototype": r.name, "similarity": r.similarity, "description": r.description[:120]}
                  for r in result.ranked], hide_index=True, use_container_width=True)
    by_slug = {p.slug: p for p in protos}
    for r in result.ranked[:5]:
        if r.name in by_slug:
            st.button(f"Use {r.name}", key=f"xa-use-{r.name}", on_click=_use_prototype, args=(by_slug[r.name],))


# -- 2. adaptation -------------------------------------------------------------------------------------
def _adaptation(plan, prototype, parameters, runner, store, experiment, scope) -> None:
    if not plan:
        st.caption("Adaptation needs an accepted plan.")
        return
    key = f"exp-adapt:{scope}"
    running, result, error = _job_result(key)
    _feedback_box(f"xa-adapt-fb-{scope}", lambda text: store.add_feedback(text, plan_id=plan.id))
    if st.button("Adapt the prototype to the plan", key="xa-adapt", disabled=running):
        agent = _agent()
        _start(key, "Adapting the prototype", lambda: agent.adapt(plan.data, prototype.path, plan_id=plan.id))
    if error:
        st.error(f"Adaptation failed: {error}")
    if result is None:
        return
    st.markdown(f"**Parameters:** {escape(result.parameters or 'defaults')} — {escape(result.reason)}")
    autopilot = st.toggle("Autopilot for this experiment (apply proposed edits without review)", key=f"xa-auto-{scope}")
    approved = []
    for i, edit in enumerate(result.edits):
        st.markdown(f"Edit of cell {edit.cell_index}: {escape(edit.explanation)}")
        st.code(edit.diff, language="diff")
        if autopilot or st.checkbox("Approve this edit", key=f"xa-edit-{scope}-{i}"):
            approved.append(i)
    if st.button("Queue the adapted variant", key="xa-queue-adapted", type="primary"):
        if approved:  # edited code: a new notebook, never the baseline again
            notebook = _agent().apply_edits(result, approved, plan_id=plan.id)
            run_id = runner.submit(notebook, result.parameters, kind="variant", plan_id=plan.id)
        else:
            run_id = _queue_variant(experiment, runner, prototype.path, result.parameters, parameters)
        if run_id is not None:
            st.toast(f"Variant queued as run {run_id}" + (f" with {words.plural(len(approved), 'approved edit')}." if approved else "."))


# -- 3. candidates -------------------------------------------------------------------------------------
def _candidates(experiment, prototype, parameters, runner, settings) -> None:
    kind = st.radio("Look for", ["model", "dataset"], horizontal=True, key="xa-hf-kind")
    task = st.text_input("Task (Hub tag, e.g. text-classification)", key="xa-hf-task")
    search = st.text_input("Name contains", key="xa-hf-search")
    if not settings.online_sources:
        st.caption("Online sources are off: only the local Hugging Face cache is searched (no network).")
    key = "exp-hf:candidates"  # on the shared job board, like ranking and adaptation: every tab sees it
    running, found, error = _job_result(key)
    if st.button("Find candidates", key="xa-hf-find", disabled=running):
        jobs.clear(key)
        _start(key, "Searching for candidates", lambda: find_candidates(settings, kind=kind, task=task or None,
                                                                         search=search or None, limit=20))
    if error:
        st.error(f"The search failed: {error}")
    if found is None:
        return
    if found.note:
        st.caption(found.note)
    if not found.candidates:
        st.info("No candidates found.")
        return
    st.dataframe([c.model_dump(exclude_none=True) for c in found.candidates], hide_index=True,
                 use_container_width=True)
    pick = st.selectbox("Candidate", [c.repo_id for c in found.candidates], key="xa-hf-pick")
    names = [p.name for p in parameters if p.type in ("str", "none", "expression")]
    if not names:
        st.caption("This prototype has no text parameter to take a model or dataset name.")
        return
    target = st.selectbox("Parameter to set", names, key="xa-hf-param")
    if st.button(f"Queue a variant with {target} = {pick}", key="xa-hf-queue"):
        run_id = _queue_variant(experiment, runner, prototype.path, {target: pick}, parameters)
        if run_id is not None:
            st.toast(f"Variant queued as run {run_id}.")


# -- 4. debugging --------------------------------------------------------------------------------------
def _feedback_box(key: str, save) -> None:
    text = st.text_input("Instruction for the agent (e.g. \"use a smaller learning rate\")", key=key)
    if st.button("Send instruction", key=f"{key}-send", disabled=not text.strip()):
        save(text.strip())
        st.toast("Stored; the next proposal will follow it.")


def _debug(experiment: ExperimentScope, runner, store, settings, scope) -> None:
    failed = experiment.failed()
    if failed:
        labels = {r.id: f"run {r.id} ({r.kind}) {r.status}: {r.error.ename if r.error else ''}" for r in failed}
        run_id = st.selectbox("Failed run", list(labels), format_func=labels.get, key=f"xa-debug-run-{scope}")
        if st.button("Debug this run", key="xa-debug-start"):
            run = store.get_run(run_id)
            dbg = resources.workspace().debugger(plan_id=experiment.plan_id)
            dbg.start(run.notebook, run.parameters, outcome=runner.outcome(run_id))  # the newest session
    root_id = experiment.debug_session()  # the latest session of this plan and notebook, from the record
    if root_id is None:
        if not failed:
            st.caption("No failed run of this prototype yet. When a run fails, debug it here.")
        return
    _session(root_id, experiment.plan_id, settings)


def _session(root_id, plan_id, settings) -> None:
    dbg = resources.workspace().debugger(plan_id=plan_id)
    key = f"exp-debug:{root_id}"
    running, result, error = _job_result(key)
    if result is not None and hasattr(result, "diff"):
        jobs.clear(key)  # a fresh proposal: the debugger put it in the record, read below
    if error:
        st.error(error)
        jobs.clear(key)
    node = dbg.current(root_id)
    _tree(dbg.attempts(root_id), node.id)
    if not node.is_buggy:
        st.success(f"Attempt {node.id} ran successfully: {node.data.metrics or {}}  (notebook {node.notebook})")
    else:
        report = node.data.report or ReportData()
        st.markdown(f"**Current failure** (attempt {node.id}): {escape(f'{report.ename}: {report.evalue}')}")
    proposal = dbg.pending(root_id)
    cols = st.columns(3)
    if cols[0].button("Propose a fix", key="xa-propose", disabled=running or not node.is_buggy):
        _start(key, "Looking for a fix", lambda: dbg.propose(root_id))
    if cols[1].button("Undo the last change", key="xa-undo", disabled=running or node.parent_id is None):
        try:
            dbg.undo(root_id)
            st.rerun()
        except DebugStop as stop:
            st.warning(stop.reason)
    if cols[2].button(f"Autopilot: fix up to {settings.debug_attempts} times", key="xa-autopilot",
                      disabled=running or not node.is_buggy):
        _start(key, "Debugging on autopilot", lambda: dbg.run_loop(None, root_id=root_id, autopilot=True).reason)
    if isinstance(result, str):
        st.info(result)
    _feedback_box(f"xa-debug-fb-{root_id}", lambda text: dbg.feedback(root_id, text))
    if proposal is None or running:
        return
    st.markdown(f"**Proposed fix** ({escape(proposal.source)}): {escape(proposal.explanation)}")
    if proposal.rewrite_reason:
        st.warning("This patch replaces most of the cell. The model's reason: " + escape(proposal.rewrite_reason)
                   + " — read the whole change before you approve it.")
    st.code(proposal.diff or "(no change shown)", language="diff")
    a, r = st.columns(2)
    if a.button("Approve and rerun", key="xa-approve", type="primary"):
        _start(key, "Applying the fix and rerunning", lambda: dbg.decide(proposal, True).outcome)
    if r.button("Reject", key="xa-reject"):
        dbg.decide(proposal, False)
        st.rerun()


def _tree(attempts: list[Attempt], current_id: int) -> None:
    """The attempt tree as a graph: red = failed, green = ran, grey = rejected or waiting; bold = current."""
    lines = ["digraph attempts {", "rankdir=LR;", 'node [shape=box, style="rounded,filled", fontsize=10];']
    for a in attempts:
        color = "#e8e8e8" if a.is_buggy is None else "#f8d0d0" if a.is_buggy else "#d0f0d0"
        label = f"#{a.id} {a.source}\\n{a.outcome or ''}".replace('"', "'")
        width = 3 if a.id == current_id else 1
        lines.append(f'a{a.id} [label="{label}", fillcolor="{color}", penwidth={width}];')
        if a.parent_id is not None:
            lines.append(f"a{a.parent_id} -> a{a.id};")
    lines.append("}")
    try:
        st.graphviz_chart("\n".join(lines))
    except Exception:  # no graphviz renderer: the indented tree says the same
        for a in attempts:
            st.text(f"{'  ' * a.depth}#{a.id} {a.source} → {a.outcome}")
