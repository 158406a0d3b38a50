"""Grounded mode and echo rejection, on the real bundled sample PDFs (real MiniLM, FAISS, SQLite, YAKE)."""

import json

import pytest

from mlr.agents.echo import ECHO_MARK, EchoGuard
from mlr.agents.grounding import change_candidates, gap_candidates, keyword_candidates, task_candidates
from mlr.agents.idea_agent import IdeaAgent, IdeaConfig
from mlr.agents.idea_flow import IdeaRecorder
from mlr.agents.idea_grounded import choice_schema
from mlr.agents.idea_schemas import ProblemDraft
from mlr.config import Settings
from mlr.idea_prototypes import PaperPrototypes
from mlr.llm.errors import StructuredOutputError
from mlr.store import Store

# What `python -m mlr ideas 1 --n 2 --json` stored with the embedded model before this change (issue 13).
SEEN_ECHOES = {"task": "10.2",
               "gaps": [{"text": "3", "chunk_id": None}],
               "keywords": ["problem", "task", "up to three gaps", "down to six keywords"]}
SEEN_METHOD = "one sentence on what to change or try"


@pytest.fixture(scope="module")
def samples(tmp_path_factory, minilm):
    """The three sample papers in a real library; paper ids by folder name."""
    from mlr.library import open_library

    settings = Settings.from_env({}, data_dir=tmp_path_factory.mktemp("samples"))
    settings.ensure_dirs()
    store = Store(settings.db_path)
    library = open_library(settings, store, minilm)
    assert all(r.status == "added" for r in library.add_samples())
    ids = {p.file_name[:-4]: p.id for p in store.list_papers()}
    return settings, store, library, ids


def grounded_agent(llm, samples, mode="grounded"):
    settings, store, library, _ = samples
    return IdeaAgent(llm, library.retriever, embedder=library.embedder, config=IdeaConfig(mode=mode),
                     prototypes=PaperPrototypes(settings, store))


def test_echoes_seen_in_the_issue_are_rejected_and_a_real_answer_passes(samples, scripted):
    settings, store, library, ids = samples
    paper = ids["digit-thumbnails"]
    chunk = store.paper_chunks(paper)[0].id
    echoed = {**SEEN_ECHOES, "gaps": [{"text": "3", "chunk_id": chunk}]}
    guard = EchoGuard.for_prompt(["idea/problem"], ProblemDraft)
    found = " ".join(guard.check(echoed))
    for field in ("task", "gaps.0.text", "keywords.0", "keywords.1", "keywords.2", "keywords.3"):
        assert f"{field}:" in found, (field, found)
    assert "not a sentence" in found and "field name" in found and "instructions" in found
    assert EchoGuard.for_prompt(["idea/hypothesis"], ProblemDraft).problem(SEEN_METHOD, sentence=True)
    # Gemma 3 270M in grounded mode (benchmark run): the instruction inside a longer answer, and the chat markup.
    rationale = EchoGuard.for_prompt(["idea/grounded_hypothesis"], choice_schema("H", {"choice": ["C1"]}, text=("r",)))
    inside = ("One sentence on why that change should help with the gap. rationale: one sentence, in your words, "
              "on why that change should help with the gap.")
    assert "the prompt's instructions" in rationale.problem(inside, sentence=True)
    assert "markup" in rationale.problem("The baseline uses the defaults. <</SYS>> Research task: We measure",
                                         sentence=True)
    assert rationale.problem("Kernel classifiers can separate the thin strokes of 1 and 8.", sentence=True) is None
    real = {"task": "Recognise handwritten digits from 4x4 thumbnails with template matching.",
            "gaps": [{"text": "Only one family of classifier is tested.", "chunk_id": chunk}],
            "keywords": ["template matching", "handwritten digits", "nearest centroid"]}
    assert guard.check(real) == []

    # Through the agent (free mode): every try echoes, so the step fails clearly and stores nothing.
    agent = grounded_agent(scripted, samples, mode="free")
    scripted.enqueue(echoed, echoed, echoed)
    with pytest.raises(StructuredOutputError, match=ECHO_MARK):
        agent.extract_problem(paper)
    assert "echo of the prompt" in scripted.prompts[-1][-1]["content"]  # the retry told the model why
    # An echo on the first try and real content on the retry: the real content is what comes back.
    scripted.enqueue(echoed, real)
    assert agent.extract_problem(paper).task == real["task"]


def test_grounded_candidates_come_from_the_real_sample_pdf(samples):
    settings, store, library, ids = samples
    passages = library.retriever.paper_passages(ids["digit-thumbnails"])
    text_of = {p.chunk_id: p.text for p in passages}
    gaps = gap_candidates(passages)
    assert any("Only one family of classifier is tested" in g.text for g in gaps), [g.text for g in gaps]
    for sentence in gaps + task_candidates(passages):  # each a real sentence of the chunk it names
        assert " ".join(sentence.text.split()[:6]) in " ".join(text_of[sentence.chunk_id].split())
    assert any(t.text.startswith("We study the simplest classifier") for t in task_candidates(passages))
    keywords = [k.lower() for k in keyword_candidates(passages)]
    assert any("template" in k or "centroid" in k for k in keywords), keywords

    spec = PaperPrototypes(settings, store)(ids["digit-thumbnails"])
    changes = {(c.parameter, c.new) for c in change_candidates(spec)}
    assert ("classifier", "svm_rbf") in changes and ("standardize", True) in changes and ("pool", 1) in changes
    assert not {name for name, _ in changes} & {"seed", "test_size"}  # never what defines the evaluation
    screening = {c.parameter for c in change_candidates(PaperPrototypes(settings, store)(ids["imbalanced-screening"]))}
    assert "class_weight_balanced" in screening and not screening & {"seed", "n_samples", "minority_fraction"}


def test_the_grammar_only_allows_candidate_ids(samples, scripted):
    schema = choice_schema("Choice", {"choice": ["C1", "C2"]}, {"gaps": (["G1", "G2", "G3"], 3)})
    js = schema.model_json_schema()
    assert js["properties"]["choice"]["enum"] == ["C1", "C2"]
    assert js["properties"]["gaps"]["items"]["enum"] == ["G1", "G2", "G3"]
    assert schema.model_validate({"choice": "C2", "gaps": ["G3"]}).choice == "C2"
    for bad in ({"choice": "C9", "gaps": ["G1"]}, {"choice": "C1", "gaps": ["G7"]}):
        with pytest.raises(ValueError):
            schema.model_validate(bad)

    # A model that insists on a non-candidate id gets no hypothesis, not an invented change.
    agent = grounded_agent(scripted, samples)
    scripted.enqueue({"task": "T1", "gaps": ["G1"], "keywords": ["K1"]})
    problem = agent.extract_problem(samples[3]["digit-thumbnails"])
    scripted.enqueue(*[{"choice": "C9", "rationale": "Kernels separate thin strokes better."}] * 3,
                     *[{"choice": "C9"}] * 3)
    with pytest.raises(StructuredOutputError, match="C9|Input should be"):
        agent.generate_hypothesis(problem, [], index=0, n=1)


def test_the_real_embedded_backend_answers_only_candidate_ids():
    import llama_cpp  # noqa: F401  (a required dependency: missing it is a failure, never a skip)
    from mlr.llm.embedded import EmbeddedLLM

    llm = EmbeddedLLM(max_tokens=40, retries=0)
    schema = choice_schema("Choice", {"choice": ["C1", "C2", "C3"]})
    messages = [{"role": "user", "content": "Candidates: C1 add dropout, C2 more layers, C3 a bigger batch. "
                                            "Answer with the id of the change you would try, in JSON: "
                                            '{"choice": "C7"}'}]  # the prompt even suggests an id outside the enum
    answer = llm.structured(messages, schema, max_tokens=20)
    assert answer.choice in {"C1", "C2", "C3"}


def test_grounded_phase_on_a_sample_paper_plans_a_runnable_change_without_the_model(samples, scripted):
    settings, store, library, ids = samples
    paper = ids["digit-thumbnails"]
    agent = grounded_agent(scripted, samples)
    scripted.enqueue({"task": "T1", "gaps": ["G1", "G2"], "keywords": ["K1", "K2"]},
                     {"choice": "C1", "rationale": "A kernel classifier can weight the few discriminative cells."},
                     {"choice": "C2", "rationale": "One sentence, in your words, on why that change should help."},  # echo
                     {"choice": "C2", "rationale": "The new approach has proven a game-changer for whole industries."},
                     {"choice": "C2", "rationale": "Full 8x8 resolution keeps the thin strokes that separate the digits."})
    result = IdeaRecorder(agent, store).run_all(paper, n=2)
    assert result["failed"] == [] and scripted.pending == 0
    # problem, two hypotheses (the second retried after an echo and an off-topic rationale); no model for plans
    # and reviews
    assert len(scripted.prompts) == 5
    assert "off topic" in scripted.prompts[-1][-1]["content"]
    problem = result["problem"]
    assert problem["modes"] == {"task": "grounded", "gaps": "grounded", "keywords": "grounded"}
    text = " ".join(" ".join(c.text.split()) for c in store.paper_chunks(paper))
    assert problem["task"] in text and all(g["text"] in text for g in problem["gaps"])
    for h in result["hypotheses"]:
        change = h["change"]
        assert change["parameter"] in {"classifier", "pool", "standardize", "C"}
        assert f"{change['parameter']}={change['new']!r}" in h["method"]
        assert h["modes"]["method"] == "assembled" and h["citations"][0]["paper_id"] == paper
        plan = h["plan"]
        assert plan["parameters"] == [{"name": change["parameter"], "values": [change["new"]],
                                       "description": plan["parameters"][0]["description"]}]
        assert plan["primary_metric"] == "accuracy" and plan["higher_is_better"] is True
        assert set(h["review"]["modes"].values()) == {"evidence"} and h["review"]["rigor"]["score"] == 4
    assert "in your words" not in json.dumps(result)


def test_the_mode_setting_reaches_the_agent(scripted):
    from mlr.agents.idea_agent import effective_mode

    assert IdeaConfig.from_settings(Settings.from_env({"MLR_IDEA_MODE": "grounded"})).mode == "grounded"
    assert IdeaConfig.from_settings(Settings.from_env({})).mode == "auto"
    with pytest.raises(ValueError, match="MLR_IDEA_MODE"):
        Settings.from_env({"MLR_IDEA_MODE": "creative"})
    assert effective_mode("auto", scripted) == "free"  # a capable model writes; grounded is its fallback
    scripted.demo_grade = True
    assert effective_mode("auto", scripted) == "grounded" and effective_mode("free", scripted) == "free"


def test_auto_mode_grounds_a_step_whose_free_answers_keep_echoing(samples, scripted):
    settings, store, library, ids = samples
    agent = grounded_agent(scripted, samples, mode="auto")
    echoed = {**SEEN_ECHOES, "gaps": [{"text": "3", "chunk_id": store.paper_chunks(ids["digit-thumbnails"])[0].id}]}
    scripted.enqueue(echoed, echoed, echoed, {"task": "T1", "gaps": ["G1"], "keywords": ["K1"]})
    problem = agent.extract_problem(ids["digit-thumbnails"])
    assert problem.modes["task"] == "grounded" and problem.task != "10.2"
