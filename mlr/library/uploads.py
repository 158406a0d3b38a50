"""Uploaded file names made safe, and the copy of each paper kept inside the data directory."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from mlr import atomic

MAX_NAME = 120


def sanitise_name(name: str | None) -> str:
    """A plain file name: no directories (``../``, ``C:\\``), no control or shell characters, ends in .pdf."""
    name = unicodedata.normalize("NFKC", name or "")
    name = name.replace("\\", "/").split("/")[-1]          # drop any directory part, Windows ones too
    name = re.sub(r"[^\w.\- ()+,]", "_", name).strip(" ._")  # \w keeps non-ASCII letters (Müller.pdf)
    name = re.sub(r"_{2,}", "_", name)
    stem, ext = os.path.splitext(name)
    if ext.lower() != ".pdf":
        stem, ext = name, ".pdf"
    stem = stem[: MAX_NAME - len(ext)].strip(" ._") or "paper"
    return stem + ext.lower()


def store_copy(data: bytes, uploads_dir: Path, content_hash: str, safe_name: str) -> Path:
    """Write ``data`` to ``uploads_dir/<hash12>-<name>`` atomically; the hash prefix keeps names unique."""
    uploads_dir.mkdir(parents=True, exist_ok=True)
    dest = (uploads_dir / f"{content_hash[:12]}-{safe_name}").resolve()
    if uploads_dir.resolve() not in dest.parents:  # belt and braces: sanitise_name already forbids this
        raise ValueError(f"refusing to write outside {uploads_dir}: {dest}")
    if dest.exists() and dest.stat().st_size == len(data):
        return dest
    atomic.write_bytes(dest, data)
    return dest


def remove_copy(path: str | Path, uploads_dir: Path) -> None:
    """Delete a stored copy, but only one that lives in ``uploads_dir`` (never a user's original)."""
    p = Path(path).resolve()
    if uploads_dir.resolve() in p.parents:
        p.unlink(missing_ok=True)


__all__ = ["remove_copy", "sanitise_name", "store_copy"]
