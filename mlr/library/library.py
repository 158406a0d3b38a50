"""``Library``: add, remove, list and rebuild papers; both indexes and the record kept consistent.

Two indexes share one set of ids (a chunk's ``vector_id``): FAISS (``vector_index``) and the BM25
keyword index (``keyword_index``). Expensive work (parsing, chunking, embedding) runs outside any
lock. Only the commit takes the inter-process lock: reload the indexes if another process changed
them, re-check the content hash, add vectors and keywords and write both files, then commit the
rows. A failure in between rolls both back; a kill in between leaves ids without rows, dropped by
``reconcile`` on the next open. Removal deletes rows first, then ids, for the same reason.

``rebuild`` builds new indexes beside the ones in use (searches keep answering from the old) and
swaps them in at the end; a paper whose stored PDF cannot be re-read keeps its previous vectors
(same model) or stays searchable by keyword, and is reported.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from mlr.config import Settings
from mlr.library.errors import (
    EmbedderUnavailableError,
    IndexDamagedError,
    IndexMismatchError,
    LibraryError,
    PaperNotFound,
)
from mlr.library.ingest import Prepared, content_hash, parse, read_file
from mlr.library.keyword_index import KeywordIndex, KeywordIndexDamaged
from mlr.library.models import AddResult, PaperInfo
from mlr.library.retriever import LibraryRetriever
from mlr.library.uploads import remove_copy, sanitise_name, store_copy
from mlr.library.vector_index import VectorIndex
from mlr.store import Store
from mlr.store.records import Paper

log = logging.getLogger(__name__)

# Overall progress fraction at the start of each stage of one file.
STAGES = {"parse": 0.0, "chunk": 0.2, "embed": 0.3, "index": 0.9, "done": 1.0}


class Library:
    def __init__(self, settings: Settings, store: Store, embedder):
        self.settings, self.store, self.embedder = settings, store, embedder
        self.index = VectorIndex(settings.indexes_dir, embedder.name, embedder.dimension)
        self.keywords = KeywordIndex(settings.indexes_dir)
        self._write_lock = threading.Lock()  # one writer per process; the file lock orders processes
        # Why the vector index cannot be used (another model built it, or its file is damaged):
        # searching and adding raise it with a message that says what to do; rebuild clears it.
        self.problem: LibraryError | None = None
        self.notices: list[str] = []
        with self.index.lock:
            self.index.remove_stale_temp()
            self.keywords.remove_stale_temp()
            try:
                self.index.load()
            except (IndexMismatchError, IndexDamagedError) as exc:
                self.problem = exc
                log.warning("%s", exc)
            self.reconcile()
        self.retriever = LibraryRetriever(self)

    # -- state -------------------------------------------------------------------------------------
    @property
    def mismatch(self) -> LibraryError | None:  # the older name, kept for callers that read it
        return self.problem

    def require_index(self) -> None:
        if self.problem is not None:
            raise self.problem

    def reconcile(self) -> dict:
        """Make both indexes agree with the record. Caller holds ``self.index.lock``.

        Vectors no chunk row references (a kill mid-add or mid-remove) are dropped; rows without a
        vector are counted (only re-embedding can add them: ``rebuild``). The keyword index is
        derived from the record's text, so it is repaired here: orphans dropped, missing passages
        tokenised from the rows, and a damaged or outdated file rebuilt from the record.
        """
        in_rows = self.store.all_vector_ids()
        orphans: set[int] = set()
        missing = 0
        if self.problem is None:
            with self.index.mutex:
                in_index = set(self.index.ids().tolist())
                orphans = in_index - in_rows
                if orphans:
                    log.warning("dropping %d index vectors that no chunk references (interrupted write)", len(orphans))
                    self.index.remove(orphans)
                    self.index.save()
                missing = len(in_rows - in_index)
            if missing:
                log.warning("%d chunks have no vector in the index; rebuild the index to search them", missing)
        return {"dropped_vectors": len(orphans), "chunks_without_vectors": missing, **self._reconcile_keywords(in_rows)}

    def _reconcile_keywords(self, in_rows: set[int]) -> dict:
        try:
            self.keywords.load()
        except KeywordIndexDamaged as exc:
            note = f"The keyword index was unreadable ({exc}); it was rebuilt from the record's passages."
            log.warning("%s", note)
            self.notices.append(note)
            self.keywords.reset()
        in_keywords = self.keywords.ids()
        orphans, missing = in_keywords - in_rows, in_rows - in_keywords
        if not orphans and not missing and (self.keywords.exists() or not in_rows):
            return {"dropped_keywords": 0, "keywords_added": 0}
        self.keywords.remove(orphans)
        if missing:
            if missing == in_rows:  # all of them (a new or lost file): read paper by paper
                for paper in self.store.list_papers():
                    rows = self.store.paper_chunks(paper.id)
                    self.keywords.add([r.vector_id for r in rows], [r.text for r in rows])
            else:
                wanted = sorted(missing)
                for start in range(0, len(wanted), 500):
                    rows = self.store.chunks_by_vector_ids(wanted[start:start + 500])
                    self.keywords.add(list(rows), [r.text for r in rows.values()])
        self.keywords.save()
        if orphans or missing:
            log.info("keyword index: dropped %d orphans, added %d passages from the record", len(orphans), len(missing))
        return {"dropped_keywords": len(orphans), "keywords_added": len(missing)}

    def health(self) -> dict:
        """For the UI: index model, size, and whether a rebuild is needed (and why)."""
        base = {"model": self.embedder.name, "notices": list(self.notices),
                "embedder_available": getattr(self.embedder, "available", True)}
        if self.problem is not None:
            return {**base, "ok": False, "message": str(self.problem), "vectors": 0}
        if not base["embedder_available"]:
            return {**base, "ok": False, "message": self.embedder.reason, "vectors": self.index.ntotal}
        self.index.refresh()
        # Counts, not id sets: cheap on every page run. Orphan vectors were dropped on open, and
        # vectors of an add in flight elsewhere only make the index larger, never the rows.
        rows = self.store.count_chunks()
        missing = max(0, rows - self.index.ntotal)
        msg = (f"{missing} passages have no vector in the index (it was deleted or interrupted); rebuild it."
               if missing else "")
        return {**base, "ok": not missing, "message": msg, "vectors": self.index.ntotal}

    def list(self) -> list[PaperInfo]:
        return [_info(p) for p in self.store.list_papers()]

    # -- add ---------------------------------------------------------------------------------------
    def add_file(self, path: str | Path, file_name: str | None = None, progress=None) -> AddResult:
        """Add one PDF. ``progress(stage, fraction)``: stage parse|chunk|embed|index|done, fraction 0..1 overall."""
        return self.add_files([(path, file_name)], progress=(lambda _i, s, f: progress(s, f)) if progress else None)[0]

    def add_files(self, files, progress=None) -> list[AddResult]:
        """Add several PDFs (paths or ``(path, file_name)``), preparing the next while embedding this one.

        ``progress(i, stage, fraction)`` reports file ``i``. Never raises for a bad file: its
        ``AddResult`` is ``rejected`` with the reason.
        """
        items = [(f, None) if isinstance(f, (str, Path)) else (f[0], f[1]) for f in files]
        results: list[AddResult] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="library-parse") as pool:
            def prep(i):
                path, name = items[i]
                return pool.submit(self._prepare, path, name, (lambda s, f: progress(i, s, f)) if progress else None)

            nxt = prep(0) if items else None
            for i in range(len(items)):
                start = time.perf_counter()
                prepared = nxt.result()
                nxt = prep(i + 1) if i + 1 < len(items) else None
                if isinstance(prepared, AddResult):
                    results.append(prepared)
                else:
                    cb = (lambda s, f, i=i: progress(i, s, f)) if progress else None
                    results.append(self._guard(str(items[i][0]), self._embed_commit, prepared, cb))
                results[-1].seconds = round(results[-1].seconds + time.perf_counter() - start, 3)
                if progress:
                    progress(i, "done", 1.0)
        return results

    def add_samples(self, progress=None) -> list[AddResult]:
        """Add the bundled sample papers (``sample_papers/<slug>/paper.pdf``), listed as ``<slug>.pdf``."""
        pdfs = sorted(self.settings.samples_dir.glob("*/paper.pdf"))
        if not pdfs:
            raise LibraryError(f"No sample papers in {self.settings.samples_dir}: build them with "
                               "`python sample_papers/build_pdfs.py`.")
        return self.add_files([(p, f"{p.parent.name}.pdf") for p in pdfs], progress=progress)

    def _guard(self, source: str, fn, *args) -> AddResult | Prepared:
        try:
            return fn(*args)
        except LibraryError as exc:
            return AddResult(file=source, status="rejected", error=str(exc))
        except Exception as exc:  # a boundary: the researcher gets a message, the log gets the traceback
            log.exception("unexpected error adding %s", source)
            return AddResult(file=source, status="rejected", error=f"Unexpected error ({type(exc).__name__}: {exc}); "
                                                                   "see the log for details.")

    def _prepare(self, path, file_name, progress) -> Prepared | AddResult:
        def run():
            self.require_index()
            if not getattr(self.embedder, "available", True):
                raise EmbedderUnavailableError(self.embedder.reason)
            data = read_file(path, max_mb=self.settings.max_upload_mb)
            digest = content_hash(data)
            existing = self.store.paper_by_hash(digest)
            if existing:  # same bytes already in the library: no parsing, no embedding
                return _duplicate(str(path), existing)
            if progress:
                progress("parse", STAGES["parse"])
            prepared = Prepared(str(path), sanitise_name(file_name or Path(path).name), data, digest)
            return parse(prepared, self.embedder, max_mb=self.settings.max_upload_mb,
                         max_pages=self.settings.max_pdf_pages, progress=progress)
        return self._guard(str(path), run)

    def _embed_commit(self, p: Prepared, progress) -> AddResult:
        texts = [c.text for c in p.chunks]
        span = STAGES["index"] - STAGES["embed"]
        vectors = self.embedder.embed(
            texts, progress=(lambda f: progress("embed", round(STAGES["embed"] + span * f, 4))) if progress else None)
        if progress:
            progress("index", STAGES["index"])
        with self._write_lock, self.index.lock:
            self.index.refresh()
            self.keywords.refresh()
            existing = self.store.paper_by_hash(p.content_hash)
            if existing:  # another session added the same bytes while we were embedding
                return _duplicate(p.source, existing)
            dest = store_copy(p.data, self.settings.uploads_dir, p.content_hash, p.file_name)
            ids = self.index.add(vectors)
            try:
                self.index.save()
                self.keywords.add(ids, texts)
                self.keywords.save()
                with self.store.write() as conn:
                    paper_id = self.store.add_paper(
                        conn, content_hash=p.content_hash, file_name=p.file_name, path=str(dest),
                        title=p.pdf.title or Path(p.file_name).stem, authors=p.pdf.authors, year=p.pdf.year,
                        pages=len(p.pdf.pages), sections=p.sections, meta={**p.pdf.meta, "model": self.embedder.name},
                        chunks=self._chunk_rows(p.content_hash, p.chunks, ids))
            except BaseException:
                self.index.remove(ids)
                self.index.save()
                if self.keywords.remove(ids):
                    self.keywords.save()
                remove_copy(dest, self.settings.uploads_dir)
                raise
        log.info("added %s as paper %d (%d pages, %d chunks)", p.file_name, paper_id, len(p.pdf.pages), len(ids))
        return AddResult(file=p.source, status="added", paper_id=paper_id, pages=len(p.pdf.pages), chunks=len(ids))

    @staticmethod
    def _chunk_rows(digest: str, chunks, vector_ids) -> list[dict]:
        # Chunk ids come from the content, so a citation survives a delete and re-add of the same file.
        return [{"id": f"{digest[:12]}-{c.ordinal:04d}", "ordinal": c.ordinal, "vector_id": vid,
                 "section": c.section, "page": c.page, "n_tokens": c.n_tokens, "text": c.text}
                for c, vid in zip(chunks, vector_ids)]

    # -- remove and rebuild ------------------------------------------------------------------------
    def remove(self, paper_id: int) -> PaperInfo:
        """Delete a paper, its chunks, its vectors and its stored copy; returns what was removed."""
        with self._write_lock, self.index.lock:
            paper = self.store.get_paper(int(paper_id))
            if paper is None:
                raise PaperNotFound(f"There is no paper with id {paper_id} in the library.")
            # Rows first, vectors second: a kill in between leaves only orphan vectors (dropped on load).
            with self.store.write() as conn:
                vector_ids = self.store.delete_paper(conn, paper.id)
            if self.problem is None:
                self.index.refresh()
                self.index.remove(vector_ids)
                self.index.save()
            self.keywords.refresh()
            self.keywords.remove(vector_ids)
            self.keywords.save()
            remove_copy(paper.path, self.settings.uploads_dir)
        return _info(paper)

    def rebuild(self, progress=None, *, embedder=None) -> list[AddResult]:
        """Re-chunk and re-embed every paper from its stored copy; returns one result per paper.

        ``embedder``: switch the library to another embedding model (an explicit choice; by default
        the library's own). New vector and keyword indexes are built beside the ones in use, so
        searches keep answering from the old ones until both are swapped in and the record's chunk
        rows replaced. A paper that cannot be re-indexed (its stored PDF is gone or unreadable) keeps
        its passages: with its previous vectors when the model is unchanged, else searchable by
        keyword only; its result is ``rejected`` with the reason and what happened to it.
        """
        embedder = embedder or self.embedder
        if not getattr(embedder, "available", True):
            raise LibraryError(embedder.reason)
        results: list[AddResult] = []
        with self._write_lock, self.index.lock:
            manifest = self.index.read_manifest() or {}
            same_model = (self.problem is None and embedder.name == self.index.model
                          and embedder.dimension == self.index.dimension)
            staged = VectorIndex(self.settings.indexes_dir, embedder.name, embedder.dimension)
            # Above every id ever handed out: a kept paper's rows hold their old ids even when the
            # index file that knew them is damaged.
            staged.next_id = max(self.index.next_id, int(manifest.get("next_id", 0)),
                                 max(self.store.all_vector_ids(), default=-1) + 1)
            keywords = KeywordIndex(self.settings.indexes_dir)
            replaced: dict[int, tuple[list[dict], list[str]]] = {}
            papers = self.store.list_papers()
            for i, paper in enumerate(papers):
                if progress:
                    progress(i, "parse", 0.0)
                result = self._guard(paper.file_name, self._rebuild_one, paper, embedder, staged, keywords, replaced)
                if result.status == "rejected":
                    result.error = f"{result.error} {self._keep_old(paper, staged, keywords, same_model)}"
                    log.warning("rebuild: %s: %s", paper.file_name, result.error)
                results.append(result)
                if progress:
                    progress(i, "done", 1.0)
            # The swap: vectors, then keywords, then the rows that point at them (the add order). With
            # the same model the old vectors and keywords ride along until the rows are committed, so a
            # kill before the commit leaves the old ids whole (the new ones are orphans, dropped on open)
            # and a kill after it leaves the new ones (the old are then the orphans).
            old_ids: set[int] = set()
            if same_model:
                old_vectors, old_vector_ids = self.index.all_vectors()
                old_ids = set(old_vector_ids.tolist()) - set(staged.ids().tolist())
                keep = np.isin(old_vector_ids, np.fromiter(old_ids, dtype=np.int64, count=len(old_ids)))
                if keep.any():
                    staged.add_with_ids(old_vectors[keep], old_vector_ids[keep])
                for paper_id in replaced:
                    rows = self.store.paper_chunks(paper_id)
                    keywords.add([r.vector_id for r in rows], [r.text for r in rows])
            self.index.swap_in(staged)
            self.index.save()
            self.keywords.swap_in(keywords)
            self.keywords.save()
            with self.store.write() as conn:
                for paper_id, (rows, sections) in replaced.items():
                    self.store.replace_chunks(conn, paper_id, rows, sections)
            retired = old_ids - self.store.all_vector_ids()
            if retired:
                self.index.remove(retired)
                self.index.save()
                self.keywords.remove(retired)
                self.keywords.save()
            self.embedder, self.problem = embedder, None
            self.notices = []
        return results

    def _rebuild_one(self, paper: Paper, embedder, staged: VectorIndex, keywords: KeywordIndex,
                     replaced: dict) -> AddResult:
        data = read_file(paper.path, max_mb=self.settings.max_upload_mb)
        p = parse(Prepared(paper.path, paper.file_name, data, paper.content_hash), embedder,
                  max_mb=self.settings.max_upload_mb, max_pages=self.settings.max_pdf_pages)
        texts = [c.text for c in p.chunks]
        ids = staged.add(embedder.embed(texts))
        keywords.add(ids, texts)
        replaced[paper.id] = (self._chunk_rows(p.content_hash, p.chunks, ids), p.sections)
        return AddResult(file=paper.file_name, status="added", paper_id=paper.id, pages=len(p.pdf.pages),
                         chunks=len(ids))

    def _keep_old(self, paper: Paper, staged: VectorIndex, keywords: KeywordIndex, same_model: bool) -> str:
        """Carry a paper that could not be re-indexed into the new indexes; says what it kept."""
        rows = self.store.paper_chunks(paper.id)
        keywords.add([r.vector_id for r in rows], [r.text for r in rows])
        old = self.index.vectors([r.vector_id for r in rows]) if same_model else {}
        if old:
            staged.add_with_ids(np.stack(list(old.values())), list(old))
        if rows and len(old) == len(rows):
            return "Its passages keep their previous vectors and stay searchable."
        return ("Its passages stay in the library and are searchable by keyword only; add the PDF again "
                "to embed them with the current model.")


def _info(paper: Paper) -> PaperInfo:
    return PaperInfo(**paper.model_dump(include=set(PaperInfo.model_fields)))


def _duplicate(file: str, existing: Paper) -> AddResult:
    return AddResult(file=file, status="duplicate", paper_id=existing.id, pages=existing.pages, chunks=existing.chunks)
