"""Shared AppTest helpers: the app opened on one page of a test's data directory, and polling a page."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import streamlit as st
from streamlit.testing.v1 import AppTest

from mlr.config import REPO_ROOT


def open_page(monkeypatch, page: str, *, timeout: int = 60) -> Iterator[AppTest]:
    """Yield the app switched to ``page`` with empty Streamlit caches (so the resources are this test's);
    afterwards stop the app's runner and clear the caches again. Use from a fixture: ``yield from``."""
    monkeypatch.chdir(REPO_ROOT)
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(page)
    yield at
    from ui import resources

    resources.runner().stop(cancel_running=True)
    st.cache_resource.clear()


def poll(at: AppTest, predicate: Callable[[AppTest], bool], timeout: float = 120,
         shown: Callable[[AppTest], object] | None = None) -> None:
    """Rerun the page until ``predicate(at)``; fail with what the page ``shown`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if predicate(at):
            return
        time.sleep(0.5)
    raise AssertionError("the page did not get there in time" + (f"; it shows: {shown(at)}" if shown else ""))
