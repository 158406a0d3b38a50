"""The one place that builds the parts: store, model, library, job board, runner and agents.

The app (``ui/resources.py``), every CLI command and every benchmark open a :class:`Workspace` over
their settings and take their parts from it, so a new setting or a new constructor argument is
threaded here once. Parts are built on first use (opening a workspace costs nothing; the library
loads its embedding model only when something searches it) and then shared; building is guarded by
a lock because the app's sessions share one workspace.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlr.config import Settings
from mlr.incoming import clean_incoming
from mlr.jobs import Jobs
from mlr.store import Store

if TYPE_CHECKING:
    from mlr.agents.experiment_agent import ExperimentAgent
    from mlr.agents.experiment_debug import Debugger
    from mlr.agents.idea_flow import IdeaRecorder
    from mlr.execution.runner import NotebookRunner
    from mlr.experiments.loop import ExperimentLoop
    from mlr.library.jobs import LibraryJobs
    from mlr.llm.select import Selection
    from mlr.protocols import LLM

log = logging.getLogger(__name__)


class Workspace:
    """Everything one data directory needs, built once. ``Workspace.open(settings)``."""

    def __init__(self, settings: Settings, *, embedder=None, llm: LLM | None = None, serve_queue: bool = False):
        """``embedder`` / ``llm``: use these instead of building them (benchmarks, tests).

        ``serve_queue``: this process is the app, whose runner works off every queued run and marks runs
        left 'running' by a dead app 'interrupted'; a CLI process runs only what it queued itself.
        """
        self.settings = settings
        self._embedder = embedder
        self._llm = llm
        self._serve_queue = serve_queue
        self._parts: dict[str, Any] = {}
        self._lock = threading.RLock()

    @classmethod
    def open(cls, settings: Settings | None = None, **kwargs) -> Workspace:
        settings = settings or Settings.from_env()
        settings.ensure_dirs()
        if kwargs.get("serve_queue"):  # the app starting: uploads a crash left behind go
            clean_incoming(settings.incoming_dir)
        return cls(settings, **kwargs)

    def _part(self, name: str, build: Callable[[], Any]) -> Any:
        with self._lock:
            if name not in self._parts:
                log.debug("building %s", name)
                self._parts[name] = build()
            return self._parts[name]

    def is_built(self, name: str) -> bool:
        """Whether a part (``store``, ``llm``, ``library``, ``runner``…) is built yet: the UI shows a spinner
        only for the first, slow build."""
        with self._lock:
            return name in self._parts

    # -- the record and background work -----------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self._part("store", lambda: Store(self.settings.db_path))

    @property
    def jobs(self) -> Jobs:
        return self._part("jobs", self._make_jobs)

    def _make_jobs(self) -> Jobs:
        from mlr.agents.experiment_debug import DebugStop
        from mlr.execution.errors import ExecutionError
        from mlr.library import LibraryError

        return Jobs(expected=(LibraryError, DebugStop, ExecutionError))

    # -- models ------------------------------------------------------------------------------------------
    @property
    def llm_selection(self) -> Selection:
        def build():
            from mlr.llm.select import Selection, select_llm

            if self._llm is not None:
                return Selection(self._llm, False, [], "a model given to the workspace (tests, benchmarks)")
            return select_llm(self.settings)

        return self._part("llm", build)

    @property
    def llm(self) -> LLM:
        return self.llm_selection.llm

    def reselect_llm(self) -> None:
        """Forget the chosen model so the next use probes again (Ollama started or stopped)."""
        with self._lock:
            self._parts.pop("llm", None)

    # -- library -------------------------------------------------------------------------------------------
    @property
    def library(self):
        def build():
            from mlr.library import open_library

            if self._embedder is None:
                return open_library(self.settings, self.store)
            return open_library(self.settings, self.store, self._embedder)

        return self._part("library", build)

    @property
    def library_jobs(self) -> LibraryJobs:
        def build():
            from mlr.library.jobs import LibraryJobs

            return LibraryJobs(self.library, self.jobs)

        return self._part("library_jobs", build)

    # -- execution ---------------------------------------------------------------------------------------
    @property
    def runner(self) -> NotebookRunner:
        def build():
            from mlr.execution.runner import NotebookRunner
            from mlr.execution.runner_config import RunnerConfig

            runner = NotebookRunner(RunnerConfig.from_settings(self.settings), self.store,
                                    adopt_queue=self._serve_queue)
            if not self._serve_queue:
                return runner
            runner.start()  # marks runs of a dead app interrupted, then works off the queue
            from mlr.experiments.control import recover

            recover(self.store)  # loops of a dead app: interrupted, with a Resume button
            return runner

        return self._part("runner", build)

    @property
    def workbench(self):
        """Execution's side of the agents' seam: read, version, run and diagnose notebooks."""
        def build():
            from mlr.execution.workbench import NotebookWorkbench

            return NotebookWorkbench(self.runner)

        return self._part("workbench", build)

    # -- agents (cheap to build; they hold the shared parts) -------------------------------------------
    def idea_recorder(self) -> IdeaRecorder:
        from mlr.agents.idea_agent import IdeaAgent, IdeaConfig
        from mlr.agents.idea_flow import IdeaRecorder
        from mlr.idea_prototypes import PaperPrototypes

        library = self.library
        agent = IdeaAgent(self.llm, library.retriever, embedder=library.embedder,
                          config=IdeaConfig.from_settings(self.settings),
                          prototypes=PaperPrototypes(self.settings, self.store))
        return IdeaRecorder(agent, self.store)

    def experiment_agent(self, *, with_embedder: bool = False) -> ExperimentAgent:
        from mlr.agents.experiment_agent import ExperimentAgent
        embedder = self.library.embedder if with_embedder else None
        return ExperimentAgent(self.llm, self.workbench, self.store, self.settings, embedder=embedder)

    def debugger(self, *, plan_id: int | None = None, timeout_s: float | None = None,
                 use_model: bool = True) -> Debugger:
        """The Debugger over this workspace's record and runner; ``use_model=False``: the rules only."""
        from mlr.agents.experiment_debug import Debugger

        return Debugger(self.llm if use_model else None, self.workbench, self.store, self.settings,
                        plan_id=plan_id, timeout_s=timeout_s)

    def experiment_loop(self, *, use_model: bool = True) -> ExperimentLoop:
        """The experiment loop over this workspace's runner; ``use_model=False``: parameters and rules only."""
        from mlr.agents.loop_coder import LoopCoder
        from mlr.execution.procs import process_identity
        from mlr.experiments.candidates import CandidateSources
        from mlr.experiments.loop import ExperimentLoop

        coder = LoopCoder(self.llm, self.workbench) if use_model else None
        sources = CandidateSources(self.store, self.settings.runs_dir / "loops", coder=coder,
                                   debugger=lambda: self.debugger(timeout_s=None), use_model_in_debug=use_model)
        return ExperimentLoop(self.store, self.runner, sources, owner=process_identity())

    def start_loop(self, loop_id: int, *, use_model: bool = True):
        """Run (or resume) a loop on the job board, in this process; returns its job (key ``loop:<id>``)."""
        return self.jobs.start(f"loop:{loop_id}", f"Experiment loop {loop_id}",
                               lambda job: self.experiment_loop(use_model=use_model).run(loop_id))

    def close(self) -> None:
        """Stop the runner's worker if this workspace started it (the app at shutdown, tests)."""
        with self._lock:
            runner = self._parts.get("runner")
        if runner is not None and self._serve_queue:
            runner.stop()
