"""Papers and their chunks in the research record.

A paper that research cites is never deleted: removing it archives it (``removed_at``; its chunks go, so
search and the index no longer hold it) and its problems, hypotheses, plans and runs stay, their citations
pointing to a removed paper. Adding the same file again brings the archived paper back under its id.
"""

from __future__ import annotations

from mlr.store.db import dumps, now_iso, record
from mlr.store.records import Chunk, Paper, PaperResearch

_CHUNKS = "SELECT c.*, p.title, p.file_name FROM chunks c JOIN papers p ON p.id = c.paper_id"


def _paper(row: dict | None) -> Paper | None:
    return record(Paper, row, authors=[], sections=[], meta={})


def _rows(chunks: list) -> list[tuple]:
    """Chunk rows to insert: ``Chunk`` records or dicts with ``id, ordinal, vector_id, section, page, n_tokens, text``."""
    out = []
    for c in chunks:
        c = c.model_dump() if isinstance(c, Chunk) else c
        out.append((c["id"], c["ordinal"], c["vector_id"], c["section"], c["page"], c["n_tokens"], c["text"]))
    return out


class PaperRecords:
    def list_papers(self, *, include_removed: bool = False) -> list[Paper]:
        """The papers in the library; with ``include_removed`` also removed papers that research still cites."""
        where = "" if include_removed else " WHERE removed_at IS NULL"
        return [_paper(r) for r in self.query(f"SELECT * FROM papers{where} ORDER BY id")]

    def get_paper(self, paper_id: int, *, include_removed: bool = False) -> Paper | None:
        where = "" if include_removed else " AND removed_at IS NULL"
        return _paper(self.one(f"SELECT * FROM papers WHERE id = ?{where}", (paper_id,)))

    def paper_by_hash(self, content_hash: str) -> Paper | None:
        return _paper(self.one("SELECT * FROM papers WHERE content_hash = ? AND removed_at IS NULL", (content_hash,)))

    def add_paper(self, conn, *, content_hash: str, file_name: str, path: str, title: str | None,
                  authors: list[str], year: int | None, pages: int, chunks: list,
                  sections: list[str], meta: dict | None = None) -> int:
        """Insert a paper and its chunks inside the caller's write transaction ``conn``.

        Each chunk (a ``Chunk`` or a dict) has ``id, ordinal, vector_id, section, page, n_tokens, text``.
        The same bytes as a removed (archived) paper bring that paper back under its id, with its research.
        """
        archived = conn.execute("SELECT id FROM papers WHERE content_hash = ? AND removed_at IS NOT NULL",
                                (content_hash,)).fetchone()
        if archived:
            paper_id = int(archived[0])
            conn.execute(
                "UPDATE papers SET file_name = ?, path = ?, title = ?, authors = ?, year = ?, pages = ?, chunks = ?,"
                " sections = ?, meta = ?, added_at = ?, removed_at = NULL WHERE id = ?",
                (file_name, path, title, dumps(authors), year, pages, len(chunks), dumps(sections), dumps(meta or {}),
                 now_iso(), paper_id))
            conn.execute("DELETE FROM chunks WHERE paper_id = ?", (paper_id,))
            _insert_chunks(conn, paper_id, chunks)
            return paper_id
        cur = conn.execute(
            "INSERT INTO papers (content_hash, file_name, path, title, authors, year, pages, chunks,"
            " sections, meta, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (content_hash, file_name, path, title, dumps(authors), year, pages, len(chunks),
             dumps(sections), dumps(meta or {}), now_iso()),
        )
        paper_id = int(cur.lastrowid)
        _insert_chunks(conn, paper_id, chunks)
        return paper_id

    def delete_paper(self, conn, paper_id: int) -> list[int]:
        """Remove a paper inside ``conn``; returns the vector ids its chunks held.

        A paper no research cites is deleted; one that research cites is archived (its chunks deleted,
        ``removed_at`` set), so its problems, hypotheses, plans and runs survive.
        """
        vector_ids = [r[0] for r in conn.execute("SELECT vector_id FROM chunks WHERE paper_id = ?", (paper_id,))]
        if conn.execute("SELECT 1 FROM problems WHERE paper_id = ? LIMIT 1", (paper_id,)).fetchone():
            conn.execute("DELETE FROM chunks WHERE paper_id = ?", (paper_id,))
            conn.execute("UPDATE papers SET removed_at = COALESCE(removed_at, ?), chunks = 0 WHERE id = ?",
                         (now_iso(), paper_id))
        else:
            conn.execute("DELETE FROM papers WHERE id = ?", (paper_id,))
        return vector_ids

    def get_chunk(self, chunk_id: str) -> Chunk | None:
        return record(Chunk, self.one(_CHUNKS + " WHERE c.id = ?", (chunk_id,)))

    def chunks_by_vector_ids(self, vector_ids: list[int]) -> dict[int, Chunk]:
        if not vector_ids:
            return {}
        marks = ",".join("?" * len(vector_ids))
        rows = self.query(_CHUNKS + f" WHERE c.vector_id IN ({marks})", tuple(vector_ids))
        return {r["vector_id"]: Chunk.model_validate(r) for r in rows}

    def paper_chunks(self, paper_id: int) -> list[Chunk]:
        rows = self.query(_CHUNKS + " WHERE c.paper_id = ? ORDER BY c.ordinal", (paper_id,))
        return [Chunk.model_validate(r) for r in rows]

    def replace_chunks(self, conn, paper_id: int, chunks: list, sections: list[str]) -> list[int]:
        """Swap a paper's chunks (an index rebuild) inside ``conn``; returns the vector ids replaced."""
        old = [r[0] for r in conn.execute("SELECT vector_id FROM chunks WHERE paper_id = ?", (paper_id,))]
        conn.execute("DELETE FROM chunks WHERE paper_id = ?", (paper_id,))
        _insert_chunks(conn, paper_id, chunks)
        conn.execute("UPDATE papers SET chunks = ?, sections = ? WHERE id = ?", (len(chunks), dumps(sections), paper_id))
        return old

    def all_vector_ids(self) -> set[int]:
        with self.read() as conn:
            return {r[0] for r in conn.execute("SELECT vector_id FROM chunks")}

    def vector_ids_for_papers(self, paper_ids) -> set[int]:
        ids = [int(p) for p in paper_ids]
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        with self.read() as conn:
            return {r[0] for r in conn.execute(f"SELECT vector_id FROM chunks WHERE paper_id IN ({marks})", ids)}

    def count_chunks(self) -> int:
        with self.read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def paper_dependents(self, paper_id: int) -> int:
        """Research problems built on a paper (they survive its removal: the paper is archived)."""
        return self.paper_research(paper_id).problems

    def paper_research(self, paper_id: int) -> PaperResearch:
        """What the record builds on a paper: problems, hypotheses, plans (accepted ones) and their runs."""
        row = self.one(
            "SELECT (SELECT COUNT(*) FROM problems WHERE paper_id = :p) AS problems,"
            " (SELECT COUNT(*) FROM hypotheses h JOIN problems pr ON pr.id = h.problem_id"
            "  WHERE pr.paper_id = :p) AS hypotheses,"
            " (SELECT COUNT(*) FROM plans pl JOIN hypotheses h ON h.id = pl.hypothesis_id"
            "  JOIN problems pr ON pr.id = h.problem_id WHERE pr.paper_id = :p) AS plans,"
            " (SELECT COUNT(*) FROM plans pl JOIN hypotheses h ON h.id = pl.hypothesis_id"
            "  JOIN problems pr ON pr.id = h.problem_id WHERE pr.paper_id = :p AND pl.status = 'accepted')"
            "  AS accepted_plans,"
            " (SELECT COUNT(*) FROM runs r JOIN plans pl ON pl.id = r.plan_id JOIN hypotheses h"
            "  ON h.id = pl.hypothesis_id JOIN problems pr ON pr.id = h.problem_id WHERE pr.paper_id = :p) AS runs",
            {"p": int(paper_id)})
        return PaperResearch(paper_id=int(paper_id), **(row or {}))


def _insert_chunks(conn, paper_id: int, chunks: list) -> None:
    conn.executemany(
        "INSERT INTO chunks (id, paper_id, ordinal, vector_id, section, page, n_tokens, text)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(cid, paper_id, *rest) for cid, *rest in _rows(chunks)],
    )
