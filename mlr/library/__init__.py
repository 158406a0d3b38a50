"""The paper library: PDFs in, searchable passages out. Start with ``open_library(settings, store)``."""

from __future__ import annotations

from mlr.config import Settings
from mlr.library.errors import (
    DamagedPdfError,
    EmbedderUnavailableError,
    EncryptedPdfError,
    IndexDamagedError,
    IndexMismatchError,
    LibraryError,
    NotAPdfError,
    PaperNotFound,
    ScannedPdfError,
    TooLargeError,
)
from mlr.library.models import AddResult, PaperInfo
from mlr.store import Store


def make_embedder(settings: Settings):
    from mlr.library.embedders import make_embedder as _make

    return _make(settings)


def open_library(settings: Settings, store: Store, embedder=None):
    """The library of ``settings.data_dir``; the embedder defaults to ``make_embedder(settings)``: the model that
    built the index (never silently another one), or for a new library Ollama's when it answers, else MiniLM."""
    from mlr.library.library import Library

    settings.ensure_dirs()
    return Library(settings, store, embedder if embedder is not None else make_embedder(settings))


__all__ = [
    "AddResult",
    "DamagedPdfError",
    "EmbedderUnavailableError",
    "EncryptedPdfError",
    "IndexDamagedError",
    "IndexMismatchError",
    "LibraryError",
    "NotAPdfError",
    "PaperInfo",
    "PaperNotFound",
    "ScannedPdfError",
    "TooLargeError",
    "make_embedder",
    "open_library",
]
