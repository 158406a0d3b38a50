"""What fixers read (an error report and its context) and what they return (a fix or a stop).

``ErrorReport`` and ``Fix`` are defined in ``mlr.protocols`` (the agents read them too).
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from mlr.protocols import ErrorReport, Fix  # noqa: F401  (fixers import both from here)

# Python 3.12+ kernels (and IPython's traceback) append this; 3.11 kernels do not, so fixers
# compute their own suggestion when it is missing.
DID_YOU_MEAN = re.compile(r"Did you mean:? '?([\w.]+)'?\??")


@dataclass
class FixContext:
    """Where a fixer may look: the notebook version that failed and the folders paths resolve against."""

    notebook: Path
    search_roots: list[Path] = field(default_factory=list)
    notebook_code: str = ""  # every code cell, for candidate names and keys


def parameter_fix(report: ErrorReport, fixer: str, bad, good, explanation: str) -> Fix | None:
    """When the bad value is a parameter's value, change that parameter rather than the code.

    ``explanation`` says what is wrong and what is proposed; the parameter's name is appended.
    """
    for name, value in report.parameters.items():
        if value == bad:
            return Fix(action="parameters", fixer=fixer, parameters={**report.parameters, name: good},
                       explanation=f"{explanation} (parameter `{name}`).")
    return None


def names_in(code: str) -> set[str]:
    """Identifiers used anywhere in ``code`` (tokenizer-based; tolerates broken code)."""
    out: set[str] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                out.add(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        out.update(w for w in re.findall(r"[A-Za-z_]\w*", code) if not keyword.iskeyword(w))
    return out


def replace_name(source: str, old: str, new: str, *, attribute_only: bool = False) -> str:
    """Replace identifier tokens ``old`` by ``new`` (not inside strings or longer names).

    ``attribute_only`` replaces only ``.old`` (an attribute access), leaving variables alone.
    """
    pattern = (r"(?<=\.)" if attribute_only else r"(?<![\w.])") + re.escape(old) + r"\b"
    out, pos = [], 0
    for start, end in _code_spans(source):
        out.append(source[pos:start])
        out.append(re.sub(pattern, lambda _m: new, source[start:end]))
        pos = end
    out.append(source[pos:])
    return "".join(out)


def replace_string_literal(source: str, old: str, new: str) -> str:
    """Replace the quoted literal ``'old'`` / ``"old"`` (exact content) by ``new``, keeping the quotes."""
    return re.sub(r"""(['"])""" + re.escape(old) + r"\1", lambda m: m.group(1) + new + m.group(1), source)


def _code_spans(source: str) -> list[tuple[int, int]]:
    """Spans of ``source`` outside string literals and comments (a cheap scanner, good enough for cells)."""
    spans, i, start, n = [], 0, 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "#":
            spans.append((start, i))
            i = source.find("\n", i)
            i = n if i < 0 else i
            start = i
        elif ch in "'\"":
            spans.append((start, i))
            quote = source[i:i + 3] if source[i:i + 3] in ("'''", '"""') else ch
            j = i + len(quote)
            while j < n and source[j:j + len(quote)] != quote:
                j += 2 if source[j] == "\\" else 1
            i = min(n, j + len(quote))
            start = i
        else:
            i += 1
    spans.append((start, n))
    return [(a, b) for a, b in spans if b > a]


def distance(a: str, b: str) -> int:
    """Edit cost in CPython's suggestion units: 2 per insert, delete, substitution or adjacent swap,
    1 for a case-only substitution (a swap is one typo, so it costs like one)."""
    rows = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        rows[i][0] = 2 * i
    for j in range(len(b) + 1):
        rows[0][j] = 2 * j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            ca, cb = a[i - 1], b[j - 1]
            sub = 0 if ca == cb else 1 if ca.lower() == cb.lower() else 2
            rows[i][j] = min(rows[i - 1][j] + 2, rows[i][j - 1] + 2, rows[i - 1][j - 1] + sub)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 2)
    return rows[-1][-1]


def closest(name: str, candidates, *, preferred: set[str] = frozenset()) -> str | None:
    """The candidate nearest to ``name`` within CPython's own suggestion bound
    (``(len(a) + len(b) + 3) * 2 // 6``), so we suggest what Python 3.12 would have.

    Ties go to ``preferred`` names (those the notebook itself defines), then to the shorter one.
    """
    best: tuple | None = None
    for cand in set(candidates):
        if cand == name or not cand:
            continue
        bound = (len(name) + len(cand) + 3) * 2 // 6
        if abs(len(cand) - len(name)) * 2 > bound:
            continue
        d = distance(name, cand)
        if d > bound:
            continue
        key = (d, cand not in preferred, len(cand), cand)
        if best is None or key < best:
            best = key
    return best[-1] if best else None


def typo_like(wrong: str, meant: str) -> bool:
    """Whether ``meant`` could be what a typo of ``wrong`` was: every snake_case word that differs must still share
    most of its letters (``most_comon`` → ``most_common``), not be another word (``plot_confusion_matrix`` is not a
    typo of ``pair_confusion_matrix``: the first was removed from scikit-learn; the second is another metric)."""
    from difflib import SequenceMatcher

    a, b = wrong.lower().split("_"), meant.lower().split("_")
    if len(a) != len(b):
        return True  # a word added, dropped or joined: the length bound of `closest` decides
    return all(x == y or SequenceMatcher(None, x, y).ratio() >= 0.5 for x, y in zip(a, b, strict=True))


def suggestion_in(report: ErrorReport) -> str | None:
    """Python's own "Did you mean" suggestion, when the kernel printed one."""
    for text in (report.evalue, report.traceback[-2000:]):
        m = DID_YOU_MEAN.search(text)
        if m:
            return m.group(1)
    return None
