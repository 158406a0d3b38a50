"""Candidate models and datasets for a plan: the Hugging Face Hub when online sources are on,
the local Hugging Face cache otherwise. With the switch off no network call is made at all:
``HfApi`` is not even constructed."""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel

from mlr.config import Settings

log = logging.getLogger(__name__)

Kind = Literal["model", "dataset"]


class Candidate(BaseModel):
    repo_id: str
    kind: Kind
    source: Literal["hub", "cache"]
    task: str | None = None
    downloads: int | None = None
    likes: int | None = None
    size_bytes: int | None = None
    last_modified: str | None = None


class CandidateSearch(BaseModel):
    candidates: list[Candidate]
    source: Literal["hub", "cache"]
    note: str = ""  # e.g. why the Hub was not asked, or what went wrong


def find_candidates(settings: Settings, *, kind: Kind = "model", task: str | None = None, search: str | None = None,
                    limit: int = 20, api=None) -> CandidateSearch:
    """Online: ``HfApi.list_models``/``list_datasets`` filtered by task (a Hub pipeline tag such as
    ``text-classification``) and ``search``, most downloaded first. Offline: ``scan_cache_dir``.

    ``api`` lets tests pass a stand-in for ``HfApi``; it is never used when online sources are off.
    """
    limit = max(1, min(int(limit), 100))
    if not settings.online_sources:
        found = cached(kind=kind, search=search)[:limit]
        return CandidateSearch(candidates=found, source="cache",
                               note="online sources are off: showing what is already in the local Hugging Face cache")
    try:
        if api is None:
            from huggingface_hub import HfApi

            api = HfApi()
        if kind == "model":
            items = api.list_models(pipeline_tag=task or None, search=search or None, sort="downloads",
                                    limit=limit)
        else:
            items = api.list_datasets(filter=f"task_categories:{task}" if task else None, search=search or None,
                                      sort="downloads", limit=limit)
        out = [Candidate(repo_id=i.id, kind=kind, source="hub", task=getattr(i, "pipeline_tag", None) or task,
                         downloads=getattr(i, "downloads", None), likes=getattr(i, "likes", None),
                         last_modified=str(getattr(i, "last_modified", "") or "") or None) for i in items]
        return CandidateSearch(candidates=out[:limit], source="hub")
    except Exception as exc:  # boundary: network, HTTP and Hub errors become a note, with the cache as fallback
        log.warning("Hub search failed: %s", exc)
        return CandidateSearch(candidates=cached(kind=kind, search=search)[:limit], source="cache",
                               note=f"the Hub search failed ({type(exc).__name__}: {exc}); showing the local cache")


def cached(*, kind: Kind = "model", search: str | None = None, cache_dir: str | None = None) -> list[Candidate]:
    """Repos of ``kind`` in the local Hugging Face cache (no network), largest first."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir(cache_dir)
    except CacheNotFound:
        return []
    needle = (search or "").lower()
    out = [Candidate(repo_id=r.repo_id, kind=kind, source="cache", size_bytes=r.size_on_disk,
                     last_modified=str(r.last_modified))
           for r in info.repos if r.repo_type == kind and needle in r.repo_id.lower()]
    return sorted(out, key=lambda c: -(c.size_bytes or 0))
