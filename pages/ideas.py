"""Ideas: from a paper to a research problem, related work, hypotheses, plans and reviews.

Each step runs in a worker thread (ui.ideas_jobs) and stores its output in the record; the page
shows it, editable, before the next step.
"""

import streamlit as st

from mlr import words
from mlr.agents.idea_agent import effective_mode
from ui import common, ideas_jobs, ideas_view, resources
from ui.common import require

common.through_navigation()  # the first visit to this address too: app.py's navigation
st.title("Ideas")
store = resources.store()
papers = require([p for p in store.list_papers(include_removed=True) if not p.removed or store.paper_dependents(p.id)],
                 "The library is empty: add papers on the Library page first.")

llm = resources.llm()
if llm.demo_grade:
    st.warning(f"The model is {llm.model}: a tiny demo model. Its problems and hypotheses show the flow; they are "
               "not research. Run Ollama with a 7B model for real work.")
mode = effective_mode(resources.settings().idea_mode, llm)
st.caption(f"Mode: **{mode}**" + (" — the model only chooses among sentences of the paper and changes of its "
                                  "prototype; it writes only a hypothesis' rationale." if mode == "grounded" else
                                  " — the model writes every field; an answer that echoes the prompt is refused."))

by_id = {p.id: p for p in papers}
paper_id = st.selectbox("Paper", list(by_id), format_func=lambda i: f"#{i} · {by_id[i].name}" + (" (removed from the library)" if by_id[i].removed else ""),
                        index=list(by_id).index(st.session_state["ideas_paper"])
                        if st.session_state.get("ideas_paper") in by_id else 0)
st.session_state["ideas_paper"] = paper_id
steps = st.empty()  # 1 Problem → 2 Related work → 3 Hypotheses → 4 Plans, filled once the current step is known
key = ideas_jobs.key_for(paper_id)
busy = ideas_jobs.busy(key)
ideas_jobs.panel(key)

# -- 1. research problem --------------------------------------------------------------------------
st.header("1 · Research problem")
problems = store.problems_for_paper(paper_id)
problem = None
if problems:
    stamps = {p.id: p.created_at for p in problems}
    choice = st.selectbox("Problem", list(stamps), key=f"problem-choice-{paper_id}",
                          format_func=lambda i: f"#{i} · extracted {words.ago(stamps[i])}")
    problem = next(p for p in problems if p.id == choice)
if st.button("Extract the research problem again" if problem else "Extract the research problem", disabled=busy):
    ideas_jobs.start(key, "Extracting the research problem",
                     lambda rec, job: rec.problem(paper_id, on_token=job.on_token))
if problem is None:
    steps.markdown(words.steps_line(1))
    st.caption("The model reads the abstract, introduction and limitations (or the opening of a paper without "
               "sections) and names the task, the gaps with the passage each comes from, and keywords.")
    st.stop()
ideas_view.demo_note(problem.generated_by)
ideas_view.problem_editor(store, problem)

# -- 2. related work -------------------------------------------------------------------------------
st.header("2 · Related work")
if st.button("Find related work again" if problem.related else "Find related work", disabled=busy):
    def related(rec, job):
        found = rec.related(problem.id)
        for message in found.messages:
            job.note(message)
        return found

    ideas_jobs.start(key, "Finding related work", related)
settings = resources.settings()
st.caption("Online sources (arXiv, Semantic Scholar, OpenAlex): " + (
    "on." if settings.online_sources else "off: only the library is searched, nothing leaves this machine "
                                          "(MLR_ONLINE_SOURCES=true to switch on)."))
ideas_view.related_view(store, problem)

# -- 3. hypotheses ---------------------------------------------------------------------------------
st.header("3 · Hypotheses")
hypotheses = store.hypotheses_for_problem(problem.id)
steps.markdown(words.steps_line(words.ideas_step(True, bool(problem.related), len(hypotheses))))
left, right = st.columns([1, 3])
n = left.number_input("How many", 1, 10, settings.n_hypotheses, key="ideas_n")
with right:
    st.write("")
    if st.button("Generate hypotheses" if not hypotheses else "Generate more hypotheses", disabled=busy):
        ideas_jobs.start(key, f"Generating {words.plural(int(n), 'hypothesis', 'hypotheses')}",
                         lambda rec, job: rec.hypotheses(problem.id, int(n), on_token=job.on_token,
                                                         progress=job.note))
if hypotheses:
    todo = [h for h in hypotheses if h.review is None or store.plan_for_hypothesis(h.id) is None]
    if todo and st.button(f"Plan and review the {words.plural(len(todo), 'hypothesis', 'hypotheses')} without them",
                          disabled=busy):
        def plan_and_review(rec, job):
            for h in todo:
                job.note(f"Planning hypothesis #{h.id}")
                if store.plan_for_hypothesis(h.id) is None:
                    rec.plan(h.id, on_token=job.on_token)
                job.note(f"Reviewing hypothesis #{h.id}")
                rec.review(h.id, on_token=job.on_token)

        ideas_jobs.start(key, "Planning and reviewing", plan_and_review)
for failure in ideas_jobs.failed_slots(key, problem.id):
    if ideas_view.failed_card(failure) and not busy:
        ideas_jobs.start(key, f"Retrying {failure['step']}",
                         lambda rec, job, f=failure: rec.hypotheses(problem.id, f["n"], on_token=job.on_token,
                                                                    progress=job.note, indexes=[f["index"]]))
for number, h in enumerate(hypotheses, 1):
    make_plan, review, edit = ideas_view.hypothesis_card(store, h, number)
    if make_plan and not busy:
        ideas_jobs.start(key, f"Planning H{number}",
                         lambda rec, job, hid=h.id: rec.plan(hid, on_token=job.on_token))
    if review and not busy:
        ideas_jobs.start(key, f"Reviewing H{number}",
                         lambda rec, job, hid=h.id: rec.review(hid, on_token=job.on_token))
    if edit:
        st.session_state["plan_hypothesis"] = h.id
        st.switch_page("pages/plan.py")
