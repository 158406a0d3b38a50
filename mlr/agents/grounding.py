"""Grounded candidates, built without a model: what a small model may *choose* among, never write.

- task and gap sentences: real sentences of the paper that carry cue phrases ("we propose", "however",
  "limited", "future work"...), each with the chunk id it comes from;
- keywords: YAKE keyphrases of the paper's text;
- changes: for a paper with a prototype notebook, one candidate per documented alternative value of each
  parameter that does not define the evaluation (never the seed, the split, the folds, the data), e.g.
  ``classifier: 'centroid' -> 'svm_rbf'``; for a paper without one, the keyphrases of related passages.

The prototype arrives as a plain :class:`PrototypeSpec` (the Workspace reads the notebook): agents never
import ``mlr.execution``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from mlr.protocols import Embedder, Passage

TASK_CUES = ("we propose", "we present", "we study", "we introduce", "we investigate", "we address", "we develop",
             "we describe", "this paper", "our goal", "we release", "we measure", " is a ", " implements ")
GAP_CUES = ("however", "limited", "limitation", "future work", "remains", "remain ", "fails to", "only ",
            "not evaluated", "not tested", "not measured", "did not", "do not", "does not", "were not", "unknown",
            "open question", "cannot", "lack", "may not", "leaves open", "left open", "not transfer", "unclear")
TASK_SECTIONS = ("abstract", "introduction", "summary")
GAP_SECTIONS = ("limitation", "future", "conclusion", "discussion")
# Names that define the evaluation (a change to them is not an improvement of the method).
_FIXED_NAMES = re.compile(r"(^|_)(seed|random_state|test|val|valid|validation|holdout|folds?|cv|split|n_samples|"
                          r"dataset|data|path|dir|file|url|root)(_|$)")
_FIXED_HELP = re.compile(r"held[- ]out|test split|validation split|folds|population|split seed", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])|\s[-\u2022*]\s+(?=[A-Z])")
_NOT_BODY = ("front matter", "reference", "bibliograph", "acknowledg", "title")


class Sentence(BaseModel):
    id: str
    text: str
    chunk_id: str
    section: str = ""
    score: float = 0.0


class ProtoParam(BaseModel):
    name: str
    type: str
    default: Any = None
    help: str = ""
    fixed: str | None = None  # why the parameter may not change (the Workspace's integrity rules)


class PrototypeSpec(BaseModel):
    """What the IdeaAgent may know of a paper's prototype notebook (built by the Workspace)."""

    slug: str
    title: str = ""
    description: str = ""
    primary_metric: str | None = None
    higher_is_better: bool = True
    parameters: list[ProtoParam] = Field(default_factory=list)


class Change(BaseModel):
    """One candidate change: a parameter value of the prototype, or an approach from a related passage."""

    id: str
    parameter: str | None = None
    old: Any = None
    new: Any = None
    help: str = ""
    text: str  # what is shown to the model, and the core of the assembled method
    chunk_id: str | None = None  # the related passage an approach comes from
    score: float = 0.0

    @property
    def runnable(self) -> bool:
        return self.parameter is not None


# -- sentences -------------------------------------------------------------------------------------------
def body(passages: list[Passage]) -> list[Passage]:
    """The paper's own text: not its title block, authors or references."""
    return [p for p in passages if not _in(p.section, _NOT_BODY)] or passages


def split_sentences(text: str) -> list[str]:
    text = re.sub(r"\s+", " ", " " + text).strip()
    out = []
    for s in _SENTENCE_END.split(text):
        s = s.strip(" -*")
        if 6 <= len(s.split()) and len(s) <= 400 and sum(c.isalpha() for c in s) > 0.6 * len(s.replace(" ", "")):
            out.append(s)
    return out


def _cues(sentence: str, cues: tuple[str, ...]) -> int:
    low = f" {sentence.lower()} "
    return sum(cue in low for cue in cues)


def _in(section: str, keys: tuple[str, ...]) -> bool:
    return any(k in (section or "").lower() for k in keys)


def _sentences(passages: list[Passage], prefix: str, cues: tuple[str, ...], sections: tuple[str, ...],
               k: int) -> list[Sentence]:
    found, seen = [], set()
    for order, p in enumerate(passages):
        for s in split_sentences(p.text):
            if s in seen:
                continue
            seen.add(s)
            hits = _cues(s, cues)
            bonus = 1.0 if _in(p.section, sections) else 0.0
            found.append((hits + bonus * (hits > 0) + 0.5 * bonus - order * 1e-3, s, p))
    ranked = sorted(found, key=lambda t: t[0], reverse=True)
    cued = [t for t in ranked if t[0] >= 1.0] or ranked  # no cue anywhere: the best-placed sentences stand in
    return [Sentence(id=f"{prefix}{i + 1}", text=s, chunk_id=p.chunk_id, section=p.section or "", score=round(sc, 3))
            for i, (sc, s, p) in enumerate(cued[:k])]


def task_candidates(passages: list[Passage], k: int = 4) -> list[Sentence]:
    passages = body(passages)
    opening = [p for p in passages if _in(p.section, TASK_SECTIONS)] or passages[:3]
    return _sentences(opening, "T", TASK_CUES, TASK_SECTIONS, k)


def gap_candidates(passages: list[Passage], k: int = 6) -> list[Sentence]:
    return _sentences(body(passages), "G", GAP_CUES, GAP_SECTIONS, k)


def keyword_candidates(passages: list[Passage], k: int = 12) -> list[str]:
    """YAKE keyphrases (1-3 words) of the paper's text, best first."""
    import yake

    text = " ".join(p.text for p in body(passages))
    extractor = yake.KeywordExtractor(lan="en", n=3, dedupLim=0.7, top=k * 3)
    out: list[str] = []
    for phrase, _score in extractor.extract_keywords(text):
        phrase = phrase.strip()
        words = phrase.split()
        # "Samuel Osei", "Chen and Guestrin": people (cited or in the title block), not topics
        names = all((w[:1].isupper() and not w.isupper()) or w in ("and", "et", "al") for w in words)
        if (len(phrase) <= 40 and re.search(r"[A-Za-z]{3}", phrase) and not names
                and phrase.lower() not in {o.lower() for o in out}):
            out.append(phrase)
    return out[:k]


# -- changes ---------------------------------------------------------------------------------------------
def is_evaluation(param: ProtoParam) -> bool:
    return bool(param.fixed or _FIXED_NAMES.search(param.name.lower()) or _FIXED_HELP.search(param.help))


def documented_choices(param: ProtoParam, description: str = "") -> list[Any]:
    """Alternative values the notebook documents (help comment, description), else a plain scale."""
    if param.type == "bool":
        return [not param.default]
    clause = re.search(rf"\b{re.escape(param.name)}\b\s*\(([^)]*)\)", description)
    text = param.help + " " + (clause.group(1) if clause else "")
    if param.type == "str":
        return list(dict.fromkeys(m.group(2) for m in re.finditer(r"([\"'])([A-Za-z0-9_.\-]+)\1", text)))
    bare = re.sub(r"\([^)]*\)", " ", param.help)  # "1 (8x8), 2 (4x4) or 4 (2x2)" -> 1, 2, 4
    numbers = [float(n) for n in re.findall(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.])", bare)]
    if param.type == "int":
        values = [int(n) for n in numbers if n == int(n)] or [param.default * 2, max(1, param.default // 2)]
    elif param.type == "float":
        d = float(param.default)
        values = numbers or ([round(d / 2, 3), round((1 + d) / 2, 3)] if 0 < d < 1 else [d * 10, d / 10])
    else:
        return []
    return list(dict.fromkeys(values))


def _requires_other(param: ProtoParam, spec: PrototypeSpec) -> bool:
    """A parameter documented as acting only with another parameter's value the baseline does not use."""
    for other in spec.parameters:
        if other.name == param.name or other.type != "str":
            continue
        values = documented_choices(other, spec.description)
        named = [v for v in values if re.search(rf"\b{re.escape(str(v))}\b", param.help)]
        if named and other.default not in named:
            return True
    return False


def change_candidates(spec: PrototypeSpec) -> list[Change]:
    changes: list[Change] = []
    for p in spec.parameters:
        if is_evaluation(p) or _requires_other(p, spec):
            continue
        for value in documented_choices(p, spec.description):
            if value == p.default:
                continue
            text = f"{p.name}: {p.default!r} -> {value!r}" + (f" ({p.help})" if p.help else "")
            changes.append(Change(id=f"C{len(changes) + 1}", parameter=p.name, old=p.default, new=value,
                                  help=p.help, text=text[:300]))
    return changes


def approach_candidates(related: list[Passage], k: int = 6) -> list[Change]:
    """Without a prototype: the leading keyphrase of each related passage, with the passage it comes from."""
    out: list[Change] = []
    for p in related:
        phrases = keyword_candidates([p], k=1)
        if phrases and phrases[0].lower() not in {c.new.lower() for c in out}:
            out.append(Change(id=f"C{len(out) + 1}", new=phrases[0], chunk_id=p.chunk_id,
                              text=f"{phrases[0]} (from {p.title}, passage {p.chunk_id})"[:300]))
        if len(out) >= k:
            break
    return out


def rank(items: list, texts: list[str], query: str, embedder: Embedder | None) -> list[tuple[Any, float]]:
    """Items by similarity of their texts to ``query`` (embedding cosine, else shared words)."""
    if not items:
        return []
    if embedder is not None:
        vectors = np.asarray(embedder.embed([query, *texts]), dtype=np.float32)
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        sims = (vectors[1:] @ vectors[0]).tolist()
    else:
        q = set(re.findall(r"[a-z]{3,}", query.lower()))
        sims = [len(q & set(re.findall(r"[a-z]{3,}", t.lower()))) / (len(q) or 1) for t in texts]
    return sorted(zip(items, sims), key=lambda pair: pair[1], reverse=True)


def method_text(change: Change, spec: PrototypeSpec | None, gap: str) -> str:
    """The hypothesis' method, assembled from the chosen change (never free-written)."""
    if change.runnable and spec is not None:
        metric = spec.primary_metric or "the primary metric"
        text = (f"Run the prototype with {change.parameter}={change.new!r} instead of the baseline's "
                f"{change.parameter}={change.old!r}, keeping the seed and the test split fixed, and compare {metric}.")
    else:
        text = f"Apply {change.new} (related passage {change.chunk_id}) to the paper's task to address: {gap}"
    return text if len(text) <= 400 else text[:397].rsplit(" ", 1)[0] + "..."
