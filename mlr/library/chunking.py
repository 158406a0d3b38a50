"""Blocks of section text -> chunks that fit the embedding model's input, measured by its own tokenizer.

A chunk longer than the model's maximum is silently truncated when embedded (MiniLM: 256 word
pieces including [CLS] and [SEP]), so the text past the limit would never be searchable. We
tokenise each section once with offsets, cut windows of at most ``max_tokens - specials`` tokens
at a sentence end when one is in the second half of the window (else at a word boundary), and
re-count every chunk with the real tokenizer before accepting it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlr.library.sections import Block

_SENTENCE_END = re.compile(r"[.!?][\"')\]]?$")


@dataclass
class Chunk:
    ordinal: int
    section: str
    page: int
    n_tokens: int
    text: str


def _word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"\S+", text)]


def _spans(embedder, text: str) -> tuple[list[tuple[int, int]], int]:
    """Token character spans (without special tokens) and the token budget of one chunk."""
    if hasattr(embedder, "token_spans"):
        return embedder.token_spans(text), embedder.max_tokens - embedder.n_special
    # No tokenizer available (e.g. Ollama): words stand in for tokens, with a safety margin;
    # every chunk is still re-checked with the embedder's own count below.
    return _word_spans(text), max(16, int(embedder.max_tokens * 0.6))


def _cut(text: str, spans: list[tuple[int, int]], start: int, end: int) -> int:
    """Index of the first token of the next chunk, at most ``end``."""
    if end >= len(spans):
        return len(spans)
    floor = start + max(1, (end - start) // 2)
    for j in range(end, floor, -1):  # a sentence end, with a space after it
        if spans[j][0] > spans[j - 1][1] and _SENTENCE_END.search(text[spans[j - 1][0]:spans[j - 1][1]]):
            return j
    for j in range(end, start, -1):  # else a word boundary (never split a word into pieces)
        if spans[j][0] > spans[j - 1][1]:
            return j
    return end


def _group(blocks: list[Block]) -> list[tuple[str, str, list[tuple[int, int]]]]:
    """Consecutive blocks of one section joined (a subsection starts anew): (section, text, [(char offset, page)])."""
    groups: list[tuple[str, str, list[tuple[int, int]]]] = []
    for b in blocks:
        if groups and groups[-1][0] == b.section and not b.new_passage:
            section, text, marks = groups[-1]
            marks.append((len(text) + 1, b.page))
            groups[-1] = (section, text + " " + b.text, marks)
        else:
            groups.append((b.section, b.text, [(0, b.page)]))
    return groups


def _page_at(marks: list[tuple[int, int]], offset: int) -> int:
    page = marks[0][1]
    for start, p in marks:
        if start <= offset:
            page = p
    return page


def chunk_blocks(blocks: list[Block], embedder) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section, text, marks in _group(blocks):
        spans, budget = _spans(embedder, text)
        i = 0
        while i < len(spans):
            end = _cut(text, spans, i, min(i + budget, len(spans)))
            while True:
                piece = text[spans[i][0]:spans[end - 1][1]].strip()
                n = embedder.count_tokens(piece)
                if n <= embedder.max_tokens or end - i <= 1:
                    break
                # Re-tokenised text came out longer than its slice (rare): shrink to the previous word.
                end = _cut(text, spans, i, end - max(1, (end - i) // 10))
            if piece:
                chunks.append(Chunk(len(chunks), section, _page_at(marks, spans[i][0]), n, piece))
            i = end
    return chunks
