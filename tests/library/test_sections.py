"""Sections from the PDF's structure: the outline first, then heading fonts, then the word list.

Each paper here is a real PDF written with fpdf2. In the body of its "3 Hyperparameters" section a line reads
just "Related work" (a run-in label, set in the body font): the word list takes it for a heading and files the
hyperparameter paragraph under related work; the outline and the heading fonts know better.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

from mlr.library.pdftext import extract
from mlr.library.sections import split_sections

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
FILLER = "The protocol follows the standard split and reports the mean over five seeds. " * 6
HYPER = "We train with a learning rate of 0.0003, batch size 64 and 40 epochs on the KAT-12 split."
SECTIONS = [
    ("1 Introduction", "Long documents are hard to classify. " + FILLER),
    ("2 Training Recipe", "Our recipe fine-tunes a 7B encoder with sliding windows. " + FILLER),
    ("3 Hyperparameters", None),
    ("4 Conclusion", "The recipe works. " + FILLER),
    ("References", "[1] A. Author. Attention over long inputs. 2020."),
]


def make_structured(path: Path, *, outline: bool, heading_style: bool) -> Path:
    pdf = FPDF()
    pdf.add_font("dejavu", fname=FONT)
    pdf.add_font("dejavu", style="B", fname=BOLD)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.set_font("dejavu", size=10)
    pdf.multi_cell(0, 5, "Sliding Windows for Long Documents", new_x="LMARGIN", new_y="NEXT")
    for n, (heading, body) in enumerate(SECTIONS):
        if n == 2:
            pdf.add_page()  # section 3 starts on page 2
        if outline:
            pdf.start_section(heading)
        pdf.set_font("dejavu", style="B" if heading_style else "", size=13 if heading_style else 10)
        pdf.cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("dejavu", size=10)
        if body is None:
            pdf.multi_cell(0, 5, "Settings were chosen on the validation split. " + FILLER, new_x="LMARGIN",
                           new_y="NEXT")
            pdf.cell(0, 5, "Related work", new_x="LMARGIN", new_y="NEXT")  # a run-in label, body font
            body = HYPER
        pdf.multi_cell(0, 5, body, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def _sections(path: Path) -> tuple[str, dict[str, tuple[str, int]], list[str]]:
    text = extract(path.read_bytes(), max_mb=50, max_pages=50)
    info: dict = {}
    blocks, found = split_sections(text.pages, text.outline, text.styled, info)
    where = {}
    for needle in ("learning rate of 0.0003", "7B encoder", "Long documents are hard", "The recipe works"):
        block = next(b for b in blocks if needle in b.text)
        where[needle] = (block.section, block.page)
    assert not any("Attention over long inputs" in b.text for b in blocks)  # the references are cut
    return info["structure"], where, found


@pytest.mark.parametrize("heading_style, expected", [(False, "outline"), (True, "outline")])
def test_outline_gives_the_sections_and_pages(tmp_path, heading_style, expected):
    structure, where, found = _sections(make_structured(tmp_path / "o.pdf", outline=True, heading_style=heading_style))
    assert structure == expected
    assert where["learning rate of 0.0003"] == ("hyperparameters", 2)
    assert where["7B encoder"] == ("training recipe", 1)
    assert where["Long documents are hard"] == ("introduction", 1)
    assert where["The recipe works"] == ("conclusion", 2)
    assert found == ["introduction", "training recipe", "hyperparameters", "conclusion", "references"]


def test_heading_fonts_give_the_sections_without_an_outline(tmp_path):
    structure, where, found = _sections(make_structured(tmp_path / "f.pdf", outline=False, heading_style=True))
    assert structure == "font"
    assert where["learning rate of 0.0003"] == ("hyperparameters", 2)
    assert where["7B encoder"] == ("training recipe", 1)
    assert "related work" not in found


def test_word_list_is_the_last_resort(tmp_path):
    structure, where, _ = _sections(make_structured(tmp_path / "w.pdf", outline=False, heading_style=False))
    assert structure == "words"
    assert where["Long documents are hard"] == ("introduction", 1)
    # What the issue reported, and why the word list comes last: the run-in label wins here.
    assert where["learning rate of 0.0003"] == ("related work", 2)


def test_library_keeps_the_structure_source_with_the_paper(library, tmp_path):
    added = library.add_file(make_structured(tmp_path / "o.pdf", outline=True, heading_style=False))
    paper = library.store.get_paper(added.paper_id)
    assert paper.meta.get("structure") == "outline"
    hit = library.retriever.search("learning rate 0.0003", k=1)[0]
    assert (hit.section, hit.page) == ("hyperparameters", 2)


def test_running_header_and_page_numbers_dropped_on_a_two_page_paper(tmp_path):
    from library_pdfs import make_text_lines

    header = "Journal of Small Examples, Vol. 3"
    pdf = make_text_lines(tmp_path / "two.pdf", [
        [header, "1 Introduction", "We study a tiny problem with a hyphen-", "ated word across lines.", "1"],
        [header, "2 Results", "The method reaches 91.2 percent accuracy.", "2"],
    ])
    pages = extract(pdf.read_bytes(), max_mb=50, max_pages=50).pages
    joined = "\n".join(pages)
    assert header not in joined
    assert not any(line.strip().isdigit() for p in pages for line in p.splitlines())
    assert "hyphenated word" in joined and "91.2 percent" in joined


def test_a_subsection_starts_a_new_passage_in_its_section(embedder):
    from mlr.library.chunking import chunk_blocks

    page = ("3 Method\nWe describe the model.\n3.1 Data\nThe data set has 442 patients.\n"
            "3.2 Model\nThe model is a straight line.\n4 Results\nIt works.")
    styled = [{"3 method", "3.1 data", "3.2 model", "4 results"}]
    info: dict = {}
    blocks, found = split_sections([page], None, styled, info)
    assert info["structure"] == "font" and found == ["method", "results"]
    chunks = chunk_blocks(blocks, embedder)
    assert [(c.section, c.text) for c in chunks] == [
        ("method", "We describe the model."), ("method", "3.1 Data The data set has 442 patients."),
        ("method", "3.2 Model The model is a straight line."), ("results", "It works.")]


def test_references_are_never_ranked_but_readable_and_resolvable(library, paper, capsys):
    added = library.add_file(paper("r.pdf", topic="zebra stripe counting", filler_repeats=2))
    retriever = library.retriever
    refs = retriever.references(added.paper_id)
    assert len(refs) == 2 and refs[1].startswith("[2] B. Writer. Another paper about reference material")
    assert retriever.resolve_citation(added.paper_id, "[2]") == refs[1]
    assert retriever.resolve_citation(added.paper_id, "[7]") is None
    for mode in ("hybrid", "keyword", "dense"):
        hits = retriever.search("Another paper about reference material, Journal of Things", k=20, mode=mode)
        assert not any("Journal of Things" in h.text for h in hits)
    from mlr.cli import main

    assert main(["library", "refs", str(added.paper_id), "[2]"]) == 0
    assert capsys.readouterr().out.strip() == refs[1]


def test_author_year_citation_resolves_in_a_sample_paper():
    from mlr.library.references import entries, resolve

    pdf = Path(__file__).resolve().parents[2] / "sample_papers" / "diabetes-progression" / "paper.pdf"
    text = extract(pdf.read_bytes(), max_mb=50, max_pages=50)
    info: dict = {}
    split_sections(text.pages, text.outline, text.styled, info)
    refs = entries(info["references"])
    assert len(refs) == 8  # the paper lists eight references
    assert resolve(refs, "(Efron et al., 2004)").startswith("Efron, B., Hastie, T.")
    assert resolve(refs, "Kohavi (1995)").startswith("Kohavi, R. (1995). A study of cross-validation")


@pytest.mark.parametrize("slug", ["digit-thumbnails", "imbalanced-screening", "diabetes-progression"])
def test_section_and_page_of_each_passage_on_the_sample_papers(slug, embedder):
    """Two of the three samples are two-column. Each passage's section is the one its text sits under in the
    paper's source (paper.md), and its page is the page whose text holds the passage's first words."""
    import re

    from mlr.library.chunking import chunk_blocks
    from mlr.library.sections import heading_name

    folder = Path(__file__).resolve().parents[2] / "sample_papers" / slug
    text = extract((folder / "paper.pdf").read_bytes(), max_mb=50, max_pages=50)
    info: dict = {}
    blocks, _ = split_sections(text.pages, text.outline, text.styled, info)
    assert info["structure"] == "font"
    squash = lambda s: re.sub(r"[^a-z0-9]+", "", s.lower())
    source = (folder / "paper.md").read_text().split("\n---\n", 1)[1]
    marks = [(m.start(), heading_name(m.group(1))) for m in re.finditer(r"^# (.+)$", source, re.MULTILINE)]
    flat, where = "", []
    for i, (start, name) in enumerate(marks):
        piece = squash(source[start:marks[i + 1][0] if i + 1 < len(marks) else len(source)])
        where.append((len(flat), name))
        flat += piece
    pages = [squash(p) for p in text.pages]
    checked = 0
    for chunk in chunk_blocks(blocks, embedder):
        words = squash(" ".join(chunk.text.split()[1:9]))
        at = flat.find(words)
        if len(words) < 25 or at < 0:
            continue  # table cells and captions read differently in the source
        expected = [name for start, name in where if start <= at][-1]
        assert chunk.section == expected, (chunk.text[:80], chunk.section, expected)
        assert words in pages[chunk.page - 1], (chunk.text[:80], chunk.page)
        checked += 1
    assert checked >= 8
