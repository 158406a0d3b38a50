"""The IdeaAgent's steps wired to the research record: each result is stored the moment it exists.

The Ideas page runs one step at a time (the researcher edits in between); the CLI runs them all.
Both go through :class:`IdeaRecorder`, so a failure half-way keeps every finished step, and each
step reads its input from the record, i.e. it sees the researcher's edits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pydantic import ValidationError

from mlr.agents.idea_agent import IdeaAgent, IdeaError, RelatedWork
from mlr.agents.idea_schemas import ExperimentPlan, Hypothesis, ResearchProblem
from mlr.llm.errors import LLMError, LLMUnavailable
from mlr.store import Store
from mlr.store.records import Problem

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


class HypothesisBatch(list):
    """Ids of the hypotheses stored, and ``failed``: the ones that could not be made (step, index, reason)."""

    def __init__(self, ids=(), *, problem_id: int | None = None, n: int = 0):
        super().__init__(ids)
        self.failed: list[dict] = []
        self.problem_id, self.n = problem_id, n  # what a retry of one failed slot needs


def producer(llm) -> str:
    """How the record names the model that produced an object ('… · demo-grade' for tiny models)."""
    label = f"{llm.backend}:{llm.model}"
    return label + " · demo-grade" if getattr(llm, "demo_grade", False) else label


def check_edit(schema, data: dict):
    """Validate a researcher's edit with the agent's schema; a clear message instead of a traceback."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()[:6]]
        raise IdeaError("Not saved: " + "; ".join(lines)) from exc


class IdeaRecorder:
    def __init__(self, agent: IdeaAgent, store: Store):
        self.agent = agent
        self.store = store
        self.generated_by = producer(agent.llm)

    # -- one step at a time (the Ideas page) ------------------------------------------------------
    def problem(self, paper_id: int, on_token=None) -> int:
        paper = self.store.get_paper(paper_id)
        if paper is None:
            raise IdeaError(f"There is no paper {paper_id} in the library.")
        problem = self.agent.extract_problem(paper_id, title=paper.name, on_token=on_token)
        return self.store.add_problem(paper_id, problem.model_dump(), generated_by=self.generated_by)

    def save_problem(self, problem_id: int, data: dict) -> ResearchProblem:
        return save_problem(self.store, problem_id, data)

    def related(self, problem_id: int) -> RelatedWork:
        row = self._problem_row(problem_id)
        related = self.agent.related_work(ResearchProblem.model_validate(row.data.stored()), row.paper_id)
        self.store.update_problem(problem_id, related=related.records())
        return related

    def hypotheses(self, problem_id: int, n: int | None = None, on_token=None,
                   progress: Progress | None = None, indexes: list[int] | None = None) -> HypothesisBatch:
        """Generate hypotheses one by one, each stored as it validates. One that fails does not stop the others:
        it is listed in the batch's ``failed`` (step, reason, index) and can be retried alone (``indexes``)."""
        row = self._problem_row(problem_id)
        problem = ResearchProblem.model_validate(row.data.stored())
        related = RelatedWork.from_records(row.related).passages
        n = n or self.agent.config.n_hypotheses
        slots = list(range(n)) if indexes is None else list(indexes)
        previous = [h.data.method for h in self.store.hypotheses_for_problem(problem_id)]
        batch = HypothesisBatch(problem_id=problem_id, n=n)
        for number, index in enumerate(slots, 1):
            try:
                h = self.agent.generate_hypothesis(problem, related, index=index, n=n, on_token=on_token,
                                                   previous=previous)
            except LLMUnavailable:
                raise  # the model is gone: every other slot would fail the same way (stored ones are kept)
            except (IdeaError, LLMError) as exc:
                batch.failed.append({"step": f"hypothesis {index + 1}", "index": index, "reason": str(exc)[:400],
                                     "tries": getattr(exc, "attempts", 0)})
                log.info("hypothesis %d of problem %d failed: %s", index + 1, problem_id, exc)
                if progress:
                    progress(f"hypothesis {index + 1} failed: {str(exc)[:200]}")
                continue
            previous.append(h.method)
            batch.append(self.store.add_hypothesis(problem_id, h.model_dump(exclude_none=True),
                                                   generated_by=self.generated_by))
            if progress:
                progress(f"hypothesis {number} of {len(slots)} stored")
        return batch

    def plan(self, hypothesis_id: int, on_token=None) -> int:
        hypothesis, problem = self._hypothesis(hypothesis_id)
        plan = self.agent.make_plan(hypothesis, problem, on_token=on_token).model_dump(exclude_none=True)
        existing = self.store.plan_for_hypothesis(hypothesis_id)
        if existing is None:
            return self.store.add_plan(hypothesis_id, plan, generated_by=self.generated_by)
        self.save_plan(existing.id, plan, note="regenerated")
        return existing.id

    def review(self, hypothesis_id: int, on_token=None) -> dict:
        hypothesis, problem = self._hypothesis(hypothesis_id)
        plan_row = self.store.plan_for_hypothesis(hypothesis_id)
        plan = ExperimentPlan.model_validate(plan_row.data.stored()) if plan_row else None
        review = self.agent.review(hypothesis, problem, plan, on_token=on_token).model_dump()
        self.store.set_review(hypothesis_id, review)
        return review

    # -- edits (the Plan page) --------------------------------------------------------------------
    def save_hypothesis(self, hypothesis_id: int, data: dict, note: str = "edited") -> int:
        return save_hypothesis(self.store, hypothesis_id, data, note)

    def save_plan(self, plan_id: int, data: dict, note: str = "edited") -> int:
        return save_plan(self.store, plan_id, data, note)

    # -- the whole phase (the CLI) ----------------------------------------------------------------
    def run_all(self, paper_id: int, n: int | None = None, progress: Progress | None = None) -> dict:
        """The whole phase. A failed step is listed in ``failed`` (step, reason) and the others go on; only a
        failed problem stops it (everything else reads the problem), and then ``problem`` is None."""
        say = progress or (lambda _msg: None)
        failed: list[dict] = []

        def attempt(step: str, work):
            try:
                return work()
            except (IdeaError, LLMError) as exc:
                failed.append({"step": step, "reason": str(exc)[:400]})
                say(f"{step} failed: {str(exc)[:200]}")
                return None

        say("extracting the research problem")
        problem_id = attempt("problem", lambda: self.problem(paper_id))
        if problem_id is None:
            return {"problem": None, "related": [], "hypotheses": [], "failed": failed}
        say("retrieving related work")
        for message in getattr(attempt("related work", lambda: self.related(problem_id)), "messages", []):
            say(message)
        say("generating hypotheses")
        batch = attempt("hypotheses", lambda: self.hypotheses(problem_id, n, progress=say))
        batch = HypothesisBatch() if batch is None else batch  # an empty batch may still list its failures
        failed += batch.failed
        for hid in batch:
            say(f"planning and reviewing hypothesis {hid}")
            attempt(f"plan of hypothesis {hid}", lambda: self.plan(hid))
            attempt(f"review of hypothesis {hid}", lambda: self.review(hid))
        return {**export_problem(self.store, problem_id), "failed": failed}

    # -- helpers ----------------------------------------------------------------------------------
    def _problem_row(self, problem_id: int) -> Problem:
        row = self.store.get_problem(problem_id)
        if row is None:
            raise IdeaError(f"There is no research problem {problem_id}.")
        return row

    def _hypothesis(self, hypothesis_id: int) -> tuple[Hypothesis, ResearchProblem]:
        row = self.store.get_hypothesis(hypothesis_id)
        if row is None:
            raise IdeaError(f"There is no hypothesis {hypothesis_id}.")
        problem = ResearchProblem.model_validate(self._problem_row(row.problem_id).data.stored())
        return Hypothesis.model_validate(row.data.stored()), problem


def _check_chunks(store: Store, chunk_ids) -> None:
    missing = [c for c in chunk_ids if store.get_chunk(c) is None]
    if missing:
        raise IdeaError(f"Not saved: no passage has the chunk id {', '.join(missing)}.")


def save_problem(store: Store, problem_id: int, data: dict) -> ResearchProblem:
    """Validate the researcher's edit of a problem (gaps must point at real passages) and store it."""
    problem = check_edit(ResearchProblem, data)
    _check_chunks(store, [g.chunk_id for g in problem.gaps])
    if store.get_problem(problem_id) is None:
        raise IdeaError(f"There is no research problem {problem_id}.")
    store.update_problem(problem_id, data=problem.model_dump())
    return problem


def save_hypothesis(store: Store, hypothesis_id: int, data: dict, note: str = "edited") -> int:
    """Validate an edited hypothesis (citations must exist, with their paper) and store it as a new version."""
    hypothesis = check_edit(Hypothesis, data)
    _check_chunks(store, [c.chunk_id for c in hypothesis.citations])
    for c in hypothesis.citations:
        owner = store.get_chunk(c.chunk_id).paper_id
        if owner != c.paper_id:
            raise IdeaError(f"Not saved: chunk {c.chunk_id} belongs to paper {owner}, not {c.paper_id}.")
    row = store.get_hypothesis(hypothesis_id)
    if row is None:
        raise IdeaError(f"There is no hypothesis {hypothesis_id}.")
    if row.data.stored() == hypothesis.model_dump(mode="json"):
        return row.version
    return store.save_hypothesis(hypothesis_id, hypothesis.model_dump(), note=note)


def save_plan(store: Store, plan_id: int, data: dict, note: str = "edited") -> int:
    """Validate and store a plan as a new version. Changing an accepted plan takes it back to draft:
    an acceptance is of the content the researcher read, and the Experiment page runs accepted plans."""
    plan = check_edit(ExperimentPlan, data)
    row = store.get_plan(plan_id)
    if row is None:
        raise IdeaError(f"There is no plan {plan_id}.")
    # Fields the edit form does not hold (the prototype the ExperimentAgent chose) stay with the plan.
    kept = {k: v for k, v in row.data.stored().items() if k not in ExperimentPlan.model_fields and k not in data}
    if row.data.stored() == {**plan.model_dump(mode="json"), **kept}:
        return row.version  # nothing changed: no empty version in the history
    version = store.save_plan(plan_id, {**plan.model_dump(), **kept}, note=note)
    if row.status == "accepted":
        store.set_plan_status(plan_id, "draft")
    return version


def restore_plan(store: Store, plan_id: int, version: int) -> int:
    """Make an earlier plan version current (as a new version); an accepted plan goes back to draft."""
    old = next((v for v in store.plan_versions(plan_id) if v.version == version), None)
    if old is None:
        raise IdeaError(f"Plan {plan_id} has no version {version}.")
    return save_plan(store, plan_id, old.data.stored(), note=f"restored v{version}")


def export_problem(store: Store, problem_id: int) -> dict:
    """The phase's result in the CLI's JSON shape, read back from the record."""
    row = store.get_problem(problem_id)
    if row is None:
        raise IdeaError(f"There is no research problem {problem_id}.")
    hypotheses = []
    for h in store.hypotheses_for_problem(problem_id):
        plan = store.plan_for_hypothesis(h.id)
        hypotheses.append({"id": h.id, **h.data.stored(), "plan": plan.data.stored() if plan else None,
                           "review": h.review.stored() if h.review else None})
    return {"problem": row.data.stored(), "related": [r.stored() for r in row.related], "hypotheses": hypotheses}
