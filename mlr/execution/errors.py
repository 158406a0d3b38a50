"""Errors of the execution layer; each message says what is wrong and what to do about it."""

from __future__ import annotations


class ExecutionError(Exception):
    """Base of the execution layer's errors."""


class NotebookContractError(ExecutionError, ValueError):
    """A notebook that breaks the prototype contract (unreadable, no ``parameters`` cell, bad parameter)."""


class MetricsError(ExecutionError, ValueError):
    """``metrics.json`` missing or malformed, or a metric that cannot be compared."""


class UnknownRunError(ExecutionError, KeyError):
    """A run id that is not in the record."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown run"
