"""Errors of the library, each with a message a researcher can act on (shown as-is in the UI and CLI)."""

from __future__ import annotations


class LibraryError(Exception):
    """Base class: the message says what is wrong with the input and what to do about it."""


class NotAPdfError(LibraryError):
    pass


class DamagedPdfError(LibraryError):
    pass


class EncryptedPdfError(LibraryError):
    pass


class ScannedPdfError(LibraryError):
    pass


class TooLargeError(LibraryError):
    pass


class IndexMismatchError(LibraryError):
    """The index on disk was built with another embedding model or dimension."""


class IndexDamagedError(LibraryError):
    """The index file on disk cannot be read (truncated, overwritten); the record can rebuild it."""


class EmbedderUnavailableError(LibraryError):
    """The embedding model the index was built with cannot be used now (e.g. Ollama is down)."""


class PaperNotFound(LibraryError):
    pass
