"""Prompt templates: Jinja2 files under ``prompts/``, rendered with ``StrictUndefined``.

Every ``<name>.j2`` has a sibling ``<name>.example.json`` holding a context it renders with;
one test renders them all, so a template and its callers cannot drift apart silently.
Templates may include the shared ``_*.j2`` partials.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import jinja2

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS_DIR),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # prompts are plain text, not HTML
    )


def render(name: str, **context) -> str:
    """Render ``prompts/<name>.j2``; a missing variable raises ``jinja2.UndefinedError``."""
    return _env().get_template(f"{name}.j2").render(**context).strip()


def template_names() -> list[str]:
    return sorted(str(p.relative_to(PROMPTS_DIR))[:-3] for p in PROMPTS_DIR.rglob("*.j2")
                  if not p.name.startswith("_"))


def example_context(name: str) -> dict:
    return json.loads((PROMPTS_DIR / f"{name}.example.json").read_text(encoding="utf-8"))
