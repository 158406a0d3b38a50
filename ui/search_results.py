"""Search results on the Library page: passages close to the query as "title · section · page N" with the query's
words highlighted; raw similarity scores, the closeness threshold and passage ids only behind the details toggle."""

from __future__ import annotations

import streamlit as st

from mlr import relevance
from mlr.safe_text import escape
from ui.library_view import highlight

# Which ranker of the library's hybrid search found the passage (Passage.found_by).
_FOUND_BY = {"dense": "found by meaning", "keyword": "found by its words", "both": "found by meaning and words"}


def search_results(passages: list, query: str, *, details: bool) -> None:
    shown = relevance.close(passages)
    if passages and not shown:
        st.info("No passage is close to this query.")
        if details:
            st.caption(f"The nearest passage scored {max(p.score for p in passages):.3f}, below the closeness "
                       f"threshold {relevance.MIN_SIMILARITY:.2f} (measured: benchmarks/bench_search_threshold.py).")
        return
    if details and len(shown) < len(passages):
        st.caption(f"{len(passages) - len(shown)} more scored below the closeness threshold "
                   f"{relevance.MIN_SIMILARITY:.2f} and are not shown.")
    for p in shown:
        with st.container(border=True):
            found = _FOUND_BY.get(getattr(p, "found_by", ""), "")
            st.markdown(f"**{escape(p.title)}** · {escape(p.section)} · page {p.page}" + (f" · {found}" if found else ""))
            if details:
                st.caption(f"similarity {p.score:.3f} · passage `{p.chunk_id}`")
            st.markdown(highlight(p.text, query))
