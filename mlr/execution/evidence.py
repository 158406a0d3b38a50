"""Evidence from a live kernel: replay the failed notebook up to its failing cell and look at its state.

A fresh kernel of the notebook's own kernelspec (its Python, its packages) runs the notebook's own cells,
with the run's parameters, up to and including the failing one (which fails again, leaving the state the
error saw); then a fixed introspection cell of ours (``_PROBE``) asks, by error kind: the names defined
(NameError), ``type(obj)`` and ``dir(obj)`` (AttributeError), ``inspect.signature`` of the callees on the
failing line (TypeError), the mapping's keys (KeyError), shapes/lengths/values of the names on the failing
line (IndexError, ValueError, ZeroDivisionError, ...), the files near a missing path (FileNotFoundError).
Model-written code is never executed here: only the notebook version that failed, and the probe.
Everything runs in a child process in its own session, killed as a group at the time limit.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

MARKER = "@@MLR_EVIDENCE@@"
TIMEOUT_S = 120.0
CELL_TIMEOUT_S = 60  # the probe cell holds the parameter search (<= 15 s) and the edit search (<= EDIT_SEARCH_S)
EDIT_SEARCH_S = 20
SKIP = {"ModuleNotFoundError", "ImportError", "SyntaxError", "IndentationError", "TabError", "KeyboardInterrupt"}
_ARROW = re.compile(r"^-+>\s*\d+\s?(.*)$", re.MULTILINE)

_PROBE = r'''
def _mlr_probe(spec):
    import builtins, difflib, inspect, json, os, re
    g, ename, ev, line = globals(), spec["ename"], spec["evalue"], spec["line"]
    out, facts = {"facts": []}, None
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
            break
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
    _mlr_parameter_search(spec, g, values, out)
    if "parameter_fix" not in out and spec.get("cells"):  # a parameter change first; else a tested code edit
        try:
            _MLR_EDIT_SEARCH(spec, g, out)
        except Exception as exc:
            out["edit_search_error"] = f"{type(exc).__name__}: {exc}"
    return out
def _mlr_parameter_search(spec, g, values, out):
    # An empty or zero value on the failing line, traced through the notebook's assignments to the parameters
    # it comes from; then, for each such parameter, the nearest value with which the notebook's own statements
    # (only those the failing line depends on) and the failing line run without an error, in a copy of the namespace.
    import signal, time
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
print("@@MLR_EVIDENCE@@" + __import__("json").dumps(_mlr_probe(_MLR_SPEC), default=str))
'''


def failing_line(report) -> str:
    """The failing cell's line the traceback points at (IPython's ``---->``), else the whole cell."""
    m = _ARROW.search(report.traceback or "")
    return m.group(1).strip() if m else (report.cell_source or "")


def _kernel_name(nb) -> str:
    from jupyter_client.kernelspec import KernelSpecManager

    wanted = (nb.metadata.get("kernelspec") or {}).get("name") or "python3"
    return wanted if wanted in KernelSpecManager().find_kernel_specs() else "python3"


def _replay(spec: dict) -> dict:
    """In the child: build the replay notebook, run it in a fresh kernel, return the probe's JSON."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(spec["notebook"], as_version=4)
    cells = []
    for i, c in enumerate(nb.cells[: spec["cell_index"] + 1]):
        if c.cell_type != "code":
            continue
        cells.append(nbformat.v4.new_code_cell(c.source))
        if "parameters" in (c.get("metadata", {}).get("tags") or []) and spec["parameters"]:
            cells.append(nbformat.v4.new_code_cell(
                "\n".join(f"{k} = {v!r}" for k, v in spec["parameters"].items())))
    probe = {k: spec.get(k) for k in ("ename", "evalue", "line", "cell", "parameters", "deps", "stmts", "cells",
                                      "later", "param_index", "search_s")}
    search = Path(__file__).with_name("edit_search.py").read_text(encoding="utf-8")
    cells.append(nbformat.v4.new_code_cell(
        f"_MLR_SPEC = __import__('json').loads({json.dumps(probe, default=repr)!r})\n"
        f"_mlr_es = {{}}\nexec(compile({search!r}, 'mlr/execution/edit_search.py', 'exec'), _mlr_es)\n"
        "_MLR_EDIT_SEARCH = _mlr_es['edit_search']\n" + _PROBE))
    replay = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    NotebookClient(replay, timeout=CELL_TIMEOUT_S, kernel_name=_kernel_name(nb), allow_errors=True,
                   resources={"metadata": {"path": spec["cwd"]}}).execute()
    for out in replay.cells[-1].get("outputs", []):
        text = out.get("text", "")
        if MARKER in text:
            return json.loads(text.split(MARKER, 1)[1].strip().splitlines()[0])
    errors = [o.get("evalue") for o in replay.cells[-1].get("outputs", []) if o.get("output_type") == "error"]
    return {"facts": [], "error": f"the probe gave nothing {errors}"}


def _env(isolated: bool, allow: str) -> dict:
    """The replay runs the notebook's own code: it gets what a run gets, the allow-listed environment (no tokens,
    keys or credentials of the app's) and, when runs are isolated, no network (mlr.execution.isolation)."""
    from mlr.execution import isolation

    root = str(Path(__file__).resolve().parents[2])  # this package importable from the run's folder
    return isolation.kernel_env(os.environ, {
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        "MLR_NET_ISOLATED": "1" if isolated else "0"}, allow=allow)


def gather(report, notebook: str | Path, parameters: dict, *, cwd: str | Path,
           timeout_s: float = TIMEOUT_S, isolated: bool = False, allow: str = "") -> dict:
    """The evidence for ``report`` (a failed run of ``notebook``), or ``{}`` when there is none to take.

    ``isolated``: start the replay without network, as runs start (``isolation.state``); ``allow``: more
    environment names the kernel may see (``MLR_KERNEL_ENV_ALLOW``)."""
    if report.cell_index is None or report.status != "failed" or report.ename in SKIP or not report.ename:
        return {}
    deps, stmts = _assignments(notebook, report.cell_index, set(parameters or {}))
    cells, later, param_index = _code_cells(notebook, report.cell_index)
    spec = {"notebook": str(Path(notebook).resolve()), "cell_index": report.cell_index, "parameters": parameters or {},
            "cwd": str(cwd), "ename": report.ename, "evalue": report.evalue, "line": failing_line(report),
            "cell": report.cell_source, "deps": deps, "stmts": stmts, "cells": cells, "later": later,
            "param_index": param_index, "search_s": EDIT_SEARCH_S}
    try:
        from mlr.execution import isolation

        proc = subprocess.Popen(isolation.command([sys.executable, "-m", "mlr.execution.evidence"], isolated),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, cwd=str(cwd), env=_env(isolated, allow))
    except OSError as exc:
        log.info("no evidence: %s", exc)
        return {}
    try:
        stdout, stderr = proc.communicate(json.dumps(spec, default=str), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the child and its kernel
        proc.communicate()
        return {"facts": [], "error": f"no evidence within {timeout_s:g} s"}
    try:
        evidence = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        log.info("no evidence for %s: %s", report.headline(), stderr.strip()[-400:])
        return {}
    return evidence


def _code_cells(notebook, cell_index: int) -> tuple[list, list, int | None]:
    """The edit search's view of the notebook: ``[index, source]`` of the code cells up to and including the failing
    one, of the code cells after it, and the index of the parameters cell."""
    from mlr.execution import notebook_edit
    from mlr.execution.parameters import parameters_cell_index, read_notebook

    code = [[i, src] for i, kind, src in notebook_edit.cell_sources(notebook) if kind == "code" and src.strip()]
    return ([c for c in code if c[0] <= cell_index], [c for c in code if c[0] > cell_index],
            parameters_cell_index(read_notebook(notebook)))


def _assignments(notebook, cell_index: int, parameters: set[str]) -> tuple[dict, list]:
    """What the probe's parameter search needs: ``deps`` (name -> names its value is computed from, over every
    assignment and loop target up to and including the failing cell) and ``stmts`` (``[targets, source]`` of the
    top-level assignments of the earlier cells, in order, the parameters cell left out: those it re-runs)."""
    import ast

    from mlr.execution import notebook_edit

    deps: dict[str, list[str]] = {}
    stmts: list = []
    for i, kind, src in notebook_edit.cell_sources(notebook):
        if kind != "code" or i > cell_index:
            continue
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        top = set(map(id, tree.body))
        for node in ast.walk(tree):  # nested ones too (a loop's body): they say where a value comes from
            if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                targets, value = [node.target], node.iter
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
                targets, value = (node.targets if isinstance(node, ast.Assign) else [node.target]), node.value
            else:
                continue
            names = sorted({n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)})
            if set(names) & parameters:
                continue  # the parameters cell (or a reassignment of one): the search sets these itself
            used = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
            for name in names:
                deps[name] = sorted(set(deps.get(name, [])) | used)
            if id(node) in top and i < cell_index:  # re-run only whole top-level statements of earlier cells
                stmts.append([names, ast.get_source_segment(src, node) or ast.unparse(node)])
    return deps, stmts


if __name__ == "__main__":
    try:
        if os.environ.get("MLR_NET_ISOLATED") == "1":  # our own network namespace: the kernel needs its loopback
            from mlr.execution.isolation import loopback_up

            loopback_up()
        print(json.dumps(_replay(json.loads(sys.stdin.read())), default=str))
    except Exception as exc:  # noqa: BLE001  boundary: the parent reads a failure as "no evidence"
        print(json.dumps({"facts": [], "error": f"{type(exc).__name__}: {exc}"}))
