"""Section finding on extracted page text, and the references cut.

Three sources, best first (``split_sections`` says which it used):

1. ``outline``: the PDF's own bookmarks (LaTeX/hyperref writes them), each a title and a page; the
   section starts at the line of that page that reads as the title (else at the top of the page).
2. ``font``: lines set larger than the body text or in bold that are numbered ("3 Method") or name a
   known section; a body-font line that happens to read "Related work" is not a heading.
3. ``words``: the last resort. pypdf's plain mode keeps headings on their own line in most one- and
   two-column papers, so a heading is a short line, optionally numbered ("3", "3.1", "III."), whose
   words name a known section. Numbered headings with other words ("4 Our Approach") also count when
   their number continues the sequence, which keeps table rows and list items out.

With 1 and 2 a line that reads exactly "References" (or "Acknowledgements") still starts that section,
so the references cut never depends on the PDF's outline being complete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Canonical name -> words that announce it (first match wins, so order matters).
CANONICAL: list[tuple[str, tuple[str, ...]]] = [
    ("abstract", ("abstract",)),
    ("related work", ("related work", "related works", "prior work", "previous work", "literature review")),
    ("introduction", ("introduction", "motivation")),
    ("background", ("background", "preliminaries")),
    ("method", ("method", "methods", "methodology", "approach", "proposed method", "model", "our approach",
                "framework", "algorithm")),
    ("experiments", ("experiments", "experiment", "experimental setup", "experimental results", "evaluation",
                     "setup", "experimental evaluation")),
    ("results", ("results", "results and discussion", "analysis", "ablation", "ablations", "ablation study")),
    ("discussion", ("discussion", "limitations", "limitation", "broader impact")),
    ("conclusion", ("conclusion", "conclusions", "conclusion and future work", "conclusions and future work",
                    "summary", "future work")),
    ("acknowledgements", ("acknowledgements", "acknowledgments", "acknowledgement", "acknowledgment")),
    ("references", ("references", "bibliography", "works cited")),
    ("appendix", ("appendix", "appendices", "supplementary material", "supplementary")),
]
_LOOKUP = {phrase: name for name, phrases in CANONICAL for phrase in phrases}
# Sections whose text never answers a research question.
EXCLUDED = {"references", "acknowledgements"}

_NUMBER = r"(?P<num>(?:\d{1,2}(?:\.\d{1,2}){0,2}\.?)|(?:[IVX]{1,5}\.)|(?:[A-H]\.?))"
_HEADING = re.compile(rf"^(?:{_NUMBER}\s+)?(?P<words>[A-Za-z][A-Za-z \-:&/]{{1,70}})$")
_INLINE_ABSTRACT = re.compile(r"^abstract\s*[.:—–-]\s*(?P<rest>\S.*)$", re.IGNORECASE)


@dataclass
class Block:
    section: str
    page: int  # 1-based
    text: str
    # True where a subsection begins: the chunker starts a new passage here instead of running the
    # previous subsection's text into it (passages stay on one topic).
    new_passage: bool = False


def _canonical(words: str) -> str | None:
    key = re.sub(r"\s+", " ", words.strip(" :.").lower())
    if key in _LOOKUP:
        return _LOOKUP[key]
    for phrase, name in _LOOKUP.items():  # "Experimental Results on CIFAR" -> experiments
        if len(phrase) > 5 and key.startswith(phrase + " ") and len(key.split()) <= 6:
            return name
    return None


def _top_number(num: str | None) -> int | None:
    if not num:
        return None
    m = re.match(r"\d+", num)
    if m:
        return int(m.group())
    roman = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}
    return roman.get(num.rstrip("."))


def heading(line: str, last_number: int) -> tuple[str, int | None] | None:
    """(section name, top-level number) when ``line`` is a heading, else None."""
    if len(line) > 80 or line.endswith((".", ",", ";")) and not re.match(r"^[IVX]+\.\s", line):
        return None
    m = _HEADING.match(line)
    if not m:
        return None
    words, num = m.group("words"), m.group("num")
    if len(words.split()) > 8:
        return None
    number = _top_number(num)
    name = _canonical(words)
    if name:
        return name, number
    # An unknown numbered heading: accept only if it continues the numbering and looks like a title.
    if number is not None and num and num[0].isdigit() and last_number <= number <= last_number + 1 \
            and words[0].isupper() and not words.isupper():
        return words.strip(" :").lower(), number
    return None


def heading_name(title: str) -> str:
    """The section name of a heading's text: its canonical name, else its words in lower case."""
    key = re.sub(r"\s+", " ", title).strip(" .:")
    m = _HEADING.match(key)
    words = m.group("words") if m else re.sub(rf"^{_NUMBER}\s+", "", key)
    return _canonical(words) or words.strip(" :").lower()


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" .:").lower()


def _unnumbered(key: str) -> str:
    return re.sub(r"^(?:\d{1,2}(?:\.\d{1,2}){0,2}\.?|[ivx]{1,5}\.|[a-h]\.)\s+", "", key)


def _outline_marks(pages: list[str], outline: list[tuple]) -> dict[tuple[int, int], tuple[str, bool]]:
    """(page, line index) -> (section name, is a subsection) for each bookmark; line -1: at the top of the page.

    ``outline`` entries are (title, page) or (title, page, level); level 1 and deeper are subsections,
    which start a new passage but stay in their section (and only count where their line is found).
    """
    marks: dict[tuple[int, int], tuple[str, bool]] = {}
    after: dict[int, int] = {}
    for title, page, *rest in outline:
        sub = bool(rest and rest[0])
        if not 1 <= page <= len(pages):
            continue
        want = _key(title)
        lines = pages[page - 1].splitlines()
        start = after.get(page, 0)
        at = next((i for i in range(start, len(lines))
                   if _key(lines[i]) == want or _unnumbered(_key(lines[i])) == _unnumbered(want)), -1)
        if at >= 0:
            after[page] = at + 1
        elif sub:
            continue
        marks[(page, at)] = (heading_name(title), sub)
    return marks


def _styled_heading(line: str, styled: set[str]) -> tuple[str, bool] | None:
    """(section name, is a subsection) when a heading-styled line is a numbered or known heading."""
    key = _key(line)
    if key not in styled or len(line) > 80:
        return None
    m = _HEADING.match(line.strip())
    if not m:
        return None
    num, words = m.group("num"), m.group("words")
    name = _canonical(words)
    if num is None and name is None:
        return None  # a title, an author line, a bold caption: styled but not a section
    return (name or words.strip(" :").lower()), bool(num and re.match(r"\d+\.\d", num))


def _excluded_heading(line: str) -> str | None:
    """"References" / "Acknowledgements" on a line of their own: the cut that must not be missed."""
    m = _HEADING.match(line.strip())
    name = _canonical(m.group("words")) if m else None
    return name if name in EXCLUDED else None


def split_sections(pages: list[str], outline: list[tuple[str, int]] | None = None,
                   styled: list[set[str]] | None = None, info: dict | None = None) -> tuple[list[Block], list[str]]:
    """Blocks of text in reading order with their section and page; and the sections found.

    ``outline``: the PDF's top-level bookmarks, (title, 1-based page); ``styled``: per page the
    heading-styled lines (``pdftext.styled_lines``). ``info["structure"]`` is set to the source used:
    ``outline``, ``font`` or ``words``. References and acknowledgements are cut out of the blocks
    (they are listed in the sections); the reference section's lines go to ``info["references"]``.
    """
    top = [entry for entry in outline or [] if not (len(entry) > 2 and entry[2])]
    marks = _outline_marks(pages, outline) if len(top) >= 2 else {}
    styled = styled if styled and len(styled) == len(pages) else None
    if marks:
        mode = "outline"
    elif styled and any(_styled_heading(ln, styled[i]) for i, p in enumerate(pages) for ln in p.splitlines()):
        mode = "font"
    else:
        mode = "words"
    if info is not None:
        info["structure"] = mode
    blocks: list[Block] = []
    found: list[str] = []
    section, last_number = "front matter", 0
    buf: list[str] = []
    buf_page = 1

    fresh = False

    references: list[str] = []

    def flush(page_no: int) -> None:
        nonlocal fresh
        text = " ".join(buf).strip()
        if text and section not in EXCLUDED:
            blocks.append(Block(section, page_no, text, new_passage=fresh))
            fresh = False
        elif section == "references":
            references.extend(buf)  # kept readable (``info["references"]``), never ranked
        buf.clear()

    def subsection(line: str, page_no: int) -> None:
        nonlocal buf_page, fresh
        flush(buf_page)
        buf_page, fresh = page_no, True
        buf.append(line)  # its heading stays in the text: it says what the passage is about

    def start(name: str, page_no: int) -> None:
        nonlocal section, buf_page
        flush(buf_page)
        section, buf_page = name, page_no
        if section not in found:
            found.append(section)

    for page_no, page in enumerate(pages, start=1):
        if buf:  # a section running over the page break: a new block keeps the right page number
            flush(buf_page)
        buf_page = page_no
        if (page_no, -1) in marks:
            start(marks[(page_no, -1)][0], page_no)
        for i, line in enumerate(page.splitlines()):
            if mode != "words":
                mark = marks.get((page_no, i)) if mode == "outline" else None
                hit = _styled_heading(line, styled[page_no - 1]) if mode == "font" else mark
                if hit and hit[1]:  # a subsection: same section, but a passage does not run across its heading
                    subsection(line, page_no)
                    continue
                name = hit[0] if hit else None
                name = name or _excluded_heading(line)
                if name:
                    start(name, page_no)
                else:
                    buf.append(line)
                continue
            inline = _INLINE_ABSTRACT.match(line)
            hit = heading(line, last_number)
            if inline and section == "front matter":
                start("abstract", page_no)
                buf.append(inline.group("rest"))
                continue
            if hit:
                name, number = hit
                start(name, page_no)
                if number is not None:
                    last_number = number
                continue
            buf.append(line)
    flush(buf_page)
    if info is not None:
        info["references"] = references
    return blocks, found
