"""A misspelled dict key or keyword argument: the closest key or parameter that exists."""

from __future__ import annotations

import ast
import builtins
import inspect
import re

from mlr.cellcode import without_magics
from mlr.execution.fixers import introspect
from mlr.execution.fixers.base import (ErrorReport, Fix, FixContext, closest, parameter_fix,
                                      replace_string_literal)

_KWARG = re.compile(r"([\w.<>]+)\(\) got an unexpected keyword argument '(\w+)'")
_INVALID_KWARG = re.compile(r"'(\w+)' is an invalid keyword argument for ([\w.<>]+)\(\)")  # builtins' wording
_MISSING = re.compile(r"([\w.<>]+)\(\) missing \d+ required (?:positional|keyword-only) arguments?: (.+)$")
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


def _takes_var_keywords(code: str, func: str) -> bool:
    try:
        tree = ast.parse(without_magics(code))
    except SyntaxError:
        return True
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == func and n.args.kwarg
               for n in ast.walk(tree))


def _drop_keyword(report: ErrorReport, func: str, kwarg: str, params: set[str]) -> Fix | None:
    """The notebook's own ``func`` has no parameter like ``kwarg`` (a habit from a library's function of the
    same name): the argument cannot reach it, so the call goes without it."""
    try:
        tree = ast.parse(report.cell_source)
    except SyntaxError:
        return None
    calls = [c for c in ast.walk(tree) if isinstance(c, ast.Call) and ast.unparse(c.func).split(".")[-1] == func
             and any(k.arg == kwarg for k in c.keywords)]
    if len(calls) != 1:
        return None
    call = calls[0]
    kept = ast.Call(func=call.func, args=call.args, keywords=[k for k in call.keywords if k.arg != kwarg])
    old = ast.get_source_segment(report.cell_source, call)
    if not old:
        return None
    new_source = report.cell_source.replace(old, ast.unparse(kept), 1)
    return Fix(action="patch", fixer="key_kwarg", cell_index=report.cell_index, new_source=new_source,
               explanation=(f"TypeError: the notebook's own {func}() takes {', '.join(f'`{p}`' for p in sorted(params))}"
                            f" and nothing like `{kwarg}`; the argument could not reach it, so the call goes without it."))


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
        for callee in _callees(report.cell_source, kwarg):  # a builtin (sorted, print): safe to inspect here
            if not closest(kwarg, candidates) and callable(getattr(builtins, callee, None)):
                try:
                    candidates = set(inspect.signature(getattr(builtins, callee)).parameters)
                except (TypeError, ValueError):
                    pass
    suggested = closest(kwarg, candidates)
    if not suggested:
        own = _defined_params(ctx.notebook_code, func)
        if own and not _takes_var_keywords(ctx.notebook_code, func):
            return _drop_keyword(report, func, kwarg, own)
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
    if report.ename == "TypeError" and (m := _INVALID_KWARG.search(report.evalue)):
        return _kwarg_error(report, ctx, m.group(2), m.group(1))
    if report.ename == "TypeError" and (m := _MISSING.search(report.evalue.strip())):
        return _missing_argument(report, ctx, m.group(1), re.findall(r"'(\w+)'", m.group(2)))
    return None


def _defined_names(code: str) -> set[str]:
    try:
        tree = ast.parse(without_magics(code))
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _missing_argument(report: ErrorReport, ctx: FixContext, qualname: str, missing: list[str]) -> Fix | None:
    """``f() missing 1 required positional argument: 'scale'``: when a variable or parameter of that very name
    exists, pass it by keyword (``scale=scale``) in the failing cell's call of ``f``."""
    func = qualname.split(".")[-2] if qualname.endswith(".__init__") and "." in qualname else qualname.split(".")[-1]
    known = set(report.parameters) | _defined_names(ctx.notebook_code) | set(report.evidence.get("names", []))
    if not missing or not set(missing) <= known:
        return None
    try:
        tree = ast.parse(report.cell_source)
    except SyntaxError:
        return None
    lines = report.cell_source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and ast.unparse(node.func).split(".")[-1] == func
             and not any(k.arg in missing for k in node.keywords)]
    if len(calls) != 1:
        return None  # none, or several calls of f: which one failed is not certain
    call = calls[0]
    end = offsets[call.end_lineno - 1] + len(lines[call.end_lineno - 1].encode()[:call.end_col_offset].decode()) - 1
    added = ", ".join(f"{name}={name}" for name in missing)
    sep = ", " if (call.args or call.keywords) else ""
    new_source = report.cell_source[:end] + sep + added + report.cell_source[end:]
    return Fix(action="patch", fixer="key_kwarg", cell_index=report.cell_index, new_source=new_source,
               explanation=(f"TypeError: {func}() needs {', '.join(f'`{n}`' for n in missing)}; the notebook has "
                            f"{'a value' if len(missing) == 1 else 'values'} of that name, now passed as `{added}`."))
