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


from mlr.agents import prompts
from mlr.agents.echo import ECHO_MARK
from mlr.agents.grounding import PrototypeSpec
from mlr.agents.idea_free import free_schema, hypothesis_schema, problem_passages, problem_schema
from mlr.agents.idea_grounded import GroundedSteps
from mlr.agents.idea_related import RelatedWork, novelty
from mlr.agents.idea_schemas import (
    ExperimentPlan,
    Hypothesis,
    HypothesisReview,
    Novelty,
    PlanOutline,
    PlanSetup,
    ResearchProblem,
    Review,
)
from mlr.config import Settings
from mlr.llm.errors import StructuredOutputError
from mlr.protocols import LLM, Embedder, Passage, Retriever

log = logging.getLogger(__name__)

OnToken = Callable[[str], None] | None
MODES = ("free", "grounded", "auto")


def effective_mode(setting: str, llm) -> str:
    """The mode steps start in: the setting, with auto resolved by the model's grade."""
    if setting in ("free", "grounded"):
        return setting
    return "grounded" if getattr(llm, "demo_grade", False) else "free"


def _rank(p: Passage) -> tuple[float, float]:
    """Order of related passages: the retriever's fused rank score, then cosine (retrievers without fusion)."""
    return (p.rank_score, p.score)


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
    # free: the model writes every field; grounded: it chooses among candidates built from the paper and its
    # prototype; auto: grounded for demo-grade models, else free with grounded as the fallback of a failed step.
    mode: str = "auto"
    max_tokens: dict[str, int] = field(default_factory=lambda: {
        "problem": 600, "hypothesis": 450, "plan": 1000, "review": 600})

    @classmethod
    def from_settings(cls, settings: Settings) -> IdeaConfig:
        return cls(n_hypotheses=settings.n_hypotheses, online_sources=settings.online_sources,
                   online_timeout_s=min(settings.online_timeout_s, 15.0), mode=settings.idea_mode)


class IdeaAgent:
    def __init__(self, llm: LLM, retriever: Retriever, *, embedder: Embedder | None = None,
                 config: IdeaConfig | None = None, scholarly=None,
                 prototypes: Callable[[int], PrototypeSpec | None] | None = None):
        self.llm = llm
        self.retriever = retriever
        self.embedder = embedder
        self.config = config or IdeaConfig()
        # Built lazily and only with online sources on; tests inject one pointed at a local server.
        self._scholarly = scholarly
        self._prototypes = prototypes  # paper id -> its prototype notebook's spec (the Workspace reads it)
        self.grounded = GroundedSteps(self)

    @property
    def mode(self) -> str:
        return effective_mode(self.config.mode, self.llm)

    def _either(self, free: Callable, grounded: Callable):
        """Run the step in the current mode; in auto mode a free answer that fails its checks falls back."""
        if self.mode == "grounded":
            return grounded()
        try:
            return free()
        except StructuredOutputError as exc:
            # The quality check (echoes of the prompt) failed on every try: ground the step instead.
            if self.config.mode != "auto" or ECHO_MARK not in (exc.errors or str(exc)):
                raise
            log.info("free answer failed the echo check, falling back to grounded mode: %s", exc)
            return grounded()

    def prototype_of(self, problem: ResearchProblem | None) -> PrototypeSpec | None:
        chunk = self.retriever.get_chunk(problem.gaps[0].chunk_id) if problem and problem.gaps else None
        return self._prototypes(chunk.paper_id) if chunk and self._prototypes else None

    # -- step 1 -----------------------------------------------------------------------------------
    def extract_problem(self, paper_id: int, title: str = "", on_token: OnToken = None) -> ResearchProblem:
        passages = self.retriever.paper_passages(paper_id)
        if not passages:
            if not self.retriever.search(title or "research", k=1):
                raise EmptyLibrary("The library is empty: add a paper on the Library page first.")
            raise IdeaError(f"Paper {paper_id} has no extractable text (a scanned PDF?). "
                            "Add a PDF with a text layer, or pick another paper.")
        title = title or f"paper {paper_id}"

        def free() -> ResearchProblem:
            shown = self._clip(problem_passages(passages, self.config.problem_passages))
            schema = free_schema("idea/problem", problem_schema({p.chunk_id for p in passages},
                                                                [p.chunk_id for p in shown]))
            answer = self.llm.structured(self._messages("idea/problem", title=title, passages=shown), schema,
                                         on_token=on_token, max_tokens=self.config.max_tokens["problem"])
            return ResearchProblem(**answer.model_dump(), modes=dict.fromkeys(("task", "gaps", "keywords"), "free"))

        return self._either(free, lambda: self.grounded.problem(passages, title, on_token))

    # -- step 2 -----------------------------------------------------------------------------------
    def related_work(self, problem: ResearchProblem, paper_id: int) -> RelatedWork:
        queries = [problem.task + " " + " ".join(problem.keywords)] + [g.text for g in problem.gaps]
        best: dict[str, Passage] = {}
        for query in queries:
            # The library's hybrid search (dense + keyword, fused); each query's order is its
            # rank_score, so passages are merged by that (a cosine score would undo the fusion).
            for p in self.retriever.search(query, k=self.config.related_k, exclude_paper_ids=(paper_id,)):
                if p.chunk_id not in best or _rank(p) > _rank(best[p.chunk_id]):
                    best[p.chunk_id] = p
        ranked = sorted(best.values(), key=_rank, reverse=True)[: self.config.related_k]
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

        def free() -> Hypothesis:
            schema = free_schema("idea/hypothesis", hypothesis_schema(self.retriever, offered))
            messages = self._messages("idea/hypothesis", task=problem.task, gap=gap.text, keywords=problem.keywords,
                                      passages=offered, previous=list(previous)[-4:])
            draft = self.llm.structured(messages, schema, on_token=on_token,
                                        max_tokens=self.config.max_tokens["hypothesis"])
            # Every id was checked to exist during validation; its paper is a fact of the library. Citing one
            # passage twice adds no claim (tiny models repeat themselves), so each is kept once.
            citations = [{"chunk_id": c, "paper_id": self.retriever.get_chunk(c).paper_id}
                         for c in dict.fromkeys(draft.citations)]
            return Hypothesis(method=draft.method, rationale=draft.rationale, citations=citations,
                              modes=dict.fromkeys(("method", "rationale", "citations"), "free"))

        return self._either(free, lambda: self.grounded.hypothesis(problem, related, index=index,
                                                                     previous=list(previous), on_token=on_token))

    # -- step 4 -----------------------------------------------------------------------------------
    def make_plan(self, hypothesis: Hypothesis, problem: ResearchProblem | None = None,
                  on_token: OnToken = None) -> ExperimentPlan:
        # Two small requests, not one with nine fields: a small model's answer degrades by the last fields.
        task = problem.task if problem else ""
        cited = self._clip([p for c in hypothesis.citations if (p := self.retriever.get_chunk(c.chunk_id))])
        budget = self.config.max_tokens["plan"] // 2

        def free() -> ExperimentPlan:
            outline = self.llm.structured(
                self._messages("idea/plan", task=task, method=hypothesis.method, rationale=hypothesis.rationale,
                               passages=cited), free_schema("idea/plan", PlanOutline), on_token=on_token,
                max_tokens=budget)
            setup = self.llm.structured(
                self._messages("idea/plan_setup", task=task, method=outline.method, objective=outline.objective,
                               steps=outline.experiment_design), free_schema("idea/plan_setup", PlanSetup),
                on_token=on_token, max_tokens=budget)
            data = {**outline.model_dump(), **setup.model_dump()}
            return ExperimentPlan(**data, modes=dict.fromkeys(data, "free"))

        return self._either(free, lambda: self.grounded.plan(hypothesis, problem))

    # -- step 5 -----------------------------------------------------------------------------------
    def review(self, hypothesis: Hypothesis, problem: ResearchProblem | None = None,
               plan: ExperimentPlan | None = None, on_token: OnToken = None) -> HypothesisReview:
        plan_line = f"{plan.objective} Metric: {plan.primary_metric} vs {plan.baseline}." if plan else ""
        novelty = self.novelty(hypothesis)

        def free() -> HypothesisReview:
            messages = self._messages("idea/review", task=problem.task if problem else "", method=hypothesis.method,
                                      rationale=hypothesis.rationale, plan=plan_line)
            scores = self.llm.structured(messages, free_schema("idea/review", Review), on_token=on_token,
                                         max_tokens=self.config.max_tokens["review"])
            return HypothesisReview(**scores.model_dump(), novelty=novelty, modes=dict.fromkeys(scores.model_dump(),
                                                                                                "free"))

        return self._either(free, lambda: self.grounded.review(hypothesis, problem, plan, novelty))

    def novelty(self, hypothesis: Hypothesis) -> Novelty:
        return novelty(self.retriever, self.embedder, hypothesis.method, self.config.novelty_k,
                       self.config.novelty_threshold)

    # -- helpers ----------------------------------------------------------------------------------
    def _messages(self, template: str, **context) -> list[dict]:
        return [{"role": "system", "content": prompts.render("idea/system")},
                {"role": "user", "content": prompts.render(template, **context)}]

    def _clip(self, passages: list[Passage]) -> list[Passage]:
        limit = self.config.passage_chars
        def cut(text: str) -> str:
            return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"

        return [p.model_copy(update={"text": cut(p.text)}) for p in passages]
