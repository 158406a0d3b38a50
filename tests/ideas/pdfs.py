"""Small real PDFs for the IdeaAgent's page, CLI and end-to-end tests (fpdf2, core fonts)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

PAPERS = {
    "legal.pdf": ("Reading Whole Contracts: Long Document Classification", [
        ("Abstract", ("We classify long legal contracts with a transformer encoder. Attention cost grows "
                     "quadratically with length, so documents are truncated to 512 tokens.")),
        ("1 Introduction", ("Contracts are long and their key clauses often appear late in the document. "
                           "Truncation therefore hides the evidence a classifier needs.")),
        ("2 Method", "We fine-tune a BERT encoder on the first 512 tokens of each contract and predict its type."),
        ("3 Limitations", ("Truncation discards most of each contract. We only evaluate English contracts, and "
                          "we do not compare with sparse attention models that read the whole document.")),
    ]),
    "sparse.pdf": ("Sliding Window Attention for Long Sequences", [
        ("Abstract", ("Sliding window attention with a few global tokens keeps attention cost linear in the "
                     "sequence length, so a model can read documents of many thousands of tokens.")),
        ("1 Method", "Each token attends to a local window of 256 neighbours; global tokens attend to all."),
        ("2 Results", ("On long document classification benchmarks sparse attention matches full attention "
                      "accuracy while using a fraction of the memory.")),
    ]),
}


def make_pdf(path: Path, title: str, sections: list[tuple[str, str]]) -> Path:
    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_author("Test Author")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for heading, body in sections:
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 5, body, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.output(str(path))
    return path


def make_library_pdfs(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [make_pdf(folder / name, title, sections) for name, (title, sections) in PAPERS.items()]
