"""What the app says about the Ray cluster: the sidebar's line when the head does not answer."""

import socket
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

SIDEBAR_ONLY = Path(__file__).resolve().parent.parent / "foundation" / "sidebar_app.py"


def test_sidebar_names_an_unreachable_ray_head(data_dir, monkeypatch):
    ray = pytest.importorskip("ray")
    from mlr.execution.executors import ray_executor

    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MLR_EXECUTOR", "ray")
    monkeypatch.setenv("MLR_RAY_ADDRESS", f"127.0.0.1:{port}")
    monkeypatch.setattr(ray, "is_initialized", lambda: False)  # another test of this session may have a Ray up
    monkeypatch.setitem(ray_executor._state, "problem", None)
    at = AppTest.from_file(str(SIDEBAR_ONLY), default_timeout=60)
    at.run()
    assert not at.exception
    errors = " ".join(e.value for e in at.sidebar.error)
    assert "Ray cluster" in errors and f"127.0.0.1:{port} is unreachable" in errors and "wait in the queue" in errors


def test_sidebar_shows_nothing_of_ray_with_the_local_executor(data_dir):
    at = AppTest.from_file(str(SIDEBAR_ONLY), default_timeout=60)
    at.run()
    assert not at.exception
    text = " ".join([m.value for m in at.sidebar.markdown] + [e.value for e in at.sidebar.error])
    assert "Ray cluster" not in text
