"""``python -m mlr library ...``: the JSON shapes and exit codes the issue specifies."""

from __future__ import annotations

import json

from mlr.cli import main


def _run(capsys, *argv) -> tuple[int, object]:
    code = main(["library", *argv])
    out = capsys.readouterr().out
    return code, (json.loads(out) if "--json" in argv else out)


def test_cli_add_list_search_chunk_remove(settings, paper, tmp_path, capsys):
    good = paper("good.pdf", topic="zebra stripe counting")
    bad = tmp_path / "bad.pdf"
    bad.write_text("not a pdf")
    code, added = _run(capsys, "add", str(good), str(bad), "--json")
    assert code == 1
    assert [set(r) for r in added] == [{"file", "status", "paper_id", "error"}] * 2
    assert added[0] == {"file": str(good), "status": "added", "paper_id": 1, "error": None}
    assert added[1]["status"] == "rejected" and "not a PDF" in added[1]["error"] and added[1]["paper_id"] is None

    code, again = _run(capsys, "add", str(good), "--json")
    assert code == 0 and again[0]["status"] == "duplicate" and again[0]["paper_id"] == 1

    code, listed = _run(capsys, "list", "--json")
    assert code == 0 and {"id", "title", "file_name", "pages", "chunks"} <= set(listed[0])
    assert listed[0]["file_name"] == "good.pdf" and listed[0]["pages"] == 3

    code, hits = _run(capsys, "search", "zebra stripes", "-k", "2", "--json")
    assert code == 0 and len(hits) == 2
    assert set(hits[0]) == {"chunk_id", "paper_id", "file_name", "title", "section", "page", "score", "found_by",
                            "text"}
    assert {h["found_by"] for h in hits} <= {"dense", "keyword", "both"}

    code, one = _run(capsys, "chunk", hits[0]["chunk_id"], "--json")
    assert code == 0 and one["text"] == hits[0]["text"] and set(one) == set(hits[0])

    assert main(["library", "chunk", "nope"]) == 1
    capsys.readouterr()
    assert main(["library", "remove", "1"]) == 1  # refused without --force, saying what it would affect
    refusal = capsys.readouterr().err
    assert "Not removed" in refusal and "--force" in refusal and "no research is built on it" in refusal
    assert len(_run(capsys, "list", "--json")[1]) == 1
    assert main(["library", "remove", "1", "--force"]) == 0
    assert main(["library", "remove", "1", "--force"]) == 1
    assert "no paper with id 1" in capsys.readouterr().err
    code, listed = _run(capsys, "list", "--json")
    assert listed == []


def test_cli_add_folder_and_missing_file(settings, paper, tmp_path, capsys):
    folder = tmp_path / "papers"
    folder.mkdir()
    paper("papers/one.pdf")
    code, added = _run(capsys, "add", str(folder), str(tmp_path / "missing.pdf"), "--json")
    assert code == 1
    assert [r["status"] for r in added] == ["added", "rejected"] and "No such file" in added[1]["error"]
