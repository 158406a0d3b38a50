"""Folders as bytes for Ray's object store: a prototype's folder to the worker, a run's folder back.

A gzip'd tar in memory, with a size limit checked before anything is read (a clear error above it), and
unpacked with tarfile's ``data`` filter (no absolute paths, no links out of the folder, no devices).
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", ".venv", "node_modules"}
MIB = 1024 * 1024


class FolderTooLarge(Exception):
    def __init__(self, folder: Path, size: int, limit: int):
        super().__init__(f"{folder} holds {size / MIB:.1f} MiB, more than the {limit / MIB:.0f} MiB that may travel "
                         "through Ray's object store (MLR_RAY_MAX_SHIP_MB)")
        self.folder, self.size, self.limit = folder, size, limit


def _files(folder: Path, only: set[str] | None = None) -> list[Path]:
    out = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(names):
            path = Path(root) / name
            if path.is_file() and not path.is_symlink() and (only is None or name in only):
                out.append(path)
    return out


def folder_size(folder: Path, only: set[str] | None = None) -> int:
    return sum(p.stat().st_size for p in _files(folder, only))


def pack(folder: Path, limit_bytes: int, *, only: set[str] | None = None) -> bytes:
    """The files under ``folder`` (``only``: just those names) as a .tar.gz; :class:`FolderTooLarge` above
    ``limit_bytes`` of file content."""
    folder = Path(folder)
    files = _files(folder, only)
    size = sum(p.stat().st_size for p in files)
    if size > limit_bytes:
        raise FolderTooLarge(folder, size, limit_bytes)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for path in files:
            tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buf.getvalue()


def unpack(data: bytes, folder: Path) -> list[str]:
    """Extract ``data`` (from :func:`pack`) into ``folder``; returns the names written."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        names = tar.getnames()
        tar.extractall(folder, filter="data")
    return names
