"""Build every sample_papers/<slug>/paper.pdf from its paper.md with fpdf2.

The PDFs are test material for the library's extractor as much as reading material, so they
carry what real papers carry: metadata (title, authors, year), a title block on page 1,
numbered headings, tables, a running header and page numbers (both of which the library must
strip), and, for papers whose front matter says `layout: two-column`, a two-column body.
Output is deterministic: the creation date is pinned to the paper's year, so the same
paper.md and fpdf2 version give the same bytes.

    python sample_papers/build_pdfs.py            # build all papers
    python sample_papers/build_pdfs.py --check    # exit 1 when a committed PDF is stale

paper.md format: a front matter block between `---` lines (title, authors separated by `;`,
affiliation, year, layout, header), then blocks separated by blank lines: `# Heading`,
`## Subheading`, `- bullet` lines, `| pipe | table |` rows (first row is the header, a
`|---|` rule line is skipped), paragraphs starting with `Table N:` (captions), other paragraphs.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from fpdf import FPDF

log = logging.getLogger("build_pdfs")
HERE = Path(__file__).resolve().parent

# Core PDF fonts only speak latin-1; these are the characters our sources use beyond it.
_REPLACEMENTS = {
    "\u2013": "-", "\u2014": " - ", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2212": "-", "\u2264": "<=", "\u2265": ">=", "\u2248": "~", "\u2192": "->", "\u2026": "...",
    "\u2022": "-", "\u03b1": "alpha", "\u03c3": "sigma", "\u03bb": "lambda", "\u2009": " ", "\u2011": "-",
}


def latin1(text: str) -> str:
    """Map text onto what the core fonts can draw; anything unknown becomes '?' (and is logged)."""
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        ch = _REPLACEMENTS.get(ch, ch)
        try:
            ch.encode("latin-1")
        except UnicodeEncodeError:
            log.warning("character %r (U+%04X) cannot be drawn with a core font; using '?'", ch, ord(ch[0]))
            ch = "?"
        out.append(ch)
    return "".join(out)


@dataclass
class Paper:
    meta: dict[str, str]
    blocks: list[tuple[str, object]] = field(default_factory=list)  # (kind, payload)


def parse(text: str) -> Paper:
    """Split paper.md into front matter and typed blocks."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---" or "---" not in [ln.strip() for ln in lines[1:]]:
        raise ValueError("paper.md must start with a front matter block between '---' lines")
    end = 1 + [ln.strip() for ln in lines[1:]].index("---")
    meta = {}
    for ln in lines[1:end]:
        if ln.strip():
            key, _, value = ln.partition(":")
            meta[key.strip().lower()] = value.strip()
    missing = {"title", "authors", "year"} - meta.keys()
    if missing:
        raise ValueError(f"front matter lacks {sorted(missing)}")
    paper = Paper(meta)
    for chunk in "\n".join(lines[end + 1:]).split("\n\n"):
        rows = [ln.rstrip() for ln in chunk.strip("\n").split("\n") if ln.strip()]
        if not rows:
            continue
        first = rows[0]
        if first.startswith("## "):
            paper.blocks.append(("h2", first[3:].strip()))
        elif first.startswith("# "):
            paper.blocks.append(("h1", first[2:].strip()))
        elif first.startswith("|"):
            cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
            cells = [r for r in cells if not all(set(c) <= set("-: ") for c in r)]
            paper.blocks.append(("table", cells))
        elif first.startswith("- "):
            items, current = [], []
            for r in rows:
                if r.startswith("- ") and current:
                    items.append(" ".join(current))
                    current = []
                current.append(r[2:].strip() if r.startswith("- ") else r.strip())
            items.append(" ".join(current))
            paper.blocks.append(("bullets", items))
        elif first.startswith("Table ") and ":" in first[:10]:
            paper.blocks.append(("caption", " ".join(r.strip() for r in rows)))
        else:
            paper.blocks.append(("para", " ".join(r.strip() for r in rows)))
        if (rows[0].startswith("#")) and len(rows) > 1:
            raise ValueError(f"a heading must be followed by a blank line: {rows[0]!r}")
    return paper


class PaperPDF(FPDF):
    """A4 page, running header, page number footer, and a flow that fills 1 or 2 columns."""

    GUTTER = 8.0
    LINE = 4.6  # body line height in mm (10 pt text)

    def __init__(self, meta: dict[str, str]):
        super().__init__(format="A4", unit="mm")
        self.meta = meta
        self.ncols = 2 if meta.get("layout", "one-column") == "two-column" else 1
        self.set_margins(18, 20, 18)
        self.set_auto_page_break(False)  # the flow below breaks columns and pages itself
        self.col = 0
        self.col_top = 20.0
        self.bottom = self.h - 20

    @property
    def col_w(self) -> float:
        return (self.epw - self.GUTTER * (self.ncols - 1)) / self.ncols

    def header(self):
        self.set_font("Helvetica", "I", 8)
        self.set_text_color(90)
        self.set_xy(self.l_margin, 10)
        self.cell(self.epw / 2, 4, latin1(self.meta.get("header", self.meta["title"])))
        self.cell(self.epw / 2, 4, latin1(f"MLR Copilot sample papers, {self.meta['year']}"), align="R")
        self.line(self.l_margin, 15, self.w - self.r_margin, 15)
        self.set_text_color(0)
        self.set_y(20)

    def footer(self):
        self.set_y(-14)
        self.set_font("Helvetica", "", 8)
        self.cell(0, 4, str(self.page_no()), align="C")

    # -- flow --------------------------------------------------------------------------------
    def start_columns(self):
        self.col, self.col_top = 0, self.get_y()
        self.set_x(self.l_margin)

    def ensure(self, h: float):
        """Move to the next column (or page) when h does not fit in the current one."""
        if self.get_y() + h <= self.bottom:
            return
        if self.col < self.ncols - 1:
            self.col += 1
            self.set_y(self.col_top)
        else:
            self.add_page()
            self.start_columns()

    def col_x(self, indent: float = 0.0) -> float:
        return self.l_margin + self.col * (self.col_w + self.GUTTER) + indent

    def lines(self, text: str, style: str = "", size: float = 10, indent: float = 0.0, first: str = ""):
        """Draw wrapped text line by line so every line can change column or page on its own."""
        self.set_font("Times", style, size)
        h = self.LINE * size / 10
        wrapped = self.multi_cell(self.col_w - indent, h, latin1(text), dry_run=True, output="LINES")
        for i, ln in enumerate(wrapped):
            self.ensure(h)
            if first and i == 0:
                self.set_x(self.col_x(indent - 4))
                self.cell(4, h, first)
            self.set_x(self.col_x(indent))
            self.cell(self.col_w - indent, h, ln)
            self.set_y(self.get_y() + h)

    def heading(self, text: str, level: int):
        size = 12 if level == 1 else 10.5
        self.ensure(size * 0.5 + 3 * self.LINE)  # keep a heading with the first lines below it
        self.set_y(self.get_y() + (2.5 if level == 1 else 1.5))
        self.set_font("Helvetica", "B", size)
        self.set_x(self.col_x())
        self.multi_cell(self.col_w, size * 0.5, latin1(text), new_x="LEFT", new_y="NEXT")
        self.set_y(self.get_y() + 1)

    def table(self, rows: list[list[str]]):
        self.set_font("Times", "", 9)
        ncell = max(len(r) for r in rows)
        rows = [[latin1(c) for c in r] + [""] * (ncell - len(r)) for r in rows]
        widths = [max(self.get_string_width(r[i]) for r in rows) + 3 for i in range(ncell)]
        scale = min(1.0, self.col_w / sum(widths))
        widths = [w * scale if scale < 1 else w + (self.col_w - sum(widths)) / ncell for w in widths]
        h = 4.6
        self.set_y(self.get_y() + 1)
        for n, row in enumerate(rows):
            self.ensure(h)
            self.set_x(self.col_x())
            self.set_font("Times", "B" if n == 0 else "", 9)
            for i, (w, c) in enumerate(zip(widths, row)):
                self.cell(w, h, c, border="TB" if n == 0 else ("B" if n == len(rows) - 1 else ""),
                          align="L" if i == 0 else "R")
            self.set_y(self.get_y() + h)
        self.set_y(self.get_y() + 1.5)


def render(paper: Paper) -> bytes:
    meta = paper.meta
    pdf = PaperPDF(meta)
    pdf.set_title(latin1(meta["title"]))
    pdf.set_author(latin1(", ".join(a.strip() for a in meta["authors"].split(";"))))
    pdf.set_subject(latin1(meta.get("subject", "MLR Copilot sample paper")))
    pdf.set_keywords(latin1(meta.get("keywords", "")))
    pdf.set_creator("MLR Copilot sample_papers/build_pdfs.py")
    # Pinned dates keep the bytes (and the /ID hash fpdf2 derives from them) reproducible.
    pdf.set_creation_date(datetime(int(meta["year"]), 1, 1, tzinfo=timezone.utc))
    pdf.add_page()
    # Title block spans the full width even in two-column papers.
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 7.5, latin1(meta["title"]), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Times", "", 11)
    pdf.multi_cell(0, 5.5, latin1(", ".join(a.strip() for a in meta["authors"].split(";"))), align="C",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Times", "I", 10)
    pdf.multi_cell(0, 5, latin1(f"{meta.get('affiliation', '')} - {meta['year']}".strip(" -")), align="C",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.start_columns()
    for kind, payload in paper.blocks:
        if kind == "h1":
            pdf.heading(payload, 1)
        elif kind == "h2":
            pdf.heading(payload, 2)
        elif kind == "para":
            pdf.lines(payload)
            pdf.set_y(pdf.get_y() + 1.8)
        elif kind == "caption":
            pdf.lines(payload, style="I", size=9)
            pdf.set_y(pdf.get_y() + 1)
        elif kind == "bullets":
            for item in payload:
                pdf.lines(item, indent=5, first="-")
            pdf.set_y(pdf.get_y() + 1.8)
        elif kind == "table":
            pdf.table(payload)
    return bytes(pdf.output())


def atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def paper_dirs(root: Path = HERE) -> list[Path]:
    return sorted(p.parent for p in root.glob("*/paper.md"))


def build(paper_dir: Path) -> bytes:
    return render(parse((paper_dir / "paper.md").read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if a paper.pdf is stale")
    parser.add_argument("--root", type=Path, default=HERE, help="folder holding <slug>/paper.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stale = 0
    for d in paper_dirs(args.root):
        try:
            data = build(d)
        except ValueError as exc:
            print(f"{d.name}: {exc}", file=sys.stderr)
            return 2
        target = d / "paper.pdf"
        current = target.read_bytes() if target.exists() else b""
        if args.check:
            if current != data:
                stale += 1
                print(f"{d.name}: paper.pdf is stale; run python sample_papers/build_pdfs.py")
        elif current != data:
            atomic_write(target, data)
            print(f"{d.name}: wrote paper.pdf ({len(data)} bytes)")
        else:
            print(f"{d.name}: paper.pdf up to date")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
