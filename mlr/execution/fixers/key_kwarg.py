"""A misspelled dict key or keyword argument: the closest key or parameter that exists."""

from __future__ import annotations

import ast
import re

from mlr.cellcode import without_magics
from mlr.execution.fixers import introspect
from mlr.execution.fixers.base import (ErrorReport, Fix, FixContext, closest, parameter_fix,
                                      replace_string_literal)

_KWARG = re.compile(r"([\w.<>]+)\(\) got an unexpected keyword argument '(\w+)'")
_LITERAL = re.compile(r"""(['"])([^'"\n\\]{1,80})\1""")


def _key_error(report: ErrorReport, ctx: FixContext) -> Fix | None:
    raw = report.evalue.strip()
    if not (len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\""):
        return None  # an int key or a message, not a misspelled string key
    key = raw[1:-1]
    candidates = {m.group(2) for m in _LITERAL.finditer(ctx.notebook_code)} - {key}
    candidates.update(re.findall(r"'(\w+)'", report.last_output))  # e.g. a printed dict or column list
    for keys in (report.evidence.get("keys") or {}).values():  # the mapping's real keys (live kernel)
        candidates.update(k[1:-1] for k in keys if len(k) >= 2 and k[0] == k[-1] and k[0] in "'\"")
    suggested = closest(key, candidates)
    if not suggested:
        return None
    why = f"KeyError: no key '{key}'; the closest existing key is '{suggested}'"
    if by_parameter := parameter_fix(report, "key_kwarg", key, suggested, why):
        return by_parameter
    new_source = replace_string_literal(report.cell_source, key, suggested)
    if new_source == report.cell_source:
        return None
    return Fix(action="patch", fixer="key_kwarg", cell_index=report.cell_index, new_source=new_source,
               explanation=f"{why}.")


def _defined_params(code: str, func: str) -> set[str]:
    """Parameters of ``def func`` (or ``class func``'s ``__init__``) defined in the notebook itself."""
    out: set[str] = set()
    try:
        tree = ast.parse(without_magics(code))
    except SyntaxError:
        return out
    for node in ast.walk(tree):
        target = None
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == func:
            target = node
        elif isinstance(node, ast.ClassDef) and node.name == func:
            target = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        if target is not None:
            args = target.args
            out.update(a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs] if a.arg != "self")
    return out


def _callees(source: str, kwarg: str) -> list[str]:
    """Dotted names of the calls in ``source`` that pass ``kwarg`` (``js.dumps``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [ast.unparse(node.func) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and any(k.arg == kwarg for k in node.keywords)]


def _resolve(callee: str, imports: dict[str, str]) -> str | None:
    head, _, rest = callee.partition(".")
    origin = imports.get(head)
    return None if origin is None else f"{origin}.{rest}" if rest else origin


def _kwarg_error(report: ErrorReport, ctx: FixContext, qualname: str, kwarg: str) -> Fix | None:
    parts = qualname.split(".")
    func = parts[-2] if parts[-1] == "__init__" and len(parts) > 1 else parts[-1]
    candidates = _defined_params(ctx.notebook_code, func)
    for callee, sig in (report.evidence.get("signatures") or {}).items():  # the real signature (live kernel)
        if callee.split(".")[-1] == func or callee in _callees(report.cell_source, kwarg):
            candidates = candidates | set(sig.get("parameters", [])) - {"self", "args", "kwargs"}
    if not candidates:
        imports = introspect.import_map(ctx.notebook_code)
        # The error names the implementation (JSONEncoder.__init__); the cell names the call (js.dumps).
        targets = [imports.get(func)] + [_resolve(callee, imports) for callee in _callees(report.cell_source, kwarg)]
        for target in filter(None, targets):
            candidates = introspect.signature_params(target)
            if closest(kwarg, candidates):
                break
    suggested = closest(kwarg, candidates)
    if not suggested:
        return None
    new_source = re.sub(rf"(?<![\w.]){re.escape(kwarg)}(?=\s*=(?!=))", suggested, report.cell_source)
    if new_source == report.cell_source:
        return None
    return Fix(action="patch", fixer="key_kwarg", cell_index=report.cell_index, new_source=new_source,
               explanation=f"TypeError: {func}() has no parameter `{kwarg}`; the closest one is `{suggested}`.")


def fix(report: ErrorReport, ctx: FixContext) -> Fix | None:
    if report.cell_index is None:
        return None
    if report.ename == "KeyError":
        return _key_error(report, ctx)
    if report.ename == "TypeError" and (m := _KWARG.search(report.evalue)):
        return _kwarg_error(report, ctx, m.group(1), m.group(2))
    return None
