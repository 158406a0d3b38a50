"""Marking the parameters of a notebook written without the app's contract.

A notebook with no cell tagged ``parameters`` runs as is. To run it with other values, the app proposes the
first code cell made only of assignments of literal values (:func:`propose`, read with ``ast``, the way
:mod:`mlr.execution.parameters` reads a parameters cell), shows it, and on the researcher's confirmation writes
the tag into a **copy** (:func:`write_marked_copy`); the original file is never written.
"""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

import nbformat
from pydantic import BaseModel

from mlr.atomic import atomic_path
from mlr.execution.errors import NotebookContractError
from mlr.execution.notebook_source import read_notebook
from mlr.execution.parameters import PARAMETERS_TAG, inspect_parameters, parameters_cell_index

log = logging.getLogger(__name__)

MARKED_SUFFIX = "-parameters"


class ParametersProposal(BaseModel):
    """The cell the app proposes to tag ``parameters``: where it is, what it says, the names it sets."""

    cell_index: int  # in the notebook's cells (Markdown cells counted)
    source: str
    names: list[str]

    def words(self) -> str:
        shown = ", ".join(self.names[:6]) + (f" and {len(self.names) - 6} more" if len(self.names) > 6 else "")
        return f"cell {self.cell_index} sets {shown}"


def _literal_names(source: str) -> list[str]:
    """The names a cell of only ``name = literal`` (or ``name: type = literal``) lines sets; [] otherwise."""
    clean = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        body = ast.parse(clean).body
    except SyntaxError:
        return []
    names = []
    for node in body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            target, value = node.target.id, node.value
        else:
            return []
        try:
            ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return []
        names.append(target)
    return names


def propose(nb: nbformat.NotebookNode) -> ParametersProposal | None:
    """The first code cell made only of literal assignments; None when the notebook has none (or is tagged)."""
    if parameters_cell_index(nb) is not None:
        return None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        names = _literal_names(cell.source)
        if names:
            return ParametersProposal(cell_index=i, source=cell.source, names=names)
    return None


def _content(nb: nbformat.NotebookNode) -> list:
    """What makes two copies the same: cell kinds, sources and tags (not the ids a conversion makes up)."""
    return [(c.cell_type, c.source, c.get("metadata", {}).get("tags") or []) for c in nb.cells]


def marked_path(original: Path, folder: Path) -> Path:
    """Where the tagged copy of ``original`` goes in ``folder``: ``<stem>-parameters.ipynb`` (-2, -3 … if taken)."""
    stem = re.sub(MARKED_SUFFIX + r"(-\d+)?$", "", original.stem) + MARKED_SUFFIX
    target, n = folder / f"{stem}.ipynb", 2
    while target.exists():
        target, n = folder / f"{stem}-{n}.ipynb", n + 1
    return target


def write_marked_copy(original: str | Path, cell_index: int, folder: str | Path) -> Path:
    """Write a copy of ``original`` (an .ipynb or .py) with cell ``cell_index`` tagged ``parameters`` into
    ``folder``; returns the copy's path. The original is only read. NotebookContractError when that cell is
    not one of literal assignments."""
    original, folder = Path(original), Path(folder)
    nb = read_notebook(original)
    if parameters_cell_index(nb) is not None:
        raise NotebookContractError(f"{original.name} already has a cell tagged `{PARAMETERS_TAG}`")
    if not 0 <= cell_index < len(nb.cells) or nb.cells[cell_index].cell_type != "code":
        raise NotebookContractError(f"{original.name} has no code cell {cell_index}")
    if not _literal_names(nb.cells[cell_index].source):
        raise NotebookContractError(f"cell {cell_index} of {original.name} is not made only of assignments of "
                                    "literal values (`lr = 0.01`), so its values cannot be set from outside")
    tags = list(nb.cells[cell_index].metadata.get("tags") or [])
    nb.cells[cell_index].metadata["tags"] = [*tags, PARAMETERS_TAG]
    from mlr.execution.prototypes import describe

    meta = nb.metadata.setdefault("mlr", {})
    meta["parameters_marked_from"] = original.name
    meta["title"] = f"{describe(original).title}, parameters marked"
    folder.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(nb)
    stem = re.sub(MARKED_SUFFIX + r"(-\d+)?$", "", original.stem) + MARKED_SUFFIX
    for same in sorted(folder.glob(f"{stem}*.ipynb")):  # marked before, the same way: no second copy
        try:
            if _content(read_notebook(same)) == _content(nb):
                return same
        except NotebookContractError:
            continue
    target = marked_path(original, folder)
    with atomic_path(target, suffix=".ipynb") as tmp:
        tmp.write_text(text, encoding="utf-8")
        inspect_parameters(tmp)  # the tagged cell parses as parameters before the copy is visible
    log.info("marked cell %s of %s as parameters in the copy %s", cell_index, original, target)
    return target
