"""Share the research: the report of a plan (Markdown, self-contained HTML, PDF through Chromium) and the
reproducibility bundle (``bundle.py``). ``build_report`` reads the record; the renderers only lay it out."""

from mlr.report.build import ReportError, build_report
from mlr.report.pdf import PdfUnavailable, html_to_pdf
from mlr.report.render import render_html, render_markdown

FORMATS = ("md", "html", "pdf")


def report_bytes(report, fmt: str) -> bytes:
    """The report in ``fmt`` (md, html or pdf) as the bytes of a file."""
    if fmt == "md":
        return render_markdown(report).encode("utf-8")
    if fmt == "html":
        return render_html(report).encode("utf-8")
    if fmt == "pdf":
        return html_to_pdf(render_html(report))
    raise ValueError(f"unknown report format {fmt!r}: one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "PdfUnavailable", "ReportError", "build_report", "html_to_pdf", "render_html",
           "render_markdown", "report_bytes"]
