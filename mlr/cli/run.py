"""``python -m mlr run NOTEBOOK [-p NAME VALUE]... [--timeout SECONDS] [--json]``: one run through the engine.

The run goes through the same persisted queue as the app's (it waits its turn for the GPU) and is
recorded like any other. Exit code 0 when the run succeeded, 1 when it did not, 2 for bad input.
"""

from __future__ import annotations

import sys

from mlr.cli.output import emit_json, fail


def register(sub) -> None:
    p = sub.add_parser("run", help="run a notebook with papermill through the experiment engine")
    p.add_argument("notebook", help="path to a .ipynb (a prototype: a cell tagged `parameters`, writes metrics.json)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="set a parameter; VALUE is parsed as the parameter's type (repeatable)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="whole-run time limit (default: MLR_RUN_TIMEOUT_S)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _parameters(notebook: str, pairs: list[list[str]]) -> dict:
    from mlr.execution.parameters import coerce, inspect_parameters

    if not pairs:
        return {}
    values = {}
    for name, value in pairs:
        values[name] = value
    return coerce(inspect_parameters(notebook), values)  # NotebookContractError / ValueError: clear messages


def notebook_parameters(args) -> dict:
    """Check NOTEBOOK and --timeout and parse the -p pairs (shared by `run` and `debug`); ValueError says what is wrong."""
    from pathlib import Path

    if args.timeout is not None and args.timeout <= 0:
        raise ValueError("--timeout must be a positive number of seconds")
    if not Path(args.notebook).is_file():
        raise ValueError(f"notebook not found: {args.notebook}")
    return _parameters(args.notebook, args.parameter)


def run(args, settings) -> int:
    from mlr.execution.errors import ExecutionError
    from mlr.execution.runner import NotebookRunner
    from mlr.store import Store

    try:
        parameters = notebook_parameters(args)
    except (ExecutionError, ValueError) as exc:
        return fail(str(exc), 2)
    settings.ensure_dirs()
    runner = NotebookRunner(settings, Store(settings.db_path), adopt_queue=False)
    run_id = runner.submit(args.notebook, parameters, kind="adhoc", timeout_s=args.timeout)
    try:
        outcome = runner.wait(run_id)
    except KeyboardInterrupt:
        sys.stderr.write(f"interrupted: cancelling run {run_id}…\n")
        runner.cancel(run_id)
        outcome = runner.wait(run_id, timeout=30)
    finally:
        runner.stop()
    result = {"run_id": outcome.run_id, "status": outcome.status, "metrics": outcome.metrics,
              "error": outcome.error.model_dump() if outcome.error else None,
              "output_notebook": outcome.output_notebook, "seconds": outcome.seconds}
    if args.json:
        emit_json(result)
    else:
        lines = [f"run {outcome.run_id} {outcome.status} in {outcome.seconds:.1f} s"]
        if outcome.metrics:
            lines.append("metrics: " + ", ".join(f"{k}={v}" for k, v in outcome.metrics.items()))
        if outcome.error:
            where = f" (cell {outcome.error.cell_index})" if outcome.error.cell_index is not None else ""
            lines.append(f"error{where}: {outcome.error.ename}: {outcome.error.evalue}")
        if outcome.output_notebook:
            lines.append(f"output notebook: {outcome.output_notebook}")
        sys.stdout.write("\n".join(lines) + "\n")
    return 0 if outcome.status == "succeeded" else 1
