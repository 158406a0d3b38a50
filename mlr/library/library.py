"""``Library``: add, remove, list and rebuild papers; the index and the record kept consistent.

Expensive work (parsing, chunking, embedding) runs outside any lock. Only the commit takes the
inter-process lock: reload the index if another process changed it, re-check the content hash,
add the vectors and write the index, then commit the rows. A failure in between rolls the index
back; a kill in between leaves vectors without rows, dropped by ``reconcile`` on the next open.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mlr.config import Settings
from mlr.library.errors import IndexMismatchError, LibraryError, PaperNotFound
from mlr.library.ingest import Prepared, content_hash, parse, read_file
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
        self._write_lock = threading.Lock()  # one writer per process; the file lock orders processes
        self.mismatch: IndexMismatchError | None = None
        try:
            with self.index.lock:
                self.index.remove_stale_temp()
                self.index.load()
                self.reconcile()
        except IndexMismatchError as exc:
            self.mismatch = exc
            log.warning("%s", exc)
        self.retriever = LibraryRetriever(self)

    # -- state -------------------------------------------------------------------------------------
    def require_index(self) -> None:
        if self.mismatch is not None:
            raise self.mismatch

    def reconcile(self) -> dict:
        """Drop vectors no chunk row references (left by a kill mid-add); count rows without vectors."""
        with self.index.mutex:
            in_index = set(self.index.ids().tolist())
            in_rows = self.store.all_vector_ids()
            orphans = in_index - in_rows
            if orphans:
                log.warning("dropping %d index vectors that no chunk references (interrupted write)", len(orphans))
                self.index.remove(orphans)
                self.index.save()
            missing = len(in_rows - in_index)
        if missing:
            log.warning("%d chunks have no vector in the index; rebuild the index to search them", missing)
        return {"dropped_vectors": len(orphans), "chunks_without_vectors": missing}

    def health(self) -> dict:
        """For the UI: index model, size, and whether a rebuild is needed (and why)."""
        if self.mismatch is not None:
            return {"ok": False, "message": str(self.mismatch), "model": self.embedder.name, "vectors": 0}
        self.index.refresh()
        # Counts, not id sets: cheap on every page run. Orphan vectors were dropped on open, and
        # vectors of an add in flight elsewhere only make the index larger, never the rows.
        rows = self.store.count_chunks()
        missing = max(0, rows - self.index.ntotal)
        msg = (f"{missing} passages have no vector in the index (it was deleted or interrupted); rebuild it."
               if missing else "")
        return {"ok": not missing, "message": msg, "model": self.embedder.name, "vectors": self.index.ntotal}

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
            existing = self.store.paper_by_hash(p.content_hash)
            if existing:  # another session added the same bytes while we were embedding
                return _duplicate(p.source, existing)
            dest = store_copy(p.data, self.settings.uploads_dir, p.content_hash, p.file_name)
            ids = self.index.add(vectors)
            self.index.save()
            try:
                with self.store.write() as conn:
                    paper_id = self.store.add_paper(
                        conn, content_hash=p.content_hash, file_name=p.file_name, path=str(dest),
                        title=p.pdf.title or Path(p.file_name).stem, authors=p.pdf.authors, year=p.pdf.year,
                        pages=len(p.pdf.pages), sections=p.sections, meta={**p.pdf.meta, "model": self.embedder.name},
                        chunks=self._chunk_rows(p.content_hash, p.chunks, ids))
            except BaseException:
                self.index.remove(ids)
                self.index.save()
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
            if self.mismatch is None:
                self.index.refresh()
                self.index.remove(vector_ids)
                self.index.save()
            remove_copy(paper.path, self.settings.uploads_dir)
        return _info(paper)

    def rebuild(self, progress=None) -> list[AddResult]:
        """Re-chunk and re-embed every paper from its stored copy with the current embedding model."""
        results = []
        with self._write_lock, self.index.lock:
            manifest = self.index.read_manifest() or {}
            with self.index.mutex:
                self.index.reset()
                self.index.next_id = max(self.index.next_id, int(manifest.get("next_id", 0)))
                self.index.save()  # the manifest now names the current model
            self.mismatch = None
            papers = self.store.list_papers()
            for i, paper in enumerate(papers):
                if progress:
                    progress(i, "parse", 0.0)
                results.append(self._guard(paper.file_name, self._rebuild_one, paper))
                if progress:
                    progress(i, "done", 1.0)
        return results

    def _rebuild_one(self, paper: Paper) -> AddResult:
        data = read_file(paper.path, max_mb=self.settings.max_upload_mb)
        p = parse(Prepared(paper.path, paper.file_name, data, paper.content_hash), self.embedder,
                  max_mb=self.settings.max_upload_mb, max_pages=self.settings.max_pdf_pages)
        ids = self.index.add(self.embedder.embed([c.text for c in p.chunks]))
        self.index.save()
        with self.store.write() as conn:
            self.store.replace_chunks(conn, paper.id, self._chunk_rows(p.content_hash, p.chunks, ids), p.sections)
        return AddResult(file=paper.file_name, status="added", paper_id=paper.id, pages=len(p.pdf.pages),
                         chunks=len(ids))


def _info(paper: Paper) -> PaperInfo:
    return PaperInfo(**paper.model_dump(include=set(PaperInfo.model_fields)))


def _duplicate(file: str, existing: Paper) -> AddResult:
    return AddResult(file=file, status="duplicate", paper_id=existing.id, pages=existing.pages, chunks=existing.chunks)
