"""Undo the tour: remove what its state lists — its problem (with the hypothesis and plan), its runs and their
folders, the sample paper when the tour added it and nothing else rests on it — and the state itself."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from mlr.tour.state import folder, load

log = logging.getLogger(__name__)


def reset(ws) -> list[str]:
    """Remove the tour's data; returns what was removed, in words."""
    state = load(ws.settings)
    removed: list[str] = []
    if state is None:
        return removed
    store = ws.store
    if state.problem_id is not None and store.get_problem(state.problem_id) is not None:
        store.delete_problem(state.problem_id)  # cascades to the hypothesis and the plan
        removed.append("its research problem, hypothesis and plan")
    runs_dir = Path(ws.settings.runs_dir).resolve()
    gone = []
    for run_id in state.run_ids:
        run = store.get_run(run_id)
        if run is None or not run.data.get("tour"):
            continue  # only runs the tour made
        if run.run_dir and Path(run.run_dir).resolve().parent == runs_dir:
            shutil.rmtree(run.run_dir, ignore_errors=True)
        gone.append(run_id)
    if gone:
        store.delete_runs(gone)
        removed.append(f"{len(gone)} runs")
    if state.paper_added and state.paper_id is not None and store.get_paper(state.paper_id) is not None \
            and not store.paper_research(state.paper_id).any:
        ws.library.remove(state.paper_id)
        removed.append("the sample paper")
    shutil.rmtree(folder(ws.settings), ignore_errors=True)
    log.info("tour reset: %s", ", ".join(removed) or "nothing")
    return removed
