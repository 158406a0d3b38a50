"""Library work (uploads, sample papers, rebuild) queued on the shared job board (:mod:`mlr.jobs`).

The Streamlit page submits and returns at once; the jobs run one after another on the board's
``library`` lane (one writer at a time, and two embedding jobs would only fight over the same cores).
Each job reports its stage and fraction, and its ``outcome``: ``added``, ``duplicate``, ``rejected``
for a paper, ``done`` or ``failed`` for a rebuild.
"""

from __future__ import annotations

from pathlib import Path

from mlr.jobs import Job, Jobs

PREFIX = "library:"
LANE = "library"


class LibraryJobs:
    def __init__(self, library, jobs: Jobs | None = None):
        self.library = library
        self.board = jobs or Jobs()

    # -- submit ------------------------------------------------------------------------------------
    def submit_file(self, path: Path, file_name: str, *, delete_after: bool = False) -> str:
        """Queue one PDF; ``delete_after`` removes ``path`` (an upload's temporary file) when done."""
        job = self.board.start(None, file_name, lambda job: self._add(job, Path(path), file_name, delete_after),
                               lane=LANE)
        return job.key

    def submit_samples(self) -> list[str]:
        pdfs = sorted(self.library.settings.samples_dir.glob("*/paper.pdf"))
        return [self.submit_file(p, f"{p.parent.name}.pdf") for p in pdfs]

    def submit_rebuild(self, embedder: str | None = None) -> str:
        """Queue a rebuild; ``embedder`` (``minilm`` | ``ollama``) switches the library's model on purpose."""
        label = "Rebuild the index" + (f" with {embedder}" if embedder else "")
        return self.board.start(None, label, lambda job: self._rebuild(job, embedder), lane=LANE).key

    # -- read --------------------------------------------------------------------------------------
    def jobs(self) -> list[Job]:
        return self.board.list(PREFIX)

    def active(self) -> bool:
        return bool(self.board.running(PREFIX))

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until every queued library job has finished (tests and the CLI); False on timeout."""
        return self.board.wait(PREFIX, timeout)

    def clear_finished(self) -> None:
        self.board.clear_finished(PREFIX)

    # -- work --------------------------------------------------------------------------------------
    def _add(self, job: Job, path: Path, file_name: str, delete_after: bool):
        try:
            result = self.library.add_file(path, file_name=file_name, progress=job.progress)
        finally:
            if delete_after:
                path.unlink(missing_ok=True)
        message = {"added": f"Added: {result.pages} pages, {result.chunks} passages.",
                   "duplicate": f"Already in the library (paper {result.paper_id}); nothing to do."}
        job.outcome, job.message = result.status, result.error or message.get(result.status, "")
        job.progress("done", 1.0)
        return result

    def _rebuild(self, job: Job, embedder: str | None = None):
        from mlr.library.embedders import choose_embedder

        chosen = choose_embedder(self.library.settings, embedder) if embedder else None
        results = self.library.rebuild(progress=lambda i, s, f: job.progress(f"paper {i + 1}: {s}", f),
                                       embedder=chosen)
        bad = [r for r in results if r.status == "rejected"]
        job.outcome = "failed" if bad else "done"
        done = len(results) - len(bad)
        job.message = (f"Re-embedded {done} of {len(results)} papers. Not re-indexed: "
                       + "; ".join(f"{r.file}: {r.error}" for r in bad)) if bad else f"Re-embedded {len(results)} papers."
        job.progress("done", 1.0)
        return results
