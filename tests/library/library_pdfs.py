"""Real PDFs for the library tests, written with fpdf2: papers with sections, running headers,
page numbers, hyphenation and ligatures, plus the bad inputs (encrypted, scanned, truncated...)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

SECTIONS = [
    ("Abstract", ("We study {topic}. Our method improves accuracy on standard benchmarks while staying "
                  "simple to implement and cheap to train.")),
    ("1 Introduction", ("Researchers need {topic} because existing systems fail on long inputs. "
                        "We propose a simple method and measure it carefully. {filler}")),
    ("2 Related Work", "Prior work on {topic} includes attention models and kernel methods. {filler}"),
    ("3 Method", "Our approach combines a retrieval step with a learned scoring function for {topic}. {filler}"),
    ("4 Experiments", "We evaluate on three datasets with five random seeds each. {filler}"),
    ("5 Results", "The method reaches 91.2 percent accuracy, a gain of 3.4 points over the baseline. {filler}"),
    ("6 Conclusion", "We presented a method for {topic}. Its main limitation is memory use on long inputs."),
    ("References", ("[1] A. Author. A paper about something. In Proc. of a Conference, 2019.\n"
                    "[2] B. Writer. Another paper about reference material. Journal of Things, 2020.")),
]

FILLER = ("The evaluation protocol follows the standard split and reports the mean over seeds. "
          "Hyperparameters were chosen on the validation set and kept fixed for every dataset. ")


class _Paper(FPDF):
    running_header = "Preprint. Under review at a workshop."

    def header(self):
        self.set_font("dejavu", size=8)
        self.cell(0, 5, self.running_header, new_x="LMARGIN", new_y="NEXT", align="C")
        self.ln(2)

    def footer(self):
        self.set_y(-12)
        self.set_font("dejavu", size=8)
        self.cell(0, 5, str(self.page_no()), align="C")


def _lines(text: str, width: int = 90) -> list[str]:
    out = []
    for para in text.split("\n"):
        line = ""
        for word in para.split():
            if len(line) + len(word) + 1 > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        if line:
            out.append(line)
    return out


def make_paper(path: Path, *, title: str = "Efficient Retrieval for Long Documents", topic: str = "long document retrieval",
               authors: str = "Ada Lovelace, Alan Turing", filler_repeats: int = 12, extra: str = "",
               metadata: bool = False, encrypt: tuple[str, str] | None = None) -> Path:
    """A multi-page paper. ``encrypt=(user_pw, owner_pw)``; ``extra`` is appended to the method section."""
    pdf = _Paper()
    pdf.add_font("dejavu", fname=FONT)
    pdf.set_auto_page_break(True, margin=18)
    if metadata:
        pdf.set_title(title)
        pdf.set_author(authors)
    if encrypt:
        pdf.set_encryption(owner_password=encrypt[1], user_password=encrypt[0])
    pdf.add_page()
    pdf.set_font("dejavu", size=18)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", size=10)
    pdf.cell(0, 6, authors, new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, "University of Examples, 2024", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for heading, body in SECTIONS:
        text = body.format(topic=topic, filler=FILLER * filler_repeats)
        if heading == "3 Method" and extra:
            text += " " + extra
        pdf.set_font("dejavu", size=12)
        pdf.cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("dejavu", size=10)
        for line in _lines(text):
            pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.output(str(path))
    return path


def make_text_lines(path: Path, lines_per_page: list[list[str]]) -> Path:
    """A PDF whose pages hold exactly the given lines (for clean-up tests)."""
    pdf = FPDF()
    pdf.add_font("dejavu", fname=FONT)
    pdf.set_auto_page_break(False)
    for lines in lines_per_page:
        pdf.add_page()
        pdf.set_font("dejavu", size=10)
        for line in lines:
            pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def make_scanned(path: Path, pages: int = 2) -> Path:
    """Pages with drawings only: what a scan without OCR looks like to a text extractor."""
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        for i in range(20):
            pdf.rect(10 + i * 3, 10 + i * 5, 100, 4, style="F")
    pdf.output(str(path))
    return path
