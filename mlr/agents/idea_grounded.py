"""The IdeaAgent's grounded mode: candidates from the paper and its prototype, the model only chooses.

Every choice is asked under a JSON schema whose ``enum`` lists the candidate ids (the embedded backend
decodes under the schema, so it cannot answer an id that is not a candidate; validation refuses one from
any other backend). Texts are the paper's own sentences, YAKE keyphrases and methods assembled from the
chosen prototype change; the one free-written field, a hypothesis' rationale, passes the echo guard and,
when the model cannot give a valid one, is assembled from the gap it addresses (and marked so). Plans
and reviews are assembled from the prototype and from evidence, without a model.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, create_model, model_validator

from mlr.agents import grounding
from mlr.agents.echo import EchoGuard, guarded
from mlr.agents.idea_schemas import (CRITERIA, ExperimentPlan, Hypothesis, HypothesisReview, ParamChange,
                                     ResearchProblem, Text)
from mlr.llm.errors import StructuredOutputError
from mlr.protocols import Passage

if TYPE_CHECKING:
    from mlr.agents.idea_agent import IdeaAgent

log = logging.getLogger(__name__)
_METRICS = ("accuracy", "f1", "rmse", "auc", "mae", "bleu", "perplexity", "precision", "recall", "error rate",
            "balanced accuracy", "silhouette", "runtime")


def choice_schema(name: str, single: dict[str, list[str]] | None = None, many: dict[str, tuple[list[str], int]] = (),
                  text: tuple[str, ...] = ()) -> type[BaseModel]:
    """A schema of id choices: ``single`` fields take one id, ``many`` up to N ids; ``text`` fields are prose."""
    fields = {k: (Literal[tuple(ids)], Field(description="id of one candidate")) for k, ids in (single or {}).items()}
    for key, (ids, most) in dict(many).items():
        fields[key] = (list[Literal[tuple(ids)]], Field(min_length=1, max_length=most, description="candidate ids"))
    for key in text:
        fields[key] = (Text, Field(description="one sentence"))
    return create_model(name, **fields)


class GroundedSteps:
    def __init__(self, agent: IdeaAgent):
        self.agent = agent

    @property
    def llm(self):
        return self.agent.llm

    def _ask(self, template: str, schema: type[BaseModel], on_token, max_tokens: int, retries: int | None = None,
             **context):
        messages = self.agent._messages(template, **context)
        return self.llm.structured(messages, schema, on_token=on_token, max_tokens=max_tokens, retries=retries)

    # -- problem ------------------------------------------------------------------------------------------
    def problem(self, passages: list[Passage], title: str, on_token=None) -> ResearchProblem:
        tasks = grounding.task_candidates(passages)
        gaps = grounding.gap_candidates(passages)
        # A keyphrase that is also a word of the prompts or a field name ("baseline", "method") is not offered.
        names = EchoGuard.for_prompt(["idea/problem", "idea/plan_setup", "idea/review"], ExperimentPlan)
        phrases = [k for k in grounding.keyword_candidates(passages) if not names.problem(k)]
        keywords = [grounding.Sentence(id=f"K{i + 1}", text=k, chunk_id="") for i, k in enumerate(phrases)]
        if not tasks or not gaps:
            raise grounding_error("no sentence of the paper could be read as its task or a gap")
        many = {"gaps": ([g.id for g in gaps], 3)}
        if keywords:
            many["keywords"] = ([k.id for k in keywords], 6)
        schema = choice_schema("ProblemChoice", {"task": [t.id for t in tasks]}, many)
        answer = self._ask("idea/grounded_problem", schema, on_token, 200, title=title, tasks=tasks, gaps=gaps,
                           keywords=keywords)
        by_id = {s.id: s for s in [*tasks, *gaps, *keywords]}
        chosen_gaps = [by_id[i] for i in dict.fromkeys(answer.gaps)]
        # A paper without a stated limitation offers its opening sentences as gaps too: never the task again.
        chosen_gaps = [g for g in chosen_gaps if g.text != by_id[answer.task].text] or chosen_gaps
        words = [by_id[i].text for i in dict.fromkeys(getattr(answer, "keywords", []))] or phrases[:1] or ["paper"]
        return ResearchProblem(task=by_id[answer.task].text,
                               gaps=[{"text": g.text, "chunk_id": g.chunk_id} for g in chosen_gaps],
                               keywords=words, modes={"task": "grounded", "gaps": "grounded", "keywords": "grounded"})

    # -- hypothesis ---------------------------------------------------------------------------------------
    def hypothesis(self, problem: ResearchProblem, related: list[Passage], *, index: int, previous: list[str],
                   on_token=None) -> Hypothesis:
        gap = problem.gaps[index % len(problem.gaps)]
        spec = self.agent.prototype_of(problem)
        changes = grounding.change_candidates(spec) if spec else grounding.approach_candidates(related)
        if not changes:
            raise grounding_error("no candidate change: the paper has no prototype with documented parameters "
                                  "and no related passage to borrow an approach from")
        tried = " ".join(previous)
        fresh = [c for c in changes if grounding.method_text(c, spec, gap.text) not in tried] or changes
        ranked = grounding.rank(fresh, [c.text for c in fresh], gap.text + " " + problem.task, self.agent.embedder)
        offered = [c.model_copy(update={"id": f"C{i + 1}", "score": round(s, 3)}) for i, (c, s) in enumerate(ranked[:5])]
        ids = [c.id for c in offered]
        modes = {"method": "assembled", "citations": "grounded", "rationale": "free"}
        context = {"task": problem.task, "gap": gap.text, "changes": offered, "previous": list(previous)[-4:]}
        guard = EchoGuard.for_prompt(["idea/grounded_hypothesis"], choice_schema("H", {"choice": ids}, text=("r",)),
                                     extra=[c.text for c in offered])
        schema = relevant(guarded(choice_schema("HypothesisChoice", {"choice": ids}, text=("rationale",)), guard),
                          " ".join([gap.text, problem.task, *(c.text for c in offered)]))
        budget = self.agent.config.max_tokens["hypothesis"]
        try:
            answer = self._ask("idea/grounded_hypothesis", schema, on_token, budget, **context)
            choice, rationale = answer.choice, answer.rationale
        except StructuredOutputError as exc:  # the rationale would not validate: choose only, assemble the why
            log.info("grounded rationale failed, choosing only: %s", exc)
            choice = self._ask("idea/grounded_hypothesis", choice_schema("ChangeChoice", {"choice": ids}),
                               on_token, 40, **context).choice
            rationale, modes["rationale"] = None, "assembled (the model's rationale failed the echo check)"
        change = next(c for c in offered if c.id == choice)
        if rationale is None:
            rationale = f"The paper leaves this open: \"{gap.text}\""[:400]
        own = [gap.chunk_id] + ([change.chunk_id] if change.chunk_id and change.chunk_id != gap.chunk_id else [])
        citations = [{"chunk_id": c, "paper_id": self.agent.retriever.get_chunk(c).paper_id} for c in own
                     if self.agent.retriever.get_chunk(c) is not None]
        param = ParamChange(parameter=change.parameter, old=change.old, new=change.new) if change.runnable else None
        return Hypothesis(method=grounding.method_text(change, spec, gap.text), rationale=rationale,
                          citations=citations, change=param, modes=modes)

    # -- plan (assembled, no model) -----------------------------------------------------------------------
    def plan(self, hypothesis: Hypothesis, problem: ResearchProblem | None) -> ExperimentPlan:
        spec = self.agent.prototype_of(problem) if problem else None
        change = hypothesis.change
        if spec is not None and change is not None:
            metric = spec.primary_metric or "accuracy"
            direction = "higher" if spec.higher_is_better else "lower"
            help_text = next((p.help for p in spec.parameters if p.name == change.parameter), "")
            defaults = ", ".join(f"{p.name}={p.default!r}" for p in spec.parameters if not grounding.is_evaluation(p))
            data = {"objective": f"Test whether {change.parameter}={change.new!r} improves {metric} over the "
                                 f"paper's baseline ({change.parameter}={change.old!r}).",
                    "method": hypothesis.method,
                    "experiment_design": [f"Run {spec.slug} with its defaults (the paper's baseline)",
                                          f"Run it with {change.parameter}={change.new!r}, all else equal",
                                          f"Compare {metric} ({direction} is better) over the same seeds",
                                          "Keep the variant if it clears the success bar"],
                    "dataset": (spec.description.split(". ")[0] or spec.title)[:160],
                    "baseline": f"{spec.slug} defaults: {defaults}"[:160],
                    "compute_budget": "1 CPU for 10 minutes", "primary_metric": metric[:40],
                    "higher_is_better": spec.higher_is_better,
                    "parameters": [{"name": change.parameter, "values": [change.new],
                                    "description": (help_text or f"the prototype's {change.parameter}")[:160]}]}
        else:
            text = " ".join(p.text.lower() for p in self.agent.retriever.paper_passages(self._paper(problem))) \
                if problem else ""
            metric = max(_METRICS, key=text.count) if any(m in text for m in _METRICS) else "the paper's metric"
            data = {"objective": f"Test whether the proposed change improves {metric} over the paper's method.",
                    "method": hypothesis.method,
                    "experiment_design": ["Reproduce the paper's reported setup", "Apply the proposed change",
                                          f"Compare {metric} on the paper's data"],
                    "dataset": "the paper's data (see the cited passages)",
                    "baseline": ("As published: " + (problem.task if problem else "the paper's method"))[:160],
                    "compute_budget": "1 CPU for 1 hour", "primary_metric": metric[:40],
                    "higher_is_better": metric not in ("rmse", "mae", "perplexity", "error rate", "runtime"),
                    "parameters": []}
        return ExperimentPlan(**data, modes={k: "assembled" for k in data})

    # -- review (evidence, no model) ----------------------------------------------------------------------
    def review(self, hypothesis: Hypothesis, problem: ResearchProblem | None, plan: ExperimentPlan | None,
               novelty) -> HypothesisReview:
        spec = self.agent.prototype_of(problem) if problem else None
        own = self._paper(problem) if problem else None
        cites_paper = any(c.paper_id == own for c in hypothesis.citations)
        cites_other = any(c.paper_id != own for c in hypothesis.citations)
        reports = spec is not None and plan is not None and plan.primary_metric == spec.primary_metric
        top = novelty.max_similarity
        scores = {
            "clarity": (4, f"names one prototype change: {hypothesis.change.parameter} -> {hypothesis.change.new!r}")
            if hypothesis.change else (2, "names an approach, not a change the prototype can run"),
            "validity": (4, "cites the passage of the paper that states the gap") if cites_paper
            else (2, "cites no passage of the paper itself"),
            "rigor": (4, f"the plan's metric {plan.primary_metric} is one the prototype reports") if reports
            else (2, "the plan names no metric that a prototype of this paper reports"),
            "innovativeness": (max(1, min(5, round(5 * (1 - top)) + 1)),
                               f"nearest library passage is {top:.2f} similar"
                               + (" (restates existing work)" if novelty.restates_existing else "")),
            "generalizability": (3 if cites_other else 2, "builds on another paper's passage too" if cites_other
                                 else "tested on this paper's own data only"),
        }
        return HypothesisReview(**{k: {"score": s, "why": why[:160]} for k, (s, why) in scores.items()},
                                novelty=novelty, modes={k: "evidence" for k in CRITERIA})

    def _paper(self, problem: ResearchProblem) -> int | None:
        chunk = self.agent.retriever.get_chunk(problem.gaps[0].chunk_id) if problem.gaps else None
        return chunk.paper_id if chunk else None


def relevant(schema: type[BaseModel], source: str) -> type[BaseModel]:
    """The rationale must speak of the gap, the task or the change: a content word of theirs is in it."""
    allowed = set(re.findall(r"[a-z]{5,}", source.lower())) - _COMMON

    def on_topic(self):
        words = set(re.findall(r"[a-z]{5,}", self.rationale.lower())) - _COMMON
        if not words & allowed:
            raise ValueError("rationale: off topic; say why the chosen change helps with this gap, in its terms")
        return self

    return create_model(schema.__name__, __base__=schema,
                        __validators__={"on_topic": model_validator(mode="after")(on_topic)})


_COMMON = {"that", "this", "with", "from", "which", "have", "will", "would", "more", "than", "change", "changes",
           "should", "could", "help", "because", "model", "paper", "using"}


def grounding_error(reason: str):
    from mlr.agents.idea_agent import IdeaError

    return IdeaError(f"Grounded mode cannot run: {reason}.")
