"""One Workspace builds the parts: every CLI command runs through it on an empty data directory."""

from __future__ import annotations

import json
from contextlib import contextmanager

from mlr.cli import build_parser
from mlr.config import REPO_ROOT
from mlr.workspace import Workspace
from tests.ideas.helpers import PLAN, review_scores

DIGITS = REPO_ROOT / "sample_papers" / "digit-thumbnails" / "prototype.ipynb"
BROKEN = REPO_ROOT / "tests" / "fixtures" / "broken" / "key_typo.ipynb"


def _cli(ws: Workspace, capsys, *argv: str) -> tuple[int, str]:
    args = build_parser().parse_args(list(argv))
    code = int(args.func(args, ws) or 0)
    return code, capsys.readouterr().out


def _script_ideas(scripted, ws: Workspace) -> None:
    first = ws.store.paper_chunks(1)[0].id
    other = ws.store.paper_chunks(2)[0].id
    scripted.enqueue({"task": "Classify thumbnails of handwritten digits.",
                      "gaps": [{"text": "Template matching loses fine strokes.", "chunk_id": first}],
                      "keywords": ["digits", "pooling"]})
    scripted.enqueue({"method": "Use an RBF support vector machine on 4x4 thumbnails.",
                      "rationale": "A kernel separates the classes that centroids confuse.", "citations": [other]})
    scripted.enqueue(PLAN, PLAN, review_scores(3))


def test_every_cli_command_runs_through_one_workspace_on_an_empty_data_dir(settings, scripted, capsys):
    ws = Workspace.open(settings, llm=scripted)
    assert not any(ws.is_built(part) for part in ("store", "llm", "library", "runner"))  # opening costs nothing

    code, out = _cli(ws, capsys, "status", "--json")
    assert code == 0 and json.loads(out)["data_dir"] == str(settings.data_dir)

    code, out = _cli(ws, capsys, "library", "list", "--json")
    assert code == 0 and json.loads(out) == []
    assert not ws.is_built("library")  # listing reads the record only

    code, out = _cli(ws, capsys, "library", "add", "--samples", "--json")
    added = json.loads(out)
    assert code == 0 and [a["status"] for a in added] == ["added"] * 3
    code, out = _cli(ws, capsys, "library", "search", "nearest centroid template matching", "-k", "2", "--json")
    hits = json.loads(out)
    assert code == 0 and len(hits) == 2
    code, out = _cli(ws, capsys, "library", "chunk", hits[0]["chunk_id"], "--json")
    assert code == 0 and json.loads(out)["chunk_id"] == hits[0]["chunk_id"]

    _script_ideas(scripted, ws)
    code, out = _cli(ws, capsys, "ideas", "1", "--n", "1", "--json")
    ideas = json.loads(out)
    assert code == 0 and ideas["hypotheses"][0]["method"].startswith("Use an RBF")
    assert ws.store.list_plans()  # stored through the same record

    code, out = _cli(ws, capsys, "run", str(DIGITS), "-p", "classifier", "svm_rbf", "--json")
    run = json.loads(out)
    assert code == 0 and run["status"] == "succeeded" and run["metrics"]["accuracy"] > 0.5
    assert ws.store.get_run(run["run_id"]).parameters == {"classifier": "svm_rbf"}

    code, out = _cli(ws, capsys, "debug", str(BROKEN), "--rules-only", "--autopilot", "--attempts", "2", "--json")
    debug = json.loads(out)
    assert debug["model"] == "rules only" and debug["attempts"]

    code, out = _cli(ws, capsys, "loop", str(DIGITS), "--params-only", "--seeds", "1", "--budget-runs", "2",
                     "--json")
    loop = json.loads(out)
    assert code == 0 and loop["runs_used"] == 2 and loop["baseline"]["n"] == 1
    assert len(ws.store.list_loops()) == 1

    code, out = _cli(ws, capsys, "library", "remove", "3", "--force")
    assert code == 0 and len(ws.store.list_papers()) == 2
    code, out = _cli(ws, capsys, "library", "rebuild")
    lines = out.strip().splitlines()  # one line per paper re-embedded, then the summary
    assert code == 0 and len(lines) == 3 and lines[-1].endswith("2 of 2 papers re-indexed")
    assert len(ws.store.list_papers()) == 2



@contextmanager
def _two_workspaces_on_a_debug_session(settings, tmp_path):
    """Two workspaces on one data directory (two browser tabs' sessions, or the app and the CLI), and a debug
    session of a broken notebook whose rule-based fix the first one proposed (no model)."""
    notebook = tmp_path / "name_typo.ipynb"
    notebook.write_bytes((BROKEN.parent / "name_typo.ipynb").read_bytes())
    first, second = Workspace.open(settings), Workspace.open(settings)
    try:
        root_id = first.debugger().start(notebook)
        proposal = first.debugger().propose(root_id, use_llm=False)
        yield first, second, notebook, root_id, proposal
    finally:
        first.close()
        second.close()


def test_a_debug_proposal_made_in_one_workspace_is_seen_and_approved_from_another(settings, tmp_path):
    from mlr.experiments.scope import ExperimentScope, resolved

    with _two_workspaces_on_a_debug_session(settings, tmp_path) as (first, second, notebook, root_id, proposal):
        # The second workspace finds the session of this notebook and the proposal in the record.
        assert ExperimentScope(second.store, None, resolved(notebook)).debug_session() == root_id
        seen = second.debugger().pending(root_id)
        assert seen == proposal and seen.source.startswith("rule:")
        child = second.debugger().decide(seen, True)
        assert (child.approved, child.outcome, child.parent_id) == (True, "succeeded", root_id)
        assert first.debugger().current(root_id).id == child.id
        assert first.debugger().pending(root_id) is None  # decided: no tab offers it again


def test_a_proposal_rejected_in_one_workspace_is_no_longer_pending_in_another(settings, tmp_path):
    with _two_workspaces_on_a_debug_session(settings, tmp_path) as (first, second, _, root_id, _proposal):
        rejected = second.debugger().decide(second.debugger().pending(root_id), False)
        assert (rejected.approved, rejected.outcome) == (False, "rejected")
        assert first.debugger().current(root_id).id == root_id  # still the failing original
        assert first.debugger().pending(root_id) is None
