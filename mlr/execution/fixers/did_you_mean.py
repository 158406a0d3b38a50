"""Python's "Did you mean" for NameError, AttributeError and ImportError, applied to the failing cell.

Python 3.12+ kernels print the suggestion; on 3.11 it is only computed by the interpreter's own
excepthook, which a Jupyter kernel bypasses. So when the report carries none, the same kind of
suggestion is computed here from the names that exist: the notebook's own names and builtins for
a NameError, the module's or type's attributes (looked up in a child process) for the others.
"""

from __future__ import annotations

import builtins
import re

from mlr.execution.fixers import introspect
from mlr.execution.fixers.base import (ErrorReport, Fix, FixContext, closest, distance, names_in, replace_name,
                                       suggestion_in, typo_like)

_NAME = re.compile(r"name '(\w+)' is not defined")
_MODULE_ATTR = re.compile(r"module '([\w.]+)' has no attribute '(\w+)'")
_OBJ_ATTR = re.compile(r"'(\w+)' object has no attribute '(\w+)'")
_TYPE_ATTR = re.compile(r"type object '(\w+)' has no attribute '(\w+)'")
_IMPORT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")

# Conventional aliases: a NameError on one of these is a forgotten import, not a typo.
COMMON_IMPORTS = {
    "np": "import numpy as np", "pd": "import pandas as pd", "plt": "import matplotlib.pyplot as plt",
    "torch": "import torch", "nn": "import torch.nn as nn", "F": "import torch.nn.functional as F",
    "os": "import os", "sys": "import sys", "json": "import json", "math": "import math", "re": "import re",
    "time": "import time", "random": "import random", "Path": "from pathlib import Path",
    "sns": "import seaborn as sns", "tf": "import tensorflow as tf",
}


def _patch(report: ErrorReport, new_source: str, why: str) -> Fix | None:
    if new_source == report.cell_source:
        return None
    return Fix(action="patch", fixer="did_you_mean", cell_index=report.cell_index, new_source=new_source,
               explanation=why)


def _name_error(report: ErrorReport, ctx: FixContext, name: str) -> Fix | None:
    suggested = suggestion_in(report)
    if suggested is None and name in COMMON_IMPORTS and name not in names_in(ctx.notebook_code.replace(
            report.cell_source, "")):
        line = COMMON_IMPORTS[name]
        return _patch(report, f"{line}\n{report.cell_source}", f"NameError: `{name}` is used but never "
                                                               f"imported; added `{line}`.")
    if suggested is None:
        # The live kernel's namespace (evidence) first: names that really exist at the failure.
        own = (names_in(ctx.notebook_code) | set(report.evidence.get("names", []))) - {name}
        suggested = closest(name, own | set(dir(builtins)) | set(report.parameters), preferred=own)
    if not suggested or not suggested.isidentifier() or not typo_like(name, suggested):
        return None
    return _patch(report, replace_name(report.cell_source, name, suggested),
                  f"NameError: `{name}` is not defined. Did you mean `{suggested}`?")


def _attr_candidates(report: ErrorReport, ctx: FixContext) -> tuple[str, set[str]] | None:
    text = report.evalue
    seen = report.evidence.get("attributes") or {}
    if seen.get("dir") and (m := re.search(r"has no attribute '(\w+)'", text)):
        return m.group(1), set(seen["dir"])  # dir() of the very object, from the live kernel
    if m := _MODULE_ATTR.search(text):
        return m.group(2), introspect.module_names(m.group(1))
    if m := _TYPE_ATTR.search(text) or _OBJ_ATTR.search(text):
        owner, attr = m.group(1), m.group(2)
        if isinstance(getattr(builtins, owner, None), type):
            return attr, {n for n in dir(getattr(builtins, owner)) if not n.startswith("__")}
        origin = introspect.import_map(ctx.notebook_code).get(owner)
        if origin:
            return attr, introspect.module_names(origin)
        # Otherwise: attributes the notebook itself uses on other objects.
        return attr, set(re.findall(r"\.(\w+)", ctx.notebook_code))
    return None


_INSTEAD = re.compile(r"[Uu]se `?(?:[\w]+\.)*(\w+)(?:\(\))?`? instead|renamed to `?(?:[\w]+\.)*(\w+)`?")


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def attribute_candidate(attr: str, names: set[str], message: str = "") -> tuple[str | None, str]:
    """The attribute meant by ``attr`` and why: the replacement the library's own message names; a one-typo
    neighbour (a dropped letter first); a renamed API (the old name's letters, in order, inside a longer name
    with the same start, as ``trapz`` → ``trapezoid``, or a longer old name shortened, ``product`` → ``prod``);
    else the nearest name. A private name is never proposed for a public one."""
    m = _INSTEAD.search(message)
    if m and (name := m.group(1) or m.group(2)) in names:
        return name, f"The library says to use `{name}` instead."
    if not attr.startswith("_"):
        names = {n for n in names if not n.startswith("_")}
    one_typo = [n for n in names if abs(len(n) - len(attr)) <= 1 and distance(attr, n) <= 2]
    if one_typo:
        dropped = [n for n in one_typo if len(n) == len(attr) + 1 and _subsequence(attr, n)]
        return closest(attr, dropped or one_typo), ""
    renamed = [n for n in names if n[:2] == attr[:2] and len(n) > len(attr) and _subsequence(attr, n)]
    renamed += [n for n in names if n[:3] == attr[:3] and 3 <= len(n) < len(attr) and _subsequence(n, attr)]
    if renamed:
        name = min(renamed, key=lambda n: (abs(len(n) - len(attr)), n))
        return name, (f"`{attr}` looks like an older or shortened name of `{name}` (renamed API); "
                      f"using `{name}`.")
    return closest(attr, names), ""


def fix(report: ErrorReport, ctx: FixContext) -> Fix | None:
    if report.cell_index is None:
        return None
    if report.ename in {"NameError", "UnboundLocalError"} and (m := _NAME.search(report.evalue)):
        return _name_error(report, ctx, m.group(1))
    if report.ename == "AttributeError":
        found = _attr_candidates(report, ctx)
        if not found:
            return None
        attr, names = found
        suggested, why = suggestion_in(report), ""
        if not suggested:
            suggested, why = attribute_candidate(attr, names - {attr}, report.evalue)
        if not suggested or not (why or typo_like(attr, suggested)):  # a named or renamed API, or a typo
            return None
        return _patch(report, replace_name(report.cell_source, attr, suggested, attribute_only=True),
                      f"AttributeError: no attribute `{attr}`. " + (why or f"Did you mean `{suggested}`?"))
    if report.ename == "ImportError" and (m := _IMPORT.search(report.evalue)):
        name, module = m.group(1), m.group(2)
        suggested = suggestion_in(report) or closest(name, introspect.module_names(module))
        if not suggested or not typo_like(name, suggested):
            return None
        return _patch(report, replace_name(report.cell_source, name, suggested),
                      f"ImportError: `{module}` has no `{name}`. Did you mean `{suggested}`?")
    return None
