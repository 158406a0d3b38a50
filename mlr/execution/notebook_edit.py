"""Copy-on-write notebook versions, single-cell patches and unified diffs.

A debug or adaptation session never touches the researcher's prototype: version 0 is a copy,
and every patch writes a new file ``v<N>.ipynb`` next to it. Undo is therefore just "point at the
previous file again"; nothing is ever rewritten in place. Writes are atomic (temp file + replace).
Cell indexes are positions in ``nb.cells`` of the user's notebook (markdown cells count), the same
convention as ``mlr.protocols.RunError.cell_index``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
from pathlib import Path

import nbformat

from mlr.atomic import atomic_path
from mlr.execution.errors import NotebookContractError
from mlr.execution.notebook_source import SCRIPT_SUFFIXES
from mlr.execution.notebook_source import read_notebook as read_source

_VERSION = re.compile(r"^v(\d+)\.ipynb$")


class NotebookEditError(ValueError):
    """A patch that cannot be applied (no such cell, not a code cell, unreadable notebook)."""


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """An .ipynb, or a .py script converted as a run converts it (:mod:`mlr.execution.notebook_source`)."""
    if Path(path).suffix.lower() in SCRIPT_SUFFIXES:
        try:
            return read_source(path)
        except NotebookContractError as exc:
            raise NotebookEditError(f"cannot read notebook {path}: {exc}") from exc
    try:
        return nbformat.read(str(path), as_version=4)
    except (OSError, json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise NotebookEditError(f"cannot read notebook {path}: {exc}") from exc


def write_notebook_atomic(nb: nbformat.NotebookNode, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path, suffix=".ipynb") as tmp, open(tmp, "w", encoding="utf-8") as fh:
        nbformat.write(nb, fh)
    return path


def cell_sources(path: str | Path) -> list[tuple[int, str, str]]:
    """``(index, cell_type, source)`` of every cell."""
    return [(i, c.cell_type, c.source) for i, c in enumerate(read_notebook(path).cells)]


def code_text(path: str | Path) -> str:
    """All code cells joined: the vocabulary fixers draw candidate names and keys from."""
    return "\n\n".join(src for _, kind, src in cell_sources(path) if kind == "code")


def cell_source(path: str | Path, cell_index: int) -> str:
    cells = read_notebook(path).cells
    if not 0 <= cell_index < len(cells):
        raise NotebookEditError(f"the notebook has {len(cells)} cells; there is no cell {cell_index}")
    return cells[cell_index].source


def parameters_cell_index(path: str | Path) -> int | None:
    for i, cell in enumerate(read_notebook(path).cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return i
    return None


def patch_cell(src: str | Path, dst: str | Path, cell_index: int, new_source: str) -> Path:
    """Write a copy of ``src`` to ``dst`` with one code cell's source replaced; outputs are cleared."""
    nb = read_notebook(src)
    if not 0 <= cell_index < len(nb.cells):
        raise NotebookEditError(f"the notebook has {len(nb.cells)} cells; there is no cell {cell_index}")
    cell = nb.cells[cell_index]
    if cell.cell_type != "code":
        raise NotebookEditError(f"cell {cell_index} is a {cell.cell_type} cell, not code")
    cell.source = new_source.rstrip("\n")
    cell.outputs = []
    cell.execution_count = None
    return write_notebook_atomic(nb, dst)


def unified_diff(old: str, new: str, name: str = "cell") -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"a/{name}", tofile=f"b/{name}", n=2)
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return text


def parameters_diff(old: dict, new: dict) -> str:
    """A diff-like rendering of parameter changes, so a parameter fix reads like a code fix."""
    out = []
    for key in sorted(set(old) | set(new)):
        if old.get(key, ...) != new.get(key, ...):
            if key in old:
                out.append(f"-{key} = {old[key]!r}\n")
            if key in new:
                out.append(f"+{key} = {new[key]!r}\n")
    return ("--- a/parameters\n+++ b/parameters\n" + "".join(out)) if out else ""


class NotebookVersions:
    """The versions of one notebook inside a session folder: ``v0.ipynb`` (the copy), ``v1``, ...

    ``origin`` is recorded in ``origin.txt`` so fixers can still resolve paths next to the prototype.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    @classmethod
    def start(cls, original: str | Path, folder: str | Path) -> "NotebookVersions":
        original = Path(original)
        read_notebook(original)  # refuse an unreadable notebook before copying anything
        versions = cls(folder)
        versions.folder.mkdir(parents=True, exist_ok=True)
        if not versions.paths() and original.suffix.lower() in SCRIPT_SUFFIXES:  # a script: v0 is its conversion
            write_notebook_atomic(read_notebook(original), versions.folder / "v0.ipynb")
            (versions.folder / "origin.txt").write_text(str(original.resolve()), encoding="utf-8")
        elif not versions.paths():
            tmp = versions.folder / ".v0.tmp"
            shutil.copyfile(original, tmp)
            os.replace(tmp, versions.folder / "v0.ipynb")
            (versions.folder / "origin.txt").write_text(str(original.resolve()), encoding="utf-8")
        return versions

    @property
    def origin(self) -> Path | None:
        marker = self.folder / "origin.txt"
        return Path(marker.read_text(encoding="utf-8").strip()) if marker.exists() else None

    def paths(self) -> list[Path]:
        found = [(int(m.group(1)), p) for p in self.folder.glob("v*.ipynb") if (m := _VERSION.match(p.name))]
        return [p for _, p in sorted(found)]

    def latest(self) -> Path:
        paths = self.paths()
        if not paths:
            raise NotebookEditError(f"no notebook versions in {self.folder}")
        return paths[-1]

    def next_path(self) -> Path:
        paths = self.paths()
        n = int(_VERSION.match(paths[-1].name).group(1)) + 1 if paths else 0
        return self.folder / f"v{n}.ipynb"

    def apply(self, base: str | Path, cell_index: int, new_source: str) -> tuple[Path, str]:
        """New version = ``base`` with one cell replaced; returns (path, unified diff of that cell)."""
        old = cell_source(base, cell_index)
        if old.rstrip("\n") == new_source.rstrip("\n"):
            raise NotebookEditError(f"the patch does not change cell {cell_index}")
        path = patch_cell(base, self.next_path(), cell_index, new_source)
        return path, unified_diff(old, new_source, name=f"cell[{cell_index}]")


def parameter_defaults(path: str | Path) -> dict:
    """Literal defaults assigned in the ``parameters`` cell (what papermill would override)."""
    import ast

    index = parameters_cell_index(path)
    if index is None:
        return {}
    out: dict = {}
    try:
        tree = ast.parse(cell_source(path, index))
    except SyntaxError:
        return out
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
            node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and getattr(node, "value", None) is not None:
            try:
                out[target.id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return out
