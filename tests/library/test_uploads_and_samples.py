"""Upload names made safe, copies kept inside the data directory, and the bundled sample papers."""

from __future__ import annotations

import pytest

from mlr.config import REPO_ROOT
from mlr.library.uploads import remove_copy, sanitise_name, store_copy


@pytest.mark.parametrize("raw,safe", [
    ("../../etc/passwd", "passwd.pdf"), ("..\\..\\Windows\\evil.PDF", "evil.pdf"), ("/abs/path/paper.pdf", "paper.pdf"),
    ("my paper (v2).pdf", "my paper (v2).pdf"), ("Müller et al.pdf", "Müller et al.pdf"), ("", "paper.pdf"),
    ("....pdf", "pdf.pdf"), ("...", "paper.pdf"), ("a;rm -rf ~.pdf", "a_rm -rf.pdf"), ("notes.txt", "notes.txt.pdf"),
    ("x" * 300 + ".pdf", "x" * 116 + ".pdf"), ("\x00\x1b[31mred.pdf", "31mred.pdf"),
])
def test_sanitise_name(raw, safe):
    assert sanitise_name(raw) == safe


def test_store_copy_stays_inside_uploads(tmp_path):
    uploads = tmp_path / "uploads"
    dest = store_copy(b"%PDF-1.4 data", uploads, "ab" * 32, sanitise_name("../../x.pdf"))
    assert dest.parent == uploads.resolve() and dest.read_bytes() == b"%PDF-1.4 data"
    assert not list(uploads.glob(".upload.*"))  # no temporary file left behind
    outside = tmp_path / "original.pdf"
    outside.write_bytes(b"keep me")
    remove_copy(outside, uploads)  # never deletes a file outside the uploads folder
    assert outside.exists()
    remove_copy(dest, uploads)
    assert not dest.exists()


SAMPLES = sorted((REPO_ROOT / "sample_papers").glob("*/paper.pdf"))


def test_sample_papers_load_with_sections_and_search(library):
    assert len(SAMPLES) == 3, "sample_papers/<slug>/paper.pdf are part of the product"
    results = library.add_samples()
    assert [r.status for r in results] == ["added"] * 3
    papers = library.list()
    assert sorted(p.file_name for p in papers) == sorted(f"{p.parent.name}.pdf" for p in SAMPLES)
    for p in papers:
        assert p.title and len(p.authors) >= 1 and p.pages >= 1
        assert {"abstract", "introduction", "related work", "conclusion", "references"} <= set(p.sections)
        passages = library.retriever.paper_passages(p.id)
        assert "references" not in {x.section for x in passages}
        assert max(library.embedder.count_tokens(x.text) for x in passages) <= library.embedder.max_tokens
    hits = library.retriever.search("limitations of the baseline", k=5)
    assert hits and {"discussion", "conclusion", "method", "results", "experiments"} & {h.section for h in hits}
    assert [r.status for r in library.add_samples()] == ["duplicate"] * 3
