"""Fixtures of the execution tests: the probe notebook and a runner with short limits."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mlr.execution.runner import NotebookRunner

NOTEBOOKS = Path(__file__).resolve().parent.parent / "fixtures" / "notebooks"


@pytest.fixture
def probe() -> Path:
    return NOTEBOOKS / "probe.ipynb"


@pytest.fixture
def no_parameters() -> Path:
    return NOTEBOOKS / "no_parameters.ipynb"


@pytest.fixture
def fast_settings(settings):
    # Short limits so a stuck test fails in seconds, not the product's hour.
    return settings.model_copy(update={"run_timeout_s": 120.0, "cell_timeout_s": 60.0})


@pytest.fixture
def runner(fast_settings, store):
    r = NotebookRunner(fast_settings, store)
    yield r
    r.stop(cancel_running=True)


def _wait_for(predicate, timeout: float = 60.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def wait_for():
    """``wait_for(predicate, timeout)``: poll until truthy, return the value; fail after ``timeout``."""
    return _wait_for
