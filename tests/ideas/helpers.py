"""A small in-memory retriever and embedder over a handful of passages, for agent-logic tests.

Real numpy vectors and cosine similarity over bag-of-words counts: good enough to rank passages
deterministically, small enough to read. Page/CLI tests use the real library instead.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from mlr.protocols import Passage

DIM = 256


def _vector(text: str) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    for word in re.findall(r"[a-z]+", text.lower()):
        v[zlib.crc32(word.encode()) % DIM] += 1.0
    norm = np.linalg.norm(v)
    return v / norm if norm else v


class BagEmbedder:
    name, dimension, max_tokens = "bag-of-words", DIM, 512

    def embed(self, texts):
        return np.stack([_vector(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)

    def count_tokens(self, text):
        return len(text.split())


class ListRetriever:
    def __init__(self, passages: list[Passage]):
        self.passages = list(passages)
        self.embedder = BagEmbedder()

    def search(self, query, k=5, *, exclude_paper_ids=(), paper_ids=None):
        pool = [p for p in self.passages if p.paper_id not in exclude_paper_ids
                and (paper_ids is None or p.paper_id in paper_ids)]
        if not pool:
            return []
        sims = self.embedder.embed([p.text for p in pool]) @ _vector(query)
        order = np.argsort(-sims)[:k]
        return [pool[i].model_copy(update={"score": float(sims[i])}) for i in order]

    def get_chunk(self, chunk_id):
        return next((p for p in self.passages if p.chunk_id == chunk_id), None)

    def paper_passages(self, paper_id):
        return [p for p in self.passages if p.paper_id == paper_id]


def passage(chunk_id, paper_id, section, text, page=1):
    return Passage(chunk_id=chunk_id, paper_id=paper_id, file_name=f"p{paper_id}.pdf", title=f"Paper {paper_id}",
                   section=section, page=page, text=text)


def library_passages() -> list[Passage]:
    return [
        passage("1:0", 1, "Abstract", "We classify long legal documents with a transformer encoder; attention cost "
                                      "grows quadratically with document length."),
        passage("1:1", 1, "Method", "Documents are truncated to 512 tokens before classification."),
        passage("1:2", 1, "Limitations", "Truncation discards most of each document, and we only evaluate on "
                                         "English contracts.", page=7),
        passage("2:0", 2, "Method", "Sliding window attention with global tokens keeps attention cost linear in "
                                    "sequence length for long documents."),
        passage("2:1", 2, "Results", "On long document benchmarks sparse attention matches full attention accuracy."),
        passage("3:0", 3, "Introduction", "Multilingual encoders transfer classification skills across languages."),
    ]


PROBLEM = {"task": "Classify long legal documents without truncating them.",
           "gaps": [{"text": "Truncation to 512 tokens discards most of each document.", "chunk_id": "1:2"},
                    {"text": "Only English contracts are evaluated.", "chunk_id": "1:2"}],
           "keywords": ["long documents", "sparse attention", "legal"]}


def hypothesis(method="Use sliding window attention to read whole documents.", cites=(("2:0", 2),)):
    """A hypothesis as the record holds it: citations with their papers."""
    return {"method": method, "rationale": "Linear attention cost removes the need to truncate [2:0].",
            "citations": [{"chunk_id": c, "paper_id": p} for c, p in cites]}


def draft(method="Use sliding window attention to read whole documents.", cites=("2:0",)):
    """A hypothesis as the model writes it: citations are chunk ids."""
    return {"method": method, "rationale": "Linear attention cost removes the need to truncate [2:0].",
            "citations": list(cites)}


PLAN = {"objective": "Test whether reading whole documents improves accuracy.",
        "method": "Sliding window attention encoder.", "experiment_design": ["Train baseline", "Train variant"],
        "dataset": "LEDGAR", "baseline": "Truncated BERT", "primary_metric": "accuracy", "higher_is_better": True,
        "parameters": [{"name": "window", "values": [128, 256], "description": "attention window size"}],
        "compute_budget": "1 GPU for 2 hours"}


WHYS = {"clarity": "Names one concrete attention change.", "validity": "Sparse attention matched full accuracy [2:0].",
        "rigor": "Accuracy against truncated BERT decides it.", "innovativeness": "Applied to contracts for the first time.",
        "generalizability": "Any long-document classifier could use it."}


def review_scores(score=4):
    return {k: {"score": score, "why": why} for k, why in WHYS.items()}
