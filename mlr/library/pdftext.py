"""PDF bytes -> cleaned page texts, title, authors and year (pypdf).

Checks come first and cheapest (size, magic bytes, end marker) so a bad file is refused
before any parsing; every refusal is a ``LibraryError`` with a message a researcher can act on.
"""

from __future__ import annotations

import io
import logging
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from mlr.library.errors import DamagedPdfError, EncryptedPdfError, NotAPdfError, ScannedPdfError, TooLargeError

log = logging.getLogger(__name__)

# A page with fewer characters than this counts as having no text layer (a scan).
MIN_CHARS_PER_DOC = 40

_SIGNATURES = {  # what a mislabelled upload usually is, for a friendlier message
    b"PK\x03\x04": "a ZIP archive (e.g. .docx or .zip)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"{\\rtf": "an RTF document",
    b"\xd0\xcf\x11\xe0": "an old Microsoft Office document",
}


@dataclass
class PdfText:
    pages: list[str]                      # cleaned text per page, lines kept (sections need them)
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    meta: dict = field(default_factory=dict)
    # The document outline (bookmarks LaTeX/hyperref and most writers add): entries as
    # (title, 1-based page, level), in order; level 0 = sections. Empty when the PDF has none.
    outline: list[tuple[str, int, int]] = field(default_factory=list)
    # Per page, the lines set in a heading style (larger than the body text, or bold), normalised by
    # ``heading_key``: what the font says is a heading when there is no outline.
    styled: list[set[str]] = field(default_factory=list)


def check_bytes(data: bytes, *, max_mb: int) -> None:
    """Refuse empty, oversized, non-PDF and truncated files without parsing them."""
    if not data:
        raise DamagedPdfError("The file is empty (0 bytes). Upload the PDF again.")
    if len(data) > max_mb * 1024 * 1024:
        raise TooLargeError(f"The file is {len(data) / 2**20:.1f} MB; the limit is {max_mb} MB "
                            "(MLR_MAX_UPLOAD_MB).")
    if b"%PDF-" not in data[:1024]:
        kind = next((name for sig, name in _SIGNATURES.items() if data.startswith(sig)), None)
        if kind is None and data[:512].lstrip().lower().startswith((b"<!doctype html", b"<html")):
            kind = "an HTML page (a download link that returned a web page?)"
        raise NotAPdfError("This is not a PDF" + (f": it looks like {kind}." if kind else
                                                  " (it has no PDF header), whatever its name says."))
    if b"%%EOF" not in data[-8192:]:
        raise DamagedPdfError("The PDF is truncated (no end-of-file marker): the download or copy was "
                              "probably cut short. Get the file again.")


def open_pdf(data: bytes, *, max_pages: int) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # Owner-password-only PDFs (print/copy restrictions) open with the empty user password.
            try:
                result = reader.decrypt("")
            except DependencyError as exc:
                raise EncryptedPdfError(f"The PDF is encrypted with a cipher this install cannot read ({exc}).") from exc
            if result == PasswordType.NOT_DECRYPTED:
                raise EncryptedPdfError("The PDF is password-protected. Remove the password (e.g. "
                                        "`qpdf --decrypt --password=... in.pdf out.pdf`) and upload it again.")
        n_pages = len(reader.pages)
    except (EncryptedPdfError, TooLargeError):
        raise
    except FileNotDecryptedError as exc:
        raise EncryptedPdfError("The PDF is password-protected. Remove the password and upload it again.") from exc
    except Exception as exc:  # pypdf raises many types on garbage; all mean the same to the user
        raise DamagedPdfError(f"The PDF is damaged and cannot be read ({type(exc).__name__}: {exc}).") from exc
    if n_pages == 0:
        raise DamagedPdfError("The PDF has no pages; it is damaged or truncated.")
    if n_pages > max_pages:
        raise TooLargeError(f"The PDF has {n_pages} pages; the limit is {max_pages} (MLR_MAX_PDF_PAGES).")
    return reader


def extract(data: bytes, *, max_mb: int, max_pages: int) -> PdfText:
    check_bytes(data, max_mb=max_mb)
    reader = open_pdf(data, max_pages=max_pages)
    raw_pages = []
    fragments: list[list[tuple[str, float, bool]]] = []
    try:
        for page in reader.pages:
            frags: list[tuple[str, float, bool]] = []
            raw_pages.append(page.extract_text(visitor_text=_fragment_collector(frags)) or "")
            fragments.append(frags)
    except PdfReadError as exc:
        raise DamagedPdfError(f"The PDF is damaged: page {len(raw_pages) + 1} cannot be read ({exc}).") from exc
    except Exception as exc:
        raise DamagedPdfError(f"The PDF is damaged: page {len(raw_pages) + 1} cannot be read "
                              f"({type(exc).__name__}).") from exc
    pages = clean_pages(raw_pages)
    found = sum(len(p.strip()) for p in pages)
    if found < MIN_CHARS_PER_DOC:
        what = "no extractable text" if not found else f"only {found} characters of text"
        raise ScannedPdfError(f"The PDF has {what} in {len(pages)} page{'s' if len(pages) != 1 else ''} (at least "
                              f"{MIN_CHARS_PER_DOC} are needed; a scanned document?). Run OCR on it first, "
                              "e.g. `ocrmypdf in.pdf out.pdf`, and upload the result.")
    title, authors = _title_authors(reader, pages[0])
    return PdfText(pages=pages, title=title, authors=authors, year=_year(reader, pages[0]),
                   meta={"producer": _meta(reader, "/Producer")}, outline=outline(reader),
                   styled=styled_lines(fragments))


# -- structure: outline and heading styles ----------------------------------------------------------

def heading_key(text: str) -> str:
    """A heading's text for comparison: NFKC, lower case, single spaces, no trailing dots or colons."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip(" .:").lower()


def outline(reader: PdfReader) -> list[tuple[str, int, int]]:
    """Bookmarks as (title, 1-based page, level), two levels deep; [] when the PDF has none or they cannot be read."""
    try:
        items = reader.outline
    except Exception as exc:  # noqa: BLE001 - a broken outline only costs us the structure it would give
        log.info("unreadable outline (%s); sections come from the text", exc)
        return []
    out: list[tuple[str, int, int]] = []

    def walk(entries, level: int) -> None:
        for item in entries or []:
            if isinstance(item, list):  # children of the previous entry
                if level == 0:
                    walk(item, 1)
                continue
            try:
                title, page = str(item.title or "").strip(), reader.get_destination_page_number(item)
            except Exception as exc:  # noqa: BLE001 - an entry pointing nowhere is skipped
                log.debug("outline entry skipped (%s)", exc)
                continue
            if title and page is not None and page >= 0:
                out.append((title, page + 1, level))

    walk(items, 0)
    return out


def _fragment_collector(frags: list[tuple[str, float, bool]]):
    def visit(text, cm, tm, font_dict, font_size):
        if text:
            scale = abs(tm[3]) * abs(cm[3]) if tm[3] and cm[3] else 1.0
            font = str((font_dict or {}).get("/BaseFont", "")).lower()
            frags.append((text, round(float(font_size) * scale, 1), "bold" in font or "black" in font))
    return visit


def styled_lines(pages: list[list[tuple[str, float, bool]]]) -> list[set[str]]:
    """Per page, the lines (``heading_key``) whose text is all larger than the body size or bold.

    The body size is the size that sets the most characters in the document. A line is the text
    between line breaks of consecutive fragments; short lines only (a heading is not a paragraph).
    """
    sizes: Counter[float] = Counter()
    for frags in pages:
        for text, size, _ in frags:
            sizes[size] += len(text.strip())
    if not sizes:
        return [set() for _ in pages]
    body = sizes.most_common(1)[0][0]
    out = []
    for frags in pages:
        found: set[str] = set()
        line, styled = "", True
        for text, size, bold in frags:
            pieces = text.split("\n")
            for j, piece in enumerate(pieces):
                if j > 0:  # a line break inside this fragment ends the current line
                    if line.strip() and styled and len(line.split()) <= 10:
                        found.add(heading_key(line))
                    line, styled = "", True
                if piece.strip():
                    line += piece
                    styled = styled and (size >= body * 1.1 or (bold and size >= body * 0.95))
        if line.strip() and styled and len(line.split()) <= 10:
            found.add(heading_key(line))
        out.append(found)
    return out


# -- clean-up ---------------------------------------------------------------------------------------

_PAGE_NUMBER = re.compile(r"^\s*(page\s+)?\d{1,4}(\s*(/|of)\s*\d{1,4})?\s*$", re.IGNORECASE)


def normalise(text: str) -> str:
    # NFKC turns ligatures (ﬁ, ﬂ) and full-width forms into plain letters.
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "").replace("\x00", "")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    # A word hyphenated across a line break: join when the next line continues in lower case.
    return re.sub(r"(\w)-\s*\n\s*([a-z])", r"\1\2", text)


def clean_pages(raw_pages: list[str]) -> list[str]:
    pages = [[ln.strip() for ln in normalise(p).splitlines()] for p in raw_pages]
    pages = [[ln for ln in p if ln] for p in pages]
    repeated = _running_lines(pages)
    out = []
    for lines in pages:
        keep = []
        for i, ln in enumerate(lines):
            edge = i < 3 or i >= len(lines) - 3
            if edge and (_PAGE_NUMBER.match(ln) or _shape(ln) in repeated):
                continue
            keep.append(ln)
        out.append("\n".join(keep))
    return out


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", line.lower())


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Lines at the top or bottom of at least half the pages (2+): running headers and footers.

    On a two-page paper both pages must carry the line, and it must look like a header (short, not
    a sentence), so a heading or sentence that happens to repeat is kept.
    """
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_shape(ln) for ln in lines[:3] + lines[-3:]})
    if len(pages) == 2:
        return {shape for shape, n in counts.items() if n == 2 and len(shape) <= 100 and not shape.endswith(".")}
    return {shape for shape, n in counts.items() if n >= max(3, len(pages) // 2)}


# -- title, authors, year -------------------------------------------------------------------------------

def _meta(reader: PdfReader, key: str) -> str | None:
    try:
        value = (reader.metadata or {}).get(key)
    except Exception:  # noqa: BLE001 - broken info dictionaries are common and harmless
        return None
    return str(value).strip() if value else None


def _plausible_title(text: str | None) -> bool:
    if not text or len(text) < 8 or len(text) > 300:
        return False
    low = text.lower()
    return not (low.startswith(("untitled", "microsoft word", "arxiv:")) or low.endswith((".pdf", ".dvi", ".doc",
                                                                                            ".docx", ".tex")))


def _largest_text(reader: PdfReader) -> str | None:
    """The text set in the largest font on page 1: the title on nearly every paper."""
    parts: list[tuple[float, str]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text and text.strip():
            scale = abs(tm[3]) * abs(cm[3]) if tm[3] and cm[3] else 1.0
            parts.append((round(font_size * scale, 1), text))

    try:
        reader.pages[0].extract_text(visitor_text=visit)
    except Exception:  # noqa: BLE001 - the title then comes from the text instead
        return None
    if not parts:
        return None
    sizes = [s for s, _ in parts]
    top = max(sizes)
    if top < statistics.median(sizes) * 1.15:
        return None
    text = " ".join(t.strip() for s, t in parts if s >= top - 0.5)
    return normalise(re.sub(r"\s+", " ", text)).strip() or None


def _title_authors(reader: PdfReader, first_page: str) -> tuple[str | None, list[str]]:
    lines = first_page.splitlines()
    title = _meta(reader, "/Title")
    if not _plausible_title(title):
        title = _largest_text(reader)
    if not _plausible_title(title):
        title = lines[0] if lines else None
    author_meta = _meta(reader, "/Author")
    if author_meta:
        authors = [a.strip() for a in re.split(r",|;| and ", author_meta) if a.strip()]
    else:
        authors = _authors_from_page(lines, title)
    return (title[:300] if title else None), authors[:30]


_NAME = re.compile(r"^[A-Z][\w'\-.]*(\s+[A-Z][\w'\-.]*){1,3}$")


def _authors_from_page(lines: list[str], title: str | None) -> list[str]:
    """The line after the title, if it reads like a list of names."""
    start = 0
    if title:
        joined = ""
        for i, ln in enumerate(lines[:6]):
            joined = (joined + " " + ln).strip()
            if title.lower().startswith(joined.lower()) and len(joined) >= len(title) - 2:
                start = i + 1
                break
    for ln in lines[start:start + 2]:
        candidates = [re.sub(r"[\d*†‡§,]+$", "", c).strip() for c in re.split(r",|;|\band\b|·", ln)]
        names = [c for c in candidates if c and _NAME.match(c)]
        if names and len(names) >= len([c for c in candidates if c]) / 2:
            return names
    return []


def _year(reader: PdfReader, first_page: str) -> int | None:
    years = [int(y) for y in re.findall(r"\b(19[5-9]\d|20[0-4]\d)\b", first_page)]
    if years:
        return max(years)  # the latest year on the title page is the publication, not a cited one
    created = _meta(reader, "/CreationDate") or ""
    m = re.search(r"(19[5-9]\d|20[0-4]\d)", created)
    return int(m.group(1)) if m else None
