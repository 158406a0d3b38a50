"""A notebook from what a researcher has: an ``.ipynb`` or a Python script, read the same way everywhere.

The upload on the Experiment page, ``python -m mlr run script.py``, the parameters reader and the run's
child all call :func:`read_notebook` / :func:`notebook_from_text`, so a script converts the same way in each.

Scripts are converted with jupytext, keeping their cell structure:

- ``# %%`` cells (jupytext/VS Code/Spyder "percent" format, with ``# %% [markdown]`` and ``tags=[...]``);
- ``# In[ ]:`` cells (what Jupyter's "Download as Python" writes);
- sphinx-gallery examples: a module docstring, then blocks split by a line of ``#`` (20 or more) or by
  ``# %%``; the comment block that opens a section becomes a Markdown cell;
- any other script: jupytext's "light" format (blank-line separated blocks).

Empty cells left by the conversion are dropped and blank lines around each cell trimmed.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from mlr.execution.errors import NotebookContractError

SCRIPT_SUFFIXES = (".py",)
NOTEBOOK_SUFFIXES = (".ipynb",)
_RULE = re.compile(r"^#{20,}\s*$", re.MULTILINE)
_PERCENT = re.compile(r"^# %%(.*)$", re.MULTILINE)
_IN_PROMPT = re.compile(r"^# In\[[ 0-9]*\]:\s*$", re.MULTILINE)
_DOCSTRING_FIRST = re.compile(r'\A(?:\s*#[^\n]*\n|\s*\n)*\s*[rRuU]?("""|\'\'\')')
SPHINX_RULE = "#" * 79


def script_format(text: str) -> str:
    """Which convention a script follows: ``sphinx-gallery``, ``percent``, ``in-prompts`` or ``light``."""
    percent = _PERCENT.findall(text)
    if _DOCSTRING_FIRST.match(text) and (_RULE.search(text) or percent) and \
            not any(rest.strip() for rest in percent):  # `# %% [markdown]` or `tags=`: jupytext's own format
        return "sphinx-gallery"
    if percent:
        return "percent"
    if _IN_PROMPT.search(text):
        return "in-prompts"
    return "light"


def _tidy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cells = []
    for cell in nb.cells:
        cell.source = cell.source.strip("\n")
        if cell.source.strip() or cell.get("metadata", {}).get("tags"):
            cells.append(cell)
    nb.cells = cells
    return nb


def script_to_notebook(text: str) -> nbformat.NotebookNode:
    """A Python script as a notebook, in the convention it follows (see the module's docstring)."""
    import jupytext

    kind = script_format(text)
    if kind == "sphinx-gallery":
        nb = jupytext.reads(_PERCENT.sub(SPHINX_RULE, text), fmt="py:sphinx")
    elif kind == "light":
        nb = jupytext.reads(text, fmt="py:light")
    else:  # jupytext reads `# In[ ]:` prompts as percent cells
        nb = jupytext.reads(text, fmt="py:percent")
    nb.metadata.setdefault("mlr", {})["converted_from"] = kind
    return _tidy(nb)


def notebook_from_text(name: str, text: str) -> nbformat.NotebookNode:
    """``text`` of the file called ``name`` (.ipynb or .py) as a validated notebook; NotebookContractError else."""
    suffix = Path(name).suffix.lower()
    try:
        if suffix in NOTEBOOK_SUFFIXES:
            nb = nbformat.reads(text, as_version=4)
        elif suffix in SCRIPT_SUFFIXES:
            nb = script_to_notebook(text)
        else:
            raise NotebookContractError(f"{name}: expected a Jupyter notebook (.ipynb) or a Python script (.py)")
        nbformat.validate(nb)
    except NotebookContractError:
        raise
    except Exception as exc:  # boundary: JSON, validation and jupytext errors
        raise NotebookContractError(f"{name} is not a readable Jupyter notebook: {exc}") from exc
    return nb


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` (an .ipynb, or a .py script converted), or one clear NotebookContractError."""
    path = Path(path)
    if not path.is_file():
        raise NotebookContractError(f"notebook not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookContractError(f"{path.name} is not readable as UTF-8 text: {exc}") from exc
    return notebook_from_text(path.name, text)
