"""Prototype notebooks: the bundled ones of the sample papers and the ones the researcher adds.

Contract (see docs/ARCHITECTURE.md): a cell tagged ``parameters``; results written to ``metrics.json`` in the
working directory; notebook metadata ``"mlr": {"primary_metric", "higher_is_better", "description",
"paper"}``. Added notebooks are checked on the way in and stored under ``settings.prototypes_dir``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import nbformat
from pydantic import BaseModel

from mlr.atomic import atomic_path
from mlr.config import Settings
from mlr.execution.errors import NotebookContractError
from mlr.execution.notebook_source import notebook_from_text
from mlr.execution.parameters import inspect_parameters, parameters_cell_index, read_notebook

log = logging.getLogger(__name__)

MAX_PROTOTYPE_BYTES = 20 * 2**20
_HEADING = re.compile(r"^\s*#\s+(.+)$|^\s*(\S.*)\n[=#*-]{3,}\s*$", re.MULTILINE)  # Markdown, or an underlined title


class Prototype(BaseModel):
    path: Path
    slug: str
    title: str
    description: str = ""
    primary_metric: str | None = None
    higher_is_better: bool = True
    paper: str | None = None
    source: str = "bundled"  # bundled | added

    @property
    def label(self) -> str:
        return f"{self.title} ({'sample' if self.source == 'bundled' else 'added'})"


def describe(path: str | Path, *, slug: str | None = None, source: str = "bundled") -> Prototype:
    """A :class:`Prototype` from a notebook file (title from the ``mlr`` metadata or the first heading)."""
    path = Path(path)
    nb = read_notebook(path)
    meta = nb.metadata.get("mlr", {}) or {}
    title = meta.get("title")
    if not title:
        for cell in nb.cells:
            match = _HEADING.search(cell.source) if cell.cell_type == "markdown" else None
            if match:
                title = (match.group(1) or match.group(2)).strip()
                break
    slug = slug or path.stem
    return Prototype(path=path, slug=slug, title=title or slug.replace("_", " ").replace("-", " "),
                     description=str(meta.get("description") or ""), primary_metric=meta.get("primary_metric"),
                     higher_is_better=bool(meta.get("higher_is_better", True)), paper=meta.get("paper"),
                     source=source)


def list_prototypes(settings: Settings) -> list[Prototype]:
    """Bundled ``sample_papers/*/prototype.ipynb`` then the researcher's added notebooks, by name."""
    found: list[Prototype] = []
    candidates = [(p, p.parent.name, "bundled") for p in sorted(settings.samples_dir.glob("*/prototype.ipynb"))]
    if settings.prototypes_dir.is_dir():
        candidates += [(p, p.stem, "added") for p in sorted(settings.prototypes_dir.glob("*.ipynb"))
                       if not p.name.startswith(".")]  # .tmp-* files are uploads being written
    for path, slug, source in candidates:
        try:
            found.append(describe(path, slug=slug, source=source))
        except NotebookContractError as exc:
            log.warning("skipping prototype %s: %s", path, exc)
    return found


def _safe_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(name).stem).strip("-.") or "prototype"
    return stem[:80]


def notebook_from_upload(name: str, content: bytes) -> nbformat.NotebookNode:
    """Parse an uploaded ``.ipynb``, or a ``.py`` script (:mod:`mlr.execution.notebook_source`); a clear error
    for anything else."""
    if len(content) > MAX_PROTOTYPE_BYTES:
        raise NotebookContractError(f"{name} is larger than {MAX_PROTOTYPE_BYTES // 2**20} MiB")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookContractError(f"{name} is not UTF-8 text: {exc}") from exc
    return notebook_from_text(name, text)




def add_prototype(settings: Settings, name: str, content: bytes) -> Prototype:
    """Check an uploaded notebook/script and store it as a prototype; returns it.

    A notebook without a ``parameters`` cell is kept too: it runs as is, and the page offers to mark one
    (:mod:`mlr.execution.mark_parameters`, which writes a tagged copy).

    The stored file never overwrites another: ``name-2.ipynb`` and so on.
    """
    nb = notebook_from_upload(name, content)
    nb.metadata.setdefault("mlr", {})
    nb.metadata.setdefault("kernelspec", {"name": settings.kernel_name, "display_name": "Python 3",
                                          "language": "python"})
    settings.prototypes_dir.mkdir(parents=True, exist_ok=True)
    stem = _safe_stem(name)
    target = settings.prototypes_dir / f"{stem}.ipynb"
    n = 2
    while target.exists():
        target = settings.prototypes_dir / f"{stem}-{n}.ipynb"
        n += 1
    with atomic_path(target, suffix=".ipynb") as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            nbformat.write(nb, fh)
        if parameters_cell_index(nb) is not None:
            inspect_parameters(tmp)  # the parameters cell must also parse, before the file is visible
    return describe(target, slug=target.stem, source="added")


def _update_added(settings: Settings, path: str | Path, what: str, change) -> Prototype:
    """Apply ``change(nb.metadata)`` to an added prototype (the app's copy) and write it atomically."""
    path = Path(path).resolve()
    if settings.prototypes_dir.resolve() not in path.parents:
        raise NotebookContractError(f"{path.name} is a bundled sample; its {what} is set in the notebook")
    nb = read_notebook(path)
    change(nb.metadata)
    with atomic_path(path, suffix=".ipynb") as tmp, open(tmp, "w", encoding="utf-8") as fh:
        nbformat.write(nb, fh)
    return describe(path, slug=path.stem, source="added")


def set_primary_metric(settings: Settings, path: str | Path, name: str, higher_is_better: bool) -> Prototype:
    """Store the researcher's pick of primary metric and direction with an added prototype (its ``mlr`` metadata).

    Only the app's stored copies under ``settings.prototypes_dir`` are written (the researcher's own file never
    is); the bundled samples name their metric already.
    """
    if not name.strip():
        raise NotebookContractError("name the metric that decides which run is better")

    def change(meta) -> None:
        mlr_meta = meta.setdefault("mlr", {})
        mlr_meta["primary_metric"], mlr_meta["higher_is_better"] = name.strip(), bool(higher_is_better)

    proto = _update_added(settings, path, "primary metric", change)
    log.info("primary metric of %s set to %s (%s is better)", proto.path.name, name,
             "higher" if higher_is_better else "lower")
    return proto


def set_kernel(settings: Settings, path: str | Path, name: str, display_name: str, language: str) -> Prototype:
    """Store the kernel the researcher picked with an added prototype (its ``kernelspec``), so that every run of it
    (the page's, the agent's, the loop's, the CLI's) uses that kernel while it is installed."""
    def change(meta) -> None:
        meta["kernelspec"] = {"name": name, "display_name": display_name, "language": language or "python"}

    proto = _update_added(settings, path, "kernel", change)
    log.info("kernel of %s set to %s", proto.path.name, name)
    return proto
