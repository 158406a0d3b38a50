"""``python -m mlr export PLAN_ID --out bundle.zip``: the reproducibility bundle of a plan (see
``mlr/report/bundle.py``): the report, every notebook and executed notebook, parameters, metrics, the kernel's
environment lock and ``reproduce.sh``. Exit 0 when written, 2 for a plan that does not exist."""

from __future__ import annotations

import sys

from mlr.cli.output import fail


def register(sub) -> None:
    p = sub.add_parser("export", help="write a plan's reproducibility bundle (zip with reproduce.sh)")
    p.add_argument("plan_id", type=int, help="the plan's id")
    p.add_argument("--out", required=True, help="zip file to write")
    p.set_defaults(func=run)


def run(args, ws) -> int:
    from mlr.report import ReportError
    from mlr.report.bundle import export_bundle

    try:
        path = export_bundle(ws.store, ws.settings, args.plan_id, args.out)
    except ReportError as exc:
        return fail(str(exc), 2)
    sys.stdout.write(f"bundle of plan {args.plan_id} written to {path}; unzip it and run: bash reproduce.sh\n")
    return 0
