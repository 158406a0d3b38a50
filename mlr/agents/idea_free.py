"""The IdeaAgent's free-writing mode: schemas the model writes under, each guarded against echoes.

``problem_schema`` / ``hypothesis_schema`` pin chunk ids to the passages shown (an ``enum`` in the schema,
a check in Python); ``free_schema`` adds the echo guard of the prompt it is asked with.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, create_model, field_validator

from mlr.agents.echo import EchoGuard, guarded
from mlr.agents.idea_schemas import Gap, HypothesisDraft, ProblemDraft
from mlr.protocols import Passage, Retriever

# Sections where a paper states its task (first) and its limitations (where gaps live).
_TASK_SECTIONS = ("abstract", "introduction")
_GAP_SECTIONS = ("limitation", "future", "conclusion", "discussion")


def free_schema(template: str, schema: type[BaseModel]) -> type[BaseModel]:
    """``schema`` that also refuses an answer repeating the prompt of ``template``, its schema or example."""
    return guarded(schema, EchoGuard.for_prompt([template], schema))


def problem_passages(passages: list[Passage], k: int) -> list[Passage]:
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


def problem_schema(paper_chunk_ids: set[str], shown_ids: list[str]) -> type[ProblemDraft]:
    """ProblemDraft whose gaps must point at a passage of this paper (enum in the schema, check in Python)."""
    def known(cls, value: str) -> str:
        if value not in paper_chunk_ids:
            raise ValueError(f"chunk_id {value!r} is not a passage of this paper; use one of {', '.join(shown_ids)}")
        return value

    gap = create_model("Gap", __base__=Gap,
                       chunk_id=(str, Field(description="Id of the passage the gap comes from.",
                                            json_schema_extra={"enum": shown_ids})),
                       __validators__={"known": field_validator("chunk_id")(known)})
    return create_model("ResearchProblem", __base__=ProblemDraft,
                        gaps=(list[gap], Field(min_length=1, max_length=3)))


def hypothesis_schema(retriever: Retriever, offered: list[Passage]) -> type[HypothesisDraft]:
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
