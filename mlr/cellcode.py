"""Python source of notebook code cells, checked without running it.

IPython magics and shell lines (``%``/``!``) are blanked so that ``compile`` sees plain Python. Used by
the syntax fixer (``mlr.execution``) and by the patch schema the model answers under (``mlr.agents``).
"""

from __future__ import annotations


def without_magics(source: str) -> str:
    """``source`` with every ``%``/``!`` line emptied (line numbers are kept)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))


def compile_error(source: str) -> SyntaxError | None:
    """The SyntaxError (IndentationError included) compiling the cell raises, or None; never executes it."""
    try:
        compile(without_magics(source), "<cell>", "exec")
    except SyntaxError as exc:
        return exc
    except (ValueError, OverflowError):
        return None
    return None
