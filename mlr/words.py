"""Words for people: relative times ("2 min ago"), passages cited as "Paper title, section, page N", and
parameters or metrics as rows of a table rather than JSON. Pure functions, shared by pages and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def parse_time(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def ago(stamp: str | None, now: datetime | None = None) -> str:
    """``stamp`` (ISO 8601) relative to ``now``: "just now", "2 min ago", "3 h ago", "yesterday", "5 days ago",
    else the date; "" when there is no time."""
    moment = parse_time(stamp)
    if moment is None:
        return ""
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    if days == 1:
        return "yesterday"
    return f"{days} days ago" if days < 30 else moment.strftime("%Y-%m-%d")


def exact(stamp: str | None) -> str:
    """The absolute time, for a hover: "2026-11-30 07:12 UTC"."""
    moment = parse_time(stamp)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def cite(chunk: Any | None, chunk_id: str = "") -> str:
    """A passage as people cite it: "Paper title, section, page N" (``chunk``: a ``Chunk`` record or ``None``)."""
    if chunk is None:
        return f"a passage no longer in the library ({chunk_id})" if chunk_id else "an unknown passage"
    title = chunk.title or chunk.file_name or f"paper {chunk.paper_id}"
    parts = [title] + ([chunk.section] if chunk.section else []) + [f"page {chunk.page}"]
    return ", ".join(parts)


def plural(n: int, word: str, words: str | None = None) -> str:
    """ "1 version", "3 versions"."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value, default=str)


def rows(mapping: dict[str, Any] | None, name: str = "name", value: str = "value") -> list[dict[str, str]]:
    """A mapping as table rows (one per key), values written as people read them."""
    return [{name: key, value: _cell(val)} for key, val in (mapping or {}).items()]


def inline(mapping: dict[str, Any] | None) -> str:
    """A mapping on one line: "pool = 1, classifier = svm_rbf"."""
    return ", ".join(f"{key} = {_cell(val)}" for key, val in (mapping or {}).items())


# -- background work -------------------------------------------------------------------------------------------
STAGES = {"queued": "waiting", "starting": "starting", "parse": "reading", "chunk": "splitting into passages",
          "embed": "embedding", "index": "indexing", "done": "done"}
"""Stage keys the library's jobs report (``mlr.library``), as words."""


def stage(key: str | None) -> str:
    """A job's stage as words: "parse" → "reading"; "paper 2: embed" → "paper 2: embedding"; unknown keys as is."""
    if not key:
        return ""
    head, sep, tail = key.rpartition(": ")
    if sep:
        return f"{head}: {STAGES.get(tail, tail)}"
    return STAGES.get(key, key)


def attempt(number: int, of: int) -> str:
    """ "attempt 2 of 3" (a model's answer being tried again); "" for the first try."""
    return f"attempt {number} of {of}" if number > 1 else ""


# What each structured answer the agents ask for is, for a sentence ("a usable hypothesis").
SCHEMA_THINGS = {"ResearchProblem": "research problem", "ProblemDraft": "research problem", "Hypothesis": "hypothesis",
                 "PlanOutline": "plan", "PlanSetup": "plan", "ExperimentPlan": "plan", "Review": "review"}


def thing(schema_name: str | None, default: str = "answer") -> str:
    """The word for a schema's answer: "Hypothesis…" → "hypothesis"; unknown names give ``default``."""
    name = schema_name or ""
    return next((word for key, word in SCHEMA_THINGS.items() if name.startswith(key)), default)


def model_failure(what: str, tries: int | None = None) -> str:
    """ "The model could not produce a usable hypothesis (3 tries). Try again, or use a larger model (Ollama)." """
    counted = f" ({plural(tries, 'try', 'tries')})" if tries else ""
    return f"The model could not produce a usable {what}{counted}. Try again, or use a larger model (Ollama)."


# -- where the researcher is on the Ideas page ----------------------------------------------------------------
IDEA_STEPS = ("Problem", "Related work", "Hypotheses", "Plans")


def ideas_step(has_problem: bool, has_related: bool, hypotheses: int) -> int:
    """The Ideas page's current step (1-4): the first one not done yet; plans once there are hypotheses."""
    if not has_problem:
        return 1
    if hypotheses:
        return 4
    return 3 if has_related else 2


def steps_line(current: int) -> str:
    """ "✓ 1 Problem → **2 Related work** → 3 Hypotheses → 4 Plans" as Markdown: done, current (bold), to come."""
    def shown(number: int, name: str) -> str:
        if number < current:
            return f":green[✓ {number} {name}]"
        if number == current:
            return f"**:blue[{number} {name}]**"
        return f":gray[{number} {name}]"

    return " → ".join(shown(number, name) for number, name in enumerate(IDEA_STEPS, 1))
