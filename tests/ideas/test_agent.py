"""IdeaAgent logic with the scripted model: each step, retries, grounding checks, edge cases."""

import pytest

from mlr.agents.idea_agent import EmptyLibrary, IdeaAgent, IdeaError, RelatedWork
from mlr.agents.idea_schemas import ExperimentPlan, Hypothesis, HypothesisReview, ResearchProblem
from mlr.llm.errors import StructuredOutputError

from .helpers import PLAN, PROBLEM, ListRetriever, draft, hypothesis, passage, review_scores


def test_happy_path_every_step(agent, scripted, retriever):
    scripted.enqueue(PROBLEM)
    problem = agent.extract_problem(1, title="Legal docs")
    assert isinstance(problem, ResearchProblem) and problem.gaps[0].chunk_id == "1:2"
    # The prompt shows the paper's passages by id, and the schema restricts gap ids to them.
    prompt = scripted.prompts[-1][-1]["content"]
    assert "Passage 1:0 " in prompt and "Passage 1:2 " in prompt and "Passage 2:0 " not in prompt
    assert "1:2" in str(scripted.schemas[-1])

    related = agent.related_work(problem, paper_id=1)
    assert related.passages and all(p.paper_id != 1 for p in related.passages)
    assert {"2:0", "2:1"} <= {p.chunk_id for p in related.passages}
    assert [p.score for p in related.passages] == sorted((p.score for p in related.passages), reverse=True)
    assert related.online == [] and related.messages == []

    scripted.enqueue(draft(), draft("Multilingual encoder for contracts.", cites=("3:0",)))
    seen = []
    hyps = agent.generate_hypotheses(problem, related.passages, 2, on_each=seen.append)
    assert len(hyps) == 2 == len(seen) and all(isinstance(h, Hypothesis) for h in hyps)
    # One small request per hypothesis; the second is told what the first proposed.
    assert "Earlier proposals" in scripted.prompts[-1][-1]["content"]
    assert hyps[0].method in scripted.prompts[-1][-1]["content"]

    scripted.enqueue(PLAN, {**PLAN, "dataset": "LEDGAR-long"})  # outline, then setup
    plan = agent.make_plan(hyps[0], problem)
    assert isinstance(plan, ExperimentPlan) and plan.higher_is_better and plan.dataset == "LEDGAR-long"
    assert "Passage 2:0 " in scripted.prompts[-2][-1]["content"]  # the cited passage is in the outline prompt
    assert PLAN["objective"] in scripted.prompts[-1][-1]["content"]  # the setup request sees the outline
    assert list(scripted.schemas[-2]["properties"]) == ["objective", "method", "experiment_design"]

    scripted.enqueue(review_scores(4))
    review = agent.review(hyps[0], problem, plan)
    assert isinstance(review, HypothesisReview) and review.clarity.score == 4
    assert review.novelty.nearest and review.novelty.max_similarity == review.novelty.nearest[0].similarity
    assert scripted.usage.structured == 6 and scripted.usage.first_try_valid == 6  # problem, 2 hyps, plan x2, review


def test_streaming_progress_reaches_on_token(agent, scripted):
    scripted.enqueue(PROBLEM)
    pieces = []
    agent.extract_problem(1, on_token=pieces.append)
    assert len(pieces) > 1 and '"task"' in "".join(pieces)


def test_invalid_json_then_valid_is_retried_with_the_error(agent, scripted):
    scripted.enqueue('{"task": "unfinished', PROBLEM)
    problem = agent.extract_problem(1)
    assert problem.task == PROBLEM["task"]
    assert scripted.usage.calls == 2 and scripted.usage.first_try_valid == 0
    assert "not valid" in scripted.prompts[-1][-1]["content"]


def test_hallucinated_chunk_id_is_rejected_and_retried(agent, scripted, retriever):
    problem = ResearchProblem.model_validate(PROBLEM)
    scripted.enqueue(draft(cites=("9:99",)), draft())
    h = agent.generate_hypothesis(problem, retriever.search("long documents", exclude_paper_ids=(1,)))
    assert h.citations[0].chunk_id == "2:0"
    retry = scripted.prompts[-1][-1]["content"]
    assert "9:99" in retry and "does not exist" in retry


def test_citations_get_their_paper_from_the_library(agent, scripted, retriever):
    problem = ResearchProblem.model_validate(PROBLEM)
    scripted.enqueue(draft(cites=("2:0", "3:0")))
    h = agent.generate_hypothesis(problem, retriever.search("long documents", exclude_paper_ids=(1,)))
    assert [c.model_dump() for c in h.citations] == [{"chunk_id": "2:0", "paper_id": 2},
                                                     {"chunk_id": "3:0", "paper_id": 3}]
    # The schema the model decodes under only allows the ids it was shown.
    enum = scripted.schemas[-1]["properties"]["citations"]["items"]["enum"]
    assert "2:0" in enum and "9:99" not in enum


def test_a_passage_cited_twice_is_kept_once(agent, scripted, retriever):
    scripted.enqueue(draft(cites=("2:0", "2:0", "2:1")))
    h = agent.generate_hypothesis(ResearchProblem.model_validate(PROBLEM), retriever.passages[3:])
    assert [c.chunk_id for c in h.citations] == ["2:0", "2:1"] and scripted.usage.calls == 1


def test_hallucinations_on_every_try_give_a_clear_error(agent, scripted, retriever):
    problem = ResearchProblem.model_validate(PROBLEM)
    scripted.enqueue(*[draft(cites=("nope",))] * 3)
    with pytest.raises(StructuredOutputError, match="does not exist"):
        agent.generate_hypothesis(problem, retriever.passages[3:])


def test_gap_pointing_outside_the_paper_is_rejected(agent, scripted):
    bad = {**PROBLEM, "gaps": [{"text": "x", "chunk_id": "2:0"}]}
    scripted.enqueue(bad, PROBLEM)
    agent.extract_problem(1)
    assert "not a passage of this paper" in scripted.prompts[-1][-1]["content"]


def test_empty_library_is_a_clear_message(scripted):
    agent = IdeaAgent(scripted, ListRetriever([]))
    with pytest.raises(EmptyLibrary, match="library is empty"):
        agent.extract_problem(1)
    assert scripted.usage.calls == 0


def test_paper_without_text_is_a_clear_message(scripted, retriever):
    agent = IdeaAgent(scripted, retriever)
    with pytest.raises(IdeaError, match="no extractable text"):
        agent.extract_problem(42)


def test_paper_without_sections_uses_its_opening_text(scripted):
    plain = [passage(f"7:{i}", 7, "", f"Plain text passage number {i} about graph networks.") for i in range(9)]
    agent = IdeaAgent(scripted, ListRetriever(plain))
    scripted.enqueue({**PROBLEM, "gaps": [{"text": "No baselines.", "chunk_id": "7:0"}]})
    problem = agent.extract_problem(7)
    assert problem.gaps[0].chunk_id == "7:0"
    prompt = scripted.prompts[-1][-1]["content"]
    # The first five passages stand in for the missing abstract and limitations.
    assert "Passage 7:0 " in prompt and "Passage 7:4 " in prompt and "Passage 7:5 " not in prompt


def test_problem_prefers_abstract_and_limitations():
    from mlr.agents.idea_free import problem_passages as _problem_passages

    many = [passage(f"5:{i}", 5, s, "t") for i, s in enumerate(
        ["Abstract", "Introduction", "Method", "Method", "Method", "Experiments", "Results", "Limitations",
         "Conclusion"])]
    chosen = [p.section for p in _problem_passages(many, 5)]
    assert chosen == ["Abstract", "Introduction", "Method", "Limitations", "Conclusion"]


def test_single_paper_library_has_no_related_work_but_can_still_hypothesise(scripted):
    own = [passage("1:0", 1, "Abstract", "Long documents."), passage("1:2", 1, "Limitations", "Truncation.")]
    agent = IdeaAgent(scripted, ListRetriever(own))
    related = agent.related_work(ResearchProblem.model_validate(PROBLEM), paper_id=1)
    assert related.passages == [] and "No other paper" in related.messages[0]
    scripted.enqueue(draft(cites=("1:2",)))
    h = agent.generate_hypothesis(ResearchProblem.model_validate(PROBLEM), related.passages)
    assert h.citations[0].paper_id == 1


def test_hypotheses_look_at_different_evidence(agent, scripted, retriever):
    related = retriever.search("documents attention languages", k=6, exclude_paper_ids=(1,))
    scripted.enqueue(draft(), draft("Other idea.", cites=("3:0",)))
    agent.generate_hypotheses(ResearchProblem.model_validate(PROBLEM), related, 2)
    first, second = (scripted.prompts[i][-1]["content"] for i in (-2, -1))
    assert (f"Passage {related[0].chunk_id} ") in first and (f"Passage {related[0].chunk_id} ") not in second
    assert (f"Passage {related[1].chunk_id} ") in second


def test_novelty_flags_a_restatement(agent):
    copy = Hypothesis.model_validate(hypothesis(
        "Sliding window attention with global tokens keeps attention cost linear in sequence length for long "
        "documents."))
    fresh = Hypothesis.model_validate(hypothesis("Curriculum over clause types with contrastive pretraining."))
    assert agent.novelty(copy).restates_existing is True
    assert agent.novelty(copy).nearest[0].chunk_id == "2:0"
    low = agent.novelty(fresh)
    assert low.restates_existing is False and low.max_similarity < low.threshold


def test_related_records_round_trip(agent):
    related = agent.related_work(ResearchProblem.model_validate(PROBLEM), 1)
    again = RelatedWork.from_records(related.records())
    assert [p.chunk_id for p in again.passages] == [p.chunk_id for p in related.passages]


def test_long_passages_are_clipped_in_prompts(scripted):
    long = [passage("8:0", 8, "Abstract", "word " * 2000)]
    agent = IdeaAgent(scripted, ListRetriever(long))
    scripted.enqueue({**PROBLEM, "gaps": [{"text": "The whole document is never read.", "chunk_id": "8:0"}]})
    agent.extract_problem(8)
    assert len(scripted.prompts[-1][-1]["content"]) < 2000
