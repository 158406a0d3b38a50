"""`python -m mlr ideas` over the real library, with the scripted model standing in for Ollama."""

import json

import pytest

from mlr.cli import main
from mlr.llm.select import Selection

from .answers import script_whole_phase


@pytest.fixture
def use_scripted(monkeypatch, scripted):
    monkeypatch.setattr("mlr.llm.select.select_llm", lambda settings: Selection(scripted, False, [], "test"))
    return scripted


def test_ideas_json_has_the_documented_shape(real_library, store, use_scripted, capsys):
    script_whole_phase(use_scripted, store, n=2)
    assert main(["ideas", "1", "--n", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"problem", "related", "hypotheses", "failed"} and out["failed"] == []
    assert set(out["problem"]) == {"task", "gaps", "keywords", "modes"}
    assert out["related"] and all(r["paper_id"] == 2 for r in out["related"])
    assert len(out["hypotheses"]) == 2
    for h in out["hypotheses"]:
        assert set(h) == {"id", "method", "rationale", "citations", "modes", "plan", "review"}
        assert set(h["citations"][0]) == {"chunk_id", "paper_id"}
        assert set(h["review"]) == {"clarity", "validity", "rigor", "innovativeness", "generalizability", "novelty",
                                    "modes"}
        assert 1 <= h["review"]["rigor"]["score"] <= 5
        nearest = h["review"]["novelty"]["nearest"]
        assert nearest and 0 < nearest[0]["similarity"] <= 1.0001
    # Stored in the record, and the text mode reads the same.
    assert len(store.list_plans()) == 2


def test_ideas_text_output_and_progress(real_library, store, use_scripted, capsys):
    script_whole_phase(use_scripted, store, n=1)
    assert main(["ideas", "1", "--n", "1"]) == 0
    captured = capsys.readouterr()
    assert "Task: Classify long legal contracts" in captured.out and "review: clarity 3" in captured.out
    assert "extracting the research problem" in captured.err and "answers valid on the first try" in captured.err


def test_unknown_paper_and_empty_library_are_messages(settings, store, minilm, use_scripted, capsys, monkeypatch):
    from mlr.library import open_library

    monkeypatch.setattr("mlr.library.open_library", lambda s, st: open_library(s, st, minilm))
    assert main(["ideas", "5"]) == 1
    err = capsys.readouterr().err
    assert "no paper 5" in err and "Traceback" not in err
    assert main(["ideas", "1", "--n", "0"]) == 1
    assert "--n must be" in capsys.readouterr().err


def test_a_partly_failed_run_prints_what_it_made_and_the_failures(real_library, store, use_scripted, capsys):
    from .answers import hypothesis_answer, problem_answer
    from .helpers import PLAN, review_scores

    # The second hypothesis stays invalid on every try (it echoes the prompt, then is garbage).
    echo = hypothesis_answer(store, "one sentence on what to change or try")
    use_scripted.enqueue(problem_answer(store), hypothesis_answer(store), echo, "][", "][",
                         PLAN, PLAN, review_scores(3))
    assert main(["ideas", "1", "--n", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["hypotheses"]) == 1 and out["hypotheses"][0]["plan"] and out["hypotheses"][0]["review"]
    assert [f["step"] for f in out["failed"]] == ["hypothesis 2"]
    assert "gave no valid" in out["failed"][0]["reason"]
    assert "one sentence on what to change" not in json.dumps(out["hypotheses"])  # never stored as content
    assert len(store.hypotheses_for_problem(store.problems_for_paper(1)[0].id)) == 1


def test_nothing_produced_is_the_only_failure_exit(real_library, store, use_scripted, capsys):
    use_scripted.enqueue("garbage", "garbage", "garbage")
    assert main(["ideas", "1", "--n", "2", "--json"]) == 1
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["problem"] is None and [f["step"] for f in out["failed"]] == ["problem"]
    assert "nothing was produced" in captured.err and "Traceback" not in captured.err
