"""Words for people (mlr/words.py): relative times, passages cited by title, section and page."""

from datetime import UTC, datetime, timedelta

from mlr import words
from mlr.store.records import Chunk

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_relative_times():
    at = lambda **d: (NOW - timedelta(**d)).isoformat()
    assert [words.ago(at(seconds=5), NOW), words.ago(at(minutes=2), NOW), words.ago(at(hours=3), NOW),
            words.ago(at(hours=30), NOW), words.ago(at(days=5), NOW), words.ago(None, NOW)] == \
        ["just now", "2 min ago", "3 h ago", "yesterday", "5 days ago", ""]
    assert words.exact(NOW.isoformat()) == "2026-11-30 12:00 UTC"


def test_a_passage_is_cited_by_title_section_and_page():
    chunk = Chunk(id="e20ccffef2bb-0013", paper_id=1, ordinal=13, vector_id=13, section="3 Method", page=4,
                  n_tokens=100, text="...", title="Digit thumbnails")
    assert words.cite(chunk) == "Digit thumbnails, 3 Method, page 4"
    assert "e20ccffef2bb" not in words.cite(chunk)
    assert words.cite(None, "gone-0001") == "a passage no longer in the library (gone-0001)"
    assert words.plural(1, "version") == "1 version" and words.plural(3, "version") == "3 versions"
