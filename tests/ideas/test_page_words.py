"""The Ideas page speaks to people (issue 14): counts agree in number, a model that cannot answer usably is said
in words with Try again beside it (the validation detail behind a toggle), and a retry shows while it streams."""

import threading

from .answers import hypothesis_answer, problem_answer
from .test_pages import app, click, wait_for  # noqa: F401  (the fixture)


def _idle(at) -> bool:
    return not any(b.disabled for b in at.run().button if b.label.startswith("Generate"))


def test_one_hypothesis_is_counted_in_the_singular_and_its_retry_shows_while_streaming(app, real_library, store,  # noqa: F811
                                                                                         scripted):
    problem_id = store.add_problem(1, problem_answer(store))
    at = app("pages/ideas.py")
    at.number_input(key="ideas_n").set_value(1).run()
    gate = threading.Event()
    # The first answer is unusable; the second waits until the page has shown that it is a retry.
    scripted.enqueue("][", lambda messages: (gate.wait(60), hypothesis_answer(store, "Method A: windows."))[1])
    click(at, "Generate hypotheses")
    try:
        wait_for(lambda: any("attempt 2 of 3" in s.label for s in at.run().get("status")))
        label = next(s.label for s in at.get("status") if "attempt 2 of 3" in s.label)
        assert label.startswith("Generating 1 hypothesis · attempt 2 of 3"), label
    finally:
        gate.set()
    wait_for(lambda: _idle(at))
    assert [h.data.method for h in store.hypotheses_for_problem(problem_id)] == ["Method A: windows."]
    assert any(s.value.startswith("Generating 1 hypothesis: done") for s in at.success), [s.value for s in at.success]
    assert any(b.label == "Plan and review the 1 hypothesis without them" for b in at.button)


def test_a_hypothesis_the_model_cannot_make_reads_as_words_with_try_again(app, real_library, store, scripted):  # noqa: F811
    problem_id = store.add_problem(1, problem_answer(store))
    at = app("pages/ideas.py")
    at.number_input(key="ideas_n").set_value(1).run()
    scripted.enqueue("][", "][", "][")
    click(at, "Generate hypotheses")
    wait_for(lambda: _idle(at))
    errors = [e.value for e in at.error]
    assert "Hypothesis 1: The model could not produce a usable hypothesis (3 tries). Try again, or use a larger " \
           "model (Ollama)." in errors, errors
    assert not any("gave no valid" in e for e in errors)  # the validation detail is behind the toggle
    details = next(e for e in at.expander if e.label == "Details: why the model's answers were refused")
    assert any("gave no valid" in c.value for c in details.code)

    scripted.enqueue(hypothesis_answer(store, "Method B: global tokens."))
    click(at, "Try again")
    wait_for(lambda: len(store.hypotheses_for_problem(problem_id)) == 1)
    wait_for(lambda: _idle(at))
    assert not [b for b in at.button if b.label == "Try again"]


def test_a_failed_review_reads_as_words_and_try_again_runs_it_once_more(app, real_library, store, scripted):  # noqa: F811
    from .helpers import PLAN, review_scores

    problem_id = store.add_problem(1, problem_answer(store))
    from .answers import chunk_of

    hid = store.add_hypothesis(problem_id, hypothesis_answer(store) | {
        "citations": [{"chunk_id": chunk_of(store, 2, "abstract"), "paper_id": 2}]})
    store.add_plan(hid, PLAN)
    at = app("pages/ideas.py")
    scripted.enqueue("not json", "still not json", "nope")
    click(at, "Review")
    wait_for(lambda: any("usable review" in e.value for e in at.run().error))
    assert any(e.value == "The model could not produce a usable review (3 tries). Try again, or use a larger model "
               "(Ollama)." for e in at.error)
    scripted.enqueue(review_scores(4))
    click(at, "Try again")
    wait_for(lambda: store.get_hypothesis(hid).review is not None)


def test_steps_show_where_the_researcher_is_and_related_work_folds_after_three(app, real_library, store):  # noqa: F811
    problem_id = store.add_problem(1, problem_answer(store))
    at = app("pages/ideas.py")
    line = next(m.value for m in at.markdown if "Related work" in m.value and "→" in m.value)
    assert line == ":green[✓ 1 Problem] → **:blue[2 Related work]** → :gray[3 Hypotheses] → :gray[4 Plans]"

    chunks = [c for paper in (2, 1) for c in store.paper_chunks(paper)][:5]
    assert len(chunks) == 5
    store.update_problem(problem_id, related=[
        {"source": "library", "chunk_id": c.id, "paper_id": c.paper_id, "title": f"Paper {c.paper_id}",
         "section": c.section, "page": c.page, "score": 0.5 - i / 100, "text": c.text} for i, c in enumerate(chunks)])
    at.run()
    assert any(m.value.startswith(":green[✓ 1 Problem] → :green[✓ 2 Related work] → **:blue[3 Hypotheses]**")
               for m in at.markdown)
    folded = next(e for e in at.expander if e.label == "2 more passages")
    assert sum("· page " in m.value for m in folded.markdown) == 2
    heads = [m.value for m in at.markdown if m.value.startswith("**Paper ")]
    assert len(heads) == 5  # three open, two folded
    shown = "\n".join([*heads, *(c.value for c in at.caption)])
    assert "similarity" not in shown and not any(c.id in shown for c in chunks)  # no raw scores, no passage ids
    at.toggle(key=f"related-details-{problem_id}").set_value(True).run()
    assert [c.value for c in at.caption if c.value.startswith("similarity")] == [
        f"similarity {0.5 - i / 100:.3f} · passage `{c.id}`" for i, c in enumerate(chunks)]

    store.add_hypothesis(problem_id, hypothesis_answer(store) | {
        "citations": [{"chunk_id": chunks[0].id, "paper_id": chunks[0].paper_id}]})
    at.run()
    assert any(m.value.endswith("**:blue[4 Plans]**") for m in at.markdown)
