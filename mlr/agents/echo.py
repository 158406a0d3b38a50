"""Echo detection: a field that repeats the prompt, the schema, the worked example or its own name is not content.

Tiny models under a JSON grammar fill a field with the text nearest to it: the instruction ("one sentence on
what to change or try"), the schema's description, the example's content, or the field's name ("task",
"keywords"). The placeholder checks of ``idea_schemas`` let those through, so every answer the IdeaAgent
stores also passes an :class:`EchoGuard` built from the very prompt and schema it was asked with. An echo is
a validation error: the structured-output retry sees it, and after the last retry the step fails with a
clear message; an echo is never stored as content.
"""

from __future__ import annotations

import json
import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache

from pydantic import BaseModel, create_model, model_validator

from mlr.agents.prompts import PROMPTS_DIR

# Fields that hold ids or fixed-form values, never prose.
_NOT_PROSE = {"chunk_id", "citations", "compute_budget", "choice", "task_id", "gap_ids", "keyword_ids"}
# Fields where a sentence is required (not "10.2", not "3").
SENTENCE_FIELDS = {"task", "text", "method", "rationale", "objective"}
_JINJA = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
ECHO_MARK = "not content, an echo of the prompt"
_SEGMENTS = re.compile(r"(?<=[.!?])\s+|\n+|[:;]\s+")
_MARKUP = re.compile(r"<</?SYS>>|\[/?INST\]|<\|im_(start|end)\|>|<(start|end)_of_turn>|<\|(system|user|assistant)\|>")


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).lower().replace("_", " ")
    return " ".join(re.findall(r"[a-z0-9]+", text))


def is_sentence(text: str) -> bool:
    """Two words or more, two of them alphabetic, mostly letters: '10.2', '3', 'Gaps: 2' are not."""
    words = text.split()
    alpha = [w for w in words if re.search(r"[A-Za-z]{2,}", w)]
    letters = sum(c.isalpha() for c in text)
    return len(words) >= 2 and len(alpha) >= 2 and letters >= 0.5 * len(text.replace(" ", ""))


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@lru_cache(maxsize=64)
def _template_text(name: str) -> tuple[str, tuple[str, ...]]:
    """The template's own words (its instructions, without the variables) and the example's strings."""
    source = (PROMPTS_DIR / f"{name}.j2").read_text(encoding="utf-8")
    example_path = PROMPTS_DIR / f"{name}.example.json"
    example = json.loads(example_path.read_text(encoding="utf-8")) if example_path.exists() else {}
    return _JINJA.sub(" ", source), tuple(s for s in _strings(example) if len(s.split()) >= 2)


def _schema_words(schema: type[BaseModel]) -> tuple[list[str], set[str]]:
    """Descriptions and names (fields, models) anywhere in the JSON schema."""
    descriptions, names = [], set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    names.update(value)
                elif key == "description" and isinstance(value, str):
                    descriptions.append(value)
                elif key == "title" and isinstance(value, str):
                    names.add(_CAMEL.sub(" ", value))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schema.model_json_schema())
    return descriptions, names


class EchoGuard:
    """Knows the words a model was given to follow (not the content it was given to read)."""

    def __init__(self, instructions: list[str], names: set[str], examples: list[str] = ()):
        self.instructions = [norm(i) for i in instructions if norm(i)]
        self.words = " ".join(self.instructions).split()
        self.joined = " " + " ".join(self.instructions) + " "
        self.names = {norm(n) for n in names if norm(n)}
        self.names |= {n[:-1] for n in self.names if n.endswith("s")}  # "gaps" -> "gap"
        self.examples = [norm(e) for e in examples if norm(e)]

    @classmethod
    def for_prompt(cls, templates: list[str], schema: type[BaseModel], extra: list[str] = ()) -> EchoGuard:
        instructions, examples = list(extra), []
        for name in ["idea/system", *templates]:
            text, example = _template_text(name)
            instructions.append(text)
            examples.extend(example)
        descriptions, names = _schema_words(schema)
        names |= {t.rsplit("/", 1)[-1].replace("_", " ") for t in templates}
        return cls(instructions + descriptions, names, examples)

    def problem(self, value: str, *, sentence: bool = False) -> str | None:
        """Why ``value`` is not content, or None when it is."""
        v = norm(value)
        if not v:
            return None
        if v in self.names:
            return "repeats a field name of the schema"
        words = v.split()
        if len(words) >= 2 and f" {v} " in self.joined:
            return "repeats the prompt's instructions"
        if len(words) >= 3 and self._near_instruction(words):
            return "paraphrases the prompt's instructions"
        # A sentence copied from the worked example; a short keyword may coincide with one (same field of study).
        for example in self.examples:
            if len(words) >= 4 and (f" {v} " in f" {example} " or _ratio(v, example) >= 0.85):
                return "copies the prompt's worked example"
        if sentence and not is_sentence(value):
            return "is not a sentence"
        if _MARKUP.search(value):
            return "carries the chat template's markup"
        # An instruction inside a longer answer ("Good idea. rationale: one sentence, in your words, on why...").
        for segment in _SEGMENTS.split(value):
            part = norm(segment).split()
            if len(part) >= 4 and part != words and (f" {' '.join(part)} " in self.joined
                                                     or self._near_instruction(part)):
                return "repeats the prompt's instructions"
        return None

    def _near_instruction(self, words: list[str]) -> bool:
        v = " ".join(words)
        n, mine = len(words), set(words)
        matcher = SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(v)
        for size in {max(2, n - 1), n, n + 1}:
            for start in range(0, max(1, len(self.words) - size + 1)):
                window = self.words[start:start + size]
                if len(mine.intersection(window)) * 2 < n:  # cheap filter: most words must be shared
                    continue
                matcher.set_seq1(" ".join(window))
                if matcher.quick_ratio() >= 0.8 and matcher.ratio() >= 0.8:
                    return True
        return False

    def check(self, data: dict) -> list[str]:
        """Every echo in an answer (walked recursively), as 'field: reason (value)'."""
        found: list[str] = []

        def walk(value, key: str, path: str):
            if key in _NOT_PROSE:
                return
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(v, k, f"{path}.{k}" if path else k)
            elif isinstance(value, list):
                for i, v in enumerate(value):
                    walk(v, key, f"{path}.{i}")
            elif isinstance(value, str):
                reason = self.problem(value, sentence=key in SENTENCE_FIELDS)
                if reason:
                    found.append(f"{path}: {reason} ({value[:60]!r})")

        walk(data, "", "")
        return found


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def guarded(schema: type[BaseModel], guard: EchoGuard) -> type[BaseModel]:
    """``schema`` whose validation also rejects echoes, so they go back to the model like any invalid answer."""
    def no_echo(self):
        echoes = guard.check(self.model_dump())
        if echoes:
            raise ValueError(ECHO_MARK + ": " + "; ".join(echoes[:4])
                             + ". Write what the passages say, in your own sentence.")
        return self

    return create_model(schema.__name__, __base__=schema,
                        __validators__={"no_echo": model_validator(mode="after")(no_echo)})
