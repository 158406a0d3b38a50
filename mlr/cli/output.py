"""Shared output helpers of the CLI commands."""

from __future__ import annotations

import json
import sys


def emit_json(value) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str, code: int = 1) -> int:
    sys.stderr.write(f"error: {message}\n")
    return code
