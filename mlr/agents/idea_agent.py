"""The IdeaAgent: a paper -> research problem -> related work -> hypotheses -> plan + review.

Each step is its own method so the Ideas page can show the output and let the researcher edit it
before the next step. Every LLM request is small and focused (one problem, one hypothesis, one plan,
one review, each with a few short passages): it is what keeps a 7B local model on track and the
embedded 135M demo model inside its context. Citations are checked against the retriever inside
the answer's schema, so an invented chunk id goes back to the model through the same
validate-and-retry path as malformed JSON. Novelty is measured without the LLM, by embedding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
from pydantic import Field, create_model, field_validator

from mlr.agents import prompts
from mlr.agents.idea_schemas import (
    ExperimentPlan,
    Gap,
    Hypothesis,
    HypothesisDraft,
    HypothesisReview,
    NearPassage,
    Novelty,
    OnlinePaper,
    PlanOutline,
    PlanSetup,
    ResearchProblem,
    Review,
)
from mlr.config import Settings
from mlr.protocols import LLM, Embedder, Passage, Retriever
from mlr.store.records import RelatedItem

log = logging.getLogger(__name__)

OnToken = Callable[[str], None] | None
# Sections where a paper states its task (first) and its limitations (where gaps live).
_TASK_SECTIONS = ("abstract", "introduction")
_GAP_SECTIONS = ("limitation", "future", "conclusion", "discussion")


class IdeaError(RuntimeError):
    """A step cannot run; the message tells the researcher what to do."""


class EmptyLibrary(IdeaError):
    pass


@dataclass
class IdeaConfig:
    """Limits of the IdeaAgent; defaults suit both a 7B Ollama model and the embedded demo model."""

    n_hypotheses: int = 3
    problem_passages: int = 5  # passages of the paper the problem is read from
    passage_chars: int = 600  # each passage is cut to this length in a prompt (small context windows)
    related_k: int = 8  # related passages kept from other papers
    cite_passages: int = 3  # related passages offered to one hypothesis
    novelty_k: int = 5
    novelty_threshold: float = 0.80  # cosine similarity above which a hypothesis restates a passage
    online_sources: bool = False
    online_timeout_s: float = 10.0
    online_max_results: int = 5
    max_tokens: dict[str, int] = field(default_factory=lambda: {
        "problem": 600, "hypothesis": 450, "plan": 1000, "review": 600})

    @classmethod
    def from_settings(cls, settings: Settings) -> IdeaConfig:
        return cls(n_hypotheses=settings.n_hypotheses, online_sources=settings.online_sources,
                   online_timeout_s=min(settings.online_timeout_s, 15.0))


@dataclass
class RelatedWork:
    passages: list[Passage]
    online: list[OnlinePaper] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def records(self) -> list[dict]:
        """The list stored in the record and printed by the CLI: library passages, then online papers."""
        return ([{"source": "library", **p.model_dump()} for p in self.passages]
                + [o.model_dump() for o in self.online])

    @classmethod
    def from_records(cls, records: list) -> RelatedWork:
        """Back from the stored list: ``RelatedItem`` records (``Problem.related``) or the dicts of ``records()``."""
        items = [RelatedItem.model_validate(r) for r in records]
        passages = [Passage.model_validate(r.model_dump(exclude_unset=True, exclude={"source"}))
                    for r in items if r.source == "library"]
        online = [OnlinePaper.model_validate(r.model_dump(exclude_unset=True)) for r in items if r.source != "library"]
        return cls(passages, online)


class IdeaAgent:
    def __init__(self, llm: LLM, retriever: Retriever, *, embedder: Embedder | None = None,
                 config: IdeaConfig | None = None, scholarly=None):
        self.llm = llm
        self.retriever = retriever
        self.embedder = embedder
        self.config = config or IdeaConfig()
        # Built lazily and only with online sources on; tests inject one pointed at a local server.
        self._scholarly = scholarly

    # -- step 1 -----------------------------------------------------------------------------------
    def extract_problem(self, paper_id: int, title: str = "", on_token: OnToken = None) -> ResearchProblem:
        passages = self.retriever.paper_passages(paper_id)
        if not passages:
            if not self.retriever.search(title or "research", k=1):
                raise EmptyLibrary("The library is empty: add a paper on the Library page first.")
            raise IdeaError(f"Paper {paper_id} has no extractable text (a scanned PDF?). "
                            "Add a PDF with a text layer, or pick another paper.")
        shown = self._clip(_problem_passages(passages, self.config.problem_passages))
        schema = _problem_schema({p.chunk_id for p in passages}, [p.chunk_id for p in shown])
        messages = self._messages("idea/problem", title=title or f"paper {paper_id}", passages=shown)
        answer = self.llm.structured(messages, schema, on_token=on_token, max_tokens=self.config.max_tokens["problem"])
        return ResearchProblem.model_validate(answer.model_dump())

    # -- step 2 -----------------------------------------------------------------------------------
    def related_work(self, problem: ResearchProblem, paper_id: int) -> RelatedWork:
        queries = [problem.task + " " + " ".join(problem.keywords)] + [g.text for g in problem.gaps]
        best: dict[str, Passage] = {}
        for query in queries:
            for p in self.retriever.search(query, k=self.config.related_k, exclude_paper_ids=(paper_id,)):
                if p.chunk_id not in best or p.score > best[p.chunk_id].score:
                    best[p.chunk_id] = p
        ranked = sorted(best.values(), key=lambda p: p.score, reverse=True)[: self.config.related_k]
        related = RelatedWork(ranked)
        if not ranked:
            related.messages.append(
                "No other paper in the library matches this problem. Add related papers on the Library page; "
                "until then hypotheses can only cite this paper's own passages.")
        if self.config.online_sources:  # with the switch off nothing below runs: no socket is opened
            found = self._online().search(" ".join(problem.keywords) or problem.task[:200])
            related.online, related.messages = found.papers, related.messages + found.messages
        return related

    def _online(self):
        if self._scholarly is None:
            from mlr.agents.scholarly import ScholarlySearch

            self._scholarly = ScholarlySearch(timeout_s=self.config.online_timeout_s,
                                              max_results=self.config.online_max_results)
        return self._scholarly

    # -- step 3 -----------------------------------------------------------------------------------
    def generate_hypotheses(self, problem: ResearchProblem, related: list[Passage], n: int | None = None, *,
                            on_token: OnToken = None, on_each: Callable[[Hypothesis], None] | None = None,
                            previous: list[str] = ()) -> list[Hypothesis]:
        """One LLM call per hypothesis; ``on_each`` sees each as soon as it validates (to store it)."""
        n = n or self.config.n_hypotheses
        done: list[Hypothesis] = []
        for index in range(n):
            hypothesis = self.generate_hypothesis(problem, related, index=index, n=n, on_token=on_token,
                                                  previous=[*previous, *(h.method for h in done)])
            done.append(hypothesis)
            if on_each is not None:
                on_each(hypothesis)
        return done

    def generate_hypothesis(self, problem: ResearchProblem, related: list[Passage], *, index: int = 0, n: int = 1,
                            on_token: OnToken = None, previous: list[str] = ()) -> Hypothesis:
        gap = problem.gaps[index % len(problem.gaps)]
        # Each hypothesis gets its gap's source passage and its own slice of the related passages,
        # so the N small requests look at different evidence instead of repeating one answer.
        offered = [p for p in [self.retriever.get_chunk(gap.chunk_id)] if p is not None]
        pool = related[index::n] or related
        offered += [p for p in pool[: self.config.cite_passages] if p.chunk_id not in {o.chunk_id for o in offered}]
        if not offered:
            raise IdeaError("No passage to build a hypothesis on: the gap's passage is gone and no related "
                            "passage was found. Re-extract the problem or add papers to the library.")
        offered = self._clip(offered)
        schema = _hypothesis_schema(self.retriever, offered)
        messages = self._messages("idea/hypothesis", task=problem.task, gap=gap.text, keywords=problem.keywords,
                                  passages=offered, previous=list(previous)[-4:])
        draft = self.llm.structured(messages, schema, on_token=on_token,
                                    max_tokens=self.config.max_tokens["hypothesis"])
        # Every id was checked to exist during validation; its paper is a fact of the library. Citing one
        # passage twice adds no claim (tiny models repeat themselves), so each is kept once.
        citations = [{"chunk_id": c, "paper_id": self.retriever.get_chunk(c).paper_id}
                     for c in dict.fromkeys(draft.citations)]
        return Hypothesis(method=draft.method, rationale=draft.rationale, citations=citations)

    # -- step 4 -----------------------------------------------------------------------------------
    def make_plan(self, hypothesis: Hypothesis, problem: ResearchProblem | None = None,
                  on_token: OnToken = None) -> ExperimentPlan:
        # Two small requests, not one with nine fields: a small model's answer degrades by the last fields.
        task = problem.task if problem else ""
        cited = self._clip([p for c in hypothesis.citations if (p := self.retriever.get_chunk(c.chunk_id))])
        budget = self.config.max_tokens["plan"] // 2
        outline = self.llm.structured(
            self._messages("idea/plan", task=task, method=hypothesis.method, rationale=hypothesis.rationale,
                           passages=cited), PlanOutline, on_token=on_token, max_tokens=budget)
        setup = self.llm.structured(
            self._messages("idea/plan_setup", task=task, method=outline.method, objective=outline.objective,
                           steps=outline.experiment_design), PlanSetup, on_token=on_token, max_tokens=budget)
        return ExperimentPlan(**outline.model_dump(), **setup.model_dump())

    # -- step 5 -----------------------------------------------------------------------------------
    def review(self, hypothesis: Hypothesis, problem: ResearchProblem | None = None,
               plan: ExperimentPlan | None = None, on_token: OnToken = None) -> HypothesisReview:
        plan_line = f"{plan.objective} Metric: {plan.primary_metric} vs {plan.baseline}." if plan else ""
        messages = self._messages("idea/review", task=problem.task if problem else "", method=hypothesis.method,
                                  rationale=hypothesis.rationale, plan=plan_line)
        scores = self.llm.structured(messages, Review, on_token=on_token, max_tokens=self.config.max_tokens["review"])
        return HypothesisReview(**scores.model_dump(), novelty=self.novelty(hypothesis))

    def novelty(self, hypothesis: Hypothesis) -> Novelty:
        """Nearest library passages to the hypothesis' method, by cosine similarity of embeddings.

        Only the method is embedded: the rationale paraphrases the cited passages by design and would
        make every grounded hypothesis look like a restatement.
        """
        k = self.config.novelty_k
        candidates = self.retriever.search(hypothesis.method, k=k * 2)
        if candidates and self.embedder is not None:
            vectors = np.asarray(self.embedder.embed([hypothesis.method] + [p.text for p in candidates]))
            sims = (vectors[1:] @ vectors[0]).tolist()
        else:  # the retriever's own score (cosine on normalised vectors in the library)
            sims = [p.score for p in candidates]
        ranked = sorted(zip(candidates, sims), key=lambda pair: pair[1], reverse=True)[:k]
        nearest = [NearPassage(chunk_id=p.chunk_id, paper_id=p.paper_id, title=p.title, section=p.section,
                               page=p.page, similarity=round(float(s), 4), text=p.text[:400]) for p, s in ranked]
        top = max((n.similarity for n in nearest), default=0.0)
        threshold = self.config.novelty_threshold
        return Novelty(nearest=nearest, max_similarity=top, threshold=threshold, restates_existing=top >= threshold)

    # -- helpers ----------------------------------------------------------------------------------
    def _messages(self, template: str, **context) -> list[dict]:
        return [{"role": "system", "content": prompts.render("idea/system")},
                {"role": "user", "content": prompts.render(template, **context)}]

    def _clip(self, passages: list[Passage]) -> list[Passage]:
        limit = self.config.passage_chars
        def cut(text: str) -> str:
            return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"

        return [p.model_copy(update={"text": cut(p.text)}) for p in passages]


def _problem_passages(passages: list[Passage], k: int) -> list[Passage]:
    """The passages that state the task and the limitations; the opening of the paper when it has no sections."""
    def pick(keys):
        return [p for p in passages if any(key in (p.section or "").lower() for key in keys)]

    chosen = pick(_TASK_SECTIONS)[:2] + pick(_GAP_SECTIONS)[: max(1, k - 2)]
    for p in passages:  # fill up (or stand in for missing sections) with the paper's first passages
        if len(chosen) >= k:
            break
        if p not in chosen:
            chosen.append(p)
    order = {p.chunk_id: i for i, p in enumerate(passages)}
    return sorted(chosen[:k], key=lambda p: order[p.chunk_id])


def _problem_schema(paper_chunk_ids: set[str], shown_ids: list[str]) -> type[ResearchProblem]:
    """ResearchProblem whose gaps must point at a passage of this paper (enum in the schema, check in Python)."""
    def known(cls, value: str) -> str:
        if value not in paper_chunk_ids:
            raise ValueError(f"chunk_id {value!r} is not a passage of this paper; use one of {', '.join(shown_ids)}")
        return value

    gap = create_model("Gap", __base__=Gap,
                       chunk_id=(str, Field(description="Id of the passage the gap comes from.",
                                            json_schema_extra={"enum": shown_ids})),
                       __validators__={"known": field_validator("chunk_id")(known)})
    return create_model("ResearchProblem", __base__=ResearchProblem,
                        gaps=(list[gap], Field(min_length=1, max_length=3)))


def _hypothesis_schema(retriever: Retriever, offered: list[Passage]) -> type[HypothesisDraft]:
    """The draft schema whose citations must be chunk ids that exist (enum in the schema, check in Python)."""
    offered_ids = [p.chunk_id for p in offered]

    def exist(cls, ids: list[str]) -> list[str]:
        unknown = [c for c in ids if retriever.get_chunk(c) is None]
        if unknown:
            raise ValueError(f"chunk id {', '.join(map(repr, unknown))} does not exist in the library; "
                             f"cite only these ids: {', '.join(offered_ids)}")
        return ids

    item = Annotated[str, Field(json_schema_extra={"enum": offered_ids})]
    return create_model("Hypothesis", __base__=HypothesisDraft,
                        citations=(list[item], Field(min_length=1, max_length=3,
                                                     description="Chunk ids of the passages it builds on.")),
                        __validators__={"exist": field_validator("citations")(exist)})
