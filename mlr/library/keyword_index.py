"""The keyword (BM25) index of the library, beside the FAISS index and under the same ids and lock.

Dense MiniLM similarity misses exact facts (a learning rate, "100 estimators", "7B"); BM25 over
tokens that keep numbers and model names whole (:mod:`mlr.library.tokens`) finds them. Scoring is
``bm25s`` (Lucene BM25); what we own is the id mapping and persistence, as for FAISS: every passage
is keyed by its chunk's ``vector_id``, so the two indexes and the record agree on one set of ids.

On disk: ``keyword.npz``, one file written atomically (temporary file + rename, ``mlr.atomic``),
holding the tokenised passages (ids, token ids, vocabulary) and the tokeniser version. bm25s has no
incremental add or delete (its scores depend on corpus-wide statistics), so the scorer is rebuilt
in memory from the tokens on the first search after a change (~7 s at 100k passages on 2 cores,
milliseconds at library sizes; a query then takes well under a millisecond of scoring).

Writes happen under the library's inter-process lock (``VectorIndex.lock``), in the same order as
the vectors: added before the record's rows are committed, removed after they are deleted. The
tokens are derived from the record's text, so unlike vectors a missing, stale or damaged keyword
index is repaired from the record without re-embedding (``Library.reconcile``).
"""

from __future__ import annotations

import io
import json
import logging
import threading
from pathlib import Path

import numpy as np

from mlr.atomic import atomic_path
from mlr.library import tokens as tokeniser

log = logging.getLogger(__name__)

KEYWORD_FILE = "keyword.npz"
FORMAT = 1


class KeywordIndexDamaged(Exception):
    """The keyword file cannot be read (truncated, garbage, another format or tokeniser)."""


class KeywordIndex:
    def __init__(self, directory: Path):
        self.dir = Path(directory)
        self.path = self.dir / KEYWORD_FILE
        self.mutex = threading.RLock()
        self._docs: dict[int, np.ndarray] = {}   # vector id -> token ids (int32)
        self._vocab: dict[str, int] = {}
        self._scorer = None                      # bm25s.BM25 over ``_order``; None when stale
        self._order: np.ndarray = np.zeros(0, dtype=np.int64)
        self._stamp: tuple | None = None

    # -- state on disk ---------------------------------------------------------------------------
    def _file_stamp(self) -> tuple | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> None:
        """Read the file (a missing file is an empty index); raises ``KeywordIndexDamaged``."""
        with self.mutex:
            stamp = self._file_stamp()
            docs: dict[int, np.ndarray] = {}
            vocab: dict[str, int] = {}
            if stamp is not None:
                try:
                    with np.load(self.path, allow_pickle=False) as z:
                        if int(z["format"]) != FORMAT or int(z["tokenizer"]) != tokeniser.VERSION:
                            raise KeywordIndexDamaged(f"{self.path.name} was written by another format or tokeniser")
                        words = json.loads(bytes(z["vocab"]).decode("utf-8"))
                        ids, offsets, flat = z["ids"], z["offsets"], z["tokens"]
                        if len(offsets) != len(ids) + 1 or (len(ids) and int(offsets[-1]) != len(flat)):
                            raise KeywordIndexDamaged(f"{self.path.name} is inconsistent")
                        docs = {int(i): flat[offsets[j]:offsets[j + 1]].astype(np.int32)
                                for j, i in enumerate(ids.tolist())}
                        vocab = {w: n for n, w in enumerate(words)}
                except KeywordIndexDamaged:
                    raise
                except Exception as exc:  # zipfile.BadZipFile, EOFError, KeyError, ValueError, OSError...
                    raise KeywordIndexDamaged(f"{self.path.name} cannot be read ({type(exc).__name__}: {exc})") \
                        from exc
            self._docs, self._vocab, self._stamp = docs, vocab, stamp
            self._scorer = None

    def refresh(self) -> None:
        """Reload when another process replaced the file since we read it."""
        if self._file_stamp() != self._stamp:
            self.load()

    def save(self) -> None:
        """Write the tokens atomically. Caller holds the library lock."""
        with self.mutex:
            ids = np.fromiter(self._docs.keys(), dtype=np.int64, count=len(self._docs))
            lengths = np.fromiter((len(v) for v in self._docs.values()), dtype=np.int64, count=len(self._docs))
            offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
            flat = np.concatenate(list(self._docs.values())) if self._docs else np.zeros(0, dtype=np.int32)
            words = [None] * len(self._vocab)
            for w, n in self._vocab.items():
                words[n] = w
            buf = io.BytesIO()
            np.savez(buf, format=np.int64(FORMAT), tokenizer=np.int64(tokeniser.VERSION), ids=ids, offsets=offsets,
                     tokens=flat.astype(np.int32),
                     vocab=np.frombuffer(json.dumps(words).encode("utf-8"), dtype=np.uint8))
            with atomic_path(self.path) as tmp:
                tmp.write_bytes(buf.getvalue())
            self._stamp = self._file_stamp()

    def remove_stale_temp(self) -> int:
        """Temporary files a killed writer left. Caller holds the library lock."""
        stale = list(self.dir.glob(f".{KEYWORD_FILE}.*"))
        for p in stale:
            p.unlink(missing_ok=True)
        return len(stale)

    # -- edits (caller holds the library lock and has called refresh) ----------------------------
    def add(self, ids, texts) -> None:
        with self.mutex:
            for vid, text in zip(ids, texts):
                self._docs[int(vid)] = np.asarray([self._vocab.setdefault(t, len(self._vocab))
                                                   for t in tokeniser.tokenize(text)], dtype=np.int32)
            self._scorer = None

    def remove(self, ids) -> int:
        with self.mutex:
            n = sum(self._docs.pop(int(i), None) is not None for i in ids)
            if n:
                self._scorer = None
            return n

    def swap_in(self, staged: KeywordIndex) -> None:
        """Take over the passages of ``staged`` (a rebuild built beside); the caller saves next."""
        with self.mutex:
            self._docs, self._vocab, self._scorer = staged._docs, staged._vocab, None

    def reset(self) -> None:
        with self.mutex:
            self._docs, self._vocab, self._scorer = {}, {}, None

    # -- reads -------------------------------------------------------------------------------------
    def ids(self) -> set[int]:
        with self.mutex:
            return set(self._docs)

    @property
    def ntotal(self) -> int:
        return len(self._docs)

    def _ready(self):
        if self._scorer is None:
            import bm25s

            order = np.fromiter(self._docs.keys(), dtype=np.int64, count=len(self._docs))
            scorer = bm25s.BM25()
            # bm25s takes (token ids per document, vocabulary); ids we no longer use are harmless.
            scorer.index(([d.tolist() for d in self._docs.values()], dict(self._vocab)), show_progress=False)
            self._scorer, self._order = scorer, order
        return self._scorer

    def search(self, query: str, k: int, *, allow=None, deny=None) -> list[tuple[int, float]]:
        """Top ``k`` (vector id, BM25 score > 0) for ``query``; ``allow``/``deny`` are id collections."""
        words = tokeniser.tokenize(query)
        with self.mutex:
            known = list(dict.fromkeys(self._vocab[w] for w in words if w in self._vocab))
            if not known or not self._docs or k <= 0:
                return []
            scorer = self._ready()
            scores = np.asarray(scorer.get_scores_from_ids(known), dtype=np.float32)
            order = self._order
        if allow is not None:
            scores = np.where(np.isin(order, np.fromiter(allow, dtype=np.int64)), scores, 0.0)
        elif deny:
            scores = np.where(np.isin(order, np.fromiter(deny, dtype=np.int64)), 0.0, scores)
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        hits = hits[np.argsort(-scores[hits], kind="stable")]
        return [(int(order[i]), float(scores[i])) for i in hits]
