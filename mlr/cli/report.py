"""``python -m mlr report PLAN_ID --format md|html|pdf --out FILE``: the research report of a plan.

Markdown and HTML always; PDF through Chromium when it is installed (exit 3 with what to install when not).
Exit 0 when written, 2 for a plan that does not exist.
"""

from __future__ import annotations

import sys

from mlr.cli.output import fail


def register(sub) -> None:
    p = sub.add_parser("report", help="write the research report of a plan (Markdown, HTML or PDF)")
    p.add_argument("plan_id", type=int, help="the plan's id (Plan page, or `python -m mlr ideas`)")
    p.add_argument("--format", choices=("md", "html", "pdf"), default="md", help="file format (default md)")
    p.add_argument("--out", required=True, help="file to write")
    p.set_defaults(func=run)


def run(args, ws) -> int:
    from mlr.atomic import write_bytes
    from mlr.report import PdfUnavailable, ReportError, build_report, report_bytes

    try:
        report = build_report(ws.store, ws.settings, args.plan_id)
        data = report_bytes(report, args.format)
    except ReportError as exc:
        return fail(str(exc), 2)
    except PdfUnavailable as exc:
        return fail(str(exc), 3)
    write_bytes(args.out, data)
    sys.stdout.write(f"report of plan {args.plan_id} written to {args.out} ({len(data)} bytes, {args.format})\n")
    return 0
