"""mlr.safe_text: untrusted text can carry no image, link, raw HTML or URL into the page."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from mlr.safe_text import escape, markdown_html

PLANTED = [
    "![x](http://127.0.0.1:9/?q=secret)",
    "![x][ref]\n\n[ref]: http://127.0.0.1:9/?q=secret",
    "[click](http://127.0.0.1:9/?q=secret)",
    "<http://127.0.0.1:9/?q=secret>",
    '<img src="http://127.0.0.1:9/?q=secret">',
    "<a href='http://127.0.0.1:9/?q=secret'>x</a>",
    "```\nline\n\n![x](http://127.0.0.1:9/?q=secret)\n```",
    "- item\n\n  ![x](http://127.0.0.1:9/?q=secret)",
]
MD = MarkdownIt("commonmark", {"html": True})  # a renderer that embeds whatever it can, raw HTML too


def test_escaped_text_renders_no_link_image_or_html():
    for text in PLANTED:
        html = MD.render(escape(text))
        assert not re.search(r"<(img|a)\b", html), (text, html)
        assert "127.0.0.1:9" in html  # shown, as text


def test_sanitised_markdown_keeps_formatting_and_drops_every_url():
    for text in PLANTED:
        out = markdown_html(text)
        assert not re.search(r"<(img|a|script|iframe|link|source|video|audio)\b", out), (text, out)
        assert not re.search(r"<[a-z][^>]*\b(src|href|style)=", out), (text, out)
        assert not re.search(r"^[ \t]*$", out[5:-6], re.MULTILINE), "a blank line would end the HTML block"
    out = markdown_html("# Results\n\nThe **variant** wins: `0.91`\n\n- one\n- two")
    assert "<h1>Results</h1>" in out and "<strong>variant</strong>" in out and "<code>0.91</code>" in out
    assert "<li>one</li>" in out
