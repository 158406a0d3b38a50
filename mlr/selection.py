"""Which item a page shows first: the one named in the address (a reload or a shared link), else the one the
researcher touched last (edited, saved, accepted), never merely the highest id.

Pages keep their selection in the URL's query parameters (``?hypothesis=3``, ``?plan=4&prototype=probe``);
this module only decides, from those words and the records, which item that is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

AD_HOC = "none"  # the query value of "no plan: ad-hoc run"


def touched(item: Any) -> str:
    """When ``item`` (a hypothesis or plan record) was last touched: its newest ISO timestamp."""
    stamps = [getattr(item, name, None) for name in ("updated_at", "accepted_at", "created_at")]
    return max((s for s in stamps if s), default="")


def parse_id(text: str | None) -> int | None:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


def latest_touched(items: Sequence[Any], also: dict[int, str] | None = None) -> Any | None:
    """The item touched last (ties: the higher id); ``also``: extra timestamps by item id (e.g. its plan's)."""
    if not items:
        return None
    also = also or {}
    return max(items, key=lambda i: (max(touched(i), also.get(i.id, "")), i.id))


def pick(items: Sequence[Any], wanted: str | None, also: dict[int, str] | None = None) -> Any | None:
    """The item whose id is ``wanted`` (from the address), else the one touched last."""
    wanted_id = parse_id(wanted)
    found = next((i for i in items if i.id == wanted_id), None)
    return found if found is not None else latest_touched(items, also)


def pick_plan(plans: Sequence[Any], wanted: str | None) -> Any | None:
    """The Experiment page's plan: ``wanted`` may name a plan id or :data:`AD_HOC`; without (or with an
    unknown) one, the accepted plan touched last, ``None`` (ad hoc) when there is none."""
    if wanted is not None and str(wanted).strip() == AD_HOC:
        return None
    return pick(plans, wanted)


def plan_touches(plans: Iterable[Any]) -> dict[int, str]:
    """Each hypothesis id's latest plan timestamp: editing or accepting a plan touches its hypothesis."""
    out: dict[int, str] = {}
    for plan in plans:
        out[plan.hypothesis_id] = max(out.get(plan.hypothesis_id, ""), touched(plan))
    return out


def index_of(options: Sequence[Any], chosen: Any, key=lambda o: o) -> int:
    """The position of ``chosen`` in ``options`` (0 when it is absent)."""
    return next((i for i, o in enumerate(options) if key(o) == key(chosen)), 0)
