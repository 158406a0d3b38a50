"""Who wrote a text of the record: read from ``generated_by`` and the notes the versions were saved with.

A version's note says how it came to be: ``generated``/``regenerated`` (the model of ``generated_by``),
``edited`` or ``restored vN`` (the researcher), ``draft: refined by experiment loop N`` (the program, from
the loop's measurements).
"""

from __future__ import annotations

from mlr.report.model import Written


def by_note(note: str, generated_by: str, when: str = "") -> Written:
    """Who wrote a version saved with ``note``; ``generated_by``: the model the record names for the row."""
    text = (note or "").strip()
    if text in ("generated", "regenerated"):
        return Written(by="model", model=generated_by, when=when, note=text)
    if text.startswith(("draft: refined", "refined")):
        return Written(by="program", when=when, note=text)
    if text.startswith(("edited", "restored")):
        return Written(by="researcher", when=when, note=text)
    return Written(by="unknown", when=when, note=text)


def generated(generated_by: str, when: str = "") -> Written:
    """A row the record keeps no versions of: its ``generated_by`` names the model, if any."""
    return Written(by="model", model=generated_by, when=when) if generated_by else Written(when=when)
