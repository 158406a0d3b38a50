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


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray instance for the session (2 CPUs, no dashboard, a small object store), as the Ray executor
    would start it; the executor finds it already connected and uses it."""
    ray = pytest.importorskip("ray")
    from mlr.config import REPO_ROOT

    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 1024 * 1024, namespace="mlr",
                 log_to_driver=False, job_config=ray.job_config.JobConfig(code_search_path=[str(REPO_ROOT)]))
    yield ray
    ray.shutdown()


@pytest.fixture
def ray_settings(fast_settings, ray_local):
    return fast_settings.model_copy(update={"executor": "ray"})


@pytest.fixture
def ray_runner(ray_settings, store):
    r = NotebookRunner(ray_settings, store)
    yield r
    r.stop(cancel_running=True)

