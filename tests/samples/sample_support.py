"""Shared helpers for the sample-paper tests: where the samples live and what their READMEs promise."""

from __future__ import annotations

import json
import re
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "sample_papers"
SLUGS = sorted(p.parent.name for p in SAMPLES.glob("*/paper.md"))

# A README row such as: | baseline | `{"pool": 1}` | 0.806 |
_ROW = re.compile(r"^\|\s*(baseline|improved)\s*\|\s*`(\{.*\})`\s*\|\s*([0-9.]+)\s*\|\s*$", re.M)


def readme_runs(slug: str) -> dict[str, tuple[dict, float, int]]:
    """{'baseline'|'improved': (parameters, stated value, decimals stated)} from the paper's README."""
    text = (SAMPLES / slug / "README.md").read_text(encoding="utf-8")
    runs = {}
    for kind, params, value in _ROW.findall(text):
        decimals = len(value.split(".")[1]) if "." in value else 0
        runs[kind] = (json.loads(params), float(value), decimals)
    return runs


def notebook_meta(slug: str) -> dict:
    return json.loads((SAMPLES / slug / "prototype.ipynb").read_text(encoding="utf-8"))["metadata"]



def load_builder():
    """Import sample_papers/build_pdfs.py (a script, not a package module)."""
    import importlib.util
    import sys

    if "sample_build_pdfs" in sys.modules:
        return sys.modules["sample_build_pdfs"]
    spec = importlib.util.spec_from_file_location("sample_build_pdfs", SAMPLES / "build_pdfs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up in sys.modules
    spec.loader.exec_module(module)
    return module
