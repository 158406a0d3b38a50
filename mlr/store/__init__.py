"""The research record: SQLite (WAL) under the data directory, the single source of truth.

Every page, the CLI and the agents read and write through :class:`Store`. Domain methods are
grouped by concern in the mixins below; connection handling and migrations are in ``db``.
Every read returns the typed records of ``mlr.store.records`` (pydantic models, with the JSON
columns as the payload models of ``mlr.store.payloads``); writes take those payload models or dicts.
May import: the standard library, pydantic and ``mlr.store.*`` only.
"""

from __future__ import annotations

from mlr.store.db import StoreBase, now_iso
from mlr.store.ideas import IdeaRecords
from mlr.store.loops import LoopRecords
from mlr.store.papers import PaperRecords
from mlr.store.runs import ACTIVE, FINAL, RunRecords


class Store(PaperRecords, IdeaRecords, RunRecords, LoopRecords, StoreBase):
    """The research record. ``Store(settings.db_path)`` creates and migrates it."""


__all__ = ["Store", "now_iso", "ACTIVE", "FINAL"]
