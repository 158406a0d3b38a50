import pytest
from pydantic import BaseModel, Field

from mlr.llm import LLMError, ScriptedLLM, StructuredOutputError


class Answer(BaseModel):
    task: str
    keywords: list[str] = Field(max_length=3)


def test_valid_answer_on_first_try_is_counted():
    llm = ScriptedLLM([{"task": "classify digits", "keywords": ["svm"]}])
    out = llm.structured([{"role": "user", "content": "q"}], Answer)
    assert out == Answer(task="classify digits", keywords=["svm"])
    assert llm.usage.structured == 1 and llm.usage.first_try_valid == 1
    assert llm.schemas[0]["title"] == "Answer"


def test_invalid_answer_is_retried_with_the_error():
    llm = ScriptedLLM(["not json at all", {"task": "t", "keywords": ["a", "b", "c", "d"]},
                       '```json\n{"task": "t", "keywords": ["a"]}\n```'])
    out = llm.structured([{"role": "user", "content": "q"}], Answer, retries=2)
    assert out.keywords == ["a"]
    retry_prompt = llm.prompts[2][-1]["content"]
    assert "keywords" in retry_prompt and "not valid" in retry_prompt
    assert llm.usage.first_try_valid == 0 and llm.usage.calls == 3


def test_answer_that_stays_invalid_raises_a_clear_error():
    llm = ScriptedLLM(["{}", "{}", "{}"])
    with pytest.raises(StructuredOutputError) as info:
        llm.structured([{"role": "user", "content": "q"}], Answer, retries=2)
    assert "3 tries" in str(info.value) and "task" in str(info.value)


def test_streaming_reports_tokens_as_they_come():
    llm = ScriptedLLM([{"task": "a long task description", "keywords": []}])
    seen = []
    llm.structured([{"role": "user", "content": "q"}], Answer, on_token=seen.append)
    assert len(seen) > 1 and "".join(seen).startswith("{")


def test_chat_stream_and_exhausted_queue():
    llm = ScriptedLLM(["hello there, researcher"])
    assert "".join(llm.stream([{"role": "user", "content": "hi"}])) == "hello there, researcher"
    with pytest.raises(LLMError):
        llm.chat([{"role": "user", "content": "again"}])


def test_repetition_guard_spots_degenerate_loops():
    from mlr.llm.embedded import is_degenerate

    assert is_degenerate('{"task": "' + "1.1." * 40)
    assert is_degenerate("the " * 30)
    assert not is_degenerate("Thumbnails discard stroke detail, so template matching confuses 4 and 9; "
                             "a kernel method on full-resolution pixels should separate them.")


def test_raw_newlines_inside_strings_are_accepted():
    llm = ScriptedLLM(['{"task": "first line\nsecond line", "keywords": []}'])
    assert llm.structured([{"role": "user", "content": "q"}], Answer).task == "first line\nsecond line"


def test_retries_sample_more_freely():
    seen = []

    class Recording(ScriptedLLM):
        def _generate(self, messages, *, json_schema, stream, max_tokens, temperature):
            seen.append(temperature)
            yield from super()._generate(messages, json_schema=json_schema, stream=stream, max_tokens=max_tokens,
                                         temperature=temperature)

    llm = Recording(["nope", "nope", '{"task": "t", "keywords": []}'], temperature=0.2)
    llm.structured([{"role": "user", "content": "q"}], Answer, retries=2)
    assert seen == sorted(seen) and seen[0] == 0.2 and seen[-1] > seen[0]
