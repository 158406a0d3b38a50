"""Names a module or callable really has, looked up in a short child process.

Importing the notebook's libraries inside the app would load heavy packages (torch) into the
Streamlit process and run their import-time code there; a child process keeps the app clean
and is bounded by a timeout. It uses this interpreter, which is the kernel's in the usual setup.
"""

from __future__ import annotations

import ast
import json
import logging
import subprocess
import sys
from functools import lru_cache

log = logging.getLogger(__name__)

_SCRIPT = r"""
import importlib, inspect, json, sys
target, what = sys.argv[1], sys.argv[2]
parts = target.split(".")
obj = None
for i in range(len(parts), 0, -1):
    try:
        obj = importlib.import_module(".".join(parts[:i]))
    except Exception:
        continue
    for attr in parts[i:]:
        obj = getattr(obj, attr)
    break
if what == "dir":
    print(json.dumps(sorted(n for n in dir(obj) if not n.startswith("__"))))
else:
    fn = obj.__init__ if inspect.isclass(obj) else obj
    print(json.dumps([p for p in inspect.signature(fn).parameters if p not in ("self", "args", "kwargs")]))
"""


@lru_cache(maxsize=128)
def _ask(target: str, what: str) -> tuple[str, ...] | None:
    try:
        done = subprocess.run([sys.executable, "-c", _SCRIPT, target, what], capture_output=True, text=True,
                              timeout=90)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.info("introspection of %s failed: %s", target, exc)
        return None
    if done.returncode != 0:
        log.info("introspection of %s failed: %s", target, done.stderr.strip()[-300:])
        return None
    try:
        return tuple(json.loads(done.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        return None


def module_names(module: str) -> set[str]:
    return set(_ask(module, "dir") or ())


def signature_params(dotted: str) -> set[str]:
    return set(_ask(dotted, "signature") or ())


def import_map(code: str) -> dict[str, str]:
    """Local name -> dotted origin from the notebook's import statements (``pd`` -> ``pandas``)."""
    out: dict[str, str] = {}
    for line in code.splitlines():
        stripped = line.strip()
        if not stripped.startswith(("import ", "from ")):
            continue
        try:
            tree = ast.parse(stripped)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    out[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                        alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out
