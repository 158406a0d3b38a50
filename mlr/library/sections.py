"""Best-effort section finding on extracted page text, and the references cut.

pypdf's plain mode keeps headings on their own line in most one- and two-column papers, so a
heading is a short line, optionally numbered ("3", "3.1", "III."), whose words name a known
section. Numbered headings with other words ("4 Our Approach") also count when their number
continues the sequence, which keeps table rows and list items out.
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


def split_sections(pages: list[str]) -> tuple[list[Block], list[str]]:
    """Blocks of text in reading order with their section and page; and the sections found.

    References and acknowledgements are cut out of the blocks (they are listed in the sections).
    """
    blocks: list[Block] = []
    found: list[str] = []
    section, last_number = "front matter", 0
    buf: list[str] = []
    buf_page = 1

    def flush(page_no: int) -> None:
        text = " ".join(buf).strip()
        if text and section not in EXCLUDED:
            blocks.append(Block(section, page_no, text))
        buf.clear()

    for page_no, page in enumerate(pages, start=1):
        if buf:  # a section running over the page break: a new block keeps the right page number
            flush(buf_page)
        buf_page = page_no
        for line in page.splitlines():
            inline = _INLINE_ABSTRACT.match(line)
            hit = heading(line, last_number)
            if inline and section == "front matter":
                flush(buf_page)
                section, buf_page = "abstract", page_no
                found.append(section)
                buf.append(inline.group("rest"))
                continue
            if hit:
                flush(buf_page)
                section, number = hit
                buf_page = page_no
                if number is not None:
                    last_number = number
                if section not in found:
                    found.append(section)
                continue
            buf.append(line)
    flush(buf_page)
    return blocks, found
