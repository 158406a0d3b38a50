"""Every prompt template renders with its example context under StrictUndefined."""

import pytest

from mlr.agents import prompts

NAMES = prompts.template_names()


def test_there_are_templates():
    assert NAMES, "no prompt templates found"


@pytest.mark.parametrize("name", NAMES)
def test_template_renders_with_its_example(name):
    text = prompts.render(name, **prompts.example_context(name))
    assert text.strip()
    assert "{{" not in text and "{%" not in text
