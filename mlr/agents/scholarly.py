"""Public scholarly search (arXiv, Semantic Scholar, OpenAlex) for related work beyond the library.

Only ever called when the researcher switched online sources on; the IdeaAgent checks the switch
before it builds a :class:`ScholarlySearch`, so with the switch off no code here runs and no socket
opens. Each source gets one short request; a source that is offline, slow or rate-limited becomes a
message for the researcher, never an exception, and the other sources still answer.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from mlr.agents.idea_schemas import OnlinePaper

log = logging.getLogger(__name__)

_ATOM = {"a": "http://www.w3.org/2005/Atom"}
USER_AGENT = "mlr-copilot/0.1 (local research assistant)"
SOURCES = {
    "arxiv": "https://export.arxiv.org/api/query",
    "semantic_scholar": "https://api.semanticscholar.org/graph/v1/paper/search",
    "openalex": "https://api.openalex.org/works",
}


@dataclass
class SearchResult:
    papers: list[OnlinePaper] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # one line per source that did not answer


class ScholarlySearch:
    """Queries each source once; ``urls`` overrides the endpoints (tests point them at a local server)."""

    def __init__(self, *, timeout_s: float = 10.0, max_results: int = 5, urls: dict[str, str] | None = None):
        self.timeout_s = timeout_s
        self.max_results = max_results
        self.urls = dict(SOURCES, **(urls or {}))

    def search(self, query: str) -> SearchResult:
        result = SearchResult()
        seen: set[str] = set()
        for source, parse in (("arxiv", _parse_arxiv), ("semantic_scholar", _parse_s2), ("openalex", _parse_openalex)):
            try:
                raw = self._get(source, query)
                papers = parse(raw)
            except urllib.error.HTTPError as exc:
                if exc.code == 429:
                    result.messages.append(f"{source}: rate-limited (HTTP 429); try again in a minute.")
                else:
                    result.messages.append(f"{source}: answered HTTP {exc.code}.")
                continue
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                result.messages.append(f"{source}: not reachable ({reason}); are you offline?")
                continue
            except (ValueError, ET.ParseError) as exc:  # a changed or broken answer format
                result.messages.append(f"{source}: could not read the answer ({exc}).")
                continue
            for paper in papers[: self.max_results]:
                key = paper.title.strip().lower()
                if key and key not in seen:
                    seen.add(key)
                    result.papers.append(paper)
        return result

    def _get(self, source: str, query: str) -> bytes:
        n = self.max_results
        params = {
            "arxiv": {"search_query": f"all:{query}", "start": 0, "max_results": n, "sortBy": "relevance"},
            "semantic_scholar": {"query": query, "limit": n, "fields": "title,year,abstract,url"},
            "openalex": {"search": query, "per-page": n},
        }[source]
        url = self.urls[source] + "?" + urllib.parse.urlencode(params)
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        log.info("online search %s: %s", source, query)
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            return response.read()


def _year(text: str | None) -> int | None:
    return int(text[:4]) if text and text[:4].isdigit() else None


def _parse_arxiv(raw: bytes) -> list[OnlinePaper]:
    root = ET.fromstring(raw)
    papers = []
    for entry in root.findall("a:entry", _ATOM):
        title = " ".join((entry.findtext("a:title", "", _ATOM) or "").split())
        if not title:
            continue
        papers.append(OnlinePaper(
            source="arxiv", title=title, year=_year(entry.findtext("a:published", "", _ATOM)),
            abstract=" ".join((entry.findtext("a:summary", "", _ATOM) or "").split())[:1500],
            url=(entry.findtext("a:id", "", _ATOM) or "").strip()))
    return papers


def _parse_s2(raw: bytes) -> list[OnlinePaper]:
    papers = []
    for item in json.loads(raw).get("data") or []:
        if item.get("title"):
            papers.append(OnlinePaper(source="semantic_scholar", title=item["title"], year=item.get("year"),
                                      abstract=(item.get("abstract") or "")[:1500], url=item.get("url") or ""))
    return papers


def _parse_openalex(raw: bytes) -> list[OnlinePaper]:
    papers = []
    for item in json.loads(raw).get("results") or []:
        title = item.get("display_name") or item.get("title")
        if title:
            papers.append(OnlinePaper(source="openalex", title=title, year=item.get("publication_year"),
                                      abstract=_inverted_abstract(item.get("abstract_inverted_index"))[:1500],
                                      url=item.get("doi") or item.get("id") or ""))
    return papers


def _inverted_abstract(index: dict | None) -> str:
    """OpenAlex ships abstracts as {word: [positions]}; put the words back in order."""
    if not index:
        return ""
    slots = sorted((pos, word) for word, positions in index.items() for pos in positions)
    return " ".join(word for _, word in slots)
