"""One file from disk to chunks ready to embed: read, hash, check, parse, sections, chunks.

Kept apart from ``Library`` so that the next file can be prepared in a worker thread while the
current one is being embedded (pypdf is pure Python; torch releases the GIL while it computes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from mlr.library.chunking import Chunk, chunk_blocks
from mlr.library.errors import LibraryError, TooLargeError
from mlr.library.pdftext import PdfText, extract
from mlr.library.references import entries as reference_entries
from mlr.library.sections import split_sections


@dataclass
class Prepared:
    source: str          # the path given by the caller
    file_name: str       # sanitised name the paper is listed under
    data: bytes
    content_hash: str
    pdf: PdfText | None = None
    sections: list[str] | None = None
    chunks: list[Chunk] | None = None


def read_file(path: str | Path, *, max_mb: int) -> bytes:
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError as exc:
        raise LibraryError(f"No such file: {p}") from exc
    except OSError as exc:
        raise LibraryError(f"Cannot read {p}: {exc.strerror or exc}") from exc
    if p.is_dir():
        raise LibraryError(f"{p} is a folder, not a PDF file.")
    if size > max_mb * 1024 * 1024:  # refuse before reading a huge file into memory
        raise TooLargeError(f"The file is {size / 2**20:.1f} MB; the limit is {max_mb} MB (MLR_MAX_UPLOAD_MB).")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise LibraryError(f"Cannot read {p}: {exc.strerror or exc}") from exc


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse(prepared: Prepared, embedder, *, max_mb: int, max_pages: int, progress=None) -> Prepared:
    """Fill ``pdf``, ``sections`` and ``chunks``; raises a ``LibraryError`` for bad input."""
    prepared.pdf = extract(prepared.data, max_mb=max_mb, max_pages=max_pages)
    if progress:
        progress("chunk", 0.2)
    info: dict = {}
    blocks, prepared.sections = split_sections(prepared.pdf.pages, prepared.pdf.outline, prepared.pdf.styled, info)
    prepared.pdf.meta["structure"] = info["structure"]  # outline | font | words: kept with the paper
    prepared.pdf.meta["references"] = reference_entries(info["references"])  # readable, never ranked
    prepared.chunks = chunk_blocks(blocks, embedder)
    if not prepared.chunks:
        # All text sat in excluded sections (e.g. a bare reference list): nothing could answer a question.
        raise LibraryError("No passages to index: the PDF's text is only references or acknowledgements.")
    return prepared
