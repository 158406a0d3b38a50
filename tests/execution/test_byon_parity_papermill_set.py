"""Papermill's own test notebooks (shipped in the papermill package) as a second parity set (issue 17): each one
that fails or succeeds under the papermill CLI fails or succeeds the same way under ``python -m mlr run``.
Both are given the kernel ``python3`` (the app always names a kernel; papermill's CLI needs one for notebooks
that name none or an uninstalled one)."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import papermill
import pytest

from mlr.config import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

NOTEBOOKS = Path(papermill.__file__).parent / "tests" / "notebooks"


def _papermill(path: Path, out: Path) -> bool:
    proc = subprocess.run([sys.executable, "-m", "papermill", str(path), str(out), "-k", "python3",
                           "--no-progress-bar", "--execution-timeout", "120"],
                          capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode == 0


def _mlr(path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "mlr", "run", str(path), "--kernel", "python3", "--json"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.stdout.strip(), proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_papermills_own_notebooks_fail_or_succeed_the_same_under_mlr_run(data_dir, tmp_path):
    if not NOTEBOOKS.is_dir():
        pytest.skip(f"this papermill install ships no test notebooks ({NOTEBOOKS})")
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert len(paths) >= 15
    with ThreadPoolExecutor(2) as pool:
        theirs = list(pool.map(lambda p: _papermill(p, tmp_path / p.name), paths))
        ours = list(pool.map(_mlr, paths))
    disagree = {p.name: (t, o["status"], (o["error"] or {}).get("evalue", "")[:200])
                for p, t, o in zip(paths, theirs, ours) if t != (o["status"] == "succeeded")}
    assert not disagree, f"papermill and mlr disagree: {disagree}"
    assert 0 < sum(theirs) < len(paths)  # the set holds both verdicts
