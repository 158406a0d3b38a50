"""AppTest of the Ideas and Plan pages with the scripted model and the real library and record."""

import time

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from mlr.config import REPO_ROOT
from mlr.llm.select import Selection

from .answers import hypothesis_answer, problem_answer
from .helpers import PLAN, PROBLEM, hypothesis, review_scores
from .test_flow import add_papers


def wait_for(condition, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the worker thread")


def click(at, label):
    button = next((b for b in at.button if b.label == label), None)
    assert button is not None, f"no button {label!r}; have {[b.label for b in at.button]}"
    button.click().run()


@pytest.fixture
def app(data_dir, monkeypatch, scripted):
    """The app on the Ideas page, with the scripted model injected where the pages get their LLM."""
    monkeypatch.chdir(REPO_ROOT)
    st.cache_resource.clear()  # settings, store and library of this test's data directory
    st.cache_data.clear()
    monkeypatch.setattr("mlr.llm.select.select_llm", lambda settings: Selection(scripted, False, [], "test"))
    monkeypatch.setenv("MLR_IDEA_MODE", "free")  # the scripted answers below are free-writing answers

    def open_page(page):
        at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
        at.run()
        at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
        return at
    yield open_page
    st.cache_resource.clear()


def test_ideas_page_step_by_step(app, real_library, store, scripted):
    scripted.demo_grade = True
    at = app("pages/ideas.py")
    assert any("demo model" in w.value for w in at.warning)
    assert at.selectbox[0].value == 1  # the first paper

    scripted.enqueue(problem_answer(store))
    click(at, "Extract the research problem")
    wait_for(lambda: store.problems_for_paper(1))
    wait_for(lambda: not [b for b in at.run().button if b.label == "Extract the research problem again"
                          and b.disabled])
    assert not at.exception, at.exception
    problem = store.problems_for_paper(1)[0]
    assert "demo-grade" in problem.generated_by
    assert at.text_area(key=f"task-{problem.id}").value.startswith("Classify long legal contracts")

    # The researcher edits the task before the next step.
    at.text_area(key=f"task-{problem.id}").set_value("Classify whole legal contracts.")
    click(at, "Save problem")
    assert store.get_problem(problem.id).data.task == "Classify whole legal contracts."
    assert any("Problem saved" in s.value for s in at.success)

    click(at, "Find related work")
    wait_for(lambda: store.get_problem(problem.id).related)
    at.run()
    related = store.get_problem(problem.id).related
    assert related and all(r.paper_id == 2 for r in related)
    assert any("Sliding Window Attention" in m.value for m in at.markdown)

    at.number_input(key="ideas_n").set_value(2).run()
    scripted.enqueue(hypothesis_answer(store, "Method A: sliding windows."), hypothesis_answer(store, "Method B: global tokens."))
    click(at, "Generate hypotheses")
    wait_for(lambda: len(store.hypotheses_for_problem(problem.id)) == 2)
    wait_for(lambda: not any(b.disabled for b in at.run().button if b.label == "Generate more hypotheses"))
    # The second request was told about the first hypothesis (small focused prompts, no repeats).
    assert "Method A: sliding windows." in scripted.prompts[-1][-1]["content"]
    assert "Classify whole legal contracts." in scripted.prompts[-1][-1]["content"]
    assert any("H1 · Method A: sliding windows." in m.value for m in at.markdown)
    assert any(e.label.startswith("Cited passages (1)") for e in at.expander)

    scripted.enqueue(PLAN, PLAN, review_scores(4), PLAN, PLAN, review_scores(2))
    click(at, "Plan and review the 2 hypotheses without them")
    wait_for(lambda: all(h.review for h in store.hypotheses_for_problem(problem.id)))
    wait_for(lambda: not any(b.disabled for b in at.run().button if b.label == "Generate more hypotheses"))
    assert not at.exception, at.exception
    assert len(at.dataframe) == 2  # a review table under each hypothesis
    assert any("Novelty evidence" in c.value or "restate" in c.value for c in [*at.caption, *at.warning])
    assert any("Planning and reviewing: done" in s.value for s in at.success)

    # A failing step shows its message, and what was finished stays.
    scripted.enqueue("not json", "still not json", "nope")
    click(at, "Review again")
    wait_for(lambda: any("could not produce a usable review" in e.value for e in at.run().error))
    assert all(h.review for h in store.hypotheses_for_problem(problem.id))

    # "Edit on the Plan page" carries the hypothesis over.
    click(at, "Dismiss")
    next(b for b in at.button if b.label == "Edit on the Plan page").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Plan"


def test_ideas_page_keeps_finished_hypotheses_beside_a_failed_one_and_retries_it(app, real_library, store, scripted):
    problem_id = store.add_problem(1, problem_answer(store))
    at = app("pages/ideas.py")
    assert any("Mode: **free**" in c.value for c in at.caption)
    at.number_input(key="ideas_n").set_value(2).run()
    # The first hypothesis validates; the second echoes the prompt and then stays invalid on every try.
    echo = hypothesis_answer(store, "one sentence on what to change or try")
    scripted.enqueue(hypothesis_answer(store, "Method A: sliding windows."), echo, "][", "][")
    click(at, "Generate hypotheses")
    wait_for(lambda: not any(b.disabled for b in at.run().button if b.label == "Generate more hypotheses"))
    assert not at.exception, at.exception
    assert [h.data.method for h in store.hypotheses_for_problem(problem_id)] == ["Method A: sliding windows."]
    assert any("H1 · Method A: sliding windows." in m.value for m in at.markdown)
    assert any("1 stored, 1 failed" in w.value for w in at.warning)
    assert any(e.value.startswith("Hypothesis 2: The model could not produce a usable hypothesis") for e in at.error)
    assert any("Produced: method free" in c.value for c in at.caption)

    scripted.enqueue(hypothesis_answer(store, "Method B: global tokens."))
    click(at, "Try again")
    wait_for(lambda: len(store.hypotheses_for_problem(problem_id)) == 2)
    wait_for(lambda: not any(b.disabled for b in at.run().button if b.label == "Generate more hypotheses"))
    assert not at.exception, at.exception
    assert any("H2 · Method B: global tokens." in m.value for m in at.markdown)
    assert not [b for b in at.button if b.label == "Try again"]
    assert "Method A: sliding windows." in scripted.prompts[-1][-1]["content"]  # the retry knew the first


def test_ideas_page_with_an_empty_library(app):
    at = app("pages/ideas.py")
    assert any("library is empty" in i.value for i in at.info)


def test_plan_page_edit_version_restore_accept(app, store):
    add_papers(store)
    problem_id = store.add_problem(1, PROBLEM)
    hid = store.add_hypothesis(problem_id, hypothesis())
    plan_id = store.add_plan(hid, PLAN)
    at = app("pages/plan.py")
    assert at.selectbox[0].value == hid

    # Edit the plan: a new version.
    at.text_input(key=f"pdata-{plan_id}-1").set_value("CUAD")
    at.text_input(key=f"pvals-{plan_id}-1-0").set_value("64, 128, 256")
    click(at, "Save plan as a new version")
    assert not at.exception, at.exception
    plan = store.get_plan(plan_id)
    assert plan.version == 2 and plan.data.dataset == "CUAD"
    assert plan.data.parameters[0].values == [64, 128, 256]
    assert any("version 2" in s.value for s in at.success)

    # A bad edit is refused with a message and loses nothing.
    at.text_area(key=f"pobj-{plan_id}-2").set_value("")
    click(at, "Save plan as a new version")
    assert any("Not saved" in e.value for e in at.error)
    assert store.get_plan(plan_id).version == 2

    # Restore version 1 (as version 3).
    at.selectbox(key=f"hist-p{plan_id}").set_value(1).run()
    at.button(key=f"restore-p{plan_id}").click().run()
    plan = store.get_plan(plan_id)
    assert plan.version == 3 and plan.data.dataset == "LEDGAR"
    assert [v.note for v in store.plan_versions(plan_id)][:1] == ["restored v1"]

    # Accept: the Experiment page's list has it.
    click(at, "Accept this plan for experimentation")
    assert [p.id for p in store.list_plans(status="accepted")] == [plan_id]
    assert any("accepted" in s.value for s in at.success)

    # Edit the hypothesis: versioned too.
    at.text_area(key=f"hmethod-{hid}-1").set_value("A sharper method.")
    click(at, "Save hypothesis as a new version")
    assert store.get_hypothesis(hid).data.method == "A sharper method."
    assert len(store.hypothesis_versions(hid)) == 2

    # Editing the accepted plan makes a draft that must be accepted again.
    at.text_input(key=f"pbudget-{plan_id}-3").set_value("4 GPUs, 1 day")
    click(at, "Save plan as a new version")
    assert store.get_plan(plan_id).status == "draft" and store.list_plans(status="accepted") == []
    assert any("draft again" in s.value for s in at.success)


def test_plan_page_without_hypotheses(app):
    at = app("pages/plan.py")
    assert any("No hypotheses yet" in i.value for i in at.info)
