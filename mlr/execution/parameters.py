"""A notebook's parameters (the cell tagged ``parameters``) and typed values for them.

Python cells are read with ``ast`` (papermill's own line parser drops some valid lines); other
kernels' cells with papermill's translators. A default is evaluated as a Python literal and its
type taken from the value (an annotation wins for ``None`` or non-literal defaults), so forms and
the CLI get real types.
"""

from __future__ import annotations

import ast
import io
import json
import logging
import tokenize
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from mlr.execution.errors import NotebookContractError
from mlr.store.records import PlanData

if TYPE_CHECKING:
    import nbformat

log = logging.getLogger(__name__)

PARAMETERS_TAG = "parameters"
TYPES = ("bool", "int", "float", "str", "list", "dict", "none", "expression")
_ANNOTATIONS = {"bool": "bool", "int": "int", "float": "float", "str": "str", "list": "list", "dict": "dict",
                "tuple": "list", "List": "list", "Dict": "dict"}
_TRUE, _FALSE = {"true", "1", "yes", "on", "y"}, {"false", "0", "no", "off", "n"}

HOW_TO_TAG = ("Tag the cell that sets the defaults with `parameters` (Jupyter: View → Cell Toolbar → Tags; "
              "JupyterLab: property inspector → Add Tag; a jupytext .py script: `# %% tags=[\"parameters\"]`).")


class Parameter(BaseModel):
    """One parameter of a notebook: what a form widget or ``-p NAME VALUE`` needs."""

    name: str
    type: str  # one of TYPES; "expression" = a default that is not a literal (e.g. np.arange(3))
    default: Any = None
    default_source: str = ""  # the default as written in the notebook
    help: str = ""


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """Read an .ipynb (or a .py script, converted by jupytext), turning every way it can be unreadable into one
    clear error (:func:`mlr.execution.notebook_source.read_notebook`)."""
    from mlr.execution.notebook_source import read_notebook as read

    return read(path)


def _read_v4_json(path: Path) -> SimpleNamespace | None:
    """A v4 notebook read as plain JSON (metadata, and cells with their sources joined), without importing
    nbformat; None for anything else (older formats, unreadable files), which ``read_notebook`` then handles."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("nbformat") != 4 or not isinstance(raw.get("cells"), list):
        return None
    cells = []
    for cell in raw["cells"]:
        if not isinstance(cell, dict):
            return None
        source = cell.get("source", "")
        cells.append(SimpleNamespace(source="".join(source) if isinstance(source, list) else str(source),
                                     get=cell.get))
    return SimpleNamespace(metadata=raw.get("metadata") or {}, cells=cells)


def parameters_cell_index(nb: nbformat.NotebookNode) -> int | None:
    for i, cell in enumerate(nb.cells):
        if PARAMETERS_TAG in (cell.get("metadata", {}).get("tags") or []):
            return i
    return None


def type_of(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return "expression"


def _language(nb) -> str:
    return ((nb.metadata.get("kernelspec") or {}).get("language")
            or (nb.metadata.get("language_info") or {}).get("name") or "python")


def inspect_parameters(path: str | Path) -> list[Parameter]:
    """The parameters of the notebook at ``path``, in cell order.

    Raises :class:`NotebookContractError` when the notebook is unreadable or has no ``parameters`` cell.
    """
    path = Path(path)
    nb = _read_v4_json(path) if path.is_file() else None
    if nb is None or _language(nb) != "python":
        nb = read_notebook(path)
    index = parameters_cell_index(nb)
    if index is None:
        raise NotebookContractError(f"{path.name} has no cell tagged `parameters`, so its settings cannot be "
                                    f"filled in. {HOW_TO_TAG}")
    language = _language(nb)
    if language == "python":
        raw = _python_parameters(nb.cells[index].source, path.name)
    else:
        raw = _papermill_parameters(nb, index, path.name, language)
    out = []
    for name, info in raw.items():
        source = str(info.get("default") or "")
        try:
            default = ast.literal_eval(source)
            kind = type_of(default)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            default, kind = source, "expression"
        annotated = _ANNOTATIONS.get(str(info.get("inferred_type_name") or "").split("[")[0])
        if annotated and kind in ("none", "expression"):
            kind = annotated  # `x: int = None` or `x: float = math.pi`: trust the annotation
        if annotated == "float" and kind == "int":
            default, kind = float(default), "float"  # `lr: float = 1`
        out.append(Parameter(name=name, type=kind, default=default, default_source=source,
                             help=str(info.get("help") or "").strip()))
    return out


def _python_parameters(source: str, name: str) -> dict[str, dict]:
    """Top-level ``name = value`` / ``name: type = value`` of a Python cell, with trailing ``# help``.

    Our own reader because papermill's line regex drops a parameter whose comment holds an ``=``
    (``alpha: float = 1.0  # ridge only (model="ridge")``) and rejects multi-line values.
    """
    # IPython magics and shell escapes are not Python: blank them, keeping line numbers for comments.
    source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise NotebookContractError(f"the parameters cell of {name} is not valid Python (line {exc.lineno}: "
                                    f"{exc.msg})") from exc
    comments: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError):
        pass
    out: dict[str, dict] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, annotation, value = node.targets[0].id, None, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            target, annotation, value = node.target.id, ast.get_source_segment(source, node.annotation), node.value
        else:
            continue  # imports, prints, tuple unpacking: not parameters
        out[target] = {"name": target, "inferred_type_name": annotation or "None",
                       "default": ast.get_source_segment(source, value) or "",
                       "help": comments.get(node.end_lineno) or comments.get(node.lineno, "")}
    return out


def _papermill_parameters(nb, index: int, name: str, language: str) -> dict[str, dict]:
    from papermill.translators import papermill_translators  # heavy (~0.5 s)

    kernel = (nb.metadata.get("kernelspec") or {}).get("name") or "python3"
    try:
        return {p.name: p._asdict() for p in papermill_translators.find_translator(kernel, language)
                .inspect(nb.cells[index])}
    except Exception as exc:  # boundary: a language papermill cannot inspect, a cell it cannot parse
        raise NotebookContractError(f"cannot read the parameters of {name}: {exc}") from exc


def parse_value(param: Parameter, raw: str) -> Any:
    """Parse a command-line string as ``param``'s type; a clear ``ValueError`` when it does not fit."""
    text = raw.strip()
    try:
        if param.type == "bool":
            low = text.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError("expected true or false")
        if param.type == "int":
            return int(text)
        if param.type == "float":
            return float(text)
        if param.type == "str":
            return raw
        if param.type in ("list", "dict"):
            value = _literal(text)
            expected = (list, tuple) if param.type == "list" else dict
            if not isinstance(value, expected):
                raise ValueError(f"expected a {param.type} literal such as " +
                                 ("[1, 2]" if param.type == "list" else '{"a": 1}'))
            return list(value) if param.type == "list" else value
        # none / expression: a literal if it is one, else the text itself
        try:
            return _literal(text)
        except ValueError:
            return raw
    except ValueError as exc:
        article = "an" if param.type[0] in "aeiou" else "a"
        raise ValueError(f"parameter {param.name!r} is {article} {param.type}; cannot use {raw!r}: {exc}") from None


def _literal(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise ValueError(f"not a literal ({exc.__class__.__name__})") from None


def coerce(params: list[Parameter], values: dict[str, Any]) -> dict[str, Any]:
    """Check names (clear error for an unknown one) and turn strings into each parameter's type."""
    known = {p.name: p for p in params}
    out = {}
    for name, value in values.items():
        if name not in known:
            listed = ", ".join(known) or "none"
            raise ValueError(f"unknown parameter {name!r}; the notebook's parameters are: {listed}")
        out[name] = parse_value(known[name], value) if isinstance(value, str) else value
    return out


def values_from_plan(plan_data: PlanData | dict | None, params: list[Parameter]) -> dict[str, Any]:
    """The variant values a plan gives for the notebook's parameters (the first value it lists).

    Plans store ``parameters`` as ``[{"name", "values": [...], "description"}]`` (IdeaAgent) or as a
    plain ``{name: value}`` mapping; names that are not notebook parameters are ignored, values that
    do not fit the parameter's type are skipped (the form then shows the default).
    """
    raw = PlanData.model_validate(plan_data or {}).parameters
    pairs: dict[str, Any] = {}
    if isinstance(raw, dict):
        pairs = dict(raw)
    else:
        for item in raw:
            values = item.values or [getattr(item, "value", None)]  # a single "value" (hand-written plans)
            if item.name and values[0] is not None:
                pairs[item.name] = values[0]
    known = {p.name: p for p in params}
    out = {}
    for name, value in pairs.items():
        param = known.get(name)
        if param is None:
            continue
        try:
            if isinstance(value, str) and param.type != "str":
                value = parse_value(param, value)
            elif param.type == "float" and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            elif param.type == "int" and isinstance(value, float) and value.is_integer():
                value = int(value)
        except ValueError:
            log.info("plan value %r for %s does not fit type %s", value, name, param.type)
            continue
        out[name] = value
    return out


def defaults(params: list[Parameter]) -> dict[str, Any]:
    """The notebook's own defaults, for a baseline run (non-literal defaults are left to the notebook)."""
    return {p.name: p.default for p in params if p.type != "expression"}
