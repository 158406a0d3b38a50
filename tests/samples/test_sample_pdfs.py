"""The sample PDFs are built reproducibly from paper.md and read back by pypdf with title and headings."""

from __future__ import annotations

import re
import shutil

import pypdf
import pytest
from sample_support import SAMPLES, SLUGS, load_builder

build_pdfs = load_builder()


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def pdf_text(path) -> list[str]:
    return [page.extract_text() or "" for page in pypdf.PdfReader(path).pages]


@pytest.mark.parametrize("slug", SLUGS)
def test_build_is_deterministic(slug):
    assert build_pdfs.build(SAMPLES / slug) == build_pdfs.build(SAMPLES / slug)


@pytest.mark.parametrize("slug", SLUGS)
def test_committed_pdf_matches_its_source(slug, tmp_path):
    """Text, page by page, of the committed PDF equals a fresh build (bytes may differ across fpdf2 versions)."""
    fresh = tmp_path / "fresh.pdf"
    fresh.write_bytes(build_pdfs.build(SAMPLES / slug))
    assert pdf_text(SAMPLES / slug / "paper.pdf") == pdf_text(fresh), "run python sample_papers/build_pdfs.py"


@pytest.mark.parametrize("slug", SLUGS)
def test_pdf_carries_title_authors_year_headings_and_page_furniture(slug):
    meta = build_pdfs.parse((SAMPLES / slug / "paper.md").read_text(encoding="utf-8")).meta
    reader = pypdf.PdfReader(SAMPLES / slug / "paper.pdf")
    assert reader.metadata.title == meta["title"]
    assert reader.metadata.author.split(", ")[0] == meta["authors"].split(";")[0].strip()
    assert reader.metadata.creation_date.year == int(meta["year"])
    assert 2 <= len(reader.pages) <= 4

    pages = pdf_text(SAMPLES / slug / "paper.pdf")
    first, whole = squash(pages[0]), squash(" ".join(pages))
    assert meta["title"] in first
    assert meta["year"] in first
    assert meta["authors"].split(";")[0].strip() in first
    for heading in ("Abstract", "1 Introduction", "2 Related Work", "3 Method", "4 Experiments", "5 Results",
                    "6 Limitations", "7 Conclusion", "References"):
        assert heading in whole, f"{slug}: heading {heading!r} not extracted"
    for number, text in enumerate(pages, start=1):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        assert meta["header"] in lines[0], "running header on every page"
        assert str(number) in lines, f"page number {number} missing"


def test_at_least_one_paper_is_two_column():
    layouts = {build_pdfs.parse((SAMPLES / s / "paper.md").read_text(encoding="utf-8")).meta.get("layout")
               for s in SLUGS}
    assert "two-column" in layouts and "one-column" in layouts


def test_two_column_text_keeps_reading_order():
    """A sentence that wraps inside the left column must come out whole, not interleaved with the right one."""
    text = squash(" ".join(pdf_text(SAMPLES / "digit-thumbnails" / "paper.pdf")))
    assert "Handwritten digit recognition on very small devices is limited less by accuracy than by memory" in text


def test_characters_outside_latin1_are_replaced():
    assert build_pdfs.latin1("a \u2265 b \u2014 c \u2192 d \ufb01t") == "a >= b  -  c -> d fit"
    assert build_pdfs.latin1("\u4e2d") == "?"
    assert build_pdfs.latin1("caf\u00e9 \u00d7") == "caf\u00e9 \u00d7"


def test_main_builds_checks_and_refuses_bad_sources(tmp_path, capsys):
    root = tmp_path / "papers"
    shutil.copytree(SAMPLES / "diabetes-progression", root / "one", ignore=shutil.ignore_patterns("*.pdf"))
    assert build_pdfs.main(["--root", str(root), "--check"]) == 1  # no PDF yet: stale
    assert build_pdfs.main(["--root", str(root)]) == 0
    built = (root / "one" / "paper.pdf").read_bytes()
    assert build_pdfs.main(["--root", str(root), "--check"]) == 0
    assert built == build_pdfs.build(SAMPLES / "diabetes-progression")

    (root / "two").mkdir()
    (root / "two" / "paper.md").write_text("# Just a heading\n\nNo front matter.\n")
    assert build_pdfs.main(["--root", str(root)]) == 2
    assert "front matter" in capsys.readouterr().err
    assert not (root / "two" / "paper.pdf").exists()
    assert list(root.rglob("*.tmp")) == []


def test_parse_reads_blocks():
    paper = build_pdfs.parse(
        "---\ntitle: T\nauthors: A; B\nyear: 2026\n---\n# 1 Intro\n\nSome text\nwrapped.\n\n"
        "- one\n- two\n  more\n\nTable 1: Caption.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    assert paper.meta == {"title": "T", "authors": "A; B", "year": "2026"}
    assert paper.blocks == [
        ("h1", "1 Intro"), ("para", "Some text wrapped."), ("bullets", ["one", "two more"]),
        ("caption", "Table 1: Caption."), ("table", [["a", "b"], ["1", "2"]]),
    ]
    with pytest.raises(ValueError, match="lacks"):
        build_pdfs.parse("---\ntitle: T\n---\ntext\n")
