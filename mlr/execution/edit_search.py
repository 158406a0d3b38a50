"""Tested edits: small, generic repairs of a failed cell, each tried in a copy of the live kernel's namespace.

Runs **inside the notebook's kernel**, as part of the evidence probe (``mlr.execution.evidence`` reads this
file as text and runs it there), so it uses the standard library only and works in any Python 3 kernel.

From the error kind it generates candidate edits of the failing cell (or of the earlier cell that made the
bad value): a key of the live mapping for a missing key, a statement defined in a later cell moved up, a
missing import, a missing argument from a value of a similar name, an accepted keyword of the real signature,
the encoding of a file that starts with a byte-order mark, an integer cast, a sorted copy instead of
``list.sort()``'s ``None``, a reduction's axis, a bound one past the end, a path literal changed to the file
that exists. Each candidate re-runs the edited cell (and the cells after it up to the failing one) in a
shallow copy of the namespace, with a time limit; the first that runs without an error is the answer.
Assertions are never edited (making a check pass is not a fix), and nothing written by a model runs here.
"""

# ruff: noqa: BLE001, S102, S112, SIM118
# (here an exception *is* the answer: a candidate or a lookup that raises is skipped; exec/eval run the
# notebook's own cells and names in its own kernel; ``keys()`` is asked of any mapping-like object)
from __future__ import annotations

import ast
import contextlib
import difflib
import importlib.util
import inspect
import io
import os
import re
import signal
import time

REDUCERS = {"sum", "mean", "std", "var", "max", "min", "argmax", "argmin", "median", "prod", "nanmean", "nansum",
            "nanstd", "nanmax", "nanmin", "average", "cumsum", "norm", "logsumexp", "all", "any", "ptp"}
READERS = {"open", "read_csv", "read_table", "read_json", "read_fwf", "loadtxt", "genfromtxt", "read_text",
           "fromfile"}
IN_PLACE = {"sort", "reverse", "append", "extend", "insert", "update", "shuffle", "fill", "clear"}
ALIASES = {"np": "import numpy as np", "pd": "import pandas as pd", "plt": "import matplotlib.pyplot as plt",
           "sns": "import seaborn as sns", "tf": "import tensorflow as tf", "nn": "import torch.nn as nn",
           "F": "import torch.nn.functional as F", "sp": "import scipy as sp"}
MAX_CANDIDATES = 60
CANDIDATE_S = 3


# -- source surgery ---------------------------------------------------------------------------------------
def _offsets(src):
    starts, pos = [0], 0
    for line in src.splitlines(keepends=True):
        pos += len(line)
        starts.append(pos)
    return starts


def _span(src, node):
    starts = _offsets(src)
    return (starts[node.lineno - 1] + _col(src, starts, node.lineno, node.col_offset),
            starts[node.end_lineno - 1] + _col(src, starts, node.end_lineno, node.end_col_offset))


def _col(src, starts, lineno, col):
    """ast columns count UTF-8 bytes; turn them into characters."""
    line = src[starts[lineno - 1]:starts[lineno] if lineno < len(starts) else len(src)]
    return len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


def splice(src, node, text):
    a, b = _span(src, node)
    return src[:a] + text + src[b:]


def seg(src, node):
    a, b = _span(src, node)
    return src[a:b]


def with_keywords(src, call, **new):
    """The call's text with keywords set (``None`` removes one); everything else as written."""
    parts = [seg(src, a) for a in call.args]
    for kw in call.keywords:
        if kw.arg is None:
            parts.append("**" + seg(src, kw.value))
        elif kw.arg not in new:
            parts.append(f"{kw.arg}={seg(src, kw.value)}")
    parts += [f"{k}={v}" for k, v in new.items() if v is not None]
    return f"{seg(src, call.func)}({', '.join(parts)})"


def _parse(src):
    try:
        return ast.parse(src)
    except SyntaxError:
        return None


def _line_no(src, line):
    line = (line or "").strip()
    for i, text in enumerate(src.splitlines(), start=1):
        if line and text.strip() == line:
            return i
    return None


def _asserts(tree):
    """The lines of assert statements: never edited (making a check pass is not a fix)."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def _on_line(tree, lineno):
    return [n for n in ast.walk(tree) if getattr(n, "lineno", None) is not None and n.lineno <= lineno <= n.end_lineno]


def _last_name(func):
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _similar(word, options, n=5, floor=0.45):
    def score(o):
        w, c = word.lower(), str(o).lower()
        bonus = 0.5 if (w in c or c in w) and min(len(w), len(c)) >= 2 else 0.0
        return difflib.SequenceMatcher(None, w, c).ratio() + bonus
    ranked = sorted((o for o in options if o != word), key=lambda o: -score(o))
    return [o for o in ranked if score(o) >= floor][:n]


# -- candidate generators: each yields (cell_index, new_source, why) ----------------------------------------
def gen_keys(ctx):
    m = re.match(r"^\s*(['\"])(.*)\1\s*$", ctx["evalue"])
    if ctx["ename"] != "KeyError" or not m:
        return
    key = m.group(2)
    idx, src, tree = ctx["failing"]
    for node in _on_line(tree, ctx["lineno"]):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == key:
            try:
                keys = [k for k in ctx["eval"](seg(src, node.value)).keys() if isinstance(k, str)]
            except Exception:
                continue
            for k in _similar(key, keys, floor=0.3):
                yield idx, splice(src, node.slice, repr(k)), f"the key `{key!r}` does not exist; `{k!r}` does"


def gen_define_later(ctx):
    m = re.search(r"name '(\w+)' is not defined", ctx["evalue"])
    if ctx["ename"] != "NameError" or not m:
        return
    name = m.group(1)
    idx, src, _ = ctx["failing"]
    if name in ALIASES:
        yield idx, ALIASES[name] + "\n" + src, f"`{name}` is used without its import"
    elif re.search(r"(?<![\w.])" + name + r"\.\w", ctx["line"]) and importlib.util.find_spec(name) is not None:
        yield idx, f"import {name}\n" + src, f"the module `{name}` is used without its import"
    for later_idx, later_src in ctx["later"]:
        later = _parse(later_src)
        for stmt in (later.body if later else []):
            defines = (isinstance(stmt, (ast.FunctionDef, ast.ClassDef)) and stmt.name == name) or (
                isinstance(stmt, (ast.Assign, ast.AnnAssign)) and name in {
                    n.id for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
                    for n in ast.walk(t) if isinstance(n, ast.Name)})
            if defines:
                yield (idx, seg(later_src, stmt) + "\n" + src,
                       f"`{name}` is defined only in a later cell (cell {later_idx}); defined before its first use")


def gen_missing_arg(ctx):
    m = re.search(r"(\w+)\(\) missing \d+ required (?:positional|keyword-only) arguments?: (.+)$", ctx["evalue"])
    if ctx["ename"] != "TypeError" or not m:
        return
    fname, missing = m.group(1), re.findall(r"'(\w+)'", m.group(2))
    idx, src, tree = ctx["failing"]
    values = [n for n, v in ctx["g"].items() if not n.startswith("_") and not callable(v)
              and not inspect.ismodule(v)]
    for node in _on_line(tree, ctx["lineno"]):
        if isinstance(node, ast.Call) and _last_name(node.func) == fname and missing:
            arg = missing[0]
            for value in _similar(arg, values, n=4):
                yield (idx, splice(src, node, with_keywords(src, node, **{arg: value})),
                       f"`{fname}()` needs `{arg}`; passed `{value}`")


def gen_keyword(ctx):
    m = re.search(r"unexpected keyword argument '(\w+)'", ctx["evalue"])
    if ctx["ename"] != "TypeError" or not m:
        return
    bad = m.group(1)
    idx, src, tree = ctx["failing"]
    for node in _on_line(tree, ctx["lineno"]):
        if isinstance(node, ast.Call) and any(k.arg == bad for k in node.keywords):
            try:
                accepted = list(inspect.signature(ctx["eval"](seg(src, node.func))).parameters)
            except Exception:
                continue
            for good in _similar(bad, accepted, n=3, floor=0.5):
                kw = next(k for k in node.keywords if k.arg == bad)
                yield (idx, splice(src, node, with_keywords(src, node, **{bad: None, good: seg(src, kw.value)})),
                       f"`{seg(src, node.func)}` takes `{good}`, not `{bad}`")


def gen_encoding(ctx):
    if ctx["ename"] not in ("UnicodeDecodeError", "UnicodeError"):
        return
    bom16 = re.search(r"byte 0x(ff|fe) in position 0", ctx["evalue"])
    codecs = ["utf-16"] if bom16 else ["utf-8-sig", "cp1252", "latin-1"]
    for idx, src, tree, lineno in ctx["targets"]:
        for node in _on_line(tree, lineno):
            if isinstance(node, ast.Call) and (_last_name(node.func) in READERS
                                               or any(k.arg == "encoding" for k in node.keywords)):
                for codec in codecs:
                    yield (idx, splice(src, node, with_keywords(src, node, encoding=repr(codec))),
                           f"the file is not UTF-8; read as {codec}")


def gen_cast(ctx):
    text = ctx["evalue"]
    if not re.search(r"cast|dtype|integer|int64|float64|must be int|slice indices", text, re.IGNORECASE):
        return
    idx, src, tree = ctx["failing"]
    for node in _on_line(tree, ctx["lineno"]):
        if isinstance(node, ast.Call):
            for arg in node.args:
                if isinstance(arg, (ast.Name, ast.Attribute, ast.Subscript)):
                    try:
                        value = ctx["eval"](seg(src, arg))
                    except Exception:
                        continue
                    if hasattr(value, "astype"):
                        yield idx, splice(src, arg, f"{seg(src, arg)}.astype(int)"), "an integer array is needed here"
                    elif isinstance(value, float):
                        yield idx, splice(src, arg, f"int({seg(src, arg)})"), "an integer is needed here"
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, (ast.Name, ast.BinOp, ast.Attribute)):
            try:
                value = ctx["eval"](seg(src, node.slice))
            except Exception:
                continue
            if isinstance(value, float):
                yield idx, splice(src, node.slice, f"int({seg(src, node.slice)})"), "an index must be an integer"


def gen_none(ctx):
    if "NoneType" not in ctx["evalue"]:
        return
    tree = ctx["failing"][2]
    none_names = {n.id for n in _on_line(tree, ctx["lineno"]) if isinstance(n, ast.Name)
                  and n.id in ctx["g"] and ctx["g"][n.id] is None}
    for cidx, csrc in ctx["cells"]:
        ctree = _parse(csrc)
        for node in ast.walk(ctree) if ctree else []:
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
                continue
            targets = {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            call, fname = node.value, _last_name(node.value.func)
            if not targets & none_names:
                continue
            if fname == "sort" and isinstance(call.func, ast.Attribute):
                args = [seg(csrc, call.func.value)] + [seg(csrc, a) for a in call.args] + [
                    f"{k.arg}={seg(csrc, k.value)}" for k in call.keywords]
                yield cidx, splice(csrc, call, f"sorted({', '.join(args)})"), "`list.sort()` returns None; `sorted()` returns the list"
            elif fname == "reverse" and isinstance(call.func, ast.Attribute):
                yield cidx, splice(csrc, call, f"list(reversed({seg(csrc, call.func.value)}))"), "`list.reverse()` returns None"
            elif any(k.arg == "inplace" for k in call.keywords):
                yield cidx, splice(csrc, call, with_keywords(csrc, call, inplace=None)), "`inplace=True` returns None"
            elif fname in IN_PLACE and call.args and isinstance(call.func, (ast.Attribute, ast.Name)):
                target = seg(csrc, node.targets[0])
                first = seg(csrc, call.args[0]) if fname == "shuffle" else seg(csrc, call.func.value) if isinstance(
                    call.func, ast.Attribute) else None
                if first:
                    indent = re.match(r"\s*", csrc.splitlines()[node.lineno - 1]).group(0)
                    yield (cidx, splice(csrc, node, f"{seg(csrc, call)}\n{indent}{target} = {first}"),
                           f"`{fname}` changes its argument in place and returns None")


def gen_axis(ctx):
    broadcast = re.search(r"broadcast|not aligned|shapes|axis|dimension", ctx["evalue"], re.IGNORECASE)
    if not (broadcast or ctx["ename"] == "AssertionError"):
        return
    for idx, src, tree, lineno in ctx["targets"] + ctx["definers"]:
        skip = _asserts(tree)
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _last_name(n.func) in REDUCERS
                 and n.lineno not in skip and n.lineno == n.end_lineno]
        for line in sorted({n.lineno for n in calls}, key=lambda ln: (ln != lineno, ln)):  # the failing line first
            same = sorted((n for n in calls if n.lineno == line), key=lambda n: -n.col_offset)
            for n in same:
                for text, why in _axis_variants(src, n):
                    yield idx, text, why
            if len(same) > 1:  # every reduction on the line changed together (right to left: spans stay valid)
                for axis in ("0", "1"):
                    out = src
                    for n in same:
                        out = splice(out, n, with_keywords(out, n, axis=axis))
                    yield idx, out, f"the reductions on this line work along axis {axis}"
        if len({n.lineno for n in calls}) > 1:  # statistics computed on lines of their own (mu = ...; sigma = ...)
            ordered = sorted(calls, key=lambda n: (-n.lineno, -n.col_offset))
            for axis in ("0", "1"):
                out = src
                for n in ordered:
                    out = splice(out, n, with_keywords(out, n, axis=axis))
                yield idx, out, f"the reductions of this cell work along axis {axis}"


def _axis_variants(src, call):
    axis = next((seg(src, k.value) for k in call.keywords if k.arg == "axis"), None)
    name = seg(src, call.func)
    if axis is None:
        options = [("1", "True"), ("0", None), ("1", None), ("0", "True"), ("-1", "True")]
    else:
        flip = {"0": "1", "1": "0", "-1": "0"}.get(axis.strip(), "0")
        options = [(flip, None), (flip, "True"), (axis, "True")]
    for axis_value, keep in options:
        text = with_keywords(src, call, axis=axis_value, keepdims=keep)
        yield splice(src, call, text), f"`{name}` along axis {axis_value}" + (" keeping dimensions" if keep else "")


def gen_bound(ctx):
    if not re.search(r"out of range|out of bounds|index \d+", ctx["evalue"]) or ctx["ename"] not in (
            "IndexError", "KeyError", "ValueError"):
        return
    idx, src, tree = ctx["failing"]
    # A loop that runs once too often first (dropping its last turn keeps what every turn means), then an index
    # written one past (which changes what the line reads: the explanation says which).
    ranges = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _last_name(n.func) == "range" and n.args]
    for call in ranges:
        end = call.args[-1] if len(call.args) <= 2 else call.args[1]
        if isinstance(end, ast.BinOp) and isinstance(end.op, ast.Add) and _is_one(end.right):
            yield idx, splice(src, end, seg(src, end.left)), f"`{seg(src, call)}` runs one step too far"
        elif not isinstance(end, ast.BinOp):
            yield idx, splice(src, end, f"{seg(src, end)} - 1"), f"`{seg(src, call)}` runs one step too far"
    in_ranges = {id(n) for call in ranges for n in ast.walk(call)}
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Add, ast.Sub))
             and _is_one(n.right) and id(n) not in in_ranges]
    nodes.sort(key=lambda n: (n.lineno != ctx["lineno"], n.lineno))
    for node in nodes:
        yield idx, splice(src, node, seg(src, node.left)), f"`{seg(src, node)}` reads one past the end"


def _is_one(node):
    return isinstance(node, ast.Constant) and node.value == 1 and not isinstance(node.value, bool)


def gen_path(ctx):
    if ctx["ename"] not in ("FileNotFoundError", "OSError", "IOError") and "No such file" not in ctx["evalue"]:
        return
    m = re.search(r"'([^']+)'", ctx["evalue"]) or re.search(r"File (\S+) does not exist", ctx["evalue"])
    if not m:
        return
    missing = m.group(1)
    existing = []
    for folder, dirs, files in os.walk("."):
        dirs[:] = [d for d in dirs if not d.startswith(".")] if folder.count(os.sep) < 3 else []
        existing += [os.path.normpath(os.path.join(folder, f)) for f in files]
    rel = os.path.normpath(os.path.relpath(missing) if os.path.isabs(missing) else missing)
    for near in _similar(rel, existing, n=3, floor=0.6):
        old_stem, old_ext = os.path.splitext(rel)
        new_stem, new_ext = os.path.splitext(near)
        pairs = []
        if old_stem == new_stem and old_ext != new_ext:
            pairs.append((old_ext, new_ext))
        if os.path.basename(rel) != os.path.basename(near):
            pairs.append((os.path.basename(rel), os.path.basename(near)))
            if old_ext == new_ext:
                pairs.append((os.path.basename(old_stem), os.path.basename(new_stem)))
        if os.path.dirname(rel) != os.path.dirname(near):
            pairs.append((os.path.dirname(rel) or ".", os.path.dirname(near) or "."))
        for old, new in pairs:
            if not old:
                continue
            for cidx, csrc in reversed(ctx["cells"]):
                lines = csrc.splitlines(keepends=True)
                for i, line in enumerate(lines):
                    quoted = re.search(r"""(['"])[^'"]*""" + re.escape(old), line)
                    if quoted and not line.lstrip().startswith("#"):
                        edited = lines[:i] + [line.replace(old, new, 1)] + lines[i + 1:]
                        yield cidx, "".join(edited), f"`{missing}` does not exist; `{near}` does"


def gen_reshape(ctx):
    """The library's own advice: scikit-learn's "Reshape your data either using array.reshape(-1, 1) if your data has
    a single feature or array.reshape(1, -1) if it contains a single sample"."""
    advice = re.findall(r"reshape\((-?1), ?(-?1)\)", ctx["evalue"])
    if not advice:
        return
    idx, src, tree = ctx["failing"]
    for node in _on_line(tree, ctx["lineno"]):
        if isinstance(node, ast.Call):
            for arg in node.args:
                try:
                    value = ctx["eval"](seg(src, arg))
                except Exception:
                    continue
                if getattr(value, "ndim", None) == 1:
                    text = seg(src, arg)
                    text = text if isinstance(arg, (ast.Name, ast.Attribute, ast.Subscript)) else f"({text})"
                    for a, b in advice:
                        yield (idx, splice(src, arg, f"{text}.reshape({a}, {b})"),
                               f"`{seg(src, arg)}` is 1-D; the library asks for reshape({a}, {b})")


GENERATORS = (gen_keys, gen_define_later, gen_missing_arg, gen_keyword, gen_encoding, gen_path, gen_none,
              gen_cast, gen_reshape, gen_bound, gen_axis)


# -- the search -----------------------------------------------------------------------------------------------
def edit_search(spec, g, out):
    """Fill ``out["edit_fix"]`` with the first candidate edit that makes the failing cell run, if any."""
    cells = [(int(i), s) for i, s in spec.get("cells") or []]
    if not cells or spec.get("ename") in ("ModuleNotFoundError", "ImportError"):
        return
    failing_idx, failing_src = cells[-1]
    param_index = spec.get("param_index")
    tree = _parse(failing_src)
    if tree is None:
        return
    lineno = _line_no(failing_src, spec.get("line")) or 1
    ipy = g.get("get_ipython")
    transform = ipy().transform_cell if callable(ipy) else (lambda s: s)

    def evaluate(expr):
        """A name, attribute or subscript of the failing line, looked up in the kernel; never a call."""
        node = ast.parse(expr, mode="eval")
        if any(isinstance(n, (ast.Call, ast.Lambda, ast.NamedExpr)) for n in ast.walk(node)):
            raise ValueError("not evaluated: it calls something")
        return eval(compile(node, "<edit search>", "eval"), dict(g))

    used = {n.id for n in _on_line(tree, lineno) if isinstance(n, ast.Name)}
    definers = []
    for idx, src in cells[:-1]:  # earlier cells that define a function or value the failing line uses
        t = _parse(src)
        if t is not None and idx != spec.get("param_index") and any(
                (isinstance(s, (ast.FunctionDef, ast.Assign)) and (
                    (getattr(s, "name", None) in used) or
                    any(isinstance(n, ast.Name) and n.id in used for tt in getattr(s, "targets", []) for n in ast.walk(tt))))
                for s in t.body):
            definers.append((idx, src, t, None))
    ctx = {"ename": spec.get("ename") or "", "evalue": spec.get("evalue") or "", "g": g, "eval": evaluate,
           "line": spec.get("line") or "",
           "failing": (failing_idx, failing_src, tree), "lineno": lineno, "cells": cells,
           "later": [(int(i), s) for i, s in spec.get("later") or []],
           "targets": [(failing_idx, failing_src, tree, lineno)], "definers": definers}

    def handler(signum, frame):
        raise TimeoutError

    deadline = time.monotonic() + float(spec.get("search_s", 20))
    try:
        old_handler = signal.signal(signal.SIGALRM, handler)
    except ValueError:
        return
    seen, tried = set(), 0
    try:
        for gen in GENERATORS:
            try:
                candidates = list(gen(ctx))
            except Exception as exc:  # a generator that trips on an odd cell must not end the search
                out.setdefault("edit_search_errors", []).append(f"{gen.__name__}: {type(exc).__name__}: {exc}")
                continue
            for cidx, new_src, why in candidates:
                if time.monotonic() > deadline or tried >= MAX_CANDIDATES:
                    out["edit_search"] = {"tried": tried, "found": False}
                    return
                original = dict(cells).get(cidx)
                if (cidx, new_src) in seen or new_src == original or cidx == param_index or _parse(new_src) is None:
                    continue
                seen.add((cidx, new_src))
                tried += 1
                if _runs(g, cells, cidx, new_src, transform, param_index):
                    out["edit_fix"] = {"cell_index": cidx, "source": new_src, "why": why, "kind": gen.__name__[4:],
                                       "tried": tried}
                    out["facts"].append(f"tested in the kernel: {why}; with this edit of cell {cidx} the failing "
                                        "cell runs")
                    return
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old_handler)
    out["edit_search"] = {"tried": tried, "found": False}


def _runs(g, cells, cidx, new_src, transform, param_index):
    """Re-run the edited cell and the cells after it up to the failing one in a copy of the namespace (the
    parameters cell is not re-run: the run's values are already there)."""
    ns = dict(g)
    signal.alarm(CANDIDATE_S)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for idx, src in cells:
                if idx < cidx or idx == param_index:
                    continue
                code = new_src if idx == cidx else src
                exec(compile(transform(code), f"<cell {idx}>", "exec"), ns)
        return True
    except BaseException:
        return False
    finally:
        signal.alarm(0)
