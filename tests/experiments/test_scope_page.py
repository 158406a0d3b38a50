"""The Experiment page draws what ExperimentScope and the Debugger keep in the record: an identical variant is
refused before it is queued, and a debug proposal made elsewhere (the CLI, another tab) is offered on a fresh
page without anyone clicking "Debug this run" in this session."""

from __future__ import annotations

import pytest

from mlr.config import REPO_ROOT
from mlr.execution.prototypes import add_prototype
from mlr.workspace import Workspace
from tests.support.apptest import open_page

pytestmark = pytest.mark.timeout(300)
BROKEN = REPO_ROOT / "tests" / "fixtures" / "broken"


@pytest.fixture
def page(data_dir, monkeypatch):
    yield from open_page(monkeypatch, "pages/experiment.py")


def _select(at, name: str) -> None:
    box = at.selectbox(key="exp-proto")
    box.select_index(next(i for i, o in enumerate(box.options) if name in o)).run()


def test_a_variant_identical_to_the_baseline_is_refused_on_the_page(page, store):
    at = page
    at.run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.label == "Run variant").click().run()  # the form still holds the defaults
    assert not at.exception, at.exception
    assert any("repeat the baseline" in w.value for w in at.warning)
    assert store.list_runs() == []  # nothing was queued


def test_a_pending_proposal_from_another_workspace_shows_on_a_fresh_page(page, settings):
    proto = add_prototype(settings, "name_typo.ipynb", (BROKEN / "name_typo.ipynb").read_bytes())
    cli = Workspace.open(settings)  # as `mlr debug` would: its own workspace on the same data directory
    try:
        root_id = cli.debugger().start(proto.path)
        proposal = cli.debugger().propose(root_id, use_llm=False)
    finally:
        cli.close()
    at = page
    at.run()
    _select(at, "name_typo")
    assert not at.exception, at.exception
    assert any(f"Proposed fix** ({proposal.source})" in m.value for m in at.markdown)
    assert any(b.key == "xa-approve" for b in at.button)
    assert any(proposal.diff.strip() in c.value for c in at.code)
