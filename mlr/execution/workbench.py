"""The notebook workbench: execution's side of the ``mlr.protocols.NotebookWorkbench`` seam.

One object that the agents receive instead of importing execution: it reads notebooks, writes
copy-on-write versions (``notebook_edit``), runs them (a ``Runner``), builds the error report of a
failed run (``fixers.report``) and asks the rule-based fixers for a fix. Papermill is loaded only by
the methods that need it (parameters, reports).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from mlr.execution import notebook_edit
from mlr.execution.fixers import FixContext, run_fixers
from mlr.protocols import CellEdit, ErrorReport, Fix, Runner, RunOutcome


class NotebookWorkbench:
    """Implements ``mlr.protocols.NotebookWorkbench``; ``runner`` may be None when nothing is run."""

    def __init__(self, runner: Runner | None = None, *, evidence: bool = True):
        self.runner = runner
        self.evidence = evidence  # replay the failed notebook in a fresh kernel and look (mlr.execution.evidence)

    # -- reading ----------------------------------------------------------------------------------------
    def code_cells(self, notebook: str | Path) -> list[tuple[int, str]]:
        return [(i, src) for i, kind, src in notebook_edit.cell_sources(notebook) if kind == "code"]

    def cell_source(self, notebook: str | Path, cell_index: int) -> str:
        return notebook_edit.cell_source(notebook, cell_index)

    def parameters_cell_index(self, notebook: str | Path) -> int | None:
        return notebook_edit.parameters_cell_index(notebook)

    def parameters(self, notebook: str | Path) -> list:
        from mlr.execution.parameters import inspect_parameters

        return inspect_parameters(notebook)

    # -- versions ---------------------------------------------------------------------------------------
    def new_version(self, base: str | Path, folder: str | Path, edits: Sequence[CellEdit] = ()) -> Path:
        versions = notebook_edit.NotebookVersions(folder)
        if not versions.folder.is_dir() or not versions.paths():
            versions = notebook_edit.NotebookVersions.start(base, folder)
            base = versions.latest()
        current = Path(base)
        for edit in edits:
            current, _ = versions.apply(current, edit.cell_index, edit.new_source)
        return current

    def cell_diff(self, notebook: str | Path, cell_index: int, new_source: str) -> str:
        return notebook_edit.unified_diff(notebook_edit.cell_source(notebook, cell_index), new_source,
                                          name=f"cell[{cell_index}]")

    def parameters_diff(self, old: dict, new: dict) -> str:
        return notebook_edit.parameters_diff(old, new)

    # -- failures ---------------------------------------------------------------------------------------
    def report(self, outcome: RunOutcome, notebook: str | Path, parameters: dict) -> ErrorReport:
        from mlr.execution.fixers.report import build_report

        report = build_report(outcome, notebook, parameters)
        if self.evidence and report.cell_index is not None:
            from mlr.execution.evidence import gather

            out = Path(outcome.output_notebook) if outcome.output_notebook else None
            cwd = out.parent if out and out.parent.is_dir() else Path(notebook).resolve().parent
            config = getattr(self.runner, "settings", None)
            isolated, allow = False, ""
            if config is not None:  # the replay gets what a run gets: the allow-listed env, no network if isolated
                from mlr.execution import isolation

                isolated = isolation.state(config.kernel_network, config.online_sources).isolated
                allow = config.kernel_env_allow
            report.evidence = gather(report, notebook, report.parameters, cwd=cwd, isolated=isolated, allow=allow)
        return report

    def propose_fix(self, report: ErrorReport, notebook: str | Path, *, search_roots: Sequence[Path] = (),
                    skip: Iterable[str] = ()) -> Fix | None:
        ctx = FixContext(notebook=Path(notebook), search_roots=list(search_roots),
                         notebook_code=notebook_edit.code_text(notebook))
        return run_fixers(report, ctx, skip=skip)

    # -- running ----------------------------------------------------------------------------------------
    def run(self, notebook: str | Path, parameters: dict[str, Any], *, kind: str = "adhoc",
            plan_id: int | None = None, timeout_s: float | None = None) -> RunOutcome:
        if self.runner is None:
            raise RuntimeError("this workbench has no runner; it cannot run notebooks")
        return self.runner.run(str(notebook), parameters, kind=kind, plan_id=plan_id, timeout_s=timeout_s)
