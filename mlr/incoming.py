"""Uploads in flight: ``uploads/.incoming/*.part``, written by the Library page and deleted by the job that
ingests them. A crash (the app killed mid-upload or mid-queue) leaves them behind; the app removes them on start.

Only files untouched for ``STALE_AFTER_S`` go: another app process on the same data directory may have an
upload of its own waiting in its queue.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)

STALE_AFTER_S = 3600.0


def clean_incoming(folder: Path, *, older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove ``*.part`` files in ``folder`` not modified for ``older_than_s`` seconds; returns what went."""
    removed = []
    cutoff = time.time() - older_than_s
    for part in sorted(Path(folder).glob("*.part")):
        try:
            if part.stat().st_mtime <= cutoff:
                part.unlink()
                removed.append(part)
        except FileNotFoundError:  # its job finished meanwhile
            continue
    if removed:
        log.info("removed %d upload(s) left by a crash in %s", len(removed), folder)
    return removed
