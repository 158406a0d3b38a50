"""The evidence probe: what the live kernel shows at a failure. Runs **inside the notebook's kernel**, after the
notebook's own cells were replayed up to the failing one (``mlr.execution.evidence`` reads this file as text and
runs it there), so it uses the standard library only and works in any Python 3 kernel.

By error kind: the names defined (NameError), ``type(obj)`` and ``dir(obj)`` (AttributeError),
``inspect.signature`` of the callees on the failing line (TypeError), the mapping's keys (KeyError), the files
near a missing path (FileNotFoundError); for every kind, shapes/lengths/values of the names on the failing line.
Then the parameter search (an empty or zero value traced to the parameters it comes from, and the nearest value
with which the failing cell runs) and, when no parameter change works, the edit search (``edit_search.py``).
"""

# ruff: noqa: BLE001, S102, S110, S112
# (an exception here means "this lookup tells nothing": skipped; exec re-runs the notebook's own statements)
from __future__ import annotations

import builtins
import difflib
import importlib
import inspect
import os
import re
import signal
import time


def probe(spec, g, edit_search):
    """What the kernel shows at the failure, as a JSON-ready dict (``facts``: sentences for the prompt and the page).
    ``g``: the kernel's globals after the replay; ``edit_search``: ``edit_search.edit_search``."""
    ename, ev, line = spec["ename"], spec["evalue"], spec["line"]
    out = {"facts": []}
    facts = out["facts"]
    hidden = {"In", "Out", "get_ipython", "exit", "quit", "open"}
    user = sorted(n for n in g if not n.startswith("_") and n not in hidden)

    def resolve(dotted):
        head, *rest = dotted.split(".")
        obj = g[head] if head in g else getattr(builtins, head)
        for part in rest:
            obj = getattr(obj, part)
        return obj

    def describe(obj):
        t = type(obj).__module__ + "." + type(obj).__qualname__
        t = t.replace("builtins.", "")
        if hasattr(obj, "shape") and not callable(obj.shape):
            if tuple(obj.shape) == () and hasattr(obj, "item"):  # a NumPy scalar or 0-d tensor: its value tells most
                try:
                    return f"{t} = {obj.item()!r:.60}"
                except Exception:
                    pass
            return f"{t} shape={tuple(obj.shape)} dtype={getattr(obj, 'dtype', '?')}"
        if isinstance(obj, (int, float, bool, complex, str)) or obj is None:
            return f"{t} = {obj!r:.60}"
        if hasattr(obj, "__len__") and not inspect.isclass(obj):
            try:
                return f"{t} len={len(obj)}" + (f" = {obj!r:.60}" if len(obj) <= 8 else "")
            except Exception:
                pass
        return t
    dotted = list(dict.fromkeys(re.findall(r"(?<![\w.'\"])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)", line)))
    # `probs.sum(axis=1)`: the array is `probs`; look at each dotted name's owners too.
    dotted = list(dict.fromkeys(p for d in dotted for p in
                                [".".join(d.split(".")[:k]) for k in range(1, d.count(".") + 2)]))
    if ename in ("NameError", "UnboundLocalError"):
        out["names"] = user[:300]
        m = re.search(r"name '(\w+)'", ev)
        close = difflib.get_close_matches(m.group(1), user, 3, 0.6) if m else []
        facts.append("names defined in the kernel: " + ", ".join(user[:60]))
        if close:
            facts.append(f"closest defined names to `{m.group(1)}`: " + ", ".join(close))
    elif ename == "AttributeError" and (m := re.search(r"has no attribute '(\w+)'", ev)):
        attr = m.group(1)
        for owner in re.findall(r"([A-Za-z_][\w.]*)\." + attr + r"\b", line)[:2]:
            try:
                obj = resolve(owner)
            except Exception:
                continue
            names = [n for n in dir(obj) if not n.startswith("_")]
            close = difflib.get_close_matches(attr, names, 3, 0.6)
            out["attributes"] = {"object": owner, "type": describe(obj), "dir": names[:5000], "close": close}
            facts.append(f"`{owner}` is {describe(obj)}; it has no `{attr}`; close attributes: "
                         + (", ".join(close) or "none") + "; others: " + ", ".join(names[:40]))
            home = obj.__name__ if inspect.ismodule(obj) else type(obj).__module__
            _library_fact(home, f"`{owner}.{attr}`", out)
            break
    elif ename == "ImportError" and (m := re.search(r"cannot import name '(\w+)' from '([\w.]+)'", ev)):
        name, module = m.group(1), m.group(2)
        try:
            names = [n for n in dir(importlib.import_module(module)) if not n.startswith("_")]
        except Exception:
            names = []
        close = difflib.get_close_matches(name, names, 3, 0.6)
        out["attributes"] = {"object": module, "type": "module", "dir": names[:5000], "close": close}
        facts.append(f"`{module}` has no `{name}`; close names: " + (", ".join(close) or "none"))
        _library_fact(module, f"`{module}.{name}`", out)
    elif ename == "KeyError":
        for owner in re.findall(r"([A-Za-z_][\w.]*)\s*\[", line)[:3]:
            try:
                obj = resolve(owner)
                keys = list(obj.keys())[:60]
            except Exception:
                continue
            out.setdefault("keys", {})[owner] = [repr(k) for k in keys]
            facts.append(f"keys of `{owner}`: " + ", ".join(repr(k) for k in keys))
    elif ename == "TypeError":
        for callee in re.findall(r"([A-Za-z_][\w.]*)\s*\(", line)[:4]:
            try:
                fn = resolve(callee)
                sig = inspect.signature(fn)
            except Exception:
                continue
            out.setdefault("signatures", {})[callee] = {"signature": str(sig), "parameters": list(sig.parameters)}
            facts.append(f"signature of `{callee}`: {callee}{sig}")
    elif ename in ("FileNotFoundError", "NotADirectoryError", "IsADirectoryError") or "No such file" in ev:
        m = re.search(r"'([^']+)'", ev)
        missing = m.group(1) if m else ""
        base = os.path.dirname(missing) or "."
        while base and not os.path.isdir(base) and base != os.path.dirname(base):
            base = os.path.dirname(base) or "."
        found = []
        for folder, dirs, files in os.walk(base or "."):
            depth = folder.count(os.sep) - (base or ".").count(os.sep)
            dirs[:] = [d for d in dirs if not d.startswith(".")] if depth < 2 else []
            found += [os.path.relpath(os.path.join(folder, f)) for f in files]
            if len(found) > 80:
                break
        out["files"] = found[:80]
        out["cwd"] = os.getcwd()
        facts.append(f"`{missing}` does not exist (working folder {os.getcwd()}); files that exist near it: "
                     + ", ".join(found[:30]))
    values = {}
    for name in dotted[:12]:
        try:
            obj = resolve(name)
        except Exception:
            continue
        if inspect.ismodule(obj) or inspect.isroutine(obj) or inspect.isclass(obj):
            continue
        values[name] = describe(obj)
    if values:
        out["values"] = values
        facts.append("on the failing line: " + "; ".join(f"`{k}` is {v}" for k, v in values.items()))
    parameter_search(spec, g, values, out)
    if "parameter_fix" not in out and spec.get("cells"):  # a parameter change first; else a tested code edit
        try:
            edit_search(spec, g, out)
        except Exception as exc:
            out["edit_search_error"] = f"{type(exc).__name__}: {exc}"
    return out
def library_version(module):
    """``(distribution, version)`` of the installed package a module belongs to, or None (``__main__``, builtins)."""
    import importlib.metadata as md
    import sys

    top = (module or "").split(".")[0]
    if not top or top in ("builtins", "__main__") or top in sys.stdlib_module_names:
        return None
    for dist in md.packages_distributions().get(top) or [top]:
        try:
            return dist, md.version(dist)
        except md.PackageNotFoundError:
            continue
    version = getattr(sys.modules.get(top), "__version__", None)
    return (top, str(version)) if version else None


def _library_fact(module, what, out):
    """API drift: name the library version installed in the kernel beside a name it does not have."""
    found = library_version(module)
    if found:
        out["library"] = {"name": found[0], "version": found[1]}
        out["facts"].append(f"{found[0]} {found[1]} is installed in the kernel; {what} does not exist in this version "
                            "(removed or renamed: its release notes or the library's own message name the replacement)")


def parameter_search(spec, g, values, out):
    # An empty or zero value on the failing line, traced through the notebook's assignments to the parameters
    # it comes from; then, for each such parameter, the nearest value with which the notebook's own statements
    # (only those the failing line depends on) and the failing line run without an error, in a copy of the namespace.
    params, deps, stmts = spec.get("parameters") or {}, spec.get("deps") or {}, spec.get("stmts") or []
    empty = [k for k, v in values.items() if "len=0" in v or v.endswith((" = 0", " = 0.0"))]
    if not empty or not params:
        return
    closure = set()
    for name in empty:
        seen, todo = set(), [name.split(".")[0]]
        while todo:
            cur = todo.pop()
            if cur not in seen:
                seen.add(cur)
                todo.extend(deps.get(cur, ()))
        causes = {p: params[p] for p in sorted(seen & set(params))}
        if causes:
            closure |= seen
            out.setdefault("causes", {})[name] = causes
            out["facts"].append(f"`{name}` is empty/zero; it is computed from the parameter(s) "
                                + ", ".join(f"`{p}` = {v!r}" for p, v in causes.items()))
    causes = sorted({p for c in out.get("causes", {}).values() for p in c})
    chain = [src for targets, src in stmts if set(targets) & closure]
    try:  # the whole failing cell (the failing line may sit in a loop over values it computes)
        failing = compile(spec.get("cell") or spec["line"], "<failing cell>", "exec")
    except SyntaxError:
        return
    def ladder(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return []
        if isinstance(v, float) and 0.0 <= v <= 1.0:
            grid = [round(0.05 * k, 2) for k in range(1, 20)]
            return sorted((c for c in grid if c != v), key=lambda c: (abs(c - v), c))
        if isinstance(v, int):
            grid = {v + d for d in range(-3, 4)} | {v * 2, v // 2, 1, 2, 10}
            return sorted((c for c in grid if c > 0 and c != v), key=lambda c: (abs(c - v), c))
        return [c for c in (v / 2, v * 2, v / 10, v * 10) if c != v]
    def handler(signum, frame):
        raise TimeoutError
    deadline = time.monotonic() + spec.get("search_s", 15)
    try:
        old = signal.signal(signal.SIGALRM, handler)
    except ValueError:
        return
    tried = 0
    try:
        for p in causes:
            for cand in ladder(params[p])[:24]:
                if time.monotonic() > deadline:
                    return
                ns = dict(g)
                ns[p] = cand
                signal.alarm(3)
                tried += 1
                try:
                    for src in chain:
                        exec(src, ns)
                    exec(failing, ns)
                except Exception:
                    continue
                finally:
                    signal.alarm(0)
                out.setdefault("parameter_fix", {})[p] = {"from": params[p], "to": cand, "tried": tried}
                out["facts"].append(f"with `{p}` = {cand!r} instead of {params[p]!r} the failing line runs "
                                    "(checked in the kernel on the notebook's own statements)")
                return
    finally:
        signal.signal(signal.SIGALRM, old)
