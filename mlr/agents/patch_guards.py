"""Guards every model patch passes before it can run (approval or autopilot alike).

A small model's patch can wreck a notebook: replace a cell with its worked example's text, delete the
cell's real code, or use names that exist nowhere. Each guard looks at the patched cell against the
notebook and answers why it refuses, or nothing:

- ``compile``: the patched cell must compile (IPython magics and shell lines aside);
- ``dropped_names``: names the cell defined and a later cell uses must still be defined;
- ``undefined_names``: every name the patch adds must exist somewhere (the notebook, builtins, imports);
- ``keeps_cell``: the patch keeps at least half of the cell's lines; a rewrite needs the model's explicit
  reason and the researcher's approval (it is never applied on autopilot);
- ``example_echo``: the patch does not bring in the worked example's code.

Pure functions over source text; nothing is executed.
"""

from __future__ import annotations

import ast
import builtins
import json
from dataclasses import dataclass
from functools import lru_cache

from mlr.agents import prompts
from mlr.cellcode import without_magics

KEEP_FRACTION = 0.5  # a patch must keep at least this share of the cell's (non-blank) lines
_IPYTHON_NAMES = {"get_ipython", "display", "In", "Out", "exit", "quit", "__file__"}


@dataclass
class GuardVerdict:
    guard: str
    reason: str


@lru_cache(maxsize=1)
def example_source() -> str:
    """The worked example's answer (patch_example.j2): its code must never appear in a real patch."""
    try:
        return json.loads(prompts.render("experiment/patch_example", part="answer"))["new_source"]
    except (ValueError, KeyError, TypeError):  # the template is ours; a change of shape leaves nothing to match
        return ""


def _lines(source: str) -> list[str]:
    return [ln.strip() for ln in source.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(without_magics(source))
    except SyntaxError:
        return None


def defined(source: str) -> set[str]:
    """Names a cell binds: assignments, defs, classes, imports, loop and with targets."""
    tree = _parse(source)
    if tree is None:
        return set()
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            out.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.add(node.name)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
    return out


def used(source: str) -> set[str]:
    """Names a cell reads."""
    tree = _parse(source)
    if tree is None:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def rewrites(old: str, new: str) -> bool:
    """Whether ``new`` drops more than half of ``old``'s (non-blank, non-comment) lines."""
    old_lines, new_lines = _lines(old), _lines(new)
    return len(old_lines) >= 2 and sum(ln in new_lines for ln in old_lines) < KEEP_FRACTION * len(old_lines)


def check(old: str, new: str, cells: list[tuple[int, str]], cell_index: int,
          parameters: dict | None = None, *, rewrite_reason: str = "", autopilot: bool = True) -> GuardVerdict | None:
    """The first guard that refuses ``new`` as the replacement of cell ``cell_index`` (source ``old``), or None.

    A patch that drops most of the cell passes ``keeps_cell`` only with a ``rewrite_reason`` and when a person
    approves it (``autopilot=False``); the other guards apply to it all the same.
    """
    try:
        compile(without_magics(new), f"cell[{cell_index}]", "exec")
    except (SyntaxError, ValueError) as exc:
        return GuardVerdict("compile", f"the patched cell does not compile: {exc.__class__.__name__}: {exc}")
    example = example_source()
    old_lines, new_lines = _lines(old), _lines(new)
    echoed = [ln for ln in _lines(example) if ln in new_lines and ln not in old_lines]
    if example and (new.strip() == example.strip() or echoed):
        return GuardVerdict("example_echo", "the patch copies the worked example's code "
                                            f"({echoed[0] if echoed else example.splitlines()[0]!r}), not a fix of this cell")
    if rewrites(old, new) and (autopilot or not rewrite_reason.strip()):
        kept = sum(ln in new_lines for ln in old_lines)
        why = ("never applied on autopilot" if autopilot and rewrite_reason.strip()
               else "a rewrite needs an explicit reason and approval")
        return GuardVerdict("keeps_cell", f"the patch keeps only {kept} of the cell's {len(old_lines)} lines ({why}); "
                                          "change the failing line, keep the others")
    later = set().union(*[used(src) for i, src in cells if i > cell_index]) if cells else set()
    dropped = sorted((defined(old) - defined(new)) & later)
    if dropped:
        return GuardVerdict("dropped_names", f"the patch no longer defines {', '.join(dropped)}, "
                                             "which a later cell uses")
    known = set(dir(builtins)) | _IPYTHON_NAMES | set(parameters or {}) | defined(new)
    for _, src in cells:
        known |= defined(src)
    unknown = sorted(used(new) - used(old) - known)
    if unknown:
        return GuardVerdict("undefined_names", f"the patch uses {', '.join(unknown)}, defined nowhere in the "
                                               "notebook, its imports or Python's builtins")
    return None
