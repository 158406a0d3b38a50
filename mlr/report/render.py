"""The report as Markdown and as one self-contained HTML file (inline CSS, the chart as a data: URI, no
remote URL), from the templates in ``templates/``. Untrusted text (passages, model answers) is escaped:
``mlr.safe_text.escape`` in Markdown, Jinja's autoescape (``html.escape``) in HTML."""

from __future__ import annotations

import base64
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from mlr import safe_text, words
from mlr.report.chart import num
from mlr.report.model import Measure, Report

TEMPLATES = Path(__file__).resolve().parent / "templates"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1%}"


def measure(m: Measure | None) -> str:
    """"0.518323 ± 0.00412 (n=2)"; one value without seeds is the number alone."""
    if m is None or m.mean is None:
        return "no value"
    if m.n > 1:
        return f"{num(m.mean)} ± {num(m.sd)} (n={m.n})"
    return num(m.mean)


def value(v: Any) -> str:
    """A parameter value as written in the notebook's parameters cell (strings quoted)."""
    return json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, float) else num(v)


def fence(text: str, lang: str = "") -> str:
    """A Markdown code block that ``text`` cannot close (the fence is longer than any backtick run in it)."""
    longest = max((len(m) for m in re.findall(r"`+", text or "")), default=0)
    bar = "`" * max(3, longest + 1)
    return f"{bar}{lang}\n{text}\n{bar}"


def chart_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii") if svg else ""


def _quote(text: str) -> str:
    """An escaped passage as a Markdown block quote."""
    return "\n".join("> " + line for line in safe_text.escape(text).replace("  \n", "\n").splitlines()) or ">"


_LINK = re.compile(r"(?i)(?<=[a-z]:)//|(?<![\w.])www\.")


def break_links(value: Any) -> Any:
    """Every text put into the HTML, with a zero-width space in ``scheme://`` and ``www.``: a URL quoted from a
    passage stays readable but no viewer turns it into a link (Markup, the page's own CSS, is left alone)."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return _LINK.sub(lambda m: m.group(0)[0] + "\u200b" + m.group(0)[1:], value)


@lru_cache(maxsize=2)
def _env(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=autoescape,
                             finalize=break_links if autoescape else None,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters.update(num=num, pct=pct, measure=measure, value=value, md=safe_text.escape, fence=fence,
                       quote=_quote, exact=words.exact)
    return env


def render_markdown(report: Report) -> str:
    return _env(False).get_template("report.md.j2").render(r=report, chart=chart_uri(report.chart_svg))


def render_html(report: Report) -> str:
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    chart = Markup(chart_uri(report.chart_svg))  # base64 of our own SVG: nothing to escape or break
    return _env(True).get_template("report.html.j2").render(r=report, chart=chart,
                                                           css=Markup(css))
