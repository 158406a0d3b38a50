"""A paper's reference list: kept readable, never ranked.

The references section is cut out of the passages (its author names and venues would match every
query), but a researcher reading a passage that cites "[12]" or "(Efron et al., 2004)" should be able to
see what it cites. ``entries`` splits the section's lines into one string per reference; ``resolve``
finds the entry a citation marker points to. The entries are kept with the paper (``meta["references"]``).
"""

from __future__ import annotations

import re

MAX_ENTRIES = 500
MAX_CHARS = 1000

_NUMBERED = re.compile(r"^\s*\[(\d{1,3})\]\s*")
# "Efron, B.", "LeCun, Y.", "van der Maaten, L.": a surname, a comma, initials: an author-year entry begins.
_AUTHOR_START = re.compile(r"^(?:[a-z]{1,3}\s)*[A-Z][\w'\-]+(?:\s[A-Z][\w'\-]+)?,\s(?:[A-Z]\.\s?)+")


def entries(lines: list[str]) -> list[str]:
    """One string per reference, from the section's lines (numbered "[n]" or author-year)."""
    lines = [ln.strip() for ln in lines if ln.strip()]
    numbered = sum(bool(_NUMBERED.match(ln)) for ln in lines) >= max(1, len(lines) // 6)
    out: list[str] = []
    for ln in lines:
        starts = _NUMBERED.match(ln) if numbered else _AUTHOR_START.match(ln)
        if starts or not out:
            out.append(ln)
        else:
            out[-1] = (out[-1][:-1] + ln) if out[-1].endswith("-") and ln[:1].islower() else f"{out[-1]} {ln}"
    return [e[:MAX_CHARS] for e in out[:MAX_ENTRIES]]


def resolve(refs: list[str], marker: str) -> str | None:
    """The entry a citation points to: "[12]" / "12" by number, "(Efron et al., 2004)" by surname and year."""
    marker = marker.strip()
    number = re.fullmatch(r"\[?(\d{1,3})\]?", marker)
    if number:
        n = number.group(1)
        for entry in refs:
            m = _NUMBERED.match(entry)
            if m and m.group(1) == n:
                return entry
        i = int(n) - 1  # entries without their own numbers: the n-th
        return refs[i] if 0 <= i < len(refs) and not any(_NUMBERED.match(e) for e in refs) else None
    year = re.search(r"(19|20)\d{2}[a-z]?", marker)
    names = [w for w in re.findall(r"[A-Z][\w'\-]+", marker) if w not in {"In", "See", "Also"}]
    if not names:
        return None
    for entry in refs:
        head = entry[:120]
        if names[0] in head and (year is None or year.group(0) in entry):
            return entry
    return None
