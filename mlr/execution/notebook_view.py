"""An executed notebook as plain data for display: cells, their outputs, the failing cell marked.

Indexes are those of the user's notebook: papermill's injected parameters cell and its error
banner cells are labelled, not counted, matching ``RunOutcome.error.cell_index``.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from pydantic import BaseModel

from mlr.safe_text import html_fragment

MAX_TEXT = 20000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
INJECTED_TAG, ERROR_MARKER_TAG = "injected-parameters", "papermill-error-cell-tag"


class OutputView(BaseModel):
    kind: str  # text | error | image | markdown | html (sanitised: mlr.safe_text.html_fragment)
    text: str = ""
    image_png: str | None = None  # base64 (a PNG, or a JPEG when image_mime says so)
    image_mime: str = "image/png"
    stream: str = ""  # stdout | stderr for printed text

    @property
    def rich(self) -> bool:
        """A figure or a table: what the results show first."""
        return self.kind in ("image", "html")


class CellView(BaseModel):
    index: int | None  # in the user's notebook; None for the injected parameters cell
    cell_type: str
    source: str
    execution_count: int | None = None
    outputs: list[OutputView] = []
    injected: bool = False
    failed: bool = False


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"\n… ({len(text) - MAX_TEXT} more characters)"


def _outputs(cell) -> tuple[list[OutputView], bool]:
    out, failed = [], False
    for o in cell.get("outputs", []):
        kind = o.get("output_type")
        if kind == "stream":
            out.append(OutputView(kind="text", text=_clip(strip_ansi("".join(o.get("text", "")))),
                                  stream=o.get("name", "stdout")))
        elif kind == "error":
            failed = True
            text = "\n".join(o.get("traceback") or []) or f"{o.get('ename')}: {o.get('evalue')}"
            out.append(OutputView(kind="error", text=_clip(strip_ansi(text))))
        elif kind in ("execute_result", "display_data"):
            data = o.get("data", {})
            image = next((m for m in ("image/png", "image/jpeg") if m in data), None)
            if image:
                png = data[image]
                out.append(OutputView(kind="image", image_png="".join(png) if isinstance(png, list) else png,
                                      image_mime=image))
            elif "text/html" in data:
                out.append(OutputView(kind="html", text=html_fragment(_clip("".join(data["text/html"])))))
            elif "text/markdown" in data:
                out.append(OutputView(kind="markdown", text=_clip("".join(data["text/markdown"]))))
            elif "text/plain" in data:
                out.append(OutputView(kind="text", text=_clip(strip_ansi("".join(data["text/plain"])))))
    return out, failed


def notebook_cells(path: str | Path, error_cell_index: int | None = None) -> list[CellView]:
    """The cells of an (executed) notebook; the cell with an error output or ``error_cell_index`` is failed."""
    nb = nbformat.read(str(path), as_version=4)
    cells, index = [], 0
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags") or []
        if ERROR_MARKER_TAG in tags:
            continue  # papermill's "An Exception was encountered" banners: we highlight the cell instead
        injected = INJECTED_TAG in tags
        outputs, failed = _outputs(cell) if cell.cell_type == "code" else ([], False)
        view = CellView(index=None if injected else index, cell_type=cell.cell_type, source=cell.source,
                        execution_count=cell.get("execution_count"), outputs=outputs, injected=injected,
                        failed=failed or (not injected and error_cell_index is not None and index == error_cell_index))
        cells.append(view)
        if not injected:
            index += 1
    return cells


def printed_output(cells: list[CellView]) -> str:
    """What the notebook's cells printed (stdout and stderr), in order, clipped."""
    return _clip("".join(out.text for cell in cells for out in cell.outputs if out.kind == "text" and out.stream))


def rich_outputs(cells: list[CellView]) -> list[tuple[CellView, OutputView]]:
    """The figures and tables of an executed notebook, in order, with the cell each came from."""
    return [(cell, out) for cell in cells for out in cell.outputs if out.rich]
