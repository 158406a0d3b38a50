"""PDF text: clean-up, title/authors/year, sections, references kept out, and every bad input."""

from __future__ import annotations

import os

import pytest
from library_pdfs import make_paper, make_scanned, make_text_lines

from mlr.library.errors import DamagedPdfError, EncryptedPdfError, NotAPdfError, ScannedPdfError, TooLargeError
from mlr.library.pdftext import extract, normalise
from mlr.library.sections import heading, split_sections


def _extract(path, **kw):
    return extract(path.read_bytes(), max_mb=kw.get("max_mb", 50), max_pages=kw.get("max_pages", 300))


def test_normalise_ligatures_and_hyphenation():
    assert normalise("ﬁne-grained ﬂow") == "fine-grained flow"
    assert normalise("a hyphen-\nated word") == "a hyphenated word"
    assert normalise("state-of-the-\nArt") == "state-of-the-\nArt"  # a capital after the break is a real hyphen


def test_paper_text_title_authors_year_and_cleanup(tmp_path):
    pdf = make_paper(tmp_path / "p.pdf", extra="It uses ﬁne-grained ﬂow features and a hyphen-\nated word.")
    text = _extract(pdf)
    assert text.title == "Efficient Retrieval for Long Documents"
    assert text.authors == ["Ada Lovelace", "Alan Turing"]
    assert text.year == 2024
    joined = "\n".join(text.pages)
    assert "fine-grained flow" in joined and "hyphenated word" in joined
    assert "Preprint. Under review" not in joined  # running header dropped
    assert all(not line.strip().isdigit() for p in text.pages for line in p.splitlines())  # page numbers dropped


def test_metadata_title_wins(tmp_path):
    pdf = make_paper(tmp_path / "m.pdf", title="A Title From Metadata Only", authors="Grace Hopper; Edsger Dijkstra",
                     metadata=True)
    text = _extract(pdf)
    assert text.title == "A Title From Metadata Only"
    assert text.authors == ["Grace Hopper", "Edsger Dijkstra"]


def test_sections_found_and_references_excluded(tmp_path):
    text = _extract(make_paper(tmp_path / "p.pdf"))
    blocks, found = split_sections(text.pages)
    assert found == ["abstract", "introduction", "related work", "method", "experiments", "results", "conclusion",
                     "references"]
    assert "references" not in {b.section for b in blocks}
    assert not any("Journal of Things" in b.text for b in blocks)
    assert any(b.section == "results" and "91.2 percent" in b.text for b in blocks)
    assert max(b.page for b in blocks) >= 2


@pytest.mark.parametrize("line,expected", [
    ("1 Introduction", "introduction"), ("2.1 Related Work", "related work"), ("III. EXPERIMENTS", "experiments"),
    ("References", "references"), ("5 Conclusions and Future Work", "conclusion"), ("Acknowledgments", "acknowledgements"),
])
def test_heading_recognised(line, expected):
    assert heading(line, 0)[0] == expected


@pytest.mark.parametrize("line", ["We evaluate the method on three datasets.", "Table 2: Results on CIFAR-10.",
                                  "91.2 88.1 77.0", "7 Something Unrelated"])
def test_not_a_heading(line):
    assert heading(line, 1) is None


def test_inline_abstract_and_unknown_numbered_heading(tmp_path):
    pdf = make_text_lines(tmp_path / "x.pdf", [[
        "A Paper Title", "Abstract—We study things in depth and report results.", "1 Introduction",
        "Some text about the problem.", "2 Our Contrastive Trick", "Details of the trick."]])
    blocks, found = split_sections(_extract(pdf).pages)
    assert found[:3] == ["abstract", "introduction", "our contrastive trick"]
    assert blocks[1].section == "abstract" and blocks[1].text.startswith("We study things")


# -- bad input ----------------------------------------------------------------------------------------

def test_empty_file():
    with pytest.raises(DamagedPdfError, match="empty"):
        extract(b"", max_mb=50, max_pages=300)


def test_random_bytes_and_other_formats():
    with pytest.raises(NotAPdfError, match="not a PDF"):
        extract(os.urandom(4096).replace(b"%PDF-", b"xxxxx"), max_mb=50, max_pages=300)
    with pytest.raises(NotAPdfError, match="PNG"):
        extract(b"\x89PNG\r\n\x1a\n" + b"0" * 100, max_mb=50, max_pages=300)
    with pytest.raises(NotAPdfError, match="HTML"):
        extract(b"<!DOCTYPE html><html><body>Not found</body></html>", max_mb=50, max_pages=300)


def test_truncated(tmp_path):
    data = make_paper(tmp_path / "p.pdf").read_bytes()
    with pytest.raises(DamagedPdfError, match="truncated"):
        extract(data[: len(data) // 2], max_mb=50, max_pages=300)


def test_garbage_with_pdf_header():
    with pytest.raises(DamagedPdfError):
        extract(b"%PDF-1.7\n" + os.urandom(3000) + b"\n%%EOF\n", max_mb=50, max_pages=300)


def test_password_protected_refused(tmp_path):
    pdf = make_paper(tmp_path / "e.pdf", encrypt=("secret", "owner"))
    with pytest.raises(EncryptedPdfError, match="password"):
        _extract(pdf)


def test_owner_password_only_is_accepted(tmp_path):
    pdf = make_paper(tmp_path / "o.pdf", encrypt=("", "owner"))
    text = _extract(pdf)
    assert "91.2 percent" in "\n".join(text.pages)


def test_scanned_refused(tmp_path):
    with pytest.raises(ScannedPdfError, match="OCR"):
        _extract(make_scanned(tmp_path / "s.pdf"))


def test_size_and_page_limits(tmp_path):
    pdf = make_paper(tmp_path / "p.pdf")
    with pytest.raises(TooLargeError, match="MLR_MAX_UPLOAD_MB"):
        _extract(pdf, max_mb=0)
    with pytest.raises(TooLargeError, match="MLR_MAX_PDF_PAGES"):
        _extract(pdf, max_pages=2)
