"""A file that is not found: point the code (or the parameter) at the nearest existing path."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

from mlr.execution.fixers.base import ErrorReport, Fix, FixContext, parameter_fix, replace_string_literal

_MISSING = re.compile(r"No such file or directory: '([^']+)'|does not exist: '?([^'\n]+)'?|File (\S+) does not exist")
_SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", "node_modules", ".venv", "venv"}
MAX_FILES = 20000
MAX_DEPTH = 4


def existing_paths(roots: list[Path]) -> dict[str, Path]:
    """Relative path (as code would write it) -> absolute path, for files and folders under the roots."""
    found: dict[str, Path] = {}
    for root in roots:
        if not root.is_dir():
            continue
        base_depth = len(root.parts)
        for folder, dirs, files in os.walk(root):
            depth = len(Path(folder).parts) - base_depth
            dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and depth < MAX_DEPTH]
            for name in [*dirs, *files]:
                full = Path(folder) / name
                found.setdefault(full.relative_to(root).as_posix(), full)
                if len(found) >= MAX_FILES:
                    return found
    return found


def nearest(missing: str, roots: list[Path]) -> str | None:
    paths = existing_paths(roots)
    if not paths:
        return None
    rel = missing[2:] if missing.startswith("./") else missing
    if Path(missing).is_absolute():
        # An absolute path from another machine: match on the trailing components.
        tail = Path(missing).parts[-2:]
        rel = "/".join(tail)
    match = difflib.get_close_matches(rel, list(paths), n=1, cutoff=0.6)
    if match:
        return match[0]
    by_name = {Path(p).name: p for p in paths}
    name_match = difflib.get_close_matches(Path(rel).name, list(by_name), n=1, cutoff=0.7)
    return by_name[name_match[0]] if name_match else None


def fix(report: ErrorReport, ctx: FixContext) -> Fix | None:
    if report.ename not in {"FileNotFoundError", "OSError", "IOError"}:
        return None
    m = _MISSING.search(report.evalue)
    if not m:
        return None
    missing = next(g for g in m.groups() if g)
    roots = list(ctx.search_roots)
    if report.evidence.get("cwd"):  # the kernel's own working folder (live evidence) first
        roots.insert(0, Path(report.evidence["cwd"]))
    found = nearest(missing, roots)
    if not found or found == missing:
        return None
    why = f"`{missing}` does not exist; the nearest existing path is `{found}`"
    # 1. the path is a parameter value: change the parameter.
    if by_parameter := parameter_fix(report, "file_not_found", missing, found, why):
        return by_parameter
    if report.cell_index is None:
        return None
    # 2. the literal is in the failing cell; 3. only its file name is (the path was joined in code).
    # 4. a folder component of a path built by concatenation or os.path.join ('dataset' -> 'data').
    pairs = [(missing, found), (Path(missing).name, Path(found).name)]
    old_parts, new_parts = Path(missing).parts, Path(found).parts
    if len(old_parts) == len(new_parts):
        pairs += [(a, b) for a, b in zip(old_parts, new_parts) if a != b]
    for old, new in pairs:
        new_source = replace_string_literal(report.cell_source, old, new)
        if new_source != report.cell_source:
            return Fix(action="patch", fixer="file_not_found", cell_index=report.cell_index, new_source=new_source,
                       explanation=f"{why}.")
    return _missing_separator(report, ctx, missing, found)


def _missing_separator(report: ErrorReport, ctx: FixContext, missing: str, found: str) -> Fix | None:
    """``results_dir + name`` built ``outputsbaseline.csv`` where ``outputs/baseline.csv`` exists: the path was
    concatenated without a separator; join the folder variable with ``'/'``."""
    folder, rest = found.rsplit("/", 1) if "/" in found else ("", found)
    if not folder or missing != folder + rest:
        return None
    literal = re.compile(r"""^\s*(\w+)\s*=\s*(['"])""" + re.escape(folder) + r"""/?\2\s*$""", re.MULTILINE)
    for m in literal.finditer(ctx.notebook_code + "\n" + report.cell_source):
        var = m.group(1)
        pattern = re.compile(rf"(?<![\w.]){re.escape(var)}\s*\+\s*(?!['\"]/)")
        new_source, count = pattern.subn(f"{var} + '/' + ", report.cell_source)
        if count == 1:
            return Fix(action="patch", fixer="file_not_found", cell_index=report.cell_index, new_source=new_source,
                       explanation=(f"`{missing}` does not exist but `{found}` does: `{var}` (= '{folder}') was "
                                    "joined to the file name without a separator; added '/'."))
    return None
