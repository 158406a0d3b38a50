"""The Plan page speaks to people: cited passages as "Paper title, section, page N" that open onto their text,
Accept after the fields it accepts, relative times."""

from __future__ import annotations

from streamlit.testing.v1.element_tree import Success

from tests.experiments.test_page_selection import fresh, open_page  # noqa: F401  (the fixture)


def test_plan_page_cites_passages_by_title_and_accepts_after_the_fields(fresh, store):  # noqa: F811
    with store.write() as conn:
        paper = store.add_paper(conn, content_hash="h", file_name="p.pdf", path="/x/p.pdf", title="Digit thumbnails",
                                authors=[], year=2024, pages=4, sections=[],
                                chunks=[{"id": "e20ccffef2bb-0013", "ordinal": 13, "vector_id": 13,
                                         "section": "3 Method", "page": 4, "n_tokens": 5,
                                         "text": "Pooling to 4x4 loses strokes."}])
    problem = store.add_problem(paper, {"task": "t", "gaps": [], "keywords": []})
    hid = store.add_hypothesis(problem, {"method": "m", "rationale": "r",
                                         "citations": [{"chunk_id": "e20ccffef2bb-0013", "paper_id": paper}]})
    store.add_plan(hid, {"objective": "o", "method": "m"})
    at = open_page("pages/plan.py")
    cited = [e for e in at.expander if e.label == "Digit thumbnails, 3 Method, page 4"]
    assert cited and any("Pooling to 4x4" in m.value for m in cited[0].markdown)
    order = [getattr(n, "label", None) for n in at.main]
    assert order.index("Accept this plan for experimentation") > order.index("Objective")
    assert any(e.label == "Plan history (1 version)" for e in at.expander)
    next(b for b in at.button if b.label.startswith("Accept")).click().run()
    assert any("is accepted (just now)" in s.value for s in at.success)
    order = [n.value if isinstance(n, Success) else getattr(n, "label", None) for n in at.main]
    shown = order.index("Plan version 1 accepted.")  # the save message next to the button pressed, not on top
    assert shown > order.index("Back to draft") > order.index("Objective")
