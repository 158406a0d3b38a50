"""The FAISS index of the library with ids we own, its manifest, lock and atomic persistence.

Why not LlamaIndex's FAISS stores: ``FaissVectorStore`` cannot delete and ``FaissMapVectorStore``
reuses ids after a delete (a query then returns the wrong chunk). Here vectors live in an
``IndexIDMap2`` over ``IndexFlatIP`` (exact inner product on normalised rows) under ids from a
monotonic counter that is persisted and never goes back, so a deleted vector's id is never reused.

On disk (``indexes/``): ``library.faiss`` (the index) then ``manifest.json`` (model, dimension,
next id), each written to a temporary file and renamed, under an inter-process file lock. The
record's chunk rows are committed *after* the index holds their vectors and deleted *before* the
index drops them, so after a kill the only possible leftover is a vector that no row references;
``reconcile`` drops those on load. Readers in other processes notice a new file (inode/mtime) and
reload it.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import faiss
import numpy as np
from filelock import FileLock

from mlr.atomic import atomic_path
from mlr.library.errors import IndexDamagedError, IndexMismatchError

log = logging.getLogger(__name__)

INDEX_FILE = "library.faiss"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = "library.lock"
FORMAT = 1
# One OpenMP thread per search: a single query over a flat index gains little from a second
# thread, and when embedding or other work holds the cores, OpenMP's spinning threads made a
# query at 100k vectors 2x slower (measured 95 vs 43 ms under load on 2 cores).
SEARCH_THREADS = 1


def _atomic_write(path: Path, writer) -> None:
    with atomic_path(path) as tmp:
        writer(str(tmp))


def mismatch_message(found_model: str, found_dim: int, model: str, dim: int) -> str:
    return (f"The library index was built with {found_model} ({found_dim}-d vectors) but the current embedding "
            f"model is {model} ({dim}-d). Vectors of different models cannot be mixed: rebuild the index "
            "(Library page: 'Rebuild index', or `python -m mlr library rebuild`), or switch back to "
            f"{found_model}.")


def damaged_message(path: Path, detail: str) -> str:
    return (f"The library's vector index file {path} is damaged and cannot be read ({detail}). The papers and "
            "their passages are safe in the record: rebuild the index from them (Library page: 'Rebuild index', "
            "or `python -m mlr library rebuild`).")


class VectorIndex:
    def __init__(self, directory: Path, model: str, dimension: int):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.model, self.dimension = model, dimension
        self.path = self.dir / INDEX_FILE
        self.manifest_path = self.dir / MANIFEST_FILE
        # Inter-process: CLI and Streamlit servers. The in-process mutex guards the in-memory index
        # against a search running while another thread swaps or edits it.
        self.lock = FileLock(str(self.dir / LOCK_FILE), timeout=600)
        self.mutex = threading.RLock()
        self.next_id = 0
        self._index = self._empty()
        self._stamp: tuple | None = None

    # -- state on disk ---------------------------------------------------------------------------
    def _empty(self):
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))

    def _file_stamp(self) -> tuple | None:
        try:
            st = self.path.stat()
            mst = self.manifest_path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size, mst.st_ino, mst.st_mtime_ns)

    def read_manifest(self) -> dict | None:
        try:
            return json.loads(self.manifest_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("unreadable index manifest %s (%s); rebuilding it from the index", self.manifest_path, exc)
            return None

    def check_model(self) -> None:
        """Raise ``IndexMismatchError`` when the index on disk belongs to another model."""
        manifest = self.read_manifest()
        if manifest and (manifest.get("model") != self.model or int(manifest.get("dimension", 0)) != self.dimension):
            raise IndexMismatchError(mismatch_message(manifest.get("model", "?"), int(manifest.get("dimension", 0)),
                                                      self.model, self.dimension))

    def load(self) -> None:
        """(Re)read index and manifest from disk; a missing index is an empty one."""
        with self.mutex:
            self.check_model()
            manifest = self.read_manifest() or {}
            stamp = self._file_stamp()
            if self.path.exists():
                try:
                    index = faiss.read_index(str(self.path))
                except RuntimeError as exc:  # truncated or garbage: FAISS raises a RuntimeError
                    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "unreadable"
                    raise IndexDamagedError(damaged_message(self.path, detail)) from exc
                if index.d != self.dimension:
                    raise IndexMismatchError(mismatch_message("another model", index.d, self.model, self.dimension))
            else:
                index = self._empty()
            ids = self.ids_of(index)
            # The index is written before the manifest: after a kill in between it may hold ids
            # past the manifest's counter, so the counter starts above both.
            self.next_id = max(int(manifest.get("next_id", 0)), int(ids.max()) + 1 if len(ids) else 0)
            self._index, self._stamp = index, stamp

    def remove_stale_temp(self) -> int:
        """Delete temporary files a killed writer left. Caller holds ``self.lock``, so no write is in flight."""
        stale = [p for name in (INDEX_FILE, MANIFEST_FILE) for p in self.dir.glob(f".{name}.*")]
        for p in stale:
            p.unlink(missing_ok=True)
        return len(stale)

    def refresh(self) -> None:
        """Reload when another process replaced the files since we read them."""
        if self._file_stamp() != self._stamp:
            self.load()

    def save(self) -> None:
        """Write index then manifest atomically. Caller holds ``self.lock``."""
        with self.mutex:
            _atomic_write(self.path, lambda tmp: faiss.write_index(self._index, tmp))
            manifest = {"format": FORMAT, "model": self.model, "dimension": self.dimension,
                        "next_id": self.next_id, "count": int(self._index.ntotal)}
            _atomic_write(self.manifest_path, lambda tmp: Path(tmp).write_text(json.dumps(manifest, indent=2)))
            self._stamp = self._file_stamp()

    # -- edits (caller holds self.lock and has called refresh) -----------------------------------
    def add(self, vectors: np.ndarray) -> list[int]:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"expected (n, {self.dimension}) vectors, got {vectors.shape}")
        with self.mutex:
            ids = np.arange(self.next_id, self.next_id + len(vectors), dtype=np.int64)
            self._index.add_with_ids(vectors, ids)
            self.next_id += len(vectors)
            return ids.tolist()

    def remove(self, ids) -> int:
        if len(ids) == 0:
            return 0
        with self.mutex:
            return int(self._index.remove_ids(np.asarray(list(ids), dtype=np.int64)))

    def swap_in(self, staged: VectorIndex) -> None:
        """Take over the vectors, counter and model of ``staged`` (a rebuild built beside this one).

        ``staged`` is an unsaved ``VectorIndex`` on the same folder; the caller holds ``self.lock``
        and calls ``save()`` next, which replaces the files atomically.
        """
        with self.mutex:
            self._index, self.model, self.dimension = staged._index, staged.model, staged.dimension
            self.next_id = max(self.next_id, staged.next_id)

    def add_with_ids(self, vectors: np.ndarray, ids) -> None:
        """Put vectors back under ids handed out before (a rebuild keeping a paper's old vectors)."""
        ids = np.asarray(list(ids), dtype=np.int64)
        with self.mutex:
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
            self.next_id = max(self.next_id, int(ids.max()) + 1 if len(ids) else 0)

    def reset(self) -> None:
        """Empty the index for a rebuild; the id counter keeps going (old ids stay retired)."""
        with self.mutex:
            self._index = self._empty()

    # -- reads -------------------------------------------------------------------------------------
    @staticmethod
    def ids_of(index) -> np.ndarray:
        return faiss.vector_to_array(index.id_map).astype(np.int64)

    def ids(self) -> np.ndarray:
        with self.mutex:
            return self.ids_of(self._index)

    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Every stored vector and its id, in storage order (a rebuild carries them until its swap commits)."""
        with self.mutex:
            n = int(self._index.ntotal)
            if n == 0:
                return np.zeros((0, self.dimension), dtype=np.float32), np.zeros(0, dtype=np.int64)
            return self._index.index.reconstruct_n(0, n), self.ids_of(self._index)

    def vectors(self, ids) -> dict[int, np.ndarray]:
        """Stored vectors of those ``ids`` that are in the index."""
        out = {}
        with self.mutex:
            for i in ids:
                try:
                    out[int(i)] = self._index.reconstruct(int(i))
                except RuntimeError:  # not in the index
                    continue
        return out

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, k: int, *, allow=None, deny=None) -> list[tuple[int, float]]:
        """Top ``k`` (id, score) for one normalised query; ``allow``/``deny`` are id collections."""
        query = np.ascontiguousarray(np.atleast_2d(query), dtype=np.float32)
        params = None
        if allow is not None or deny:
            if allow is not None:
                sel = faiss.IDSelectorBatch(np.asarray(list(allow), dtype=np.int64))
            else:
                sel = faiss.IDSelectorNot(faiss.IDSelectorBatch(np.asarray(list(deny), dtype=np.int64)))
            params = faiss.SearchParameters(sel=sel)
        with self.mutex:
            k = min(k, int(self._index.ntotal))
            if k <= 0:
                return []
            faiss.omp_set_num_threads(SEARCH_THREADS)  # per calling thread (OpenMP ICV)
            scores, ids = self._index.search(query, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
