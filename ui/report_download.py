"""The **Download report** button of the Plan and Experiment pages: the plan's research report (mlr/report) as
one self-contained HTML file, built from the record only when the button is clicked."""

from __future__ import annotations

import logging
from html import escape

import streamlit as st

log = logging.getLogger(__name__)


def report_html(settings, store, plan_id: int) -> bytes:
    """The report's HTML; a short page that says what went wrong if it cannot be made (the download must not
    fail silently)."""
    from mlr.report import build_report, render_html

    try:
        return render_html(build_report(store, settings, plan_id)).encode("utf-8")
    except Exception as exc:  # boundary: a click runs this on Streamlit's thread, where an error would be lost
        log.exception("the report of plan %s could not be made", plan_id)
        return (f"<!DOCTYPE html><meta charset='utf-8'><title>No report</title><p>The report of plan {plan_id} "
                f"could not be made: {escape(str(exc))}. The command line says more: python -m mlr report "
                f"{plan_id} --format html --out report.html</p>").encode("utf-8")


def button(settings, store, plan_id: int, *, key: str) -> None:
    st.download_button("Download report", data=lambda: report_html(settings, store, plan_id),
                       file_name=f"plan-{plan_id}-report.html", mime="text/html", key=key, on_click="ignore",
                       icon=":material/download:",
                       help="Paper → problem → hypothesis → plan → experiments → result, with every number's runs, "
                            "as one HTML file that opens offline. PDF and a reproducibility bundle: "
                            f"python -m mlr report {plan_id} --format pdf, python -m mlr export {plan_id}.")
