"""Pydantic schemas of everything the IdeaAgent produces.

Lengths and item counts are capped (``max_length``) because the schema is also the decoding
grammar: a 135M embedded model left uncapped repeats itself until the token limit, and a 7B model
stays more focused with a small, concrete shape to fill.
"""

from __future__ import annotations

import re
import zlib
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

_PLACEHOLDERS = {"string", "str", "n/a", "none", "null", "todo", "tbd"}


def _real_content(value: str) -> str:
    """Small models fill a schema with '...' or 'string', or loop on one phrase until the length cap;
    reject both so the retry asks for real content (the answer is never patched)."""
    if not re.search(r"[^\W_]", value) or value.strip(" .").lower() in _PLACEHOLDERS:
        raise ValueError(f"{value!r} is a placeholder, not content; write the actual value")
    if len(value) > 80 and len(zlib.compress(value.encode())) < 0.3 * len(value):
        raise ValueError(f"{value[:40]!r}... repeats itself; write it once, in one or two sentences")
    return value


Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=160),
                  AfterValidator(_real_content)]
# Caps are tight on purpose: a looping model is cut off at the cap, so the JSON still completes
# within the token budget and the loop is reported (and retried) instead of running out of tokens.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400),
                 AfterValidator(_real_content)]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40),
                    AfterValidator(_real_content)]
ParamValue = int | float | bool | str


# -- step 1: the research problem ------------------------------------------------------------------
class Gap(BaseModel):
    """A research gap, grounded in the passage of the paper it was read from."""

    text: Text = Field(description="What is missing or limited in the paper's work.")
    chunk_id: str = Field(description="Id of the passage the gap comes from.")


class ProblemDraft(BaseModel):
    """What the model writes in free mode."""

    task: Text = Field(description="The research task the paper addresses, in one or two sentences.")
    gaps: list[Gap] = Field(min_length=1, max_length=3)
    keywords: list[Keyword] = Field(min_length=1, max_length=6)


# Which mode produced a field: "free" (the model wrote it), "grounded" (text of the paper or the prototype,
# chosen by the model), "assembled" (built from the chosen candidate, no model), "evidence" (a rule over facts).
Modes = dict[str, str]


class ResearchProblem(ProblemDraft):
    modes: Modes = Field(default_factory=dict)


# -- step 2: related work --------------------------------------------------------------------------
class OnlinePaper(BaseModel):
    """A paper found by a public scholarly search (only with online sources switched on)."""

    source: str  # arxiv | semantic_scholar | openalex
    title: str
    year: int | None = None
    abstract: str = ""
    url: str = ""


# -- step 3: hypotheses ----------------------------------------------------------------------------
class Citation(BaseModel):
    chunk_id: str = Field(description="Id of a library passage the hypothesis builds on.")
    paper_id: int = Field(description="Id of the paper that passage belongs to.")


class HypothesisDraft(BaseModel):
    """What the model writes: it cites passages by chunk id; the paper of each is looked up, not guessed."""

    method: Text = Field(description="The proposed method or change, concrete enough to test.")
    rationale: Text = Field(description="Why it should address the gap, referring to the cited passages.")
    citations: list[str] = Field(min_length=1, max_length=3, description="Chunk ids of the passages it builds on.")


class ParamChange(BaseModel):
    """The prototype change a grounded hypothesis makes (what its plan runs)."""

    parameter: str
    old: ParamValue | None = None
    new: ParamValue


class Hypothesis(BaseModel):
    method: Text = Field(description="The proposed method or change, concrete enough to test.")
    rationale: Text = Field(description="Why it should address the gap, referring to the cited passages.")
    citations: list[Citation] = Field(min_length=1, max_length=3)
    change: ParamChange | None = None
    modes: Modes = Field(default_factory=dict)


# -- step 4: the experiment plan -------------------------------------------------------------------
class Parameter(BaseModel):
    name: Keyword = Field(description="Parameter of the experiment to vary, e.g. learning_rate.")
    values: list[ParamValue] = Field(min_length=1, max_length=5, description="Values to try.")
    description: Short = Field(description="What the parameter controls.")


class PlanOutline(BaseModel):
    """First half of a plan, asked for on its own: what the experiment does."""

    objective: Text
    method: Text
    experiment_design: list[Short] = Field(min_length=1, max_length=6, description="Ordered steps.")


class PlanSetup(BaseModel):
    """Second half of a plan, asked for with the outline in view: what it runs on and how it is judged."""

    # Free-text fields before the list: a small model's last fields are its weakest.
    dataset: Short
    baseline: Short
    # The model writes the budget in one fixed form (a pattern the grammar enforces): tiny models fill a
    # free-text budget with punctuation. The researcher may edit it freely (see ExperimentPlan).
    compute_budget: str = Field(description="e.g. '1 GPU for 2 hours'.",
                                pattern=r"^[1-9][0-9]? (CPU|GPU)s? for [1-9][0-9]? (minute|hour|day)s?$")
    primary_metric: Keyword = Field(description="The one metric that decides success, e.g. accuracy.")
    higher_is_better: bool
    parameters: list[Parameter] = Field(default_factory=list, max_length=4)


class ExperimentPlan(PlanSetup, PlanOutline):  # outline fields first
    """The whole plan, as stored, edited on the Plan page and run by the ExperimentAgent."""

    compute_budget: Short = Field(description="e.g. '1 GPU for 2 hours'.")
    modes: Modes = Field(default_factory=dict)


# -- step 5: the review ----------------------------------------------------------------------------
class Score(BaseModel):
    score: int = Field(ge=1, le=5)
    why: Short = Field(description="One line justifying the score.")


class Review(BaseModel):
    """The paper's five criteria, each scored 1-5 by the LLM."""

    clarity: Score
    validity: Score
    rigor: Score
    innovativeness: Score
    generalizability: Score


CRITERIA = tuple(Review.model_fields)


class NearPassage(BaseModel):
    chunk_id: str
    paper_id: int
    title: str
    section: str
    page: int
    similarity: float
    text: str


class Novelty(BaseModel):
    """Computed without the LLM: the library passages closest to the hypothesis by embedding."""

    nearest: list[NearPassage]
    max_similarity: float
    threshold: float
    restates_existing: bool


class HypothesisReview(Review):
    novelty: Novelty
    modes: Modes = Field(default_factory=dict)
