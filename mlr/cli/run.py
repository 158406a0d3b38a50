"""``python -m mlr run NOTEBOOK [-p NAME VALUE]... [--timeout SECONDS] [--json]``: one run through the engine.

The run goes through the same persisted queue as the app's (it waits its turn for the GPU) and is
recorded like any other. Exit code 0 when the run succeeded, 1 when it did not, 2 for bad input.
"""

from __future__ import annotations

import sys

from mlr.cli.notebook_args import add_notebook_arguments, notebook_parameters
from mlr.cli.output import emit_json, fail


def register(sub) -> None:
    p = sub.add_parser("run", help="run a notebook with papermill through the experiment engine")
    add_notebook_arguments(p, notebook_help="path to a .ipynb (a prototype: a cell tagged `parameters`, writes "
                                            "metrics.json)",
                           timeout_help="whole-run time limit (default: MLR_RUN_TIMEOUT_S)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args, ws) -> int:
    from mlr.execution.errors import ExecutionError

    try:
        parameters = notebook_parameters(args)
    except (ExecutionError, ValueError) as exc:
        return fail(str(exc), 2)
    runner = ws.runner
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
