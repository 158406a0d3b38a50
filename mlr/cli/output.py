"""Shared output helpers of the CLI commands."""

from __future__ import annotations

import contextlib
import json
import sys

_json_out = None  # the real stdout while a --json command runs (see json_stdout)


@contextlib.contextmanager
def json_stdout(enabled: bool, *, exiting: bool = False):
    """While a ``--json`` command works, whatever else writes to stdout (the Ray driver prints cluster events
    there) goes to stderr, so stdout carries the one JSON object and nothing else. ``exiting``: the process ends
    after the command (``python -m mlr``): stdout stays on stderr for what Ray prints while it shuts down."""
    global _json_out
    if not enabled or _json_out is not None:
        yield
        return
    _json_out, sys.stdout = sys.stdout, sys.stderr
    try:
        yield
    finally:
        if exiting:
            _json_out.flush()
        else:
            sys.stdout, _json_out = _json_out, None


def emit_json(value) -> None:
    (_json_out or sys.stdout).write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str, code: int = 1) -> int:
    sys.stderr.write(f"error: {message}\n")
    return code
