"""The real embedded llama.cpp model (SmolLM2-135M) gives a schema-valid object."""

import pytest
from pydantic import BaseModel, Field

from mlr.llm.embedded import EmbeddedLLM, find_gguf

pytestmark = pytest.mark.slow


class Metrics(BaseModel):
    task: str = Field(max_length=80)
    metrics: list[str] = Field(min_length=1, max_length=3)


def test_gguf_ships_with_the_package():
    assert find_gguf().stat().st_size > 50_000_000


def test_real_embedded_model_returns_a_valid_object():
    llm = EmbeddedLLM(max_tokens=128, retries=2)
    out = llm.structured([
        {"role": "system", "content": "You answer with a JSON object only."},
        {"role": "user", "content": 'Name the task and up to three metrics for spam classification. '
                                    'Schema: {"task": str, "metrics": [str]}'},
    ], Metrics)
    assert isinstance(out, Metrics) and out.metrics
    assert llm.usage.completion_tokens > 0 and llm.usage.seconds > 0
