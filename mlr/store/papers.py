"""Papers and their chunks in the research record."""

from __future__ import annotations

from mlr.store.db import dumps, now_iso, record
from mlr.store.records import Chunk, Paper

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
    def list_papers(self) -> list[Paper]:
        return [_paper(r) for r in self.query("SELECT * FROM papers ORDER BY id")]

    def get_paper(self, paper_id: int) -> Paper | None:
        return _paper(self.one("SELECT * FROM papers WHERE id = ?", (paper_id,)))

    def paper_by_hash(self, content_hash: str) -> Paper | None:
        return _paper(self.one("SELECT * FROM papers WHERE content_hash = ?", (content_hash,)))

    def add_paper(self, conn, *, content_hash: str, file_name: str, path: str, title: str | None,
                  authors: list[str], year: int | None, pages: int, chunks: list,
                  sections: list[str], meta: dict | None = None) -> int:
        """Insert a paper and its chunks inside the caller's write transaction ``conn``.

        Each chunk (a ``Chunk`` or a dict) has ``id, ordinal, vector_id, section, page, n_tokens, text``.
        """
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
        """Delete a paper inside ``conn``; returns the vector ids its chunks held."""
        vector_ids = [r[0] for r in conn.execute("SELECT vector_id FROM chunks WHERE paper_id = ?", (paper_id,))]
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
        """Research problems built on a paper: deleting the paper deletes them too (ON DELETE CASCADE)."""
        row = self.one("SELECT COUNT(*) AS n FROM problems WHERE paper_id = ?", (paper_id,))
        return int(row["n"]) if row else 0


def _insert_chunks(conn, paper_id: int, chunks: list) -> None:
    conn.executemany(
        "INSERT INTO chunks (id, paper_id, ordinal, vector_id, section, page, n_tokens, text)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(cid, paper_id, *rest) for cid, *rest in _rows(chunks)],
    )
