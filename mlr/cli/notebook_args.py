"""The options `run` and `debug` share: NOTEBOOK, ``-p NAME VALUE`` (repeatable), ``--timeout SECONDS``.

``add_notebook_arguments`` declares them on a subparser; ``notebook_parameters`` checks them and turns the
``-p`` pairs into typed values (the notebook's own parameter types), raising ValueError or an
``ExecutionError`` with a message fit for the terminal.
"""

from __future__ import annotations

from pathlib import Path


def add_notebook_arguments(p, *, notebook_help: str, timeout_help: str) -> None:
    p.add_argument("notebook", help=notebook_help)
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="set a parameter; VALUE is parsed as the parameter's type (repeatable)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help=timeout_help)


def notebook_parameters(args) -> dict:
    """Check NOTEBOOK and --timeout and parse the -p pairs; ValueError (or ExecutionError) says what is wrong."""
    from mlr.execution.parameters import coerce, inspect_parameters

    if args.timeout is not None and args.timeout <= 0:
        raise ValueError("--timeout must be a positive number of seconds")
    if not Path(args.notebook).is_file():
        raise ValueError(f"notebook not found: {args.notebook}")
    if not args.parameter:
        return {}
    values = {name: value for name, value in args.parameter}
    return coerce(inspect_parameters(args.notebook), values)  # NotebookContractError / ValueError: clear messages
