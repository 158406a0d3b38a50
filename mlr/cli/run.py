"""``python -m mlr run NOTEBOOK [-p NAME VALUE]... [--kernel NAME] [--mark-parameters] [--timeout SECONDS] [--json]``.

One run through the engine. NOTEBOOK is an .ipynb or a Python script (``# %%``, ``# In[ ]:`` or sphinx-gallery;
converted as the page converts uploads). The run goes through the same persisted queue as the app's (it waits its
turn for the GPU) and is recorded like any other. A notebook without a ``parameters`` cell runs as is;
``--mark-parameters`` tags the cell the app proposes in a copy (the file given is never written) and runs the copy.
Exit code 0 when the run succeeded (with or without a metric), 1 when it did not, 2 for bad input.
"""

from __future__ import annotations

import sys

from mlr.cli.notebook_args import add_notebook_arguments, notebook_parameters
from mlr.cli.output import emit_json, fail


def register(sub) -> None:
    p = sub.add_parser("run", help="run a notebook with papermill through the experiment engine")
    add_notebook_arguments(p, notebook_help="path to a .ipynb or a .py script (# %%, # In[ ]: or sphinx-gallery "
                                            "cells); metrics from scrapbook glue, metrics.json or the last output",
                           timeout_help="whole-run time limit (default: MLR_RUN_TIMEOUT_S)")
    p.add_argument("--kernel", metavar="NAME", default=None,
                   help="the Jupyter kernel to run it in (default: the notebook's own when installed, else "
                        "MLR_KERNEL_NAME); `python -m mlr status` lists the installed kernels")
    p.add_argument("--mark-parameters", action="store_true",
                   help="for a notebook without a `parameters` cell: tag the cell the app proposes (the first cell "
                        "of literal assignments) in a copy under the data directory, and run the copy")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _mark(args, ws) -> str:
    """Tag the proposed parameters cell in a copy; returns the copy's path (NotebookContractError when none fits)."""
    from mlr.execution.errors import NotebookContractError
    from mlr.execution.mark_parameters import propose, write_marked_copy
    from mlr.execution.parameters import parameters_cell_index, read_notebook

    nb = read_notebook(args.notebook)
    if parameters_cell_index(nb) is not None:
        raise NotebookContractError(f"{args.notebook} already has a cell tagged `parameters`; run it without "
                                    "--mark-parameters")
    proposal = propose(nb)
    if proposal is None:
        raise NotebookContractError(f"{args.notebook} has no cell made only of assignments of literal values "
                                    "(`lr = 0.01`) to mark as its parameters; tag one yourself")
    copy = write_marked_copy(args.notebook, proposal.cell_index, ws.settings.prototypes_dir)
    sys.stderr.write(f"marked {proposal.words()} as the parameters, in a copy: {copy} "
                     f"({args.notebook} is unchanged)\n{proposal.source}\n")
    return str(copy)


def _hint(args, exc) -> str:
    """The error, and the way forward when -p was given for a notebook without a parameters cell."""
    from mlr.execution.mark_parameters import propose
    from mlr.execution.parameters import parameters_cell_index, read_notebook

    try:
        nb = read_notebook(args.notebook)
    except Exception:  # noqa: BLE001  (the error itself says why)
        return str(exc)
    if parameters_cell_index(nb) is None and (proposal := propose(nb)) is not None:
        return f"{exc} Its {proposal.words()}: add --mark-parameters to tag it in a copy and run that."
    return str(exc)


def run(args, ws) -> int:
    from mlr.execution import kernels
    from mlr.execution.errors import ExecutionError

    try:
        if args.mark_parameters:
            args.notebook = _mark(args, ws)
        parameters = notebook_parameters(args)
        kernel = kernels.check(args.kernel).name if args.kernel else None
    except (ExecutionError, ValueError) as exc:
        return fail(_hint(args, exc), 2)
    runner = ws.runner
    run_id = runner.submit(args.notebook, parameters, kind="adhoc", timeout_s=args.timeout,
                           data={"kernel": kernel} if kernel else None)
    try:
        outcome = runner.wait(run_id)
    except KeyboardInterrupt:
        sys.stderr.write(f"interrupted: cancelling run {run_id}…\n")
        runner.cancel(run_id)
        outcome = runner.wait(run_id, timeout=30)
    finally:
        runner.stop()
    record = ws.store.get_run(run_id)
    found = record.metrics_found if record else None
    result = {"run_id": outcome.run_id, "status": outcome.status, "metrics": outcome.metrics,
              "metrics_found": found.model_dump() if found else None, "kernel": kernel,
              "notebook": args.notebook,
              "error": outcome.error.model_dump() if outcome.error else None,
              "output_notebook": outcome.output_notebook, "seconds": outcome.seconds}
    if args.json:
        emit_json(result)
    else:
        lines = [f"run {outcome.run_id} {outcome.status} in {outcome.seconds:.1f} s"]
        if outcome.metrics:
            source = f" (from {found.source})" if found and found.source else ""
            lines.append(f"metrics{source}: " + ", ".join(f"{k}={v}" for k, v in outcome.metrics.items()))
        elif found is not None and found.note:
            lines.append(found.note)
        if outcome.error:
            where = f" (cell {outcome.error.cell_index})" if outcome.error.cell_index is not None else ""
            lines.append(f"error{where}: {outcome.error.ename}: {outcome.error.evalue}")
        if outcome.output_notebook:
            lines.append(f"output notebook: {outcome.output_notebook}")
        sys.stdout.write("\n".join(lines) + "\n")
    return 0 if outcome.status == "succeeded" else 1
