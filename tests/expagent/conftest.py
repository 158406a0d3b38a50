"""Fixtures of the ExperimentAgent tests: the broken notebooks, a real papermill runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

BROKEN = Path(__file__).resolve().parent.parent / "fixtures" / "broken"
MANIFEST = json.loads((BROKEN / "manifest.json").read_text())


@pytest.fixture
def broken(tmp_path):
    """Copy of a broken notebook in a scratch folder (the fixture file itself stays pristine)."""

    def copy(name: str) -> Path:
        dst = tmp_path / "prototypes" / f"{name}.ipynb"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(BROKEN / f"{name}.ipynb", dst)
        return dst

    return copy


@pytest.fixture
def runner(settings, store):
    """The real execution engine (papermill in a child process, real kernel)."""
    from mlr.execution.runner import NotebookRunner

    r = NotebookRunner(settings, store)
    yield r
    r.stop(cancel_running=True)
