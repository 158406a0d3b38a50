"""The real embedded model (SmolLM2-135M via llama.cpp) over a bundled sample paper, end to end.

Slow (a few minutes on two cores): problem, related work, one hypothesis, its plan and review, all
through the real library and record; every object must validate against the agent's schemas and
every citation must name a passage that exists. Demo-grade content is expected; invalid is not.
"""

import pytest

from mlr.agents.idea_agent import IdeaAgent, IdeaConfig
from mlr.agents.idea_flow import IdeaRecorder
from mlr.agents.idea_schemas import ExperimentPlan, Hypothesis, HypothesisReview, ResearchProblem
from mlr.protocols import Passage

pytestmark = pytest.mark.slow


def test_embedded_model_runs_the_whole_phase(settings, store, minilm, capsys):
    import llama_cpp  # noqa: F401  (a required dependency: missing it is a failure, never a skip)
    from mlr.library import open_library
    from mlr.llm.embedded import EmbeddedLLM

    library = open_library(settings, store, minilm)
    added = library.add_samples()
    assert all(r.status == "added" for r in added), added
    llm = EmbeddedLLM(n_ctx=settings.embedded_ctx, max_tokens=settings.embedded_max_tokens,
                      retries=settings.llm_retries, temperature=settings.llm_temperature)
    # The model is shared by the process: pin its sampler so earlier tests do not change this run.
    llm._llama().set_seed(0)
    agent = IdeaAgent(llm, library.retriever, embedder=minilm, config=IdeaConfig.from_settings(settings))
    result = IdeaRecorder(agent, store).run_all(1, n=1)

    problem = ResearchProblem.model_validate(result["problem"])
    own = {p.chunk_id for p in library.retriever.paper_passages(1)}
    assert all(g.chunk_id in own for g in problem.gaps)
    assert result["related"] and all(Passage.model_validate({k: v for k, v in r.items() if k != "source"}).paper_id != 1
                                     for r in result["related"])
    (h,) = result["hypotheses"]
    hypothesis = Hypothesis.model_validate({k: h[k] for k in ("method", "rationale", "citations")})
    for c in hypothesis.citations:
        assert library.retriever.get_chunk(c.chunk_id).paper_id == c.paper_id
    ExperimentPlan.model_validate(h["plan"])
    review = HypothesisReview.model_validate(h["review"])
    assert review.novelty.nearest and 0 <= review.novelty.max_similarity <= 1.0001
    # Stored as produced, and labelled with the demo model that wrote it.
    assert "demo-grade" in store.problems_for_paper(1)[0].generated_by
    assert store.plan_for_hypothesis(h["id"]).generated_by.endswith("demo-grade")
    with capsys.disabled():
        print(f"\nembedded model usage: {llm.usage.as_dict()}")
