"""A PDF refused as scanned says how much text was found (13 characters is not "no text")."""

from __future__ import annotations

import pytest

from library_pdfs import make_scanned, make_text_lines
from mlr.library.errors import ScannedPdfError
from mlr.library.pdftext import MIN_CHARS_PER_DOC, extract


def _refusal(path) -> str:
    with pytest.raises(ScannedPdfError) as info:
        extract(path.read_bytes(), max_mb=50, max_pages=300)
    return str(info.value)


def test_a_little_text_is_counted(tmp_path):
    message = _refusal(make_text_lines(tmp_path / "thin.pdf", [["Figure 1 scan"]]))
    assert "only 13 characters of text in 1 page" in message
    assert f"at least {MIN_CHARS_PER_DOC}" in message and "OCR" in message


def test_no_text_at_all_says_so(tmp_path):
    message = _refusal(make_scanned(tmp_path / "scan.pdf", pages=2))
    assert "no extractable text in 2 pages" in message
