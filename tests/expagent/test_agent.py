"""Prototype ranking (real MiniLM), adaptation under a generated schema, edits applied to copies,
and Hugging Face candidates (no network with online sources off)."""

from __future__ import annotations

import json

import nbformat
import pytest

from mlr.agents.experiment_agent import ExperimentAgent, plan_text
from mlr.agents.experiment_schemas import parameters_model
from mlr.agents.hub_candidates import cached, find_candidates
from mlr.execution.parameters import inspect_parameters
from mlr.execution.workbench import NotebookWorkbench
from mlr.llm.scripted import ScriptedLLM

PLAN = {"objective": "Test whether label smoothing improves accuracy of a text classifier on news articles.",
        "method": "Logistic regression over TF-IDF features with a smaller regularisation constant.",
        "dataset": "20 Newsgroups", "baseline": "default C", "primary_metric": "accuracy", "higher_is_better": True,
        "parameters": [{"name": "C", "values": [0.1], "description": "regularisation"}]}
PROTOTYPES = [
    {"name": "image_cnn", "path": "/p/image_cnn.ipynb", "description": "A small convolutional network on CIFAR-10 "
                                                                        "images; writes accuracy and loss."},
    {"name": "text_classifier", "path": "/p/text.ipynb", "description": "TF-IDF features and logistic regression "
                                                                        "for classifying news text documents."},
    {"name": "house_prices", "path": "/p/house.ipynb", "description": "Gradient boosted trees regressing house "
                                                                      "prices from tabular data; writes RMSE."},
]


@pytest.fixture(scope="module")
def minilm():
    from mlr.config import Settings
    from mlr.library import make_embedder

    return make_embedder(Settings())


def _plan_id(store) -> int:
    with store.write() as conn:
        paper = store.add_paper(conn, content_hash="h", file_name="p.pdf", path="/x/p.pdf", title="P", authors=[],
                                year=2024, pages=1, chunks=[], sections=[])
    problem = store.add_problem(paper, {"task": "t", "gaps": [], "keywords": []})
    return store.add_plan(store.add_hypothesis(problem, {"method": "m", "rationale": "r"}), PLAN)


def test_ranking_by_embedding_then_the_models_pick_within_the_closest(minilm, store, settings):
    llm = ScriptedLLM([{"name": "not_a_prototype", "reason": "x"},  # invalid: retried with the error
                       {"name": "text_classifier", "reason": "it classifies news text, as the plan needs"}])
    ranking = ExperimentAgent(llm, None, store, settings, embedder=minilm).rank_prototypes(PLAN, PROTOTYPES)
    assert ranking.ranked[0].name == "text_classifier"
    assert ranking.ranked[0].similarity > ranking.ranked[-1].similarity
    assert (ranking.pick, ranking.picked_by) == ("text_classifier", "llm")
    assert set(llm.schemas[0]["properties"]["name"]["enum"]) == {p["name"] for p in PROTOTYPES}
    assert "not valid" in llm.prompts[1][-1]["content"]


def test_ranking_falls_back_to_similarity_when_the_model_fails(minilm, store, settings):
    llm = ScriptedLLM(default="no json")
    ranking = ExperimentAgent(llm, None, store, settings, embedder=minilm).rank_prototypes(PLAN, PROTOTYPES)
    assert ranking.picked_by == "similarity" and ranking.pick == "text_classifier"
    assert "could not pick" in ranking.reason


def test_ranking_reads_the_engines_prototype_objects(store, settings):
    from mlr.execution.prototypes import list_prototypes

    protos = list_prototypes(settings)
    ranking = ExperimentAgent(None, None, store, settings).rank_prototypes(PLAN, protos, ask_model=False)
    assert {r.name for r in ranking.ranked} == {p.slug for p in protos}


@pytest.fixture
def proto(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Text classifier"),
                nbformat.v4.new_code_cell("C = 1.0  # regularisation\nmax_iter = 100\nmodel_name = 'tfidf'\n"
                                          "use_bias = True\nlayers = [8, 4]"),
                nbformat.v4.new_code_cell("from sklearn.linear_model import LogisticRegression\n"
                                          "clf = LogisticRegression(C=C, max_iter=max_iter)"),
                nbformat.v4.new_code_cell("import json\njson.dump({'accuracy': 0.5}, open('metrics.json', 'w'))")]
    nb.cells[1].metadata["tags"] = ["parameters"]
    path = tmp_path / "text.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_generated_parameter_schema_has_the_notebooks_names_and_types_only(proto):
    model = parameters_model(inspect_parameters(proto))
    schema = model.model_json_schema()
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"C", "max_iter", "model_name", "use_bias", "layers"}
    with pytest.raises(ValueError):
        model.model_validate({"C": 0.1, "dropout": 0.5})
    with pytest.raises(ValueError):
        model.model_validate({"max_iter": "many"})
    assert model.model_validate({"C": 0.1}).C == 0.1


def test_adaptation_validates_retries_and_proposes_edits_as_diffs(proto, store, settings):
    plan_id = _plan_id(store)
    store.add_feedback("keep max_iter at 100", plan_id=plan_id)
    new_cell = ("from sklearn.linear_model import LogisticRegression\n"
                "clf = LogisticRegression(C=C, max_iter=max_iter, class_weight='balanced')")
    llm = ScriptedLLM([
        {"parameters": {"C": 0.1, "dropout": 0.3}, "reason": "r", "edits": []},  # unknown parameter
        {"parameters": {"C": 0.1, "max_iter": 100}, "reason": "smaller C as planned",
         "edits": [{"cell_index": 2, "new_source": new_cell, "explanation": "balance the classes"}]},
    ])
    agent = ExperimentAgent(llm, NotebookWorkbench(), store, settings)
    adaptation = agent.adapt(PLAN, proto, plan_id=plan_id)
    assert adaptation.parameters == {"C": 0.1}  # max_iter equals the default: nothing to override
    assert "dropout" in llm.prompts[1][-1]["content"]  # the validation error went back to the model
    prompt = llm.prompts[0][-1]["content"]
    assert "keep max_iter at 100" in prompt and "C: float = 1.0" in prompt
    assert llm.schemas[0]["$defs"]["CellEdit"]["properties"]["cell_index"]["enum"] == [2, 3]
    (edit,) = adaptation.edits
    assert "+clf = LogisticRegression(C=C, max_iter=max_iter, class_weight='balanced')" in edit.diff
    before = proto.read_bytes()
    unchanged = agent.apply_edits(adaptation, [], plan_id=plan_id)
    edited = agent.apply_edits(adaptation, [0], plan_id=plan_id)
    assert proto.read_bytes() == before
    assert nbformat.read(str(unchanged), 4).cells[2].source == nbformat.read(str(proto), 4).cells[2].source
    assert nbformat.read(str(edited), 4).cells[2].source == new_cell
    assert json.loads((edited.parent / "adaptation.json").read_text())["approved"] == [0]


def test_plan_text_covers_what_the_experiment_is():
    text = plan_text(PLAN)
    assert "20 Newsgroups" in text and "Parameter to vary: C in [0.1]" in text and "Higher is better." in text


class _NoNetwork:
    def __getattr__(self, name):
        raise AssertionError(f"the Hub was called ({name}) with online sources off")


class _FakeHub:
    def __init__(self, fail=False):
        self.fail, self.calls = fail, []

    def list_models(self, **kw):
        self.calls.append(("models", kw))
        if self.fail:
            raise ConnectionError("no route to host")
        return [type("M", (), {"id": "org/bert-tiny", "pipeline_tag": "text-classification", "downloads": 9,
                               "likes": 1, "last_modified": None})()]

    def list_datasets(self, **kw):
        self.calls.append(("datasets", kw))
        return [type("D", (), {"id": "org/news", "downloads": 3, "likes": 0, "last_modified": None})()]


def _fake_cache(root):
    snap = root / "models--org--cached-model" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (root / "models--org--cached-model" / "refs").mkdir()
    (root / "models--org--cached-model" / "refs" / "main").write_text("abc123")
    blob = root / "models--org--cached-model" / "blobs"
    blob.mkdir()
    (blob / "deadbeef").write_text("{}")
    (snap / "config.json").symlink_to(blob / "deadbeef")


def test_offline_candidates_come_from_the_local_cache_without_network(settings, tmp_path, monkeypatch):
    cache = tmp_path / "hf"
    _fake_cache(cache)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    found = cached(cache_dir=str(cache))
    assert [c.repo_id for c in found] == ["org/cached-model"] and found[0].source == "cache"
    assert cached(cache_dir=str(tmp_path / "none")) == []
    result = find_candidates(settings.model_copy(update={"online_sources": False}), api=_NoNetwork())
    assert result.source == "cache" and "online sources are off" in result.note


def test_online_candidates_use_task_filters_and_a_limit(settings):
    online = settings.model_copy(update={"online_sources": True})
    hub = _FakeHub()
    result = find_candidates(online, kind="model", task="text-classification", limit=5, api=hub)
    assert [c.repo_id for c in result.candidates] == ["org/bert-tiny"] and result.source == "hub"
    assert hub.calls[0][1]["pipeline_tag"] == "text-classification" and hub.calls[0][1]["limit"] == 5
    result = find_candidates(online, kind="dataset", task="text-classification", api=hub)
    assert hub.calls[1][1]["filter"] == "task_categories:text-classification"
    failed = find_candidates(online, api=_FakeHub(fail=True))
    assert failed.source == "cache" and "Hub search failed" in failed.note
