"""Command line: ``python -m mlr <command>`` for scripting and headless lab machines.

Each command lives in its own module with ``register(subparsers)``; the module sets
``func(args, workspace) -> int`` as the handler and takes every part (store, library, runner, model,
agents) from the :class:`mlr.workspace.Workspace`. Add a module name to ``COMMANDS`` to plug one in.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from mlr.cli.output import fail, json_stdout
from mlr.config import Settings
from mlr.workspace import Workspace

COMMANDS = ["mlr.cli.status", "mlr.cli.library", "mlr.cli.ideas", "mlr.cli.run", "mlr.cli.debug",
            "mlr.cli.loop", "mlr.cli.report", "mlr.cli.export", "mlr.cli.tour"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlr", description="MLR Copilot: local research assistant.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None, *, exiting: bool = False) -> int:
    """``exiting``: the process ends after this command (``python -m mlr``)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        return fail(str(exc), 2)
    with json_stdout(bool(getattr(args, "json", False)), exiting=exiting):
        return int(args.func(args, Workspace.open(settings)) or 0)
