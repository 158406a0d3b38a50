"""Removing a paper never removes the research built on it (issue 15, "Losing work").

The research stays in the record with its citations pointing to a removed (archived) paper; the record
itself refuses a raw DELETE of a cited paper; the CLI refuses without ``--force`` and says what would be
affected; the Library page asks for confirmation listing what depends on the paper.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mlr.cli import main

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _research(store, paper_id: int) -> dict:
    """A problem, a hypothesis, an accepted plan with two versions, feedback and a run on ``paper_id``."""
    problem_id = store.add_problem(paper_id, {"task": "count zebra stripes", "gaps": [], "keywords": ["zebra"]})
    hid = store.add_hypothesis(problem_id, {"method": "m", "rationale": "r",
                                            "citations": [{"chunk_id": "c-0", "paper_id": paper_id}]})
    plan_id = store.add_plan(hid, {"objective": "o"})
    store.save_plan(plan_id, {"objective": "o2"})
    store.set_plan_status(plan_id, "accepted")
    run_id = store.add_run("nb.ipynb", {"x": 1}, plan_id=plan_id)
    return {"problem": problem_id, "hypothesis": hid, "plan": plan_id, "run": run_id}


def _intact(store, ids: dict) -> None:
    assert store.get_problem(ids["problem"]) is not None
    assert store.get_hypothesis(ids["hypothesis"]) is not None
    plan = store.get_plan(ids["plan"])
    assert plan is not None and plan.status == "accepted"
    assert sorted(v.version for v in store.plan_versions(ids["plan"])) == [1, 2]
    assert store.get_run(ids["run"]).plan_id == ids["plan"]


def test_removing_a_paper_keeps_its_research_and_readding_brings_the_paper_back(library, store, paper):
    pdf = paper("zebra.pdf", topic="zebra stripe counting")
    added = library.add_file(str(pdf))
    other = library.add_file(str(paper("other.pdf", topic="quokka attention heads")))
    ids = _research(store, added.paper_id)
    research = store.paper_research(added.paper_id)
    assert (research.problems, research.hypotheses, research.plans, research.accepted_plans, research.runs) == (
        1, 1, 1, 1, 1)
    assert "1 plan (1 accepted)" in research.describe()

    library.remove(added.paper_id)

    _intact(store, ids)
    assert [p.id for p in store.list_papers()] == [other.paper_id]  # gone from the library and from search
    assert store.get_paper(added.paper_id) is None
    archived = store.get_paper(added.paper_id, include_removed=True)
    assert archived is not None and archived.removed and archived.chunks == 0
    assert store.paper_chunks(added.paper_id) == []
    assert all(p.paper_id != added.paper_id for p in library.retriever.search("zebra stripes", k=10))
    assert store.problems_for_paper(added.paper_id)[0].id == ids["problem"]

    again = library.add_file(str(pdf))  # the same bytes
    assert again.status == "added" and again.paper_id == added.paper_id  # the research finds its paper again
    assert not store.get_paper(added.paper_id).removed and store.paper_chunks(added.paper_id)
    _intact(store, ids)


def test_a_paper_without_research_is_deleted_outright(library, store, paper):
    added = library.add_file(str(paper("lonely.pdf")))
    assert not store.paper_research(added.paper_id).any
    library.remove(added.paper_id)
    assert store.get_paper(added.paper_id, include_removed=True) is None


def test_the_record_refuses_to_cascade_research_away(store):
    with store.write() as conn:
        paper_id = store.add_paper(conn, content_hash="h", file_name="h.pdf", path="/x/h.pdf", title="T",
                                   authors=[], year=None, pages=1, sections=[], chunks=[])
    ids = _research(store, paper_id)
    with pytest.raises(sqlite3.IntegrityError, match="research cites this paper"):
        with store.write() as conn:
            conn.execute("DELETE FROM papers WHERE id = ?", (paper_id,))
    _intact(store, ids)


def test_cli_remove_refuses_without_force_and_says_what_is_affected(settings, library, store, paper, capsys):
    added = library.add_file(str(paper("zebra.pdf", topic="zebra stripe counting")))
    ids = _research(store, added.paper_id)
    capsys.readouterr()

    assert main(["library", "remove", str(added.paper_id)]) == 1
    err = capsys.readouterr().err
    assert "Not removed" in err and "--force" in err
    assert "1 research problem, 1 hypothesis, 1 plan (1 accepted), 1 run" in err
    assert store.get_paper(added.paper_id) is not None  # nothing happened

    assert main(["library", "remove", str(added.paper_id), "--force"]) == 0
    out = capsys.readouterr().out
    assert "removed paper" in out and "research built on it stays" in out
    assert store.get_paper(added.paper_id) is None
    _intact(store, ids)


def test_library_page_lists_what_depends_and_asks_before_removing(settings, library, store, paper):
    import streamlit as st

    added = library.add_file(str(paper("zebra.pdf", topic="zebra stripe counting")))
    ids = _research(store, added.paper_id)
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    assert "1 research problem, 1 hypothesis, 1 plan (1 accepted), 1 run" in warning and "stays" in warning
    delete = next(b for b in at.button if b.label == "Delete paper")
    assert delete.disabled
    next(c for c in at.checkbox if c.label == f"Yes, remove paper {added.paper_id}").check().run()
    next(b for b in at.button if b.label == "Delete paper").click()
    at.run()
    assert not at.exception
    assert store.get_paper(added.paper_id) is None
    _intact(store, ids)
