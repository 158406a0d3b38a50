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


def _files(folder: Path, only: set[str] | None = None, exclude: tuple[Path, ...] = ()) -> list[tuple[Path, int]]:
    """(path, size) of the files to pack; a file that vanishes meanwhile (a database's -shm) is left out."""
    skip = {Path(e).resolve() for e in exclude}
    out = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and (Path(root) / d).resolve() not in skip)
        for name in sorted(names):
            path = Path(root) / name
            if path.is_symlink() or (only is not None and name not in only):
                continue
            try:
                if path.is_file():
                    out.append((path, path.stat().st_size))
            except OSError:
                continue
    return out


def folder_size(folder: Path, only: set[str] | None = None) -> int:
    return sum(size for _, size in _files(folder, only))


def pack(folder: Path, limit_bytes: int, *, only: set[str] | None = None, exclude: tuple[Path, ...] = ()) -> bytes:
    """The files under ``folder`` (``only``: just those names; ``exclude``: folders left out, e.g. the app's own
    data directory when it lies inside a prototype's folder) as a .tar.gz; :class:`FolderTooLarge` above
    ``limit_bytes`` of file content."""
    folder = Path(folder)
    files = _files(folder, only, exclude)
    size = sum(s for _, s in files)
    if size > limit_bytes:
        raise FolderTooLarge(folder, size, limit_bytes)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for path, _ in files:
            try:
                tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
            except OSError:  # gone since it was listed
                continue
    return buf.getvalue()


def unpack(data: bytes, folder: Path) -> list[str]:
    """Extract ``data`` (from :func:`pack`) into ``folder``; returns the names written."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        names = tar.getnames()
        tar.extractall(folder, filter="data")
    return names
