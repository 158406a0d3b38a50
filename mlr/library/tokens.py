"""Words for the keyword index: a tokeniser that keeps numbers, model names and symbols whole.

A researcher asks for exact things: ``lr 0.001``, ``7B``, ``MID-70``, ``F1``, ``GPT-3.5``. A
tokeniser that splits on punctuation turns ``0.001`` into ``0`` and ``001`` and ``MID-70`` into two
common pieces, and the keyword ranker then finds everything or nothing. Here a token is a run of
letters/digits joined by ``. - _ / +`` (NFKC-normalised, lower-cased): ``0.001``, ``mid-70``,
``gpt-3.5``, ``n_estimators``, ``7b``, ``f1``. A compound that is not a plain number is also
indexed by its parts (``mid-70`` → ``mid``, ``70``), so ``MID 70`` finds it too. Plain words are
stemmed (Snowball English, PyStemmer) and English stop words dropped; numbers are never stemmed.

``VERSION`` changes whenever the rules change: a keyword index tokenised under another version is
rebuilt from the record's text (no re-embedding needed).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

VERSION = 1
MAX_TOKEN_CHARS = 40  # longer runs are URLs, hashes or extraction noise

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_TOKEN = re.compile(r"[^\W_]+(?:[.\-_/+][^\W_]+)*")
_JOINERS = re.compile(r"[.\-_/+]")
_PARTS = re.compile(r"[\-_/+]|(?<!\d)\.|\.(?!\d)")  # a decimal point stays inside its number
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_WORD = re.compile(r"[^\W\d_]+")

STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not of off on once
only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves also et al via using used use
""".split())  # noqa: SIM905 - a word list reads better as text


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def exact_terms(text: str) -> set[str]:
    """The whole tokens of ``text`` that name exact facts, with a digit or a joiner (``7b``, ``0.001``, ``mid-70``,
    ``f1``); not the parts of a compound (``70`` of ``mid-70``)."""
    text = _THOUSANDS.sub("", unicodedata.normalize("NFKC", text or "").lower())
    return {t for t in (m.group(0) for m in _TOKEN.finditer(text))
            if len(t) <= MAX_TOKEN_CHARS and (any(c.isdigit() for c in t) or _JOINERS.search(t))}


def tokenize(text: str) -> list[str]:
    """The keyword tokens of ``text`` (documents and queries alike)."""
    text = _THOUSANDS.sub("", unicodedata.normalize("NFKC", text or "").lower())
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if len(token) > MAX_TOKEN_CHARS or token in STOP_WORDS:
            continue
        if _WORD.fullmatch(token):
            out.append(_stem(token))
            continue
        out.append(token)
        if _NUMBER.fullmatch(token) or not _JOINERS.search(token):
            continue  # 0.001, 7b, f1: whole only
        for part in _PARTS.split(token):
            if (len(part) > 1 or part.isdigit()) and part not in STOP_WORDS:
                out.append(_stem(part) if _WORD.fullmatch(part) else part)
    return out
