"""Asking the researcher on a terminal: show a proposed change on stderr, read the answer from stdin."""

from __future__ import annotations

import sys


def ask_yes_no(title: str, diff: str, question: str, *, later: bool = False) -> bool | str | None:
    """``True`` for y/yes, ``False`` for n/no (or an empty answer, unless ``later``), ``None`` at EOF (nobody
    is there) or, with ``later``, for an empty answer or l/later; any other text is a refusal with feedback."""
    err = sys.stderr
    err.write(f"\n{title}\n{diff or '(no diff)'}\n{question}")
    err.flush()
    answer = sys.stdin.readline()
    if not answer:
        return None
    answer = answer.strip()
    if answer.lower() in {"y", "yes"}:
        return True
    if later and answer.lower() in {"", "l", "later"}:
        return None
    if answer.lower() in {"", "n", "no"}:
        return False
    return answer
